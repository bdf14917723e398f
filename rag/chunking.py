"""Chunking by section: the document's own outline first, then to size in model tokens.

Vietnamese reports are outlined ``I.`` › ``1.`` › ``1.1.`` › ``a)`` (Markdown headings
in some text files). ``outline_sections`` finds those sections with their paths;
``chunk_document`` packs small neighbouring sections together and splits long ones
with ``langchain-text-splitters``, measuring length with the embedding model's own
tokenizer so no chunk is silently truncated by the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .loading import LoadedDocument

PREAMBLE = "Phần mở đầu"
_MD_HEADING = re.compile(r"^(#{1,6})\s+")
_NUMBERED = (
    (re.compile(r"^(?:PHẦN|Phần|CHƯƠNG|Chương)\s+[IVXLC0-9]+\b"), 0),
    (re.compile(r"^[IVXLC]+\.\s"), 1),
    (re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\.?\s"), 4),
    (re.compile(r"^[0-9]+\.[0-9]+\.?\s"), 3),
    (re.compile(r"^[0-9]+\.\s"), 2),
    (re.compile(r"^[a-zđ]\)\s"), 5),
)
_CLOSING = re.compile(r"^(?:Nơi nhận|NƠI NHẬN)\s*:?")
CLOSING = "Nơi nhận"
# the signature block under "Nơi nhận": "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ GIÁM ĐỐC", then the signer's name
_SIGNATURE_ROLE = re.compile(r"^(?:(?:TM|KT|TL|TUQ|Q|QUYỀN)\s*\.\s*\S|(?:PHÓ\s+)?(?:CHỦ TỊCH|GIÁM ĐỐC|TRƯỞNG|"
                             r"CHÁNH|BÍ THƯ|THỦ TRƯỞNG|VIỆN TRƯỞNG|HIỆU TRƯỞNG)\b)")
_TITLE_CHARS = 90
# A group of sections under this many model tokens is no passage on its own (a heading, a title block:
# "1. Công tác xây dựng … chính sách" was a 24-token card, the Triệu Sơn title block 53 tokens; the smallest
# passage with a statement in the five reports has 65): it is carried into the passage that follows.
MIN_PASSAGE_TOKENS = 60


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]
    start: int
    end: int
    major: str | None = None  # the major part (PHẦN/Chương/I./a Markdown title) it lies in; None: outside any


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: where it is (offsets, page, section) and its text."""

    ordinal: int
    section_path: tuple[str, ...]
    start: int
    end: int
    text: str
    page: int | None
    page_end: int | None
    n_tokens: int


def _heading_level(line: str) -> tuple[int, str] | None:
    """(level, title) when ``line`` opens a section; None for body text."""
    clean = line.replace("**", "").strip()
    md = _MD_HEADING.match(clean)
    body = clean[md.end():].strip() if md else clean
    for pattern, level in _NUMBERED:
        if pattern.match(body):
            return level, _short_title(body)
    if _CLOSING.match(body):
        return 0, "Nơi nhận"
    if md:
        return -1, _short_title(body)  # unnumbered Markdown heading: a top-level title
    return None


def _short_title(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _TITLE_CHARS:
        return text.rstrip(".:")
    cut = text[:_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def outline_sections(text: str) -> list[Section]:
    """Sections of ``text`` in order; each covers the text up to the next heading."""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    current_path: tuple[str, ...] = (PREAMBLE,)
    current_major: str | None = None
    current_start = 0
    offset = 0
    seen_numbered = False
    for line in text.split("\n"):
        found = _heading_level(line) if line.strip() else None
        if found is not None and found[0] < 0 and not seen_numbered:
            found = None  # "## BÁO CÁO", "### <title>": the document's own title, part of the preamble
        if found is not None:
            level, title = found
            seen_numbered = seen_numbered or level > 0
            if offset > current_start and text[current_start:offset].strip():
                sections.append(Section(current_path, current_start, offset, current_major))
            if level <= 0:
                stack = [(level, title)]
            else:
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, title))
            current_path = tuple(t for _, t in stack)
            current_major = next((t for lvl, t in stack if lvl <= 1), None)
            current_start = offset
        offset += len(line) + 1
    if text[current_start:].strip():
        sections.append(Section(current_path, current_start, len(text), current_major))
    return sections


def content_sections(text: str) -> list[Section]:
    """``outline_sections`` less what is no passage: the recipients list and signature block that close a
    report ("Nơi nhận: … KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / <name>"; the signer stays in the metadata). Text
    after the signature (an appendix) is kept."""
    out = []
    for section in outline_sections(text):
        if section.path[:1] == (CLOSING,):
            start = _after_signature(text, section.start, section.end)
            if start is None or not text[start:section.end].strip():
                continue
            section = Section(section.path, start, section.end, section.major)
        out.append(section)
    return out


def _after_signature(text: str, start: int, end: int) -> int | None:
    """Where the text after a closing section's signature block begins (None: no signature found)."""
    lines = text[start:end].split("\n")
    offset, role_seen = start, False
    for line in lines:
        clean = line.replace("*", "").strip()
        offset += len(line) + 1
        if not clean:
            continue
        if _SIGNATURE_ROLE.match(clean.upper()) and clean.upper() == clean:
            role_seen = True
        elif role_seen:
            return min(offset, end)  # the signer's name: the block ends with it
    return None if not role_seen else end


@dataclass(frozen=True)
class ChunkerSettings:
    chunk_tokens: int
    overlap_tokens: int

    def describe(self) -> dict[str, object]:
        return {"strategy": "outline-major+recursive", "chunk_tokens": self.chunk_tokens,
                "overlap_tokens": self.overlap_tokens}


class Chunker:
    """Splits loaded documents into ``Chunk``s of at most ``chunk_tokens`` model tokens."""

    def __init__(self, count_tokens: Callable[[str], int], settings: ChunkerSettings) -> None:
        if settings.chunk_tokens < 16:
            raise ValueError(f"chunk_tokens={settings.chunk_tokens} is too small; use at least 16")
        self.count_tokens = count_tokens
        self.settings = settings
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=settings.chunk_tokens,
            chunk_overlap=settings.overlap_tokens,
            length_function=count_tokens,
            separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
            keep_separator="end",
            add_start_index=True,
        )

    def chunk(self, doc: LoadedDocument) -> list[Chunk]:
        pieces: list[tuple[tuple[str, ...], int, int]] = []
        pending: list[Section] = []
        pending_tokens = 0
        limit = self.settings.chunk_tokens

        def flush() -> None:
            nonlocal pending, pending_tokens
            if pending:
                main = max(pending, key=lambda s: s.end - s.start)
                pieces.append((main.path, pending[0].start, pending[-1].end))
            pending, pending_tokens = [], 0

        sections = content_sections(doc.text)
        for section in sections:
            n = self.count_tokens(doc.text[section.start:section.end])
            # a group too small to stand alone (a heading, a title block) joins what follows, whatever its part
            # (never across a gap: the signature block dropped between two sections stays out)
            small = bool(pending) and pending_tokens < MIN_PASSAGE_TOKENS and pending[-1].end == section.start
            # small neighbours are packed within one major part: clauses 1., 2., a) of a legal article or
            # a short report's sections share a passage (each was its own before: 6,442 passages for
            # 1,517 alqac2023 articles)
            same_major = not pending or (pending[-1].end == section.start and pending[0].major == section.major) or small
            if n > limit:
                start = pending[0].start if small else section.start
                if small:
                    pending, pending_tokens = [], 0
                flush()
                for piece_start, piece_end in self._split(doc.text, start, section.end):
                    pieces.append((section.path, piece_start, piece_end))
            elif pending_tokens + n <= limit and same_major:
                pending.append(section)
                pending_tokens += n
            else:
                flush()
                pending, pending_tokens = [section], n
        flush()
        if all(s.path == (PREAMBLE,) for s in sections):  # no outline at all (a news item): no section to name
            pieces = [((), start, end) for _, start, end in pieces]

        chunks: list[Chunk] = []
        for path, start, end in pieces:
            raw = doc.text[start:end]
            lead = len(raw) - len(raw.lstrip())
            start, end = start + lead, start + len(raw.rstrip())
            if end <= start:
                continue
            text = doc.text[start:end]
            chunks.append(Chunk(len(chunks), path, start, end, text, doc.page_at(start),
                                doc.page_at(max(start, end - 1)), self.count_tokens(text)))
        return chunks

    def _split(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        section_text = text[start:end]
        spans: list[tuple[int, int]] = []
        for piece in self._splitter.create_documents([section_text]):
            offset = piece.metadata.get("start_index", -1)
            if offset < 0 or section_text[offset:offset + len(piece.page_content)] != piece.page_content:
                offset = section_text.find(piece.page_content)
            if offset < 0:  # cannot locate (should not happen): keep the text, offsets approximate
                offset = 0
            spans.append((start + offset, start + offset + len(piece.page_content)))
        return self._join_small(text, spans)

    def _join_small(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """A piece too small to stand alone (a heading the splitter left before a long paragraph) joins the
        next piece when both fit in one passage."""
        out: list[tuple[int, int]] = []
        carry: int | None = None  # start of a small piece waiting to be joined to the next
        for i, (start, end) in enumerate(spans):
            start, carry = (start if carry is None else carry), None
            nxt = spans[i + 1] if i + 1 < len(spans) else None
            if (nxt is not None and self.count_tokens(text[start:end]) < MIN_PASSAGE_TOKENS
                    and self.count_tokens(text[start:nxt[1]]) <= self.settings.chunk_tokens):
                carry = start
                continue
            out.append((start, end))
        return out
