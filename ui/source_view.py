"""A cited passage shown where it stands: the PDF page as an image with the passage highlighted,
or a DOCX/TXT source's text with the passage marked.

Two functions, no Gradio here (the UI decides where the result goes):

- ``render_passage_page(pdf_path, page, passage_text, dpi=110) -> PageView``: page ``page``
  (1-based) rendered by PDFium (pypdfium2), with translucent yellow boxes over the lines that hold
  the passage and a bar in the margin beside them. Text pages are matched against PDFium's own
  characters and their boxes; scanned pages (no text layer) against Tesseract's word boxes. A
  passage that runs onto the next page is highlighted for the part on this page. When the passage
  is not found the plain page comes back with ``found=False``.
- ``highlight_text_html(full_text, passage_text) -> str``: the text, HTML-escaped, newlines kept
  (``white-space: pre-wrap``), the passage wrapped in ``<mark id="passage">`` for the caller to
  scroll to. No ``<mark>`` when the passage is not in the text.

Matching. The passage is what the index stores: pypdf's text of the page (``rag.loading``), lines
joined into paragraphs, NFC. PDFium's text of the same page differs in whitespace, line breaks,
hyphens, sometimes in NFC/NFD and in the tone-mark placement of the same syllable (``Hoá``/``Hóa``),
and a passage can begin or end on another page. Both sides are therefore compared as a stream of
folded letters and digits only (``rag.vntext.fold``: no diacritics, no spaces, no punctuation),
each stream character pointing back to the PDFium character (or OCR word) it came from: first as
an exact substring, else as the aligned run of common blocks (``difflib``) around the longest one.

Safety. Before PDFium opens a page, pypdf checks under ``rag.pdf_limits`` that the page's content
and image streams inflate within ``MAX_STREAM_BYTES`` (PDFium itself has no cap: a 200 MB deflate
bomb took 435 MB) and that its images are not larger than ``MAX_IMAGE_PIXELS``; the render is
scaled down so that its long side is at most ``MAX_LONG_SIDE_PX``. PDFium is not thread-safe
(``rag.ocr``): every PDFium call here runs under ``PDFIUM_LOCK``.
"""

from __future__ import annotations

import difflib
import html
import io
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from rag.ocr import PDFIUM_LOCK  # one lock for every PDFium call in the process (ingest OCR included)
from rag.vntext import fold

DEFAULT_DPI = 110
# A4 at 110 dpi is 910 x 1287 px (render 0.04 s, PNG 0.1 MB after quantising); the cap allows A4
# up to ~155 dpi and keeps a huge page (A0, a 200-inch "page") at 1800 px: at most ~10 MB of RGB.
MAX_LONG_SIDE_PX = 1800
# Images a report page may hold: the shipped scan is 1241 x 1754 (2.2 Mpx) a page; an A4 page
# scanned at 600 dpi is 35 Mpx. Above this a tiny JPEG could make PDFium allocate gigabytes.
MAX_IMAGE_PIXELS = 60_000_000
# A text page (quang-tri p.2, 910 x 1287) as RGB PNG: 0.38 MB, 0.11 s; quantised to 64 colours by
# fast octree: 0.09 MB, 0.04 s (median cut: 0.10 MB, 0.11 s). Scanned pages: ~0.28 MB (paper grain).
PNG_COLOURS = 64
HIGHLIGHT_RGB = (255, 224, 70)   # multiplied into the page: white paper turns yellow, ink stays dark
MARGIN_BAR_RGB = (230, 150, 0)
MARGIN_BAR_PX = 4

# Matching (folded letters and digits, see the module docstring). Measured 2026-12 over every
# passage of the five PDF reports (chunker at 120, 250 and 384 words, tests/test_source_view.py):
# each is found on every page holding at least MIN_EDGE_FOUND of its letters (175, 95 and 69 page
# views), 95-100 % of that part marked. Off its pages a passage is "found" in 1-2 % of (passage,
# page) pairs (18 of 1,854 at 250 words): reports quote the same resolutions and repeat their own
# subject line, and such words are marked wherever they stand; MIN_EDGE_FOUND 12 gave 29 of 1,854.
MIN_BLOCK = 8        # common blocks shorter than this are chance ("nghiep", "huyen")
GAP_SLACK = 40       # how much more one side may hold between two aligned blocks (a page number, a footer)
MIN_FOUND = 40       # matched characters that count as found anywhere on the page (~8 words)...
MIN_EDGE_FOUND = 20  # ...or this many when the match is the passage's start at the page's end, or its end at the page's start
EDGE_CHARS = 30      # how near the page's first/last text that counts as "at the page's end" (footer, page number)
TEXT_ANCHOR = 40     # highlight_text_html: the passage's first and last characters, when the whole does not match

_OCR_WORDS: "OrderedDict[tuple[str, int, str], tuple[_Unit, ...]]" = OrderedDict()
_OCR_WORDS_MAX = 16  # pages of OCR word boxes kept in memory (~1.5 s of Tesseract each)
_OCR_LOCK = threading.Lock()


class PageRefused(ValueError):
    """The page cannot be shown: no such page, or it breaks a safety limit (the message says which)."""


@dataclass(frozen=True)
class Box:
    """A highlighted rectangle in the PNG's pixels (origin top left, right/bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class PageView:
    """A rendered page. ``boxes``: one per highlighted line; ``coverage``: the share (0-1) of the
    passage's letters and digits found on this page (below 1 when it continues on another page);
    ``scanned``: the page has no text layer and was matched against OCR words."""

    png: bytes
    page: int
    boxes: tuple[Box, ...]
    found: bool
    width: int
    height: int
    coverage: float = 0.0
    scanned: bool = False


@dataclass(frozen=True)
class _Unit:
    """What a match can point at: one PDFium character, or one OCR word, with its box in pixels."""

    key: str                                   # folded letters/digits ("" for spaces, punctuation)
    line: int                                  # units of one line share it
    rect: tuple[float, float, float, float] | None  # left, top, right, bottom; None: no box


@dataclass(frozen=True)
class _Match:
    start: int     # stream offsets [start, end) on the page
    end: int
    matched: int   # stream characters in common blocks


# ---------------------------------------------------------------- public API

def render_passage_page(pdf_path: Path, page: int, passage_text: str, *, dpi: int = DEFAULT_DPI) -> PageView:
    """Page ``page`` (1-based) of ``pdf_path`` as a PNG with ``passage_text`` highlighted.

    Raises ``PageRefused`` for a page that does not exist or breaks a safety limit, and
    ``OSError``/``pypdfium2.PdfiumError`` for a file that cannot be read. A passage not on the
    page gives the plain page with ``found=False``.
    """
    path = Path(pdf_path)
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, not {dpi}")
    check_page(path, page)
    image, units, ocr_image = _render_and_read(path, page, dpi)
    scanned = ocr_image is not None
    if scanned:
        units = _ocr_units(path, page, ocr_image, image.width / ocr_image.width)
    passage = _key(passage_text)
    span = _find(passage, units) if passage else None
    boxes = _line_boxes(units, span, image.size) if span else ()
    coverage = round(min(1.0, span[2] / len(passage)), 3) if span and boxes else 0.0
    return PageView(_png(_highlight(image, boxes)), page, boxes, bool(boxes), image.width, image.height,
                    coverage, scanned)


def highlight_text_html(full_text: str, passage_text: str) -> str:
    """``full_text`` as HTML (escaped, line breaks kept) with ``passage_text`` in ``<mark id="passage">``.

    The passage is found as written, else ignoring whitespace, punctuation, case, diacritics and
    NFC/NFD, else by its first and last ``TEXT_ANCHOR`` letters; without a match there is no mark.
    """
    text = unicodedata.normalize("NFC", full_text)
    span = locate_in_text(text, passage_text)
    if span is None:
        body = html.escape(text)
    else:
        start, end = span
        body = (f"{html.escape(text[:start])}<mark id=\"passage\">{html.escape(text[start:end])}</mark>"
                f"{html.escape(text[end:])}")
    return f'<div class="rag-source-text" style="white-space: pre-wrap">{body}</div>'


def locate_in_text(text: str, passage_text: str) -> tuple[int, int] | None:
    """Character span ``[start, end)`` of ``passage_text`` in ``text`` (see ``highlight_text_html``)."""
    passage = unicodedata.normalize("NFC", passage_text).strip()
    if not passage:
        return None
    at = text.find(passage)
    if at >= 0:
        return at, at + len(passage)
    key = _key(passage)
    if not key:
        return None
    stream, owner = _stream([_char_key(c) for c in text])
    at = stream.find(key)
    if at >= 0:
        return owner[at], owner[at + len(key) - 1] + 1
    head, tail = key[:TEXT_ANCHOR], key[-TEXT_ANCHOR:]
    first = stream.find(head)
    last = stream.find(tail, first + len(head)) if first >= 0 else -1
    if first < 0 or last < 0 or last + len(tail) - first > 2 * len(key) + 200:
        return None
    return owner[first], owner[last + len(tail) - 1] + 1


def check_page(path: Path, page: int) -> None:
    """Raise ``PageRefused`` unless ``page`` exists and its streams inflate within the limits.

    pypdf reads the page's content stream and each image (also inside form XObjects) under
    ``rag.pdf_limits``; images whose declared size is over ``MAX_IMAGE_PIXELS`` are refused.
    """
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    from rag.pdf_limits import MAX_STREAM_BYTES, pdf_limits

    with pdf_limits():
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PageRefused(f"{path.name}: encrypted PDF")
        if not 1 <= page <= len(reader.pages):
            raise PageRefused(f"{path.name} has {len(reader.pages)} pages, no page {page}")
        pdf_page = reader.pages[page - 1]
        try:
            contents = pdf_page.get_contents()
            if contents is not None:
                contents.get_data()
            _check_xobjects(path, pdf_page.get("/Resources"), depth=0)
        except LimitReachedError as exc:
            raise PageRefused(f"{path.name} p.{page}: a stream inflates beyond {MAX_STREAM_BYTES // 1_000_000} MB") from exc


# ---------------------------------------------------------------- safety

def _check_xobjects(path: Path, resources, depth: int) -> None:
    if resources is None or depth > 4:  # reports nest none; a form inside a form inside ... is not a report
        return
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return
    for name, ref in xobjects.get_object().items():
        obj = ref.get_object()
        subtype = obj.get("/Subtype")
        if subtype == "/Image":
            pixels = int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
            if pixels > MAX_IMAGE_PIXELS:
                raise PageRefused(f"{path.name}: image {name} has {pixels:,} pixels (limit {MAX_IMAGE_PIXELS:,})")
        elif subtype == "/Form":
            _check_xobjects(path, obj.get("/Resources"), depth + 1)
        obj.get_data()  # inflated under pdf_limits: a bomb raises LimitReachedError


# ---------------------------------------------------------------- PDFium

def _render_and_read(path: Path, page: int, dpi: int):
    """(RGB page image, its text units, None) for a text page; (image, (), OCR image) for a scan."""
    import pypdfium2 as pdfium

    from rag.loading import MIN_TEXT_LAYER_CHARS

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not 1 <= page <= len(pdf):
                raise PageRefused(f"{path.name} has {len(pdf)} pages, no page {page}")
            pdf_page = pdf[page - 1]
            try:
                scale = _scale(pdf_page.get_size(), dpi)
                bitmap = pdf_page.render(scale=scale)
                try:
                    image = bitmap.to_pil().convert("RGB")  # a copy: to_pil() shares the bitmap's buffer
                finally:
                    bitmap.close()
                units = _text_units(pdf_page, image.size)
            finally:
                pdf_page.close()
            if sum(len(u.key) for u in units) >= MIN_TEXT_LAYER_CHARS:
                return image, units, None
            from rag import ocr

            if ocr.ocr_unavailable(ocr.OcrSettings.from_env().lang) is not None:
                return image, (), None
            # the image ingest OCRed (same resolution, rag.ocr._render), so the words are the indexed ones
            return image, (), ocr._render(pdf, page, ocr.OcrSettings.from_env().dpi)
        finally:
            pdf.close()


def _scale(size: tuple[float, float], dpi: int) -> float:
    """Points to pixels at ``dpi``, lowered so that the long side fits ``MAX_LONG_SIDE_PX``."""
    scale = dpi / 72
    long_side = max(size) * scale
    if long_side > MAX_LONG_SIDE_PX:
        scale *= MAX_LONG_SIDE_PX / long_side * 0.999  # pixel counts round up
    return scale


def _text_units(pdf_page, image_size: tuple[int, int]) -> tuple[_Unit, ...]:
    """PDFium's characters of the page, with boxes in the rendered image's pixels."""
    textpage = pdf_page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        to_device = _page_to_device(pdf_page, image_size)
        units: list[_Unit] = []
        line = 0
        for index, char in enumerate(text[:count]):
            if char in "\r\n":
                line += char == "\n"
                units.append(_Unit("", line, None))
                continue
            key = _char_key(char)
            rect = None
            if key:
                left, bottom, right, top = textpage.get_charbox(index)
                rect = _device_rect(to_device, left, bottom, right, top)
            units.append(_Unit(key, line, rect))
        return tuple(units)
    finally:
        textpage.close()


def _page_to_device(pdf_page, image_size: tuple[int, int]):
    """Page coordinates (points) -> image pixels, as PDFium renders them (crop box, /Rotate)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    width, height = image_size

    def convert(x: float, y: float) -> tuple[float, float]:
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(pdf_page.raw, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        return float(dx.value), float(dy.value)

    return convert


def _device_rect(to_device, left: float, bottom: float, right: float, top: float):
    (x1, y1), (x2, y2) = to_device(left, top), to_device(right, bottom)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


# ---------------------------------------------------------------- OCR

def _ocr_units(path: Path, page: int, ocr_image, factor: float) -> tuple[_Unit, ...]:
    """Tesseract's words of the scanned page, boxes scaled by ``factor`` into the rendered image.

    Words are kept in memory per file content and engine (``rag.ocr.engine_key``); the OCR cache on
    disk holds lines only, so a page not seen since the process started is recognised now (~1.5 s).
    """
    from rag import ocr
    from rag.filehash import file_sha256

    settings = ocr.OcrSettings.from_env()
    cache_key = (file_sha256(path), page, ocr.engine_key(settings))
    with _OCR_LOCK:
        words = _OCR_WORDS.get(cache_key)
        if words is not None:
            _OCR_WORDS.move_to_end(cache_key)
    if words is None:
        words = _recognise_words(ocr_image, settings)
        with _OCR_LOCK:
            _OCR_WORDS[cache_key] = words
            while len(_OCR_WORDS) > _OCR_WORDS_MAX:
                _OCR_WORDS.popitem(last=False)
    return tuple(_Unit(w.key, w.line, None if w.rect is None else tuple(v * factor for v in w.rect))  # type: ignore[misc]
                 for w in words)


def _recognise_words(image, settings) -> tuple[_Unit, ...]:
    """Tesseract's words with their boxes (the OCR image's pixels), called as ``rag.ocr`` calls it."""
    import pytesseract

    from rag import ocr

    ocr._limit_tesseract_threads()
    data = pytesseract.image_to_data(image, lang=settings.lang, config="--psm 3", timeout=settings.page_timeout_s,
                                     output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], int] = {}
    units: list[_Unit] = []
    for i, word in enumerate(data.get("text", [])):
        word = (word or "").strip()
        try:
            confident = float(data["conf"][i]) >= 0
        except (TypeError, ValueError):
            confident = False
        if not word or not confident:
            continue
        line = lines.setdefault((int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i])),
                                len(lines))
        left, top = float(data["left"][i]), float(data["top"][i])
        units.append(_Unit(_key(word), line, (left, top, left + float(data["width"][i]), top + float(data["height"][i]))))
    return tuple(units)


# ---------------------------------------------------------------- matching

@lru_cache(maxsize=4096)
def _char_key(char: str) -> str:
    """The folded letters/digits of one character: "ộ" -> "o", "ﬁ" -> "fi", " " and "-" -> ""."""
    return "".join(c for c in fold(unicodedata.normalize("NFKC", char)) if c.isalnum())


def _key(text: str) -> str:
    """``text`` as the matching stream: folded letters and digits only."""
    return "".join(_char_key(c) for c in unicodedata.normalize("NFC", text))


def _stream(keys: Sequence[str]) -> tuple[str, list[int]]:
    """The keys joined, and for each stream character the index of the key it came from."""
    owner: list[int] = []
    for index, key in enumerate(keys):
        owner.extend([index] * len(key))
    return "".join(keys), owner


def _find(passage: str, units: Sequence[_Unit]) -> tuple[int, int, int] | None:
    """(first unit, last unit, matched stream characters) of the passage on the page, or None."""
    stream, owner = _stream([u.key for u in units])
    match = _match_stream(passage, stream)
    if match is None:
        return None
    return owner[match.start], owner[match.end - 1], match.matched


def _match_stream(passage: str, page: str) -> _Match | None:
    """Where the folded ``passage`` lies in the folded ``page``, tried in this order:

    1. the whole of it;
    2. its first and last ``TEXT_ANCHOR`` characters, in order, about a passage apart (the middle
       differs: a table read in another order);
    3. the larger of: its end at the page's start or its start at the page's end (a passage across
       pages), and the aligned run of common blocks (``difflib``) with the most characters.
    """
    at = page.find(passage)
    if at >= 0:
        return _Match(at, at + len(passage), len(passage))
    anchored = _anchored(passage, page)
    if anchored is not None:
        return anchored
    found = [m for m in (_at_edge(passage, page), _best_run(passage, page)) if m is not None]
    return max(found, key=lambda m: m.matched, default=None)


def _anchored(passage: str, page: str) -> _Match | None:
    if len(passage) < 2 * TEXT_ANCHOR:
        return None
    first = page.find(passage[:TEXT_ANCHOR])
    last = page.find(passage[-TEXT_ANCHOR:], first + TEXT_ANCHOR) if first >= 0 else -1
    if first < 0 or last < 0:
        return None
    end = last + TEXT_ANCHOR
    if abs((end - first) - len(passage)) > GAP_SLACK + len(passage) // 10:
        return None
    return _Match(first, end, min(len(passage), end - first))


def _at_edge(passage: str, page: str) -> _Match | None:
    """The longest end of the passage that starts the page, or start of it that ends the page (both
    within ``EDGE_CHARS``: a running header, a footer, a page number), if ``MIN_EDGE_FOUND`` long."""
    best: _Match | None = None
    for offset in range(min(EDGE_CHARS, len(page)) + 1):  # page[offset:] starts with passage[i:]
        probe = page[offset:offset + MIN_EDGE_FOUND]
        i = passage.find(probe) if len(probe) == MIN_EDGE_FOUND else -1
        while i >= 0 and not page.startswith(passage[i:], offset):
            i = passage.find(probe, i + 1)
        if i >= 0 and (best is None or len(passage) - i > best.matched):
            best = _Match(offset, offset + len(passage) - i, len(passage) - i)
    for end in range(max(MIN_EDGE_FOUND, len(page) - EDGE_CHARS), len(page) + 1):  # page[:end] ends with passage[:j]
        probe = page[end - MIN_EDGE_FOUND:end]
        j = passage.rfind(probe)
        while j >= 0 and not page.endswith(passage[:j + MIN_EDGE_FOUND], 0, end):
            j = passage.rfind(probe, 0, j + MIN_EDGE_FOUND - 1)
        if j >= 0 and (best is None or j + MIN_EDGE_FOUND > best.matched):
            best = _Match(end - j - MIN_EDGE_FOUND, end, j + MIN_EDGE_FOUND)
    return best


def _best_run(passage: str, page: str) -> _Match | None:
    matcher = difflib.SequenceMatcher(None, passage, page, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= MIN_BLOCK]
    runs: list[list] = []
    for block in blocks:
        if runs and _aligned(runs[-1][-1], block):
            runs[-1].append(block)
        else:
            runs.append([block])
    if not runs:
        return None
    run = max(runs, key=lambda r: sum(b.size for b in r))
    matched = sum(b.size for b in run)
    start, end = run[0].b, run[-1].b + run[-1].size
    if matched < min(MIN_FOUND, len(passage)) or not _plausible(run, matched, len(passage), len(page)):
        return None
    return _Match(start, end, matched)


def _plausible(run, matched: int, passage: int, page: int) -> bool:
    """Whether common blocks are the passage rather than words it shares with the page (reports
    quote the same resolutions: 170 letters of Triệu Sơn's passage stand on Quan Hoá's page 2):
    most of the passage, or its start ending the page, its end starting the page, or the whole page."""
    opens_page, ends_page = run[0].b <= EDGE_CHARS, run[-1].b + run[-1].size >= page - EDGE_CHARS
    opens_passage, ends_passage = run[0].a <= EDGE_CHARS, run[-1].a + run[-1].size >= passage - EDGE_CHARS
    return (2 * matched >= passage or (opens_passage and ends_page) or (ends_passage and opens_page)
            or (opens_page and ends_page))


def _aligned(left, right) -> bool:
    """Whether two common blocks (in order) belong to one run: the text between them has about the
    same length in the passage and on the page."""
    gap_passage = right.a - (left.a + left.size)
    gap_page = right.b - (left.b + left.size)
    return abs(gap_passage - gap_page) <= GAP_SLACK


def _line_boxes(units: Sequence[_Unit], span: tuple[int, int, int], size: tuple[int, int]) -> tuple[Box, ...]:
    """One box per line of the units ``span[0]..span[1]``, padded, within the image."""
    first, last, _ = span
    groups: list[list[float]] = []
    current_line = None
    for unit in units[first:last + 1]:
        if unit.rect is None:
            continue
        left, top, right, bottom = unit.rect
        box = groups[-1] if groups and unit.line == current_line and _same_row(groups[-1], unit.rect) else None
        if box is None:
            groups.append([left, top, right, bottom])
            current_line = unit.line
        else:
            box[0], box[1], box[2], box[3] = min(box[0], left), min(box[1], top), max(box[2], right), max(box[3], bottom)
    width, height = size
    out: list[Box] = []
    for left, top, right, bottom in groups:
        # glyph boxes hug the ink: a highlighter is a bit taller than the line (wider, when /Rotate turns it)
        pad = max(1.0, 0.2 * min(bottom - top, right - left))
        across_x, across_y = (pad, 1.0) if bottom - top > right - left else (1.0, pad)
        box = Box(max(0, int(left - across_x)), max(0, int(top - across_y)), min(width, int(right + across_x + 1)),
                  min(height, int(bottom + across_y + 1)))
        if box.right > box.left and box.bottom > box.top:
            out.append(box)
    return tuple(out)


def _same_row(box: Sequence[float], rect: Sequence[float]) -> bool:
    """Whether ``rect`` continues the row ``box``: they overlap by at least half of the lower of the
    two heights, or, on a page turned by /Rotate (text running down), of the narrower width."""
    across = min(box[3], rect[3]) - max(box[1], rect[1])
    along = min(box[2], rect[2]) - max(box[0], rect[0])
    return (across >= 0.5 * min(box[3] - box[1], rect[3] - rect[1])
            or along >= 0.5 * min(box[2] - box[0], rect[2] - rect[0]))


# ---------------------------------------------------------------- drawing

def _highlight(image, boxes: Sequence[Box]):
    """The page with ``boxes`` multiplied in yellow and a bar in the left margin beside them."""
    if not boxes:
        return image
    from PIL import Image, ImageChops, ImageDraw

    layer = Image.new("RGB", image.size, (255, 255, 255))
    draw = ImageDraw.Draw(layer)
    for box in boxes:
        draw.rectangle((box.left, box.top, box.right - 1, box.bottom - 1), fill=HIGHLIGHT_RGB)
    left = min(b.left for b in boxes)
    bar_x = max(0, left - 3 * MARGIN_BAR_PX)
    draw.rectangle((bar_x, min(b.top for b in boxes), bar_x + MARGIN_BAR_PX - 1, max(b.bottom for b in boxes) - 1),
                   fill=MARGIN_BAR_RGB)
    return ImageChops.multiply(image, layer)


def _png(image) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    image.quantize(colors=PNG_COLOURS, method=Image.Quantize.FASTOCTREE).save(buffer, "PNG")
    return buffer.getvalue()


__all__ = ["Box", "PageView", "PageRefused", "render_passage_page", "highlight_text_html", "locate_in_text",
           "check_page", "PDFIUM_LOCK", "DEFAULT_DPI", "MAX_LONG_SIDE_PX"]
