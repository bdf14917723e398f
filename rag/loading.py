"""Loading: turn a PDF, DOCX, HTML, Markdown or text file into NFC text with page spans.

PDF pages without a usable text layer but with an image (scans) are read by OCR
(``rag.ocr``: Tesseract, Vietnamese model); the document then lists them in
``ocr_pages`` with their mean word confidence in ``ocr_confidence``.

Each loader returns a ``LoadedDocument``; anything that cannot be read raises
``UnreadableFileError`` naming the file and the reason, so ingest can skip it
and go on with the rest.
"""

from __future__ import annotations

import re
import statistics
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import UnreadableFileError
from .pdf_limits import pdf_limits
from .ocr import INSTALL_COMMAND, OcrConfidence, OcrSettings, ocr_pdf, ocr_unavailable
from .ocr import low_confidence as _low_confidence
from .vntext import nfc

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md",
                      ".markdown": "md", ".html": "html", ".htm": "html"}
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_PDF_PAGES = 3000
MAX_DOCX_UNCOMPRESSED = 300 * 1024 * 1024
MAX_TEXT_CHARS = 20_000_000
MIN_TEXT_LAYER_CHARS = 20  # a PDF page with fewer letters/digits in its text layer (and an image) is OCRed


@dataclass(frozen=True)
class PageSpan:
    """Page ``page`` (1-based) covers ``text[start:end]`` of the loaded document."""

    page: int
    start: int
    end: int


@dataclass(frozen=True)
class LoadedDocument:
    path: Path
    format: str
    text: str
    pages: tuple[PageSpan, ...] = ()
    ocr_pages: tuple[int, ...] = ()                  # pages whose text comes from OCR
    ocr_confidence: tuple[OcrConfidence, ...] = ()   # one record per OCR page: mean word confidence 0-100
    unread_pages: tuple[int, ...] = ()               # image pages left out (OCR unavailable or failed)

    def low_confidence_pages(self, threshold: float | None = None) -> tuple[OcrConfidence, ...]:
        """OCR pages whose mean word confidence is below ``threshold`` (default ``RAG_OCR_MIN_CONFIDENCE``, 70)."""
        return _low_confidence(self.ocr_confidence, threshold)

    def page_at(self, offset: int) -> int | None:
        """The page holding character ``offset``, or None for formats without pages."""
        for span in self.pages:
            if span.start <= offset < span.end:
                return span.page
        return self.pages[-1].page if self.pages and offset >= self.pages[-1].start else None


def file_format(path: Path) -> str | None:
    """The format name for ``path``'s suffix, or None when it is not a supported type."""
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


def load_document(path: Path, *, ocr: OcrSettings | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> LoadedDocument:
    """Read ``path`` into a ``LoadedDocument``.

    Scanned PDF pages are OCRed with ``ocr`` settings (default: ``OcrSettings.from_env()``);
    ``progress("ocr", pages_done, pages_total)`` reports on that. Raises ``UnreadableFileError``
    for unsupported, empty, corrupt, encrypted, oversized or undecodable files, and for
    image-only PDFs when OCR is unavailable (the reason says what to install).
    """
    path = Path(path)
    fmt = file_format(path)
    if fmt is None:
        raise UnreadableFileError(path, f"unsupported file type {path.suffix or '(none)'}",
                                  "supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot open: {exc.strerror or exc}") from exc
    if size == 0:
        raise UnreadableFileError(path, "empty file (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise UnreadableFileError(path, f"file too large ({size // 2**20} MiB > {MAX_FILE_BYTES // 2**20} MiB)")
    loader = {"pdf": _load_pdf, "docx": _load_docx, "txt": _load_text, "md": _load_text,
              "html": _load_html}[fmt]
    try:
        with pdf_limits():
            doc = _load_pdf(path, ocr, progress) if fmt == "pdf" else loader(path)
    except UnreadableFileError:
        raise
    except MemoryError as exc:
        raise UnreadableFileError(path, "too large to load in memory") from exc
    except Exception as exc:  # noqa: BLE001 - a parser's failure on one file must not stop ingest
        raise UnreadableFileError(path, f"corrupt or unreadable {fmt.upper()} ({type(exc).__name__}: {_short(exc)})") from exc
    if len(re.sub(r"\W", "", doc.text)) < 20:
        raise UnreadableFileError(path, "no text found" + (" (image-only PDF with no text layer; needs OCR)" if fmt == "pdf" else ""))
    return doc


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] if text else "no detail"


# ---------------------------------------------------------------- text files

def decode_text(data: bytes, path: Path) -> str:
    """Decode bytes of a text file: UTF-8 (with or without BOM), UTF-16 (BOM), else Windows-1258."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        # UTF-16 without BOM: every other byte is zero for Latin text
        zeros_even = data[0:4096:2].count(0)
        zeros_odd = data[1:4096:2].count(0)
        if max(zeros_even, zeros_odd) > len(data[:4096]) // 4:
            return data.decode("utf-16-le" if zeros_odd > zeros_even else "utf-16-be", errors="strict")
        raise UnreadableFileError(path, "binary content (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(path, f"undecodable bytes (not UTF-8, UTF-16 or Windows-1258) at byte {exc.start}",
                                  "save the file as UTF-8") from exc
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > len(text) // 100:
        raise UnreadableFileError(path, "undecodable bytes (binary content, not text)")
    return text


def _load_text(path: Path) -> LoadedDocument:
    data = path.read_bytes()
    text = nfc(decode_text(data, path))
    if len(text) > MAX_TEXT_CHARS:
        raise UnreadableFileError(path, f"text too long ({len(text)} characters)")
    return LoadedDocument(path, file_format(path) or "txt", _clean_blank_lines(text))


def _clean_blank_lines(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# ---------------------------------------------------------------- HTML

def _load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    raw = decode_text(path.read_bytes(), path)
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object"]):
        tag.decompose()
    for tag in soup.find_all(["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"]):
        tag.insert_after("\n\n" if tag.name not in ("br", "li", "tr") else "\n")
    text = nfc(soup.get_text())
    return LoadedDocument(path, "html", _clean_blank_lines(text))


# ---------------------------------------------------------------- DOCX

def _load_docx(path: Path) -> LoadedDocument:
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
            if total > MAX_DOCX_UNCOMPRESSED:
                raise UnreadableFileError(path, f"DOCX expands to {total // 2**20} MiB (zip bomb?); refused")
            if "word/document.xml" not in zf.namelist():
                raise UnreadableFileError(path, "not a Word document (no word/document.xml inside)")
    except zipfile.BadZipFile as exc:
        raise UnreadableFileError(path, "corrupt DOCX (not a valid ZIP archive)") from exc
    import docx  # python-docx

    document = docx.Document(str(path))
    blocks: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = _docx_paragraph_text(child)
            if text.strip():
                blocks.append(text)
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cell_text = " ".join(_docx_paragraph_text(p) for p in cell.iter() if p.tag.endswith("}p"))
                            cells.append(" ".join(cell_text.split()))
                    line = " | ".join(c for c in cells if c)
                    if line:
                        blocks.append(line)
    text = nfc("\n\n".join(blocks))
    return LoadedDocument(path, "docx", _clean_blank_lines(text))


def _docx_paragraph_text(p_element) -> str:
    parts: list[str] = []
    for node in p_element.iter():
        name = node.tag.rsplit("}", 1)[-1]
        if name == "t" and node.text:
            parts.append(node.text)
        elif name in ("br", "cr"):
            parts.append("\n")
        elif name == "tab":
            parts.append(" ")
    return "".join(parts)


# ---------------------------------------------------------------- PDF

def _load_pdf(path: Path, ocr: OcrSettings | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
    except PdfReadError as exc:
        raise UnreadableFileError(path, f"corrupt PDF ({_short(exc)})") from exc
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFileError(path, f"encrypted PDF that cannot be opened ({_short(exc)})") from exc
        if not ok:
            raise UnreadableFileError(path, "encrypted PDF (password required)", "ask the sender for an unprotected copy")
    try:
        n_pages = len(reader.pages)
    except (PdfReadError, FileNotDecryptedError) as exc:
        raise UnreadableFileError(path, f"corrupt PDF ({_short(exc)})") from exc
    if n_pages == 0:
        raise UnreadableFileError(path, "PDF has no pages")
    if n_pages > MAX_PDF_PAGES:
        raise UnreadableFileError(path, f"PDF has {n_pages} pages (limit {MAX_PDF_PAGES}); refused")
    page_lines: list[list[str]] = []
    scanned: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        raw = page.extract_text() or ""
        page_lines.append([line.strip() for line in nfc(raw).split("\n")])
        if _word_chars(raw) < MIN_TEXT_LAYER_CHARS and _has_images(page):
            scanned.append(number)
    if not scanned:
        return _join_pdf_pages(path, page_lines)
    return _ocr_scanned_pages(path, page_lines, scanned, ocr or OcrSettings.from_env(), progress)


def _word_chars(text: str) -> int:
    return len(re.sub(r"\W", "", text))


def _has_images(page) -> bool:
    try:
        return len(page.images) > 0
    except Exception:  # noqa: BLE001 - unparsable resources: let OCR look at the page
        return True


def _ocr_scanned_pages(path: Path, page_lines: list[list[str]], scanned: list[int], settings: OcrSettings,
                       progress: Callable[[str, int, int], None] | None) -> LoadedDocument:
    """Replace the (empty) text layer of the ``scanned`` pages by their OCR text, normalised like the rest."""
    has_text_layer = any(line for lines in page_lines for line in lines)
    reason = ocr_unavailable(settings.lang) if settings.enabled else "OCR is turned off (RAG_OCR=0)"
    if reason is not None:
        if not has_text_layer:
            raise UnreadableFileError(path, f"image-only PDF (no text layer); {reason}", INSTALL_COMMAND)
        doc = _join_pdf_pages(path, page_lines)
        return LoadedDocument(doc.path, doc.format, doc.text, doc.pages, unread_pages=tuple(scanned))
    results = ocr_pdf(path, scanned, settings, progress)
    ocr_pages: list[int] = []
    confidences: list[OcrConfidence] = []
    for number in scanned:
        result = results.get(number)
        if result is None:
            continue
        lines = [" ".join(nfc(line).split()) for line in result.lines]
        if _word_chars("".join(lines)) > _word_chars("".join(page_lines[number - 1])):
            page_lines[number - 1] = lines
            ocr_pages.append(number)
            confidences.append(OcrConfidence(number, result.confidence, result.words))
    if not any(line for lines in page_lines for line in lines):
        raise UnreadableFileError(path, f"no text found (image-only PDF; OCR of {len(scanned)} page(s) found no words)")
    doc = _join_pdf_pages(path, page_lines)
    return LoadedDocument(doc.path, doc.format, doc.text, doc.pages, ocr_pages=tuple(ocr_pages),
                          ocr_confidence=tuple(confidences),
                          unread_pages=tuple(n for n in scanned if n not in results))


_BLOCK_START = re.compile(
    r"^(?:[IVXLC]+\.|\d+(?:\.\d+)*\.|[a-zđ]\)|[-+•*–]\s|#|Số:|Kính gửi|Nơi nhận|KT\.|TM\.|V/v|"
    r"BÁO CÁO$|KẾ HOẠCH$|CỘNG HÒA|CỘNG HOÀ|Độc lập)")


def reflow_lines(lines: list[str], full_width: float) -> list[str]:
    """Join hard-wrapped lines into paragraphs.

    A line continues into the next when it fills the text width (>= 75 % of the page's
    typical full line) or the next line starts in lower case; a line that starts an
    outline item or a header field always starts a new paragraph.
    """
    paragraphs: list[str] = []
    current = ""
    prev_full = False
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current, prev_full = "", False
            continue
        starts_block = bool(_BLOCK_START.match(line))
        continues = current and not starts_block and (prev_full or line[0].islower())
        if continues:
            current = f"{current} {line}"
        else:
            if current:
                paragraphs.append(current)
            current = line
        prev_full = len(line) >= 0.75 * full_width
    if current:
        paragraphs.append(current)
    return paragraphs


def _join_pdf_pages(path: Path, page_lines: list[list[str]]) -> LoadedDocument:
    widths = [len(line) for lines in page_lines for line in lines if line]
    if not widths:
        raise UnreadableFileError(path, "no text layer (image-only PDF; needs OCR)")
    full_width = statistics.quantiles(widths, n=10)[-1] if len(widths) >= 10 else max(widths)
    text = ""
    spans: list[PageSpan] = []
    for number, lines in enumerate(page_lines, start=1):
        paragraphs = reflow_lines(lines, full_width)
        if not paragraphs:
            spans.append(PageSpan(number, len(text), len(text)))
            continue
        first = paragraphs[0]
        joined_to_previous = bool(text) and _continues_across_pages(text, first, full_width, page_lines[number - 2])
        start = len(text)
        if joined_to_previous:
            text = text.rstrip("\n") + " "
            start = len(text)
        elif text:
            text += "\n"
            start = len(text)
        text += "\n\n".join(paragraphs) + "\n"
        spans.append(PageSpan(number, start, len(text)))
    return LoadedDocument(path, "pdf", text, tuple(spans))


def _continues_across_pages(text_so_far: str, first_paragraph: str, full_width: float, prev_lines: list[str]) -> bool:
    last_line = next((line for line in reversed(prev_lines) if line), "")
    if not last_line or _BLOCK_START.match(first_paragraph):
        return False
    if first_paragraph[0].islower():
        return True
    return len(last_line) >= 0.75 * full_width and not last_line.endswith((".", ":", ";", "!", "?"))
