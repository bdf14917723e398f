"""OCR of scanned PDFs: Vietnamese text with page numbers and confidence, cache, parallel pages,
and a clear skip when Tesseract is missing.

Tests marked ``needs_tesseract`` run only where ``tesseract-ocr`` and ``tesseract-ocr-vie`` are
installed (``scripts/install-system-deps.sh``); elsewhere they are skipped with the reason.
The others replace Tesseract by a stub and run everywhere pypdfium2 is installed.
"""

from __future__ import annotations

import importlib.util
import shutil
import threading
import time
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

import rag.ocr as ocr
from rag.errors import UnreadableFileError
from rag.loading import load_document
from rag.ocr import (INSTALL_HINT, OcrCache, OcrConfidence, OcrPage, OcrSettings, confidence_for_pages,
                     confidences_from_json, confidences_to_json, low_confidence, ocr_note, ocr_pdf,
                     ocr_unavailable)
from rag.vntext import collapse_whitespace

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SCAN = CORPUS / "scanned" / "quan-hoa-2024-de-an-khcn-scan.pdf"
QUAN_HOA_TXT = CORPUS / "txt" / "quan-hoa-2024-de-an-khcn.txt"
TEXT_PDF = CORPUS / "pdf" / "quang-ninh-2023-binh-lieu-ba-che.pdf"

_REASON = ocr_unavailable()
needs_tesseract = pytest.mark.skipif(_REASON is not None, reason=f"OCR unavailable: {_REASON}")


@pytest.fixture(autouse=True)
def _isolated_ocr(tmp_path, monkeypatch):
    """No test reads or writes the user's OCR cache; the Tesseract probe is redone after stubbing."""
    monkeypatch.setenv("RAG_OCR_CACHE", str(tmp_path / "ocr-cache"))
    monkeypatch.delenv("RAG_OCR_WORKERS", raising=False)
    monkeypatch.delenv("RAG_OCR_MIN_CONFIDENCE", raising=False)
    monkeypatch.delenv("RAG_OCR_DPI", raising=False)
    monkeypatch.delenv("RAG_OCR", raising=False)
    ocr.reset_availability_cache()
    yield
    ocr.reset_availability_cache()


def _pdf(path: Path, pages: list[tuple[Path, int]]) -> Path:
    """A PDF of the given (file, 0-based page) pages, e.g. a text page followed by a scanned one."""
    writer = PdfWriter()
    for src, index in pages:
        writer.add_page(PdfReader(str(src)).pages[index])
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


# ---------------------------------------------------------------- a stub Tesseract

class FakeTesseract:
    """Stands in for ``recognise_image``: records the pages asked for and how many ran at once."""

    def __init__(self, delay: float = 0.0, confidence: float = 88.0) -> None:
        self.pages: list[int] = []
        self.delay = delay
        self.confidence = confidence
        self.running = 0
        self.max_running = 0
        self.lock = threading.Lock()

    def __call__(self, image, lang, timeout_s, page):
        with self.lock:
            self.pages.append(page)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            time.sleep(self.delay)
            assert image.size[0] > 500  # a rendered page, not a thumbnail
            lines = (f"Trang {page}: Huyện Quan Hoá có 11 sản phẩm OCOP đạt ba (03) sao, theo bản quét",
                     "số hoá của báo cáo.")
            return OcrPage(page, lines, self.confidence, 20)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def fake_tesseract(monkeypatch):
    pytest.importorskip("pypdfium2", reason="pypdfium2 (PyPI) renders PDF pages for OCR")
    fake = FakeTesseract()
    monkeypatch.setattr(ocr, "_status", lambda lang: (None, "fake 1.0"))
    monkeypatch.setattr(ocr, "recognise_image", fake)
    return fake


def test_settings_from_environment():
    env = {"RAG_OCR_WORKERS": "4", "RAG_OCR_CACHE": "off", "RAG_OCR_MIN_CONFIDENCE": "55.5", "RAG_OCR_DPI": "300"}
    settings = OcrSettings.from_env(env)
    assert (settings.workers, settings.cache_dir, settings.min_confidence, settings.dpi) == (4, None, 55.5, 300)
    default = OcrSettings.from_env({"HOME": "/home/x", "XDG_CACHE_HOME": "/tmp/xdg"})
    assert default.workers == 2 and default.min_confidence == 70 and default.dpi == 0
    assert default.cache_dir == Path("/tmp/xdg/vn-report-rag/ocr")
    assert OcrSettings.from_env({"RAG_OCR_WORKERS": "many", "RAG_OCR_CACHE": "/c"}).workers == 2
    assert OcrSettings.from_env({"RAG_OCR": "0"}).enabled is False


def test_confidence_helpers_for_indexer_and_citations():
    pages = (OcrConfidence(1, 95.4, 500), OcrConfidence(2, 62.0, 300), OcrConfidence(3, None, 0))
    assert low_confidence(pages) == (pages[1],)          # default threshold 70; a blank page is not listed
    assert low_confidence(pages, threshold=96) == pages[:2]
    assert confidence_for_pages(pages, 1, 2) == 62.0     # a chunk over pages 1-2: its weakest page
    assert confidence_for_pages(pages, 4, 5) is None and confidence_for_pages(pages, None, None) is None
    assert ocr_note(87.4) == "(OCR, 87%)" and ocr_note(None) == ""
    assert confidences_from_json(confidences_to_json(pages)) == pages
    assert pages[1].percent() == "62%"


def test_scanned_pages_are_ocred_text_pages_are_not(fake_tesseract, tmp_path):
    path = _pdf(tmp_path / "mixed.pdf", [(TEXT_PDF, 0), (SCAN, 1)])
    events: list[tuple[str, int, int]] = []
    doc = load_document(path, progress=lambda *e: events.append(e))
    assert fake_tesseract.pages == [2]
    assert doc.ocr_pages == (2,) and doc.ocr_confidence == (OcrConfidence(2, 88.0, 20),)
    offset = doc.text.index("Trang 2: Huyện Quan Hoá có 11 sản phẩm OCOP đạt ba (03) sao, theo bản quét số hoá")
    assert doc.page_at(offset) == 2                      # OCR lines reflowed into one paragraph, on its page
    assert doc.page_at(doc.text.index("Bình Liêu")) == 1
    assert events[0] == ("ocr", 0, 1) and events[-1] == ("ocr", 1, 1)
    assert doc.text == unicodedata.normalize("NFC", doc.text)


def test_ocr_results_are_cached_by_file_hash(fake_tesseract, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    settings = OcrSettings(cache_dir=cache)
    first = load_document(SCAN, ocr=settings)
    assert sorted(fake_tesseract.pages) == [1, 2, 3]
    digest = ocr.file_sha256(SCAN)
    assert (cache / f"{digest}.json").is_file()
    copy = shutil.copy(SCAN, tmp_path / "renamed-copy.pdf")     # same bytes under another name: same entry
    again = load_document(Path(copy), ocr=settings)
    assert sorted(fake_tesseract.pages) == [1, 2, 3]            # nothing recognised again
    assert again.text == first.text and again.ocr_confidence == first.ocr_confidence
    # another engine (resolution) does not reuse the entry
    load_document(SCAN, ocr=OcrSettings(cache_dir=cache, dpi=200))
    assert len(fake_tesseract.pages) == 6
    # a damaged cache file is ignored, not fatal
    (cache / f"{digest}.json").write_text("{not json", encoding="utf-8")
    assert load_document(SCAN, ocr=settings).ocr_pages == (1, 2, 3)


def test_pages_run_in_parallel_within_the_worker_limit(fake_tesseract, tmp_path):
    fake_tesseract.delay = 0.3
    path = _pdf(tmp_path / "long-scan.pdf", [(SCAN, i % 3) for i in range(6)])
    events: list[tuple[str, int, int]] = []
    pages = ocr_pdf(path, range(1, 7), OcrSettings(workers=2), progress=lambda *e: events.append(e))
    assert sorted(pages) == [1, 2, 3, 4, 5, 6]
    assert fake_tesseract.max_running == 2
    assert [e[1] for e in events] == [0, 1, 2, 3, 4, 5, 6] and {e[2] for e in events} == {6}
    fake_tesseract.max_running = 0
    ocr_pdf(path, [1, 2, 3], OcrSettings(workers=1))
    assert fake_tesseract.max_running == 1


def test_a_failing_page_is_left_out_and_the_rest_is_kept(fake_tesseract, tmp_path, monkeypatch):
    def flaky(image, lang, timeout_s, page):
        if page == 2:
            raise RuntimeError("Tesseract process timeout")
        return fake_tesseract(image, lang, timeout_s, page)

    monkeypatch.setattr(ocr, "recognise_image", flaky)
    events: list[tuple[str, int, int]] = []
    doc = load_document(SCAN, ocr=OcrSettings(cache_dir=None), progress=lambda *e: events.append(e))
    assert doc.ocr_pages == (1, 3) and doc.unread_pages == (2,)
    assert events[-1] == ("ocr", 3, 3)                   # progress still reaches the total


def test_low_confidence_pages_are_listed(fake_tesseract):
    fake_tesseract.confidence = 62.0
    doc = load_document(SCAN, ocr=OcrSettings(cache_dir=None))
    assert [(c.page, c.percent()) for c in doc.low_confidence_pages()] == [(1, "62%"), (2, "62%"), (3, "62%")]
    assert doc.low_confidence_pages(threshold=50) == ()


# ---------------------------------------------------------------- Tesseract missing

@pytest.fixture
def no_tesseract(monkeypatch):
    pytesseract = pytest.importorskip("pytesseract")
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/bin/tesseract")
    ocr.reset_availability_cache()
    yield
    ocr.reset_availability_cache()


def test_without_tesseract_an_image_only_pdf_is_skipped_saying_what_to_install(no_tesseract):
    assert INSTALL_HINT in ocr_unavailable()
    with pytest.raises(UnreadableFileError) as info:
        load_document(SCAN)
    reason = info.value.reason
    assert "image-only" in reason and "install tesseract-ocr and tesseract-ocr-vie (apt)" in reason
    assert SCAN.name in str(info.value) and "\n" not in str(info.value)
    assert info.value.code == "needs_ocr" and ocr.skip_is_stale("needs_ocr") is False  # still missing: the skip stands


def test_without_tesseract_the_text_pages_of_a_mixed_pdf_are_kept(no_tesseract, tmp_path):
    doc = load_document(_pdf(tmp_path / "mixed.pdf", [(TEXT_PDF, 0), (SCAN, 2)]))
    assert "Bình Liêu" in doc.text and doc.ocr_pages == () and doc.unread_pages == (2,)


def test_without_the_vietnamese_model_the_reason_names_it(tmp_path):
    reason = ocr_unavailable("zzz")                      # a model no machine has
    assert reason is not None and INSTALL_HINT in reason
    with pytest.raises(UnreadableFileError, match="tesseract-ocr-vie"):
        load_document(SCAN, ocr=OcrSettings(lang="zzz"))


def test_ocr_turned_off_skips_scans(monkeypatch):
    monkeypatch.setenv("RAG_OCR", "0")
    with pytest.raises(UnreadableFileError, match="OCR is turned off"):
        load_document(SCAN)


def test_cache_write_failure_is_not_fatal(tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    OcrCache(blocker / "sub").save("ab" * 32, "engine", {1: OcrPage(1, ("a",), 90.0, 1)})
    assert OcrCache(blocker / "sub").load("ab" * 32, "engine") == {}


# ---------------------------------------------------------------- real Tesseract

def _cer_module():
    spec = importlib.util.spec_from_file_location("ocr_cer", ROOT / "eval" / "ocr_cer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_levenshtein_of_the_cer_script():
    cer = _cer_module()
    assert cer.levenshtein("kitten", "sitting") == 3
    assert cer.levenshtein("Đổi mới", "Đối mới") == 1        # a wrong diacritic is one error
    assert cer.levenshtein("", "abc") == 3 and cer.levenshtein("abc", "abc") == 0


@needs_tesseract
def test_scanned_quan_hoa_report_loads_with_ocr():
    doc = load_document(SCAN)
    assert doc.format == "pdf" and [p.page for p in doc.pages] == [1, 2, 3]
    assert doc.ocr_pages == (1, 2, 3)
    assert all(c.confidence is not None and c.confidence > 80 for c in doc.ocr_confidence)
    text = collapse_whitespace(doc.text)
    assert "có 11 sản phẩm OCOP đạt ba (03) sao gồm: Bánh nhãn Hội Xuân, Măng khô Mường Ca Da" in text
    assert doc.page_at(doc.text.index("11 sản phẩm OCOP")) == 2
    assert doc.text == unicodedata.normalize("NFC", doc.text) and "  " not in doc.text
    cer = _cer_module()
    assert cer.cer(cer.normalise(doc.text), cer.normalise(QUAN_HOA_TXT.read_text(encoding="utf-8"))) < 0.03


@pytest.fixture(scope="module")
def scanned_index(tmp_path_factory, embedder, settings):
    """The four other text reports plus the scanned Quan Hoá report, indexed through ``rag.ingest``."""
    if _REASON is not None:
        pytest.skip(f"OCR unavailable: {_REASON}")
    from rag import ingest

    corpus = tmp_path_factory.mktemp("scanned-corpus")
    for src in sorted((CORPUS / "txt").glob("*.txt")):
        if src.name != QUAN_HOA_TXT.name:
            shutil.copy(src, corpus / src.name)
    shutil.copy(SCAN, corpus / SCAN.name)
    index = tmp_path_factory.mktemp("scanned-index")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_OCR_CACHE", str(tmp_path_factory.mktemp("ocr-cache")))
        report = ingest([corpus], index, settings=settings, embedder=embedder)
    return corpus, index, report


@needs_tesseract
def test_scanned_report_is_searchable_and_cited_with_its_page(scanned_index, embedder, settings):
    from rag import Searcher

    _, index, report = scanned_index
    assert not report.skipped and len(report.indexed) == 5
    searcher = Searcher.open(index, settings=settings, embedder=embedder)
    try:
        answer = searcher.ask("Huyện Quan Hoá có bao nhiêu sản phẩm OCOP?", top_k=5)
    finally:
        searcher.close()
    top3 = answer.passages[:3]
    hits = [p for p in top3 if "11 sản phẩm OCOP" in collapse_whitespace(p.text)]
    assert hits, [p.citation for p in top3]
    hit = hits[0]
    assert Path(hit.source).name == SCAN.name and hit.page == 2
    assert "tr. 2" in hit.citation and "(OCR, " in hit.citation and SCAN.name not in hit.citation


def test_skips_recorded_before_ocr_are_stale_once_ocr_runs(fake_tesseract, monkeypatch):
    assert ocr.skip_is_stale("needs_ocr")
    assert not ocr.skip_is_stale("encrypted")
    monkeypatch.setenv("RAG_OCR", "0")
    assert not ocr.skip_is_stale("needs_ocr")


def test_skip_reasons_from_before_codes_get_theirs_once(tmp_path):
    """Migration 5 reads the reasons an older index remembered: scans that could not be OCRed become
    ``needs_ocr`` (read again once OCR runs), the rest ``unreadable``."""
    import sqlite3

    from rag.store import MIGRATIONS, Store

    db = sqlite3.connect(tmp_path / "meta.sqlite")
    for number, script in enumerate(MIGRATIONS[:4], start=1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    reasons = {"a.pdf": "no text layer (image-only PDF; needs OCR)",
               "b.pdf": f"image-only PDF (no text layer); tesseract is not installed; {INSTALL_HINT}",
               "c.pdf": "image-only PDF (no text layer); OCR is turned off (RAG_OCR=0)",
               "d.pdf": "encrypted PDF (password required)"}
    db.executemany("INSERT INTO skipped_files VALUES (?, 'h', ?)", reasons.items())
    db.commit()
    db.close()
    store = Store(tmp_path / "meta.sqlite")
    codes = {path: skip.code for path, skip in store.skipped_by_path().items()}
    assert codes == {"a.pdf": "needs_ocr", "b.pdf": "needs_ocr", "c.pdf": "needs_ocr", "d.pdf": "unreadable"}


def test_an_oversized_page_is_rendered_within_the_pixel_limit(fake_tesseract, tmp_path, monkeypatch):
    sizes: list[tuple[int, int]] = []

    def measure(image, lang, timeout_s, page):
        sizes.append(image.size)
        return fake_tesseract(image, lang, timeout_s, page)

    monkeypatch.setattr(ocr, "recognise_image", measure)
    writer = PdfWriter()
    page = writer.add_page(PdfReader(str(SCAN)).pages[0])
    page.scale_by(20)                                    # a 2 m × 3 m page: 870 Mpx at the scan's 150 dpi
    path = tmp_path / "poster.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    assert load_document(path, ocr=OcrSettings(cache_dir=None)).ocr_pages == (1,)
    (width, height), = sizes
    assert width * height <= ocr.MAX_RENDER_PIXELS and width > 3000
