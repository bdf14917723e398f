"""End to end in a real browser: Debian's chromium driven by Playwright for Python.

Skipped, with the reason shown, where chromium or playwright is not installed
(``apt-get install chromium``; ``pip install playwright`` — no ``playwright install`` needed).
"""

from __future__ import annotations

import os

from pathlib import Path

import pytest

from tests.test_ui import NEW_REPORT, OCOP, make_site, read_csv

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


dialogs: list[str] = []  # any alert() a page opens (there must be none)


@pytest.fixture(scope="module")
def site(tmp_path_factory, txt_index, embedder, settings):
    s = make_site(tmp_path_factory, "ui-browser", txt_index, embedder, settings)
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, site):
    context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="vi-VN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    dialogs.clear()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site.url)
    page.wait_for_selector(".rag-welcome")
    yield page
    context.close()


def _ask(page, question: str) -> None:
    box = page.locator("#rag-question textarea, #rag-question input").first
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("q => [...document.querySelectorAll('.rag-result')].some(e => e.dataset.question === q)",
                           arg=" ".join(question.split()), timeout=60_000)


def test_question_cards_source_copy_and_export(page, site, tmp_path):
    assert page.evaluate("document.documentElement.lang") == "vi"
    # a notice is titled in Vietnamese: exporting before any question
    page.locator("#rag-export-md").click()
    toast = page.locator(".toast-body").first
    toast.wait_for()
    assert "Lưu ý" in toast.inner_text() and "Warning" not in toast.inner_text()
    _ask(page, OCOP)
    cards = page.locator(".rag-card")
    assert cards.count() >= 2
    results = page.locator("#rag-results").inner_text()
    assert "Bình Liêu" in results and "Ba Chẽ" in results
    assert page.locator(".rag-card mark").count() >= 1
    assert "Trích dẫn:" in cards.first.inner_text()
    shots = Path(os.environ.get("RAG_SCREENSHOT_DIR", tmp_path))  # RAG_SCREENSHOT_DIR=docs refreshes docs/ui.md's
    page.screenshot(path=str(shots / "screenshot-main.png"))

    # a list question: the rows as a table, total stated, [n] jumps to the card, "Tải CSV" downloads them
    table = page.locator(".rag-answer table.rag-rows")
    assert [h.strip() for h in table.locator("th").all_inner_texts()] == ["Huyện", "Tỉnh", "Số lượng", "Năm",
                                                                          "Nguồn"]
    lines = [[c.strip() for c in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()]
    assert sorted(line[:4] for line in lines) == [["Ba Chẽ", "Quảng Ninh", "5", "2023"],
                                                 ["Bình Liêu", "Quảng Ninh", "1", "2023"]]
    assert "2 huyện" in table.locator("tfoot").inner_text()
    # the bar chart beside the table: Ba Chẽ's bar (5) drawn five times as long as Bình Liêu's (1)
    bars = {page.locator(".rag-chart .rag-bar-row").nth(i).locator(".rag-bar-label").inner_text():
            page.locator(".rag-chart .rag-bar").nth(i).bounding_box()["width"] for i in range(2)}
    assert set(bars) == {"Ba Chẽ", "Bình Liêu"} and 4.5 < bars["Ba Chẽ"] / bars["Bình Liêu"] < 5.5, bars
    page.locator(".rag-answer").first.screenshot(path=str(shots / "screenshot-list.png"))
    ref = table.locator("tbody tr").last.locator("a.rag-ref")
    rank = ref.get_attribute("data-rank")
    ref.click()
    page.wait_for_selector(f"#rag-p-{rank}.rag-flash")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Tải CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = read_csv(saved.read_bytes())
    assert rows[0] == ["Huyện", "Tỉnh", "Số lượng", "Năm", "Trích dẫn", "Tệp nguồn", "Cấp", "Ghi chú"]
    assert sorted((r[0], r[2]) for r in rows[1:]) == [("Ba Chẽ", "5"), ("Bình Liêu", "1")]
    assert all("Quảng Ninh" in r[4] and r[5].endswith(".txt") for r in rows[1:])

    # open the source: the link serves the indexed file itself
    link = cards.first.locator("a.rag-open")
    href = link.get_attribute("href")
    assert href.startswith("/nguon/")
    response = page.request.get(site.url + href.split("#")[0])
    assert response.ok
    source = next(Path(site.sources).glob(Path(href.split("#")[0]).name))
    assert response.body() == source.read_bytes()
    with page.expect_popup() as popup_info:
        link.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert "OCOP" in popup.content()
    popup.close()

    # copy for drafting: the excerpt and its citation land on the clipboard
    cards.first.locator(".rag-copy").click()
    page.wait_for_function("document.querySelector('.rag-copy').textContent.includes('Đã sao chép')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“") and "(Nguồn: " in copied and "Quảng Ninh" in copied

    # export: nothing is ticked; with nothing ticked the file holds the question and the answer alone
    assert page.locator(".rag-pick-box:checked").count() == 0 and page.locator(".rag-pick-box").count() == cards.count()
    saved = _export(page, "md", tmp_path)
    page.locator(".toast-body", has_text="Chọn để xuất").first.wait_for()
    assert "2 huyện có sản phẩm OCOP 4 sao" in saved.read_text(encoding="utf-8")
    assert "## Trích dẫn" not in saved.read_text(encoding="utf-8")
    news = page.locator(".rag-card", has_text="Tin bài").first if page.locator(".rag-card", has_text="Tin bài").count() \
        else cards.first
    news.locator(".rag-pick-box").check()
    saved = _export(page, "md", tmp_path)
    assert saved.name.startswith("trich-dan-nhung-huyen-nao-co-san-pham-ocop-4-sao-"), saved.name
    text = saved.read_text(encoding="utf-8")
    assert text.count("\n### [") == 1, text  # the one excerpt ticked
    assert "(Nguồn" not in text  # Markdown form: quote then "— citation"
    assert "— Tin bài “" in text  # the official citation form (rag.citation)
    assert "đăng trên Cổng TTĐT Sở KH&CN tỉnh Quảng Ninh ngày 14/03/2023" in text

    # DOCX: the question, the answer with its table, then the excerpts ticked, read back with python-docx
    from docx import Document

    cards.nth(1).locator(".rag-pick-box").check()
    doc = Document(str(_export(page, "docx", tmp_path)))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert OCOP in body and "2 huyện có sản phẩm OCOP 4 sao" in body, body
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert cells[0][:3] == ["Đơn vị", "Tỉnh", "Số lượng"] and sorted(r[0] for r in cells[1:]) == ["Ba Chẽ", "Bình Liêu"]
    assert body.count("Nguồn: ") == 2, body  # two excerpts ticked, each with its citation


def _export(page, fmt: str, folder: Path) -> Path:
    """Click "Xuất DOCX"/"Xuất Markdown", wait for the new file's link (not the previous one), download it."""
    before = page.evaluate("[...document.querySelectorAll('#rag-exported a')].map(a => a.href).join(' ')")
    page.locator(f"#rag-export-{fmt}").click()
    page.wait_for_function("old => { const a = document.querySelector('#rag-exported a');"
                           " return a && a.href && !old.includes(a.href); }", arg=before)
    with page.expect_download() as download_info:
        page.locator("#rag-exported a").first.click()
    saved = folder / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    return saved


def test_empty_question_and_example(page):
    box = page.locator("#rag-question textarea, #rag-question input").first
    box.fill("")
    page.locator("#rag-ask").click()
    page.wait_for_selector(".rag-msg-warn:has-text('Vui lòng nhập câu hỏi')")
    page.get_by_text("quan hoa co bao nhieu san pham ocop").first.click()
    page.wait_for_selector(".rag-card")
    assert "Quan Hoá" in page.locator("#rag-results").inner_text() or \
        "Quan Hóa" in page.locator("#rag-results").inner_text()


def test_upload_a_report_then_find_it(page, site, tmp_path):
    report = tmp_path / "muong-lat-2024-nuoi-ong.txt"
    report.write_text(NEW_REPORT, encoding="utf-8")
    page.get_by_role("tab", name="Kho báo cáo").click()
    page.wait_for_selector(".rag-table")
    assert "Sở KH&amp;CN" not in page.locator("#rag-corpus").inner_text()
    page.locator("#rag-upload input[type=file]").set_input_files(str(report))
    page.wait_for_selector(f"#rag-upload [aria-label='{report.name}']")  # uploaded to the server, listed
    page.locator("#rag-upload-btn").click()
    page.wait_for_selector("#rag-upload-status .rag-msg-ok", timeout=120_000)
    assert report.name in page.locator("#rag-corpus").inner_text()
    page.screenshot(path=str(tmp_path / "corpus.png"), full_page=True)

    page.get_by_role("tab", name="Hỏi đáp").click()
    _ask(page, "Mường Lát có bao nhiêu hợp tác xã nuôi ong?")
    first = page.locator(".rag-card").first.inner_text()
    assert "Mường Lát" in first
    assert '<script>alert("xss")</script>' in first  # the report's markup shows as text
    assert dialogs == []
    # the new district is offered as a filter without a restart
    page.locator("#rag-district input").click()
    page.get_by_role("option", name="Mường Lát").wait_for()
    page.keyboard.press("Escape")
