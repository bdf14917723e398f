"""Loading: turn a PDF, DOCX, HTML, Markdown or text file into NFC text with page spans.

PDF pages without a usable text layer but with an image (scans) are read by OCR
(``rag.ocr``: Tesseract, Vietnamese model); the document then lists them in
``ocr_pages`` with their mean word confidence in ``ocr_confidence``.

Each loader returns a ``LoadedDocument``; anything that cannot be read raises
``UnreadableFileError`` naming the file and the reason, so ingest can skip it
and go on with the rest.

Every load runs under a ``FileBudget`` (``rag.budget``): size, characters, PDF pages, DOCX XML,
paragraphs, HTML nesting and wall-clock seconds, checked inside the loaders as they go; a file
over any limit is refused with a reason naming the limit. Only regular files are opened (a FIFO or
a device named ``.txt`` is refused before it is opened: opening a FIFO blocks).
"""

from __future__ import annotations

import os
import re
import stat
import statistics
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from .budget import DEFAULT_BUDGET, Deadline, FileBudget
from .errors import UnreadableFileError
from .pdf_limits import MAX_STREAM_BYTES, pdf_limits
from .ocr import INSTALL_COMMAND, OcrConfidence, OcrSettings, ocr_pdf, ocr_unavailable
from .ocr import low_confidence as _low_confidence
from .vntext import nfc

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md",
                      ".markdown": "md", ".html": "html", ".htm": "html"}
# The default budget's limits (see rag.budget for the measurements behind them). Kept as module
# names for older callers: ``load_document(path)`` without ``budget=`` reads them at call time.
MAX_FILE_BYTES = DEFAULT_BUDGET.max_file_bytes
MAX_PDF_PAGES = DEFAULT_BUDGET.max_pdf_pages
MAX_DOCX_UNCOMPRESSED = DEFAULT_BUDGET.max_docx_xml_bytes
MAX_TEXT_CHARS = DEFAULT_BUDGET.max_text_chars
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
                  progress: Callable[[str, int, int], None] | None = None,
                  budget: FileBudget | None = None) -> LoadedDocument:
    """Read ``path`` into a ``LoadedDocument``.

    Scanned PDF pages are OCRed with ``ocr`` settings (default: ``OcrSettings.from_env()``);
    ``progress("ocr", pages_done, pages_total)`` reports on that. Raises ``UnreadableFileError``
    for unsupported, empty, corrupt, encrypted, oversized or undecodable files, for anything but
    a regular file, for a file over ``budget`` (default: the default ``FileBudget``), and for
    image-only PDFs when OCR is unavailable (the reason says what to install).
    """
    path = Path(path)
    fmt = file_format(path)
    if fmt is None:
        raise UnreadableFileError(path, f"unsupported file type {path.suffix or '(none)'}",
                                  "supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)), code="unsupported")
    budget = budget or _default_budget()
    try:
        info = path.stat()
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot open: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):  # before any open(): opening a FIFO blocks until a writer comes
        raise UnreadableFileError(path, f"not a regular file ({_file_kind(info.st_mode)}); not opened")
    size = info.st_size
    if size == 0:
        raise UnreadableFileError(path, "empty file (0 bytes)", code="empty")
    budget.check(path, "max_file_bytes", size, "bytes")
    deadline = budget.deadline(path)
    loader = {"pdf": _load_pdf, "docx": _load_docx, "txt": _load_text, "md": _load_text,
              "html": _load_html}[fmt]
    try:
        with pdf_limits():
            if fmt == "pdf":
                doc = _load_pdf(path, ocr, progress, budget=budget, deadline=deadline)
            else:
                doc = loader(path, budget=budget, deadline=deadline)
    except UnreadableFileError:
        raise
    except MemoryError as exc:
        raise UnreadableFileError(path, "too large to load in memory", code="too_large") from exc
    except Exception as exc:  # noqa: BLE001 - a parser's failure on one file must not stop ingest
        raise UnreadableFileError(path, f"corrupt or unreadable {fmt.upper()} ({type(exc).__name__}: {_short(exc)})",
                                  code="corrupt") from exc
    if len(re.sub(r"\W", "", doc.text)) < 20:
        raise UnreadableFileError(path, "no text found" + (" (image-only PDF with no text layer; needs OCR)" if fmt == "pdf" else ""),
                                  code="no_text")
    return doc


def _default_budget() -> FileBudget:
    """The default budget, with the module's MAX_* names as they are now (older callers patch them)."""
    return FileBudget(max_file_bytes=MAX_FILE_BYTES, max_text_chars=MAX_TEXT_CHARS, max_pdf_pages=MAX_PDF_PAGES,
                      max_docx_xml_bytes=MAX_DOCX_UNCOMPRESSED)


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO / named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a plain file"


def _read_regular(path: Path, budget: FileBudget) -> bytes:
    """The bytes of ``path``, read only if it is (still) a regular file within ``max_file_bytes``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped for a FIFO or a device since load_document's check
            raise UnreadableFileError(path, f"not a regular file ({_file_kind(info.st_mode)})")
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read(budget.max_file_bytes + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    budget.check(path, "max_file_bytes", len(data), "bytes" if len(data) <= budget.max_file_bytes else "bytes or more")
    return data


def _count_paragraphs(text: str, deadline: Deadline) -> int:
    """Blocks of ``text``: runs of non-blank lines between blank ones (linear, no regex backtracking)."""
    count, pos, end, in_block, lines = 0, 0, len(text), False, 0
    while pos <= end:
        stop = text.find("\n", pos)
        if stop < 0:
            stop = end
        blank = stop == pos or text[pos:stop].isspace()
        if not blank and not in_block:
            count += 1
        in_block = not blank
        pos = stop + 1
        lines += 1
        if lines % 4096 == 0:
            deadline.check("counting paragraphs")
    return count


def _check_paragraphs(path: Path, text: str, budget: FileBudget, deadline: Deadline) -> None:
    budget.check(path, "max_paragraphs", _count_paragraphs(text, deadline), "paragraphs")


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
        raise UnreadableFileError(path, "binary content (NUL bytes), not text", code="not_text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(path, f"undecodable bytes (not UTF-8, UTF-16 or Windows-1258) at byte {exc.start}",
                                  "save the file as UTF-8", code="not_text") from exc
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > len(text) // 100:
        raise UnreadableFileError(path, "undecodable bytes (binary content, not text)", code="not_text")
    return text


def _load_text(path: Path, *, budget: FileBudget = DEFAULT_BUDGET, deadline: Deadline | None = None) -> LoadedDocument:
    deadline = deadline or budget.deadline(path)
    data = _read_regular(path, budget)
    if len(data) > 4 * budget.max_text_chars:  # every encoding read here takes at most 4 bytes a character
        raise budget.exceeded(path, "max_text_chars", f"at least {len(data) // 4}", "characters")
    text = nfc(decode_text(data, path))
    budget.check(path, "max_text_chars", len(text), "characters")
    deadline.check("after decoding")
    text = _clean_blank_lines(text)
    _check_paragraphs(path, text, budget, deadline)
    return LoadedDocument(path, file_format(path) or "txt", text)


def _clean_blank_lines(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# ---------------------------------------------------------------- HTML

# The old loader built a BeautifulSoup tree, then called ``insert_after`` once per block tag; bs4
# finds the insertion point by walking down to the previous element's last descendant, so each
# call cost O(depth) and nested <div> cost O(depth^2) (16,000 levels: 25 s; 50 MB: 18 min, 7.3 GB
# of Tag objects). This loader streams instead: the stdlib parser's events append text straight to
# a list, with a stack of open tags (no tree), so it is linear in the input, and the stack gives the
# nesting depth to cap. The text is what the old loader gave: every string but comments, nothing
# inside _HTML_SKIP elements, "\n\n" after each block element (``\n`` after br, li, tr), and a
# whitespace-only string outside <pre>/<textarea> cut to one "\n" (if it has one) or " ", as bs4 does.
_HTML_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object"})
_HTML_BREAK = {"p": "\n\n", "div": "\n\n", "table": "\n\n", "h1": "\n\n", "h2": "\n\n", "h3": "\n\n",
               "h4": "\n\n", "h5": "\n\n", "h6": "\n\n", "br": "\n", "li": "\n", "tr": "\n"}
_HTML_PRESERVE = frozenset({"pre", "textarea"})
_ASCII_SPACES = frozenset(" \n\t\f\r")
# elements without content or end tag (as bs4's html.parser builder treats them): never on the stack
_HTML_VOID = frozenset({"area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr",
                        "image", "img", "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid",
                        "param", "source", "spacer", "track", "wbr"})


class _HtmlText(HTMLParser):
    """HTML to text in one pass, within the budget's depth, characters and deadline."""

    def __init__(self, path: Path, budget: FileBudget, deadline: Deadline) -> None:
        super().__init__(convert_charrefs=True)
        self.path, self.budget, self.deadline = path, budget, deadline
        self.parts: list[str] = []
        self.chars = 0
        self.stack: list[str] = []          # open elements, innermost last
        self.open: dict[str, int] = {}      # how many of each name are open: a stray end tag costs O(1)
        self.skipping = 0                   # open _HTML_SKIP elements
        self.preserving = 0                 # open <pre> / <textarea>
        self.pending: list[str] = []        # text since the last tag: one string, as bs4 makes it
        self.pending_chars = 0
        self.events = 0

    def _tick(self) -> None:
        self.events += 1
        if self.events % 64 == 0:
            self.deadline.check(f"parsing the HTML at line {self.getpos()[0]}")

    def _emit(self, text: str) -> None:
        if self.skipping or not text:
            return
        self.chars += len(text)
        if self.chars > self.budget.max_text_chars:
            raise self.budget.exceeded(self.path, "max_text_chars", f"more than {self.budget.max_text_chars}",
                                       "characters")
        self.parts.append(text)

    def _flush(self) -> None:
        if not self.pending:
            return
        data = "".join(self.pending)
        self.pending, self.pending_chars = [], 0
        if not self.preserving and all(c in _ASCII_SPACES for c in data):
            data = "\n" if "\n" in data else " "
        self._emit(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._tick()
        self._flush()
        if tag in _HTML_VOID:
            if tag == "br":
                self._emit("\n")
            return
        self.stack.append(tag)
        self.open[tag] = self.open.get(tag, 0) + 1
        if tag in _HTML_SKIP:
            self.skipping += 1
        elif tag in _HTML_PRESERVE:
            self.preserving += 1
        if len(self.stack) > self.budget.max_html_depth:
            raise self.budget.exceeded(self.path, "max_html_depth", len(self.stack),
                                       f"levels of nested tags (at line {self.getpos()[0]})")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _HTML_VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        self._tick()
        self._flush()
        if not self.open.get(tag):
            return  # an end tag with no open element of that name: ignored, like bs4 does
        while True:  # close the innermost open ``tag`` and whatever is still open inside it
            name = self.stack.pop()
            self._close(name)
            if name == tag:
                return

    def _close(self, name: str) -> None:
        self.open[name] -= 1
        if name in _HTML_SKIP:
            self.skipping -= 1
        elif name in _HTML_PRESERVE:
            self.preserving -= 1
        if name in _HTML_BREAK:
            self._emit(_HTML_BREAK[name])

    def handle_data(self, data: str) -> None:
        self._tick()
        if not self.skipping:
            self.pending.append(data)
            self.pending_chars += len(data)
            if self.chars + self.pending_chars > self.budget.max_text_chars:
                self._flush()

    def handle_comment(self, data: str) -> None:
        self._flush()

    def handle_decl(self, decl: str) -> None:
        self._flush()

    def handle_pi(self, data: str) -> None:
        self._flush()

    def unknown_decl(self, data: str) -> None:
        self._flush()
        if data.upper().startswith("CDATA["):  # bs4 keeps CDATA sections as text
            self._emit(data[len("CDATA["):])

    def text(self) -> str:
        self.close()
        self._flush()
        while self.stack:  # elements never closed end with the document
            self._close(self.stack.pop())
        return "".join(self.parts)


# The stdlib parser (3.11) is quadratic in another way: at the end of the input it retries every
# construct that never ends (``<!--`` with no ``-->`` after it, ``<a`` with no ``>`` after it, ...),
# each retry scanning to the end of the text: 32 KB of "<!--" took 1.2 s, 800 KB would take ~12 min.
# Such a "<" can only ever be text, so it is escaped beforehand, in one pass.
_COMMENT_CLOSE_REVERSED = re.compile(r">\s*--")          # html.parser's comment end, --\s*>, read backwards
_SECTION_CLOSE_REVERSED = re.compile(r">\s*\]\s*\]")    # ]\s*]\s*> (CDATA and other marked sections)
_MS_SECTION_CLOSE_REVERSED = re.compile(r">\s*\]")       # ]\s*> (MS Office's <![if ...]>)
_HTML_OPENING = re.compile(r"<!(?:--|\[([a-zA-Z][-_.a-zA-Z0-9]*))")


def _last_match_start(reversed_pattern: re.Pattern, text: str, reversed_text: str) -> int:
    match = reversed_pattern.search(reversed_text)
    return len(text) - match.end() if match else -1


def _escape_unterminated(raw: str) -> str:
    """``raw`` with "&lt;" for each "<" that opens a construct with no end after it (linear time)."""
    last_gt = raw.rfind(">")
    backwards = raw[::-1]
    comment_end = _last_match_start(_COMMENT_CLOSE_REVERSED, raw, backwards)
    section_end = _last_match_start(_SECTION_CLOSE_REVERSED, raw, backwards)
    ms_section_end = _last_match_start(_MS_SECTION_CLOSE_REVERSED, raw, backwards)
    del backwards

    def escape(match: re.Match) -> str:
        at, opening, name = match.start(), match.group(), (match.group(1) or "").lower()
        if opening == "<!--":
            unterminated = comment_end < at + 4
        elif name in ("if", "else", "endif"):
            unterminated = ms_section_end < at + 3
        elif name in ("temp", "cdata", "ignore", "include", "rcdata"):
            unterminated = section_end < at + 3
        else:
            return opening
        return "&lt;" + opening[1:] if unterminated else opening

    head = _HTML_OPENING.sub(escape, raw[:last_gt + 1])
    return head + raw[last_gt + 1:].replace("<", "&lt;")  # no ">" after: no tag, declaration or PI can end


def _load_html(path: Path, *, budget: FileBudget = DEFAULT_BUDGET, deadline: Deadline | None = None) -> LoadedDocument:
    deadline = deadline or budget.deadline(path)
    raw = _escape_unterminated(decode_text(_read_regular(path, budget), path))
    deadline.check("after reading the HTML")
    parser = _HtmlText(path, budget, deadline)
    parser.feed(raw)  # the whole text at once: fed in pieces, the stdlib parser rescans unfinished tags
    text = _clean_blank_lines(nfc(parser.text()))
    _check_paragraphs(path, text, budget, deadline)
    return LoadedDocument(path, "html", text)


# ---------------------------------------------------------------- DOCX

# parts python-docx keeps as bytes (images, fonts, embedded objects), not parsed as XML
_DOCX_BINARY_PART = re.compile(r"\.(?:png|jpe?g|jfif|gif|bmp|tiff?|emf|wmf|wdp|ico|webp|bin|odttf|ttf|otf|fntdata|"
                               r"mp3|mp4|wav|avi|wmv|mov|xlsx|docx|pptx)$", re.IGNORECASE)


def _docx_xml_bytes(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], deadline: Deadline) -> int:
    """Unzipped bytes of the parts that may be parsed as XML: all but binary-named parts that are not XML inside."""
    total = 0
    for number, info in enumerate(infos, start=1):
        if number % 256 == 0:
            deadline.check(f"at part {number} of {len(infos)} in the DOCX")
        if _DOCX_BINARY_PART.search(info.filename) and info.file_size:
            with zf.open(info) as fh:
                head = fh.read(64)
            if not head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").startswith(b"<"):
                continue
        total += info.file_size
    return total


def _load_docx(path: Path, *, budget: FileBudget = DEFAULT_BUDGET, deadline: Deadline | None = None) -> LoadedDocument:
    deadline = deadline or budget.deadline(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(info.file_size for info in infos)
            # python-docx holds every part in memory: the whole archive within the file budget
            budget.check(path, "max_file_bytes", total, "bytes when unzipped", "zip bomb?")
            if "word/document.xml" not in zf.namelist():
                raise UnreadableFileError(path, "not a Word document (no word/document.xml inside)", code="corrupt")
            budget.check(path, "max_docx_xml_bytes", _docx_xml_bytes(zf, infos, deadline), "bytes of XML when unzipped",
                         "zip bomb?")
    except zipfile.BadZipFile as exc:
        raise UnreadableFileError(path, "corrupt DOCX (not a valid ZIP archive)", code="corrupt") from exc
    import docx  # python-docx

    document = docx.Document(str(path))
    deadline.check("after parsing the DOCX XML")
    blocks: list[str] = []
    chars = 0

    def add(block: str) -> None:
        nonlocal chars
        blocks.append(block)
        chars += len(block) + 2
        budget.check(path, "max_text_chars", chars, f"characters in the first {len(blocks)} paragraphs")

    body = document.element.body
    for number, child in enumerate(body.iterchildren(), start=1):
        deadline.check(f"at paragraph {number}")
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = _docx_paragraph_text(child)
            if text.strip():
                add(text)
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    deadline.check(f"in a table at paragraph {number}")
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cell_text = " ".join(_docx_paragraph_text(p) for p in cell.iter() if p.tag.endswith("}p"))
                            cells.append(" ".join(cell_text.split()))
                    line = " | ".join(c for c in cells if c)
                    if line:
                        add(line)
    # each non-empty paragraph and table row is a block of the text (and later, often, a chunk)
    budget.check(path, "max_paragraphs", len(blocks), "paragraphs")
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
              progress: Callable[[str, int, int], None] | None = None, *,
              budget: FileBudget = DEFAULT_BUDGET, deadline: Deadline | None = None) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
    except PdfReadError as exc:
        raise UnreadableFileError(path, f"corrupt PDF ({_short(exc)})", code="corrupt") from exc
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFileError(path, f"encrypted PDF that cannot be opened ({_short(exc)})",
                                      code="encrypted") from exc
        if not ok:
            raise UnreadableFileError(path, "encrypted PDF (password required)", "ask the sender for an unprotected copy",
                                      code="encrypted")
    try:
        n_pages = len(reader.pages)
    except (PdfReadError, FileNotDecryptedError) as exc:
        raise UnreadableFileError(path, f"corrupt PDF ({_short(exc)})", code="corrupt") from exc
    if n_pages == 0:
        raise UnreadableFileError(path, "PDF has no pages", code="corrupt")
    deadline = deadline or budget.deadline(path)
    # refused before any page is read (pages sharing one huge content stream each re-parse all of it)
    budget.check(path, "max_pdf_pages", n_pages, "pages")
    page_lines: list[list[str]] = []
    scanned: list[int] = []
    chars = 0
    number = 0
    operators = 0

    def each_operator(*_args: object) -> None:  # pypdf calls it per content-stream operator
        nonlocal operators
        operators += 1
        if operators % 512 == 0:
            deadline.check(f"in page {number} of {n_pages}")

    for number, page in enumerate(reader.pages, start=1):
        deadline.check(f"at page {number} of {n_pages}")
        raw = page.extract_text(visitor_operand_before=each_operator) or ""
        chars += len(raw)
        budget.check(path, "max_text_chars", chars, f"characters in the first {number} of {n_pages} pages")
        page_lines.append([line.strip() for line in nfc(raw).split("\n")])
        if _word_chars(raw) < MIN_TEXT_LAYER_CHARS and _has_images(path, page, number):
            scanned.append(number)
    if not scanned:
        return _join_pdf_pages(path, page_lines)

    def ocr_progress(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)
        # raised in ocr_pdf's loop: it stops queueing pages, and the pages done stay in the OCR cache
        deadline.check(f"after OCR of {done} of {total} scanned pages")

    return _ocr_scanned_pages(path, page_lines, scanned, ocr or OcrSettings.from_env(), ocr_progress)


def _word_chars(text: str) -> int:
    return len(re.sub(r"\W", "", text))


def _has_images(path: Path, page, number: int) -> bool:
    """Whether the page holds images (then it is OCRed). A page whose streams inflate beyond the
    limit of ``pdf_limits`` is refused: rendering it for OCR would inflate all of it (pdfium has
    no cap; a 200 MB deflate bomb took 435 MB)."""
    from pypdf.errors import LimitReachedError

    try:
        return len(page.images) > 0
    except LimitReachedError as exc:
        raise UnreadableFileError(path, f"page {number} inflates beyond {MAX_STREAM_BYTES // 1_000_000} MB "
                                        "(a compressed stream far larger than any report's)", code="too_large") from exc
    except Exception:  # noqa: BLE001 - unparsable resources: let OCR look at the page
        return True


def _ocr_scanned_pages(path: Path, page_lines: list[list[str]], scanned: list[int], settings: OcrSettings,
                       progress: Callable[[str, int, int], None] | None) -> LoadedDocument:
    """Replace the (empty) text layer of the ``scanned`` pages by their OCR text, normalised like the rest."""
    has_text_layer = any(line for lines in page_lines for line in lines)
    reason = ocr_unavailable(settings.lang) if settings.enabled else "OCR is turned off (RAG_OCR=0)"
    if reason is not None:
        if not has_text_layer:
            raise UnreadableFileError(path, f"image-only PDF (no text layer); {reason}", INSTALL_COMMAND, code="needs_ocr")
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
        raise UnreadableFileError(path, f"no text found (image-only PDF; OCR of {len(scanned)} page(s) found no words)",
                                  code="no_text")
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
        raise UnreadableFileError(path, "no text layer (image-only PDF; needs OCR)", code="needs_ocr")
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
