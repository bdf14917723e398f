"""The cited passage shown in its source: a PDF page rendered with the passage highlighted (text
layer or OCR word boxes), and a DOCX/TXT source's text with the passage marked.

Passages are made by the project's own loader and chunker, so they are what the index stores.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from rag.chunking import Chunker, ChunkerSettings
from rag.loading import load_document
from rag.ocr import ocr_unavailable
from tests.pdf_bytes import write_pdf
from ui import source_view as sv
from ui.source_view import PageRefused, highlight_text_html, render_passage_page

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PDFS = sorted((CORPUS / "pdf").glob("*.pdf"))
QUAN_HOA = CORPUS / "pdf" / "quan-hoa-2024-de-an-khcn.pdf"
SCAN = CORPUS / "scanned" / "quan-hoa-2024-de-an-khcn-scan.pdf"
SCREENSHOT = ROOT / "docs" / "screenshot-page-highlight.png"
# passages of about the index's size (384 model tokens; ~250 words of Vietnamese), no model needed
CHUNKER = Chunker(lambda s: len(s.split()), ChunkerSettings(chunk_tokens=250, overlap_tokens=16))

_OCR = ocr_unavailable()
needs_tesseract = pytest.mark.skipif(_OCR is not None, reason=f"OCR unavailable: {_OCR}")


@pytest.fixture(scope="module")
def chunks():
    """{pdf path: (loaded document, its passages)} for the five reports."""
    out = {}
    for path in PDFS:
        doc = load_document(path)
        out[path] = (doc, CHUNKER.chunk(doc))
    return out


def _passage(chunks, path: Path, starts: str):
    return next(c for c in chunks[path][1] if c.text.startswith(starts))


def _image(view) -> Image.Image:
    image = Image.open(io.BytesIO(view.png)).convert("RGB")
    assert image.size == (view.width, view.height)
    return image


def _yellow_share(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Share of the paper (bright) pixels inside ``box`` that are yellow (blue well below red/green)."""
    pixels = [p for p in image.crop(box).getdata() if p[0] > 180 and p[1] > 160]
    return sum(1 for r, g, b in pixels if b < r - 80) / max(1, len(pixels))


def _word_box(path: Path, page: int, word: str, view) -> tuple[int, int, int, int]:
    """PDFium's own box of ``word`` on the page, in the view's pixels (the page is not rotated)."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        pdf_page = pdf[page - 1]
        width, height = pdf_page.get_size()
        textpage = pdf_page.get_textpage()
        found = textpage.search(word, match_case=True).get_next()
        assert found, word
        index, count = found
        boxes = [textpage.get_charbox(i) for i in range(index, index + count)]
    finally:
        pdf.close()
    sx, sy = view.width / width, view.height / height
    return (int(min(b[0] for b in boxes) * sx), int((height - max(b[3] for b in boxes)) * sy),
            int(max(b[2] for b in boxes) * sx) + 1, int((height - min(b[1] for b in boxes)) * sy) + 1)


def _inside(view) -> bool:
    return all(0 <= b.left < b.right <= view.width and 0 <= b.top < b.bottom <= view.height for b in view.boxes)


def _variant(text: str) -> str:
    """The same words as another tool would give them: old-style tone marks (Hoá -> Hóa), NFD, lines
    broken and joined elsewhere, a hyphen at a line break."""
    old_style = {"á": "óa", "à": "òa", "ả": "ỏa", "ã": "õa", "ạ": "ọa"}
    text = re.sub(r"o([áàảãạ])(?!\w)", lambda m: old_style[m.group(1)], text)
    text = " \n ".join(text.split(" ")).replace("\n\n", "  ")
    text = text.replace("nghiệp", "nghi-\nệp")
    return unicodedata.normalize("NFD", text)


# ---------------------------------------------------------------- text pages

def test_passage_is_highlighted_where_pdfium_puts_its_words(chunks):
    chunk = _passage(chunks, QUAN_HOA, "Nhằm giúp nông dân")
    view = render_passage_page(QUAN_HOA, 2, chunk.text)
    assert view.found and view.coverage == 1.0 and not view.scanned
    assert view.page == 2 and (view.width, view.height) == (910, 1287)  # A4 at 110 dpi
    assert len(view.boxes) == 7 and _inside(view)  # the passage's 7 lines, one box each
    image = _image(view)
    first = _word_box(QUAN_HOA, 2, "Nhằm giúp nông dân", view)
    last = _word_box(QUAN_HOA, 2, "giống cây trồng mới", view)
    assert _yellow_share(image, first) > 0.9 and _yellow_share(image, last) > 0.9
    # the words before it on the same line, and the paragraph after it, are not marked
    assert _yellow_share(image, _word_box(QUAN_HOA, 2, "lĩnh vực trọng", view)) == 0
    assert _yellow_share(image, _word_box(QUAN_HOA, 2, "Xây dựng và phát triển thương hiệu", view)) == 0
    top, bottom = min(b.top for b in view.boxes), max(b.bottom for b in view.boxes)
    assert top <= first[1] and last[3] <= bottom and bottom - top < 8 * (first[3] - first[1]) * 1.6


def test_variants_of_the_same_words_mark_the_same_lines(chunks):
    chunk = _passage(chunks, QUAN_HOA, "Nhằm giúp nông dân")
    variant = _variant(chunk.text)
    assert variant != chunk.text and "Hóa" not in chunk.text
    assert render_passage_page(QUAN_HOA, 2, variant).boxes == render_passage_page(QUAN_HOA, 2, chunk.text).boxes


def test_passage_of_another_page_or_report_is_not_found(chunks):
    other = chunks[CORPUS / "pdf" / "trieu-son-2022-so-ket-6-thang.pdf"][1][3].text
    for page, text in ((2, other), (3, _passage(chunks, QUAN_HOA, "Nhằm giúp nông dân").text), (2, "")):
        view = render_passage_page(QUAN_HOA, page, text)
        assert not view.found and view.boxes == () and view.coverage == 0.0
        image = _image(view)
        assert _yellow_share(image, (0, 0, view.width, view.height)) < 0.001  # the plain page


def test_passage_across_two_pages_is_marked_on_each(chunks):
    chunk = next(c for c in chunks[QUAN_HOA][1] if c.page == 1 and c.page_end == 2)
    first, second = (render_passage_page(QUAN_HOA, p, chunk.text) for p in (1, 2))
    assert first.found and second.found
    assert 0.98 <= first.coverage + second.coverage <= 1.02 and first.coverage < 1 and second.coverage < 1
    # its start runs to the bottom of page 1, its end opens page 2
    assert max(b.bottom for b in first.boxes) > 0.85 * first.height
    assert min(b.top for b in second.boxes) < 0.1 * second.height


def test_every_passage_of_the_five_reports_is_found_on_every_page_it_spans(chunks):
    """The match rate: each passage on each of its pages, against the part of it the loader put on
    that page (pages are matched once, without rendering the image for each passage)."""
    units = {}
    views = found = 0
    for path, (doc, passages) in chunks.items():
        for chunk in passages:
            for page in range(chunk.page, (chunk.page_end or chunk.page) + 1):
                span = doc.pages[page - 1]
                part = sv._key(doc.text[max(chunk.start, span.start):min(chunk.end, span.end)])
                if len(part) < sv.MIN_EDGE_FOUND:
                    continue  # "bàn..." of a line on the next page: not worth a mark
                if (path, page) not in units:
                    units[path, page] = sv._render_and_read(path, page, sv.DEFAULT_DPI)[1]
                match = sv._find(sv._key(chunk.text), units[path, page])
                views += 1
                found += match is not None and match[2] >= 0.95 * len(part)
    assert views >= 60 and found == views  # 95 page views at 250 words (docs/page-view.md)


def test_pages_are_rendered_within_the_pixel_cap_and_nonpages_refused():
    view = render_passage_page(QUAN_HOA, 1, "", dpi=600)
    assert max(view.width, view.height) <= sv.MAX_LONG_SIDE_PX
    for page in (0, 4):
        with pytest.raises(PageRefused, match="has 3 pages"):
            render_passage_page(QUAN_HOA, page, "x")


def test_hostile_pages_are_refused_before_pdfium_opens_them(tmp_path):
    body = zlib.compress(b"0 0 m\n" * (20_000_000 // 6), 9)  # 20 MB of content in ~40 KB
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
    head = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    bomb = write_pdf(tmp_path / "bomb.pdf", head + [page, b"<< /Length %d /Filter /FlateDecode >>\nstream\n"
                                                     % len(body) + body + b"\nendstream"])
    with pytest.raises(PageRefused, match="inflates beyond 16 MB"):
        render_passage_page(bomb, 1, "x")
    image_page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                  b"/Resources << /XObject << /Im1 5 0 R >> >> >>")
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    huge = write_pdf(tmp_path / "huge.pdf", head + [
        image_page, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode /Length 4 >>\nstream\n\xff\xd8\xff\xd9\nendstream"])
    with pytest.raises(PageRefused, match="10,000,000,000 pixels"):
        render_passage_page(huge, 1, "x")


def test_documentation_screenshot_is_a_small_highlighted_page():
    image = Image.open(SCREENSHOT)
    assert SCREENSHOT.stat().st_size <= 300_000 and max(image.size) <= sv.MAX_LONG_SIDE_PX


# ---------------------------------------------------------------- scanned pages

@needs_tesseract
def test_scanned_page_is_marked_on_the_ocr_word_boxes(tmp_path, monkeypatch, chunks):
    monkeypatch.setenv("RAG_OCR_CACHE", str(tmp_path / "ocr"))
    doc = load_document(SCAN)
    assert doc.ocr_pages == (1, 2, 3)
    chunk = next(c for c in CHUNKER.chunk(doc) if c.text.startswith("6. Nhiệm vụ") and c.page == 2)
    view = render_passage_page(SCAN, 2, chunk.text)
    assert view.scanned and view.found and 0.8 < view.coverage < 1 and _inside(view)  # ends on page 3
    # the scan is of the text PDF: the marked lines stand where the text PDF's lines for it stand
    text_view = render_passage_page(QUAN_HOA, 2, _passage(chunks, QUAN_HOA, "6. Nhiệm vụ").text)
    assert len(view.boxes) == len(text_view.boxes) == 9
    for scanned, text in zip(view.boxes, text_view.boxes):
        assert abs(scanned.top - text.top) < 12 and abs(scanned.bottom - text.bottom) < 12
    assert _yellow_share(_image(view), (view.boxes[0].left, view.boxes[0].top, view.boxes[0].right,
                                        view.boxes[0].bottom)) > 0.8
    first = next(c for c in CHUNKER.chunk(doc) if c.text.startswith("2. Nhiệm vụ"))
    assert render_passage_page(SCAN, 1, first.text).found  # OCR words of page 1 are read now, then kept
    other = render_passage_page(SCAN, 2, first.text)
    assert not other.found and other.scanned


# ---------------------------------------------------------------- DOCX and TXT

def _marked(page_html: str) -> str:
    found = re.findall(r'<mark id="passage">(.*?)</mark>', page_html, re.S)
    assert len(found) == 1, found
    return html.unescape(found[0])


@pytest.mark.parametrize("name", ["quan-hoa-2024-de-an-khcn.docx", "quang-tri-2024-so-khcn.docx"])
def test_docx_passage_is_marked_exactly(name):
    doc = load_document(CORPUS / "docx" / name)
    passages = CHUNKER.chunk(doc)
    for chunk in passages:
        page_html = highlight_text_html(doc.text, chunk.text)
        assert _marked(page_html) == chunk.text
        before, after = page_html.split('<mark id="passage">')[0], page_html.split("</mark>")[1]
        assert html.unescape(re.sub(r"<[^>]+>", "", before)) == doc.text[:chunk.start]
        assert html.unescape(re.sub(r"<[^>]+>", "", after)) == doc.text[chunk.end:]
        # the same words with other whitespace, tone marks and normalisation: the same passage
        marked = _marked(highlight_text_html(doc.text, _variant(chunk.text).replace("-\n", "")))
        assert marked in chunk.text and sv._key(marked) == sv._key(chunk.text)


def test_txt_passage_is_marked_in_the_file_as_written():
    path = CORPUS / "txt" / "quang-ninh-2023-binh-lieu-ba-che.txt"
    raw = path.read_text(encoding="utf-8")
    chunk = CHUNKER.chunk(load_document(path))[2]
    marked = _marked(highlight_text_html(raw, " ".join(chunk.text.split())))
    assert sv._key(marked) == sv._key(chunk.text) and marked.strip() == marked


def test_text_is_escaped_and_unmatched_passage_leaves_no_mark():
    page_html = highlight_text_html("a <script>alert(1)</script>\n\nb & c", "b & c")
    assert "<script>" not in page_html and "&lt;script&gt;" in page_html
    assert _marked(page_html) == "b & c" and "white-space: pre-wrap" in page_html
    assert "<mark" not in highlight_text_html("một đoạn văn", "không có ở đây")


def test_renders_from_several_threads_agree(chunks):
    """PDFium is not thread-safe: the module lock serialises its calls (UI requests come on threads)."""
    from concurrent.futures import ThreadPoolExecutor

    chunk = _passage(chunks, QUAN_HOA, "Nhằm giúp nông dân")
    with ThreadPoolExecutor(max_workers=4) as pool:
        views = list(pool.map(lambda page: render_passage_page(QUAN_HOA, page, chunk.text), [2, 1, 2, 1, 2, 3]))
    assert [v.found for v in views] == [True, False, True, False, True, False]
    assert len({v.png for v in views[::2]}) == 1 and views[0].boxes == views[2].boxes
