"""The per-file budget (issue 12, item 5): each attack reproduced small, against a lowered limit.

No test here measures time: the deadline runs on an injected clock, and the quadratic-time
inputs are only checked to complete.
"""

from __future__ import annotations

import os
import stat
import threading
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.pdf_bytes import write_pdf
from rag.budget import DEFAULT_BUDGET, Deadline, FileBudget
from rag.config import Settings, load_settings
from rag.errors import ConfigError, UnreadableFileError
from rag.loading import load_document

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
REAL_REPORTS = sorted(p for fmt in ("pdf", "docx", "txt") for p in (CORPUS / fmt).glob(f"*.{fmt}"))
SENTENCE = "Huyện Ba Chẽ triển khai mô hình trồng cây quế theo chuỗi giá trị"


class StepClock:
    """A clock that moves ``step`` seconds each time it is read: deadlines without real time."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = 0.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def refused(path: Path, budget: FileBudget | None = None) -> UnreadableFileError:
    with pytest.raises(UnreadableFileError) as info:
        load_document(path, budget=budget)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    return info.value


def _docx(path: Path, paragraphs: int) -> Path:
    import docx

    document = docx.Document()
    for n in range(paragraphs):
        document.add_paragraph(f"{n + 1}. {SENTENCE}.")
    document.save(str(path))
    return path


def _rezip(path: Path, extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> None:
    """Rewrite the DOCX at ``path`` with members replaced and ``extra`` members added (deflated)."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members.update(replace or {})
    members.update(extra)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _pdf(path: Path, pages: int, content: bytes, shared: bool = True) -> Path:
    """A PDF of ``pages`` pages drawing ``content`` (one stream all pages share, like the attack)."""
    body = zlib.compress(content, 9)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                b"/Contents 4 0 R >>"] * pages
    write_pdf(path, objects)
    return path


TEXT_LINE = b"BT /F1 12 Tf 72 700 Td (Bao cao so ket sau thang dau nam) Tj ET\n"


# ---------------------------------------------------------------- the budget and its settings

def test_default_budget_is_the_settings_default_and_each_limit_is_a_setting(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert FileBudget.from_settings(Settings()) == FileBudget() == DEFAULT_BUDGET
    monkeypatch.setenv("RAG_MAX_PARAGRAPHS", "123")
    monkeypatch.setenv("RAG_MAX_SECONDS", "2.5")
    (tmp_path / "rag.toml").write_text("[rag]\nmax_pdf_pages = 7\nmax_html_depth = 40\n", encoding="utf-8")
    budget = FileBudget.from_settings(load_settings(tmp_path / "rag.toml"))
    assert (budget.max_paragraphs, budget.max_seconds, budget.max_pdf_pages, budget.max_html_depth) == (123, 2.5, 7, 40)
    assert budget.max_text_chars == DEFAULT_BUDGET.max_text_chars


@pytest.mark.parametrize("name, value", [("max_paragraphs", 0), ("max_seconds", -1.0), ("max_pdf_pages", -5),
                                         ("max_docx_xml_bytes", 0), ("max_html_depth", 0), ("max_text_chars", 0),
                                         ("max_file_bytes", -1), ("max_seconds", float("nan")),
                                         ("max_paragraphs", 2.5), ("max_seconds", True)])
def test_bad_budget_value_is_a_config_error(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings(**{name: value})
    with pytest.raises(ConfigError, match=name):
        FileBudget(**{name: value})


def test_bad_budget_setting_from_environment_or_file_names_the_setting(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_MAX_SECONDS", "0")
    with pytest.raises(ConfigError, match="max_seconds must be more than 0.*environment"):
        load_settings()
    monkeypatch.setenv("RAG_MAX_SECONDS", "soon")
    with pytest.raises(ConfigError, match="bad value 'soon' for max_seconds"):
        load_settings()
    monkeypatch.delenv("RAG_MAX_SECONDS")
    config = tmp_path / "rag.toml"
    config.write_text("[rag]\nmax_paragraphs = -3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"max_paragraphs must be more than 0, not -3 in .*rag\.toml"):
        load_settings(config)


def test_settings_stay_frozen_with_their_old_fields():
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.max_seconds = 1  # type: ignore[misc]
    assert (settings.backend, settings.query_threads, settings.overlap_tokens) == ("torch", 1, 24)
    assert settings.with_overrides(max_paragraphs=5, backend=None).max_paragraphs == 5


# ---------------------------------------------------------------- not a regular file

def _load_in_thread(path: Path) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            load_document(path)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    return thread, errors


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this OS")
def test_fifo_named_txt_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "x.txt"
    os.mkfifo(fifo)
    thread, errors = _load_in_thread(fifo)
    if thread.is_alive():  # blocked in open(): let it go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load_document blocked on a FIFO")
    assert len(errors) == 1 and isinstance(errors[0], UnreadableFileError)
    assert "not a regular file" in errors[0].reason and "FIFO" in errors[0].reason


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_character_device_named_txt_is_refused(tmp_path):
    link = tmp_path / "zero.txt"
    link.symlink_to("/dev/zero")
    assert stat.S_ISCHR(os.stat(link).st_mode)
    thread, errors = _load_in_thread(link)
    assert not thread.is_alive(), "load_document kept reading a device"
    assert len(errors) == 1 and "not a regular file (a character device)" in errors[0].reason


def test_folder_named_like_a_report_is_refused(tmp_path):
    (tmp_path / "bao-cao.pdf").mkdir()
    assert "not a regular file (a directory)" in refused(tmp_path / "bao-cao.pdf").reason


def test_file_over_max_file_bytes_is_refused(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text((SENTENCE + "\n\n") * 100, encoding="utf-8")
    size = path.stat().st_size
    reason = refused(path, FileBudget(max_file_bytes=1000)).reason
    assert reason == f"over the per-file budget: {size} bytes > 1000 (max_file_bytes)"


# ---------------------------------------------------------------- DOCX

def test_docx_with_more_paragraphs_than_the_budget_is_skipped(tmp_path):
    path = _docx(tmp_path / "many.docx", 60)
    reason = refused(path, FileBudget(max_paragraphs=50)).reason
    assert reason == "over the per-file budget: 60 paragraphs > 50 (max_paragraphs)"
    assert len(load_document(path, budget=FileBudget(max_paragraphs=60)).text.split("\n\n")) == 60


def test_docx_whose_document_xml_inflates_over_the_budget_is_skipped(tmp_path):
    path = _docx(tmp_path / "inflated.docx", 3)
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("word/document.xml")
    _rezip(path, {}, {"word/document.xml": xml + b" " * 2_000_000})  # whitespace after the root: valid XML
    assert path.stat().st_size < 100_000
    reason = refused(path, FileBudget(max_docx_xml_bytes=1_000_000)).reason
    assert "bytes of XML when unzipped > 1000000 (max_docx_xml_bytes); zip bomb?" in reason
    assert SENTENCE in load_document(path).text  # within the default budget it is a document like any other


def test_docx_images_do_not_count_as_xml_but_xml_under_an_image_name_does(tmp_path):
    photo = _docx(tmp_path / "photo.docx", 3)
    _rezip(photo, {"word/media/image1.png": b"\x89PNG\r\n\x1a\n" + os.urandom(1_500_000)})
    assert SENTENCE in load_document(photo, budget=FileBudget(max_docx_xml_bytes=1_000_000)).text
    disguised = _docx(tmp_path / "disguised.docx", 3)
    _rezip(disguised, {"word/media/image1.png": b"<x/>" + b" " * 1_500_000})
    assert "(max_docx_xml_bytes)" in refused(disguised, FileBudget(max_docx_xml_bytes=1_000_000)).reason


def test_docx_unzipping_over_max_file_bytes_is_a_zip_bomb(tmp_path):
    path = _docx(tmp_path / "bomb.docx", 3)
    _rezip(path, {"word/media/image1.png": b"\x89PNG" + b"\0" * 3_000_000})
    reason = refused(path, FileBudget(max_file_bytes=2_000_000)).reason
    assert "bytes when unzipped > 2000000 (max_file_bytes); zip bomb?" in reason


def test_docx_text_over_max_text_chars_is_refused(tmp_path):
    path = _docx(tmp_path / "long.docx", 40)
    assert "(max_text_chars)" in refused(path, FileBudget(max_text_chars=1000)).reason


# ---------------------------------------------------------------- text and Markdown

def test_text_with_more_blocks_than_the_budget_is_skipped(tmp_path):
    path = tmp_path / "blocks.md"
    path.write_text("\n\n".join(f"{n}. {SENTENCE}" for n in range(30)) + "\n\n \n\t\n", encoding="utf-8")
    assert refused(path, FileBudget(max_paragraphs=20)).reason == \
        "over the per-file budget: 30 paragraphs > 20 (max_paragraphs)"
    assert load_document(path, budget=FileBudget(max_paragraphs=30)).text.count(SENTENCE) == 30


def test_text_over_max_text_chars_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(SENTENCE * 40, encoding="utf-8")
    reason = refused(path, FileBudget(max_text_chars=1000)).reason
    assert reason == f"over the per-file budget: {len(SENTENCE) * 40} characters > 1000 (max_text_chars)"


# ---------------------------------------------------------------- HTML

def _nested(depth: int) -> str:
    return "<html><body>" + "<div>" * depth + f"<p>{SENTENCE}</p>" + "</div>" * depth + "</body></html>"


def test_html_nested_over_the_depth_limit_is_skipped(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text(_nested(300), encoding="utf-8")
    reason = refused(path).reason  # the default budget: 256 levels
    assert reason.startswith("over the per-file budget: 257 levels of nested tags")
    assert reason.endswith("> 256 (max_html_depth)")
    assert "(max_html_depth)" in refused(path, FileBudget(max_html_depth=50)).reason


def test_html_nested_under_the_limit_loads(tmp_path):
    path = tmp_path / "deep-ok.html"
    path.write_text(_nested(250), encoding="utf-8")
    assert SENTENCE in load_document(path).text
    # the attack's depth, allowed: the parse is linear now (the old loader took ~25 s for 16,000 levels)
    path.write_text(_nested(16_000), encoding="utf-8")
    assert SENTENCE in load_document(path, budget=FileBudget(max_html_depth=20_000)).text


@pytest.mark.parametrize("junk", ["<!--x>", "<![CDATA[x>", "<a x=", "<a ", "<!--", "<"])
def test_html_with_constructs_that_never_end_loads(tmp_path, junk):
    """html.parser retries each unterminated construct to the end of the text (quadratic): escaped beforehand."""
    path = tmp_path / "junk.html"
    path.write_text(f"<p>{SENTENCE}</p>" + junk * 20_000, encoding="utf-8")
    assert SENTENCE in load_document(path).text


HTML_SAMPLES = [
    "<html><head><title>Báo cáo</title><style>p{color:red}</style></head><body><h1>Tin tức</h1>"
    "<script>alert('<p>x</p>')</script><p>Huyện Ba Chẽ có 05 sản phẩm 4 sao.</p></body></html>",
    "<p>a<p>b<p>c</p>d", "<div>a<div>b</div>c</div>e", "<ul><li>x<li>y</ul><table><tr><td>1<td>2<tr><td>3</table>",
    "text<br>more<br/>end</br>x",
    "<noscript><p>ẩn</p></noscript>hiện<template><div>t</div></template><object>o</object>z",
    "<!DOCTYPE html><!-- chú thích --><p>a &amp; b &lt; c &#7855;&nbsp;d</p><![CDATA[cdata]]>",
    "<div><span>mở<div>trong</span>sau</div>đuôi", "<P>Hoa</P><DIV>thường</DIV><Br>x", "<p>x</div>y</p>z</p>w",
    "<pre>  a\n\n  b  </pre>   <p>   </p>\n\n\n<textarea> </textarea>",
    "<p class=MsoNormal><![if !supportLists]><span>1.<span>&nbsp;</span></span><![endif]>Mục một</p>",
    "<table><tr><th>Chỉ tiêu</th><th>Kết quả</th></tr><tr><td><p>Sản phẩm</p></td><td>05</td></tr></table>",
]


def _reference(bs4, html: str) -> str:
    from rag.loading import _clean_blank_lines
    from rag.vntext import nfc

    soup = bs4.BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object"]):
        tag.decompose()
    for tag in soup.find_all(["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"]):
        tag.insert_after("\n\n" if tag.name not in ("br", "li", "tr") else "\n")
    return _clean_blank_lines(nfc(soup.get_text()))


@pytest.mark.parametrize("html", HTML_SAMPLES)
def test_html_text_is_what_the_beautifulsoup_loader_gave(tmp_path, html):
    """The streaming loader against the old one (BeautifulSoup + insert_after), kept here as the reference."""
    bs4 = pytest.importorskip("bs4")
    html += f"<p>{SENTENCE}</p>"
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    expected = _reference(bs4, html)
    assert load_document(path).text == expected


def test_html_over_max_paragraphs_or_text_chars_is_refused(tmp_path):
    path = tmp_path / "blocks.html"
    path.write_text("".join(f"<p>{n}. {SENTENCE}</p>" for n in range(30)), encoding="utf-8")
    assert refused(path, FileBudget(max_paragraphs=20)).reason == \
        "over the per-file budget: 30 paragraphs > 20 (max_paragraphs)"
    assert "(max_text_chars)" in refused(path, FileBudget(max_text_chars=500)).reason


# ---------------------------------------------------------------- PDF

def test_pdf_with_more_pages_than_the_budget_is_refused_before_reading_a_page(tmp_path, monkeypatch):
    from pypdf import PageObject, PdfWriter

    path = tmp_path / "pages.pdf"
    writer = PdfWriter()
    for _ in range(12):
        writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as fh:
        writer.write(fh)

    def no_reading(*args, **kwargs):
        raise AssertionError("a page was read")

    monkeypatch.setattr(PageObject, "extract_text", no_reading)
    assert refused(path, FileBudget(max_pdf_pages=10)).reason == \
        "over the per-file budget: 12 pages > 10 (max_pdf_pages)"


def test_pdf_pages_sharing_one_content_stream_stop_at_the_text_budget(tmp_path, monkeypatch):
    from pypdf import PageObject

    path = _pdf(tmp_path / "shared.pdf", 40, TEXT_LINE * 40)
    pages_read = []
    original = PageObject.extract_text

    def counting(self, *args, **kwargs):
        pages_read.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counting)
    reason = refused(path, FileBudget(max_text_chars=5_000)).reason
    assert "characters in the first" in reason and "of 40 pages > 5000 (max_text_chars)" in reason
    assert len(pages_read) < 10


# ---------------------------------------------------------------- the deadline (injected clock)

def test_deadline_between_pdf_pages(tmp_path):
    path = _pdf(tmp_path / "slow.pdf", 30, TEXT_LINE * 3)
    reason = refused(path, FileBudget(max_seconds=10, clock=StepClock(1.0))).reason
    assert "seconds > 10 (max_seconds)" in reason and "stopped at page" in reason and "of 30" in reason


def test_deadline_inside_one_pdf_page(tmp_path):
    """One page of 60,000 operators (the attack's pages re-parse one huge stream): checked as it is read."""
    path = _pdf(tmp_path / "heavy.pdf", 1, b"0 0 m 1 1 l S\n" * 30_000)
    reason = refused(path, FileBudget(max_seconds=20, clock=StepClock(1.0))).reason
    assert "(max_seconds)" in reason and "stopped in page 1 of 1" in reason


def test_deadline_already_past_refuses_every_format(tmp_path):
    later = StepClock(1000.0)  # every read is 1,000 s after the one before: any check is over the budget
    docx_path = _docx(tmp_path / "a.docx", 5)
    txt = tmp_path / "a.txt"
    txt.write_text(f"{SENTENCE}\n\n{SENTENCE}\n", encoding="utf-8")
    html = tmp_path / "a.html"
    html.write_text("".join(f"<p>{SENTENCE}</p>" for _ in range(100)), encoding="utf-8")
    for path in (docx_path, txt, html, CORPUS / "pdf" / "quan-hoa-2024-de-an-khcn.pdf"):
        reason = refused(path, FileBudget(max_seconds=5, clock=later)).reason
        assert reason.startswith("over the per-file budget:") and "> 5 (max_seconds)" in reason, reason


def test_deadline_between_docx_paragraphs(tmp_path):
    path = _docx(tmp_path / "slow.docx", 40)
    reason = refused(path, FileBudget(max_seconds=10, clock=StepClock(1.0))).reason
    assert "(max_seconds); stopped at paragraph" in reason


def test_deadline_stops_ocr_between_pages(tmp_path):
    from rag.ocr import OcrSettings, ocr_unavailable

    if ocr_unavailable("vie") is not None:
        pytest.skip("Tesseract (vie) is not installed")
    clock = StepClock(0.0)
    seen = []

    def progress(stage, done, total):
        seen.append((stage, done, total))
        clock.now += 10_000  # the text layer was quick; OCR "takes" too long

    scan = CORPUS / "scanned" / "quan-hoa-2024-de-an-khcn-scan.pdf"
    with pytest.raises(UnreadableFileError) as info:
        load_document(scan, ocr=OcrSettings(workers=1), progress=progress,
                      budget=FileBudget(max_seconds=60, clock=clock))
    assert "(max_seconds); stopped after OCR of 0 of 3 scanned pages" in info.value.reason
    assert seen == [("ocr", 0, 3)]


def test_deadline_object_reads_the_clock():
    clock = StepClock(1.0)
    deadline = Deadline("x.pdf", 2.5, clock)
    deadline.check()  # read at 2: 1 s in
    assert not deadline.expired()  # 3: 2 s in
    with pytest.raises(UnreadableFileError, match=r"over the per-file budget: 3\.0 seconds > 2\.5 \(max_seconds\)"):
        deadline.check()


# ---------------------------------------------------------------- the real reports

@pytest.mark.parametrize("path", REAL_REPORTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_reports_load_within_the_default_budget(path):
    doc = load_document(path)
    assert doc.text.strip() and doc.text == load_document(path, budget=FileBudget.from_settings(Settings())).text
    # far within every limit, not just under it
    assert len(doc.text) * 100 < DEFAULT_BUDGET.max_text_chars
    assert doc.text.count("\n\n") * 100 < DEFAULT_BUDGET.max_paragraphs
    assert len(doc.pages) * 100 < DEFAULT_BUDGET.max_pdf_pages


def test_five_real_reports_in_each_format():
    assert [len([p for p in REAL_REPORTS if p.suffix == f".{fmt}"]) for fmt in ("pdf", "docx", "txt")] == [5, 5, 5]
