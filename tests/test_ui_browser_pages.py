"""Issue 15 in a real browser (Debian chromium, Playwright) over the five PDF reports: the page image with
the passage highlighted, the phone width (390 px), the not-found screen, an upload whose progress moves,
removing a report after the browser's confirmation. ``RAG_SCREENSHOT_DIR=docs`` refreshes the screenshots
docs/ui.md shows."""

from __future__ import annotations

import io
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_ui import NEW_REPORT, OCOP, make_site
from tests.test_ui_browser import CHROMIUM, _ask, browser  # noqa: F401 - browser: the fixture, shared

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory, pdf_index, embedder, settings):
    # one passage per model batch: an upload's embedding progress has several steps to show
    s = make_site(tmp_path_factory, "ui-pages", pdf_index, embedder, replace(settings, batch_size=1))
    yield s
    s.close()


def _open(browser, site, width: int = 1360, height: int = 1000):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(site.url)
    page.wait_for_selector(".rag-welcome")
    return context, page


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("RAG_SCREENSHOT_DIR", tmp_path))


def test_the_page_with_the_passage_highlighted(browser, site, tmp_path):
    from PIL import Image

    context, page = _open(browser, site)
    _ask(page, OCOP)
    card = page.locator(".rag-card", has=page.locator(".rag-pageview")).first
    card.locator(".rag-pageview summary").click()
    image = card.locator("img.rag-page-img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    src = image.get_attribute("src")
    assert src.startswith("/trang/") and "?c=" in src
    png = Image.open(io.BytesIO(page.request.get(site.url + src).body())).convert("RGB")
    yellow = sum(1 for r, g, b in png.getdata() if r > 200 and g > 180 and b < 120)
    assert yellow > 2000, yellow  # the passage's lines are tinted (a page of plain text has none)
    # the same image for a page the passage is not on, or another passage id, is refused
    doc, page_no = src.split("/")[2], int(src.split("/")[3].split(".")[0])
    assert page.request.get(f"{site.url}/trang/{doc}/{page_no + 7}.png?{src.split('?')[1]}").status == 404
    assert page.request.get(f"{site.url}/trang/{doc}/{page_no}.png?c=999999").status == 404
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(_shots(tmp_path) / "screenshot-page-card.png"))
    context.close()


def test_phone_width(browser, site, tmp_path):
    context, page = _open(browser, site, 390, 844)
    # the filters come first, folded; nothing is wider than the screen
    filters, question = page.locator("#rag-filters"), page.locator("#rag-question")
    assert filters.bounding_box()["y"] < question.bounding_box()["y"]
    page.wait_for_function("!document.querySelector('#rag-province') || "
                           "document.querySelector('#rag-province').offsetParent === null")
    box = page.locator("#rag-question textarea, #rag-question input").first
    assert box.bounding_box()["x"] + box.bounding_box()["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _ask(page, OCOP)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wrap = page.locator(".rag-answer .rag-table-wrap").first
    assert wrap.bounding_box()["x"] + wrap.bounding_box()["width"] <= 390
    source = wrap.locator("th", has_text="Nguồn")
    source.scroll_into_view_if_needed()  # the table scrolls inside its frame: the "Nguồn" column is reachable
    assert source.is_visible() and source.bounding_box()["x"] + source.bounding_box()["width"] <= 391
    page.locator(".rag-answer").first.scroll_into_view_if_needed()
    page.screenshot(path=str(_shots(tmp_path) / "screenshot-phone.png"))
    filters.locator("button, .label-wrap").first.click()  # unfolded on demand
    page.locator("#rag-province").wait_for(state="visible")
    context.close()


def test_the_not_found_screen(browser, site, tmp_path):
    context, page = _open(browser, site)
    question = "Huyện Bảo Thắng có bao nhiêu sản phẩm OCOP năm 2019?"
    _ask(page, question)
    results = page.locator("#rag-results")
    text = results.inner_text()
    assert "Chưa tìm thấy câu trả lời chắc chắn" in text and "Kho chưa có báo cáo nào về" in text, text
    assert "không phải câu trả lời" in text
    assert results.locator(".rag-card mark").count() == 0 and results.locator(".rag-pick-box:checked").count() == 0
    results.screenshot(path=str(_shots(tmp_path) / "screenshot-not-found.png"))
    context.close()


def test_an_upload_shows_moving_progress(browser, site, tmp_path):
    context, page = _open(browser, site)
    files = []
    run = uuid.uuid4().hex[:8]  # new reports each run (RAG_REPEAT): the same bytes again would be a copy
    for n, place in enumerate(("Mường Lát", "Mường Chanh", "Quan Sơn", "Bá Thước")):
        f = tmp_path / f"bao-cao-{run}-{n}.txt"
        f.write_text(NEW_REPORT.replace("Mường Lát", place).replace("12 hợp tác xã", f"{12 + n} hợp tác xã")
                     + f"\nMã hồ sơ {run}.\n"
                     + "\n3. Kết quả khác\n" + " ".join(f"Huyện {place} hỗ trợ {20 + n} hộ nuôi ong đợt {run}-{k} theo chuỗi giá trị." for k in range(60)),
                     encoding="utf-8")
        files.append(f)
    page.get_by_role("tab", name="Kho báo cáo").click()
    page.wait_for_selector(".rag-table")
    page.locator("#rag-upload input[type=file]").set_input_files([str(f) for f in files])
    for f in files:
        page.wait_for_selector(f"#rag-upload [aria-label='{f.name}']")
    page.locator("#rag-upload-btn").click()
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not page.locator("#rag-upload-status .rag-msg").count():
        status = page.locator("#rag-upload-status").inner_text()
        if "Tạo vector" in status and status not in seen:
            seen.append(status)
            if len(seen) == 2:  # the upload area with its one progress display
                top = page.locator("#rag-upload").bounding_box()
                bottom = page.locator("#rag-upload-status").bounding_box()
                page.screenshot(path=str(_shots(tmp_path) / "screenshot-upload-progress.png"),
                                clip={"x": 0, "y": top["y"] - 10, "width": 1360,
                                      "height": bottom["y"] + bottom["height"] - top["y"] + 20})
        time.sleep(0.05)
    assert page.locator("#rag-upload-status .rag-msg-ok").count(), page.locator("#rag-upload-status").inner_text()
    embed = [s for s in seen if "đoạn" in s]
    assert len(embed) >= 2, seen  # the embedding step moved on screen, counted in passages
    # only one progress display, in the status box (no other output shows one)
    assert page.locator(".progress-text").count() <= 1
    context.close()


def test_remove_a_report_after_confirming(browser, site, tmp_path):
    context, page = _open(browser, site)
    page.get_by_role("tab", name="Kho báo cáo").click()
    page.wait_for_selector(".rag-table")
    name = "quan-hoa-2024-de-an-khcn.pdf"
    assert name in page.locator("#rag-corpus").inner_text()
    choice = page.locator("#rag-remove-choice input").first
    choice.click()
    page.locator("[role=option]", has_text=name).first.click()
    page.once("dialog", lambda d: d.dismiss())  # "Cancel": nothing removed
    page.locator("#rag-remove-btn").click()
    page.wait_for_selector("#rag-remove-status .rag-msg-info")
    assert name in page.locator("#rag-corpus").inner_text()
    choice.click()
    page.locator("[role=option]", has_text=name).first.click()
    messages: list[str] = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.locator("#rag-remove-btn").click()
    page.wait_for_selector("#rag-remove-status .rag-msg-ok", timeout=120_000)
    assert "Xoá báo cáo này khỏi kho?" in messages[0]
    assert name not in page.locator("#rag-corpus").inner_text()
    assert "Công văn" in page.locator("#rag-remove-status").inner_text()  # said in its official reference
    context.close()
