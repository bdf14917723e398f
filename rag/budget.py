"""A budget per file: how much one source file may cost to load before ingest skips it.

One hostile file must not take the whole machine. Before these limits, a 0.5 MB DOCX of
100,000 one-word paragraphs became 62,018 chunks (4.2 GB, ~75 min); a 0.9 MB DOCX whose
``word/document.xml`` inflates to 250 MB took 5.4 GB; a 5.8 MB PDF of 2,999 pages sharing one
content stream took ~10 s a page (8 h); 80 KB of nested ``<div>`` took 25 s (50 MB: 18 min,
7.3 GB); a FIFO named ``.txt`` hung the loader forever.

``load_document(path, budget=...)`` enforces a ``FileBudget`` inside the loaders, cooperatively: a
``Deadline`` is checked between PDF pages, every 512 content-stream operators within a page, between
OCR pages, DOCX paragraphs, text blocks and HTML parser events, and sizes and counts are checked as
they grow; nothing kills the process. A file over any limit raises ``UnreadableFileError`` whose
reason names the limit and the value, e.g. ``over the per-file budget: 100000 paragraphs > 10000
(max_paragraphs)``, so ingest skips it and indexes the rest.

The defaults below were set against the five shipped reports (``corpus/{pdf,docx,txt}``,
measured with pypdf 7.1 / python-docx on the dev box): generous above real reports, far below
the attacks. Every limit is a setting (``rag.toml`` ``[rag]`` table or ``RAG_MAX_...``), see
``rag.config.Settings``; ``FileBudget.from_settings(settings)`` builds the budget from them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import ConfigError, UnreadableFileError

# Largest real report file: 74,104 B (quang-tri PDF); the 3-page scan is 732,278 B (244 KB a page),
# so a 300-page scan is ~73 MB. Unchanged from the old MAX_FILE_BYTES: 200 MiB. It also caps the
# total unzipped size of a DOCX (python-docx keeps every part, images included, in memory).
DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024

# Real reports: 5,572 - 22,224 characters (quang-tri, 9 pages: ~2,500 a page). 5,000,000 is 225x
# the largest, ~2,000 such pages (was 20,000,000). Pages sharing one content stream of text give
# ~300,000 characters a page per MB of stream (measured on a generated one), so such a PDF trips
# this within a few pages.
DEFAULT_MAX_TEXT_CHARS = 5_000_000

# Real reports: 3 - 9 pages. 1,000 is 111x the largest (was 3,000, which let the 2,999-page
# shared-stream attack through); the page count is checked before any page is read.
DEFAULT_MAX_PDF_PAGES = 1_000

# Real DOCX: 22,946 - 54,567 bytes of XML in all (word/document.xml 12,865 - 44,486). 32 MiB is
# 615x the largest; lxml needs ~22x the XML in memory (250 MB of XML took 5.4 GB), so this caps a
# DOCX's parse at ~0.7 GB. The old MAX_DOCX_UNCOMPRESSED, 300 MB, let that 5.4 GB attack through.
DEFAULT_MAX_DOCX_XML_BYTES = 32 * 1024 * 1024

# Real reports: 21 - 70 paragraphs (DOCX body paragraphs = text blocks of the TXT versions), ~8 a
# page. 10,000 is 143x the largest (a ~1,300-page report); the attack had 100,000 (62,018 chunks).
# Counts DOCX paragraphs and table rows, and blank-line separated blocks of TXT/Markdown/HTML.
DEFAULT_MAX_PARAGRAPHS = 10_000

# No HTML in the corpus (so no HTML measured); the DOCX XML of the real reports nests 4 - 5 deep
# (body > p > r > t). 256 is libxml2's own cap (lxml 2.14 here refuses a 257-deep DOCX XML with
# "Excessive depth in document: 256"), so python-docx already lives under it; Chromium's HTML
# parser caps its tree at 512. The attack nested 16,000 <div> in 80 KB. With the streaming HTML
# loader depth costs no time; the cap keeps a pathological tree out all the same.
DEFAULT_MAX_HTML_DEPTH = 256

# Real reports load in 0.002 - 0.59 s (slowest: quang-tri PDF, 9 pages, 0.065 s a page); OCR of the
# 3-page scan takes 8.1 s with one worker (~2.7 s a page). 600 s is 1,000x the slowest text load
# and ~220 scanned pages at one worker; the shared-stream attack ran 8 h. OCR pages done before
# the deadline stay in the OCR cache, so a rerun with a larger budget does not redo them. The check
# can come late by what cannot be interrupted: pypdf parses a page's whole content stream before the
# first operator (~2.5 s per MB here; real pages have <= 16 KB, so at most ~40 s at the 16 MB stream
# cap of rag.pdf_limits), and one Tesseract page (its own timeout, rag.ocr).
DEFAULT_MAX_SECONDS = 600.0

LIMITS = ("max_file_bytes", "max_text_chars", "max_pdf_pages", "max_docx_xml_bytes", "max_paragraphs",
          "max_html_depth", "max_seconds")
_WHAT = {"max_file_bytes": "bytes a file may have (and a DOCX unzip to)",
         "max_text_chars": "characters of text a file may give",
         "max_pdf_pages": "pages a PDF may have",
         "max_docx_xml_bytes": "bytes of XML a DOCX may unzip to",
         "max_paragraphs": "paragraphs (text blocks) a file may have",
         "max_html_depth": "levels an HTML file may nest tags",
         "max_seconds": "seconds loading one file may take"}


def check_limit(name: str, value: object) -> None:
    """Raise ``ConfigError`` unless ``value`` is a usable value for the limit ``name`` (a number > 0)."""
    ok_type = (float, int) if name == "max_seconds" else (int,)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise ConfigError(f"{name} must be a {'number' if name == 'max_seconds' else 'whole number'}, "
                          f"not {value!r}", f"the most {_WHAT[name]}")
    if not value > 0:  # NaN too
        raise ConfigError(f"{name} must be more than 0, not {value}",
                          f"the most {_WHAT[name]}; default {_DEFAULTS[name]}")


@dataclass(frozen=True)
class FileBudget:
    """The most one file may cost to load; see the module doc for the measurements behind each default."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    max_docx_xml_bytes: int = DEFAULT_MAX_DOCX_XML_BYTES
    max_paragraphs: int = DEFAULT_MAX_PARAGRAPHS
    max_html_depth: int = DEFAULT_MAX_HTML_DEPTH
    max_seconds: float = DEFAULT_MAX_SECONDS
    # the clock the deadline reads (seconds, monotonic); tests inject a fake one
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in LIMITS:
            check_limit(name, getattr(self, name))

    @classmethod
    def from_settings(cls, settings: object) -> "FileBudget":
        """The budget named by ``settings`` (a ``rag.config.Settings``: ``max_file_bytes``, ... ``max_seconds``)."""
        return cls(**{name: getattr(settings, name) for name in LIMITS})

    def deadline(self, path: Path | str) -> "Deadline":
        """Start the clock for loading ``path``: ``max_seconds`` from now."""
        return Deadline(path, self.max_seconds, self.clock)

    def exceeded(self, path: Path | str, name: str, value: object, what: str, note: str = "") -> UnreadableFileError:
        """The error for ``path`` going over limit ``name`` with ``value`` ``what`` (e.g. 100000 "paragraphs")."""
        return over_budget(path, name, value, what, getattr(self, name), note)

    def check(self, path: Path | str, name: str, value: int, what: str, note: str = "") -> None:
        """Raise ``exceeded(...)`` when ``value`` is over limit ``name``."""
        if value > getattr(self, name):
            raise self.exceeded(path, name, value, what, note)


_DEFAULTS = {name: getattr(FileBudget, name) for name in LIMITS}
DEFAULT_BUDGET = FileBudget()


def over_budget(path: Path | str, name: str, value: object, what: str, limit: object,
                note: str = "") -> UnreadableFileError:
    """``path: over the per-file budget: {value} {what} > {limit} ({name})[; {note}]``, with a hint to raise it."""
    shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
    reason = f"over the per-file budget: {value} {what} > {shown} ({name})"
    hint = f"if the file is genuine, raise {name} in rag.toml ([rag] table) or RAG_{name.upper()}"
    return UnreadableFileError(path, reason + (f"; {note}" if note else ""), hint, code="too_large")


class Deadline:
    """Wall-clock budget of one file, checked cooperatively by the loaders (never a signal or a kill)."""

    def __init__(self, path: Path | str, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.seconds = seconds
        self.clock = clock
        self.started = clock()
        self.end = self.started + seconds

    def expired(self) -> bool:
        return self.clock() > self.end

    def check(self, where: str = "") -> None:
        """Raise ``UnreadableFileError`` (limit ``max_seconds``) once the deadline has passed."""
        now = self.clock()
        if now > self.end:
            raise over_budget(self.path, "max_seconds", f"{now - self.started:.1f}", "seconds", float(self.seconds),
                              f"stopped {where}" if where else "")
