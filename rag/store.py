"""SQLite storage of documents, their metadata and their chunks (with migrations).

One ``meta.sqlite`` per index generation. The schema version is SQLite's
``user_version``; ``MIGRATIONS`` brings an older file up to date.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable, Iterator, Sequence

from .chunking import Chunk
from .errors import IndexCorruptError
from .facts import Fact
from .loading import PageSpan
from .metadata import DocumentMetadata
from .ocr import OcrConfidence, confidences_from_json, confidences_to_json, skip_is_stale

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        text TEXT NOT NULL,
        pages_json TEXT NOT NULL DEFAULT '[]',
        doc_type TEXT, number TEXT, issuer TEXT, place TEXT, date TEXT, date_text TEXT, year INTEGER,
        title TEXT, signer TEXT, signer_role TEXT, province TEXT, districts_json TEXT NOT NULL DEFAULT '[]',
        fingerprint BLOB,
        canonical_id INTEGER,
        ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        section_json TEXT NOT NULL,
        start INTEGER NOT NULL, end INTEGER NOT NULL,
        page INTEGER, page_end INTEGER,
        text TEXT NOT NULL,
        context TEXT NOT NULL,
        n_tokens INTEGER NOT NULL,
        embed_hash TEXT NOT NULL
    );
    CREATE INDEX chunks_doc ON chunks(doc_id);
    CREATE INDEX documents_canonical ON documents(canonical_id);
    """,
    """
    CREATE TABLE skipped_files (
        path TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE documents ADD COLUMN ocr_json TEXT NOT NULL DEFAULT '[]';
    """,
    # 4: counts read at ingest (rag.facts), what list questions query; filled for the documents
    # already stored by the ingest that migrates (Ingestor: nothing is read again or re-embedded)
    """
    CREATE TABLE facts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
        clause INTEGER NOT NULL,
        head TEXT NOT NULL, qualifier TEXT NOT NULL, levels TEXT NOT NULL,
        value INTEGER NOT NULL, status INTEGER NOT NULL,
        unit TEXT NOT NULL, level TEXT NOT NULL, parent TEXT NOT NULL,
        year INTEGER, year_from INTEGER,
        near TEXT NOT NULL,
        start INTEGER NOT NULL, end INTEGER NOT NULL
    );
    CREATE INDEX facts_head ON facts(head, qualifier, status);
    CREATE INDEX facts_doc ON facts(doc_id);
    """,
    # 5: why a file was skipped, as a code (rag.errors.SKIP_CODES) next to the English reason. Reasons
    # written before it are read once, here: those of scans that could not be OCRed then become
    # "needs_ocr" (re-read when OCR can run), the rest "unreadable".
    """
    ALTER TABLE skipped_files ADD COLUMN code TEXT NOT NULL DEFAULT 'unreadable';
    UPDATE skipped_files SET code = 'needs_ocr'
     WHERE reason LIKE '%needs OCR%' OR reason LIKE '%OCR is turned off%' OR reason LIKE '%install tesseract-ocr%';
    """,
)
FACTS_MIGRATION = 4  # the schema version that added the facts table


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection to the database file ``path``. The path is percent-encoded into the URI:
    unquoted, a ``#`` or ``?`` in it would end the file name and open another file."""
    uri = "file:" + urllib.parse.quote(str(Path(path).absolute())) + ("?mode=ro" if readonly else "")
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


@dataclass(frozen=True)
class StoredDocument:
    id: int
    path: str
    format: str
    content_hash: str
    text: str
    pages: tuple[PageSpan, ...]
    meta: DocumentMetadata
    canonical_id: int | None
    fingerprint: bytes | None
    ocr: tuple[OcrConfidence, ...] = ()  # pages read by OCR, with their confidence


@dataclass(frozen=True)
class StoredChunk:
    id: int
    doc_id: int
    ordinal: int
    section_path: tuple[str, ...]
    start: int
    end: int
    page: int | None
    page_end: int | None
    text: str
    context: str
    n_tokens: int
    embed_hash: str


@dataclass(frozen=True)
class StoredFact:
    """A row of the facts table (rag.facts.Fact, with the passage's id)."""

    COLUMNS: ClassVar[str] = ("doc_id, chunk_id, clause, head, qualifier, levels, value, status, unit, level, parent, "
                              "year, year_from, start, end")
    doc_id: int
    chunk_id: int
    clause: int
    head: str
    qualifier: str
    levels: str
    value: int
    status: int
    unit: str
    level: str
    parent: str
    year: int | None
    year_from: int | None
    start: int
    end: int

    @property
    def clause_key(self) -> tuple[int, int]:
        return self.chunk_id, self.clause


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str             # English, for the CLI and logs
    code: str = "unreadable"  # rag.errors.SKIP_CODES: what programs decide on (the UI words it in Vietnamese)


@dataclass(frozen=True)
class StoredSkip:
    """A file remembered as unreadable: its content when it was read, why (English) and the code."""

    content_hash: str
    reason: str
    code: str

    def stale(self) -> bool:
        """Whether the file should be read again although unchanged (a scan skipped for want of OCR)."""
        return skip_is_stale(self.code)

    def as_skipped(self, path: str) -> SkippedFile:
        return SkippedFile(path, self.reason, self.code)


class Store:
    """Documents and chunks of one index generation."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            self.db = connect(self.path, readonly)
            self.db.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                self._migrate()
            else:
                self.db.execute("SELECT count(*) FROM documents").fetchone()
                self.outdated = self.schema_version() < len(MIGRATIONS)
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"index database {self.path} is unreadable: {exc}",
                                    "rebuild the index with `rag ingest --rebuild`") from exc

    outdated = False  # a read-only store written by an older version (``rag ingest`` upgrades it)

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    migrated_from: int | None = None  # the schema version this writable store was upgraded from

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version < len(MIGRATIONS):
            self.migrated_from = int(version)
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.db:
                self.db.executescript(script)
                self.db.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ documents
    def add_document(self, path: str, fmt: str, content_hash: str, size: int, text: str,
                     pages: Iterable[PageSpan], meta: DocumentMetadata, fingerprint: bytes,
                     ocr: Iterable[OcrConfidence] = ()) -> int:
        cur = self.db.execute(
            """INSERT INTO documents (path, format, content_hash, size, text, pages_json, doc_type, number, issuer,
                   place, date, date_text, year, title, signer, signer_role, province, districts_json, fingerprint,
                   ocr_json)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (path, fmt, content_hash, size, text, json.dumps([[p.page, p.start, p.end] for p in pages]),
             meta.doc_type, meta.number, meta.issuer, meta.place, meta.date, meta.date_text, meta.year,
             meta.title, meta.signer, meta.signer_role, meta.province,
             json.dumps(list(meta.districts), ensure_ascii=False), fingerprint, confidences_to_json(ocr)))
        return int(cur.lastrowid)

    def add_chunks(self, doc_id: int, chunks: Iterable[Chunk], contexts: list[str], embed_hashes: list[str]) -> None:
        self.db.executemany(
            """INSERT INTO chunks (doc_id, ordinal, section_json, start, end, page, page_end, text, context,
                   n_tokens, embed_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            [(doc_id, c.ordinal, json.dumps(list(c.section_path), ensure_ascii=False), c.start, c.end, c.page,
              c.page_end, c.text, ctx, c.n_tokens, h) for c, ctx, h in zip(chunks, contexts, embed_hashes)])

    def add_facts(self, doc_id: int, facts: Iterable[Fact]) -> None:
        """Store a document's facts (``Fact.chunk`` holds the passage's ordinal; stored as its id)."""
        ids = dict(self.db.execute("SELECT ordinal, id FROM chunks WHERE doc_id = ?", (doc_id,)))
        self.db.executemany(
            """INSERT INTO facts (doc_id, chunk_id, clause, head, qualifier, levels, value, status, unit, level,
                   parent, year, year_from, near, start, end) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [(doc_id, ids[f.chunk], f.clause, f.head, f.qualifier, f.levels, f.value, f.status, f.unit, f.level,
              f.parent, f.year, f.year_from, f.near, f.start, f.end) for f in facts])

    def facts(self, where: str, params: Sequence[object]) -> list[StoredFact]:
        """Facts matching an SQL condition over the facts table's columns."""
        return [StoredFact(*row) for row in self.db.execute(
            f"SELECT {StoredFact.COLUMNS} FROM facts WHERE {where}", list(params))]

    def largest_facts(self, where: str, params: Sequence[object], per_document: bool = True) -> list[StoredFact]:
        """Of the facts of canonical documents (one copy of each report) matching ``where``: per
        clause the counted noun's figure (a table line's only when the clause has none), then the
        largest per unit and year — per document too when ``per_document`` (the caller filters
        documents). Done in SQL: an unscoped list question matches 73k facts at 105k reports, and
        fetching them all took 0.5 s."""
        group = "doc_id, unit, year" if per_document else "unit, year"
        return [StoredFact(*row) for row in self.db.execute(
            f"""WITH m AS (SELECT {StoredFact.COLUMNS},
                                  max(head != '') OVER (PARTITION BY chunk_id, clause) AS clause_has_head
                           FROM facts WHERE ({where}) AND doc_id IN (
                               SELECT id FROM documents WHERE canonical_id IS NULL OR canonical_id = id))
                SELECT {StoredFact.COLUMNS.replace("value", "max(value)")} FROM m
                WHERE head != '' OR NOT clause_has_head
                GROUP BY {group}""", list(params))]

    def delete_document(self, doc_id: int) -> None:
        self.db.execute("DELETE FROM facts WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def record_skip(self, path: str, content_hash: str, reason: str, code: str) -> None:
        """Remember an unreadable file so an unchanged copy is not read again."""
        self.db.execute("INSERT OR REPLACE INTO skipped_files (path, content_hash, reason, code) VALUES (?,?,?,?)",
                        (path, content_hash, reason, code))

    def clear_skip(self, path: str) -> None:
        self.db.execute("DELETE FROM skipped_files WHERE path = ?", (path,))

    def skipped_by_path(self) -> dict[str, StoredSkip]:
        """The files skipped as unreadable, by path."""
        try:
            rows = self.db.execute("SELECT path, content_hash, reason, code FROM skipped_files").fetchall()
        except sqlite3.OperationalError:  # an index from before migration 2 or 5, opened read-only
            try:
                rows = [(*r, "unreadable") for r in
                        self.db.execute("SELECT path, content_hash, reason FROM skipped_files").fetchall()]
            except sqlite3.OperationalError:
                return {}
        return {p: StoredSkip(h, r, c) for p, h, r, c in rows}

    def set_canonical(self, mapping: dict[int, int]) -> None:
        """Set each document's canonical copy (documents absent from ``mapping``: none); only changed rows are written."""
        current = dict(self.db.execute("SELECT id, canonical_id FROM documents"))
        changes = [(mapping.get(doc), doc) for doc, canon in current.items() if mapping.get(doc) != canon]
        self.db.executemany("UPDATE documents SET canonical_id = ? WHERE id = ?", changes)

    def commit(self) -> None:
        self.db.commit()

    _DOC_COLUMNS = ("id, path, format, content_hash, text, pages_json, doc_type, number, issuer, place, date, "
                    "date_text, year, title, signer, signer_role, province, districts_json, canonical_id, fingerprint, ocr_json")

    def documents(self, with_text: bool = True) -> list[StoredDocument]:
        cols = self._DOC_COLUMNS if with_text else self._DOC_COLUMNS.replace("text,", "'' AS text,", 1)
        return [self._document(row) for row in self.db.execute(f"SELECT {cols} FROM documents ORDER BY id")]

    def document(self, doc_id: int) -> StoredDocument:
        row = self.db.execute(f"SELECT {self._DOC_COLUMNS} FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return self._document(row)

    def documents_by_path(self) -> dict[str, tuple[int, str]]:
        """path -> (id, content hash)."""
        return {p: (i, h) for i, p, h in self.db.execute("SELECT id, path, content_hash FROM documents")}

    @staticmethod
    def _document(row: tuple) -> StoredDocument:
        (doc_id, path, fmt, chash, text, pages_json, doc_type, number, issuer, place, date, date_text, year,
         title, signer, signer_role, province, districts_json, canonical_id, fingerprint, ocr_json) = row
        meta = DocumentMetadata(doc_type=doc_type or "", number=number or "", issuer=issuer or "", place=place or "",
                                date=date or "", date_text=date_text or "", year=year, title=title or "",
                                signer=signer or "", signer_role=signer_role or "", province=province or "",
                                districts=tuple(_json_list(districts_json)))
        pages = tuple(PageSpan(*p) for p in _json_list(pages_json))
        return StoredDocument(doc_id, path, fmt, chash, text, pages, meta, canonical_id, fingerprint,
                              confidences_from_json(ocr_json) if ocr_json not in (None, "", "[]") else ())

    # ------------------------------------------------------------ chunks
    _CHUNK_COLUMNS = "id, doc_id, ordinal, section_json, start, end, page, page_end, text, context, n_tokens, embed_hash"

    def canonical_chunks(self) -> Iterator[StoredChunk]:
        """Chunks of canonical documents (one copy of each report), in id order."""
        cols = ", ".join(f"c.{c.strip()}" for c in self._CHUNK_COLUMNS.split(","))
        sql = (f"SELECT {cols} FROM chunks c JOIN documents d ON d.id = c.doc_id "
               "WHERE d.canonical_id IS NULL OR d.canonical_id = d.id ORDER BY c.id")
        for row in self.db.execute(sql):
            yield self._chunk(row)

    def canonical_chunk_ids(self) -> tuple[list[int], list[int]]:
        """(chunk ids, their document ids) of canonical documents, in id order, without their text."""
        rows = self.db.execute("SELECT c.id, c.doc_id FROM chunks c JOIN documents d ON d.id = c.doc_id "
                               "WHERE d.canonical_id IS NULL OR d.canonical_id = d.id ORDER BY c.id").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def fingerprints(self) -> list[tuple[int, str, str, bytes]]:
        """(id, format, path, MinHash fingerprint) of every fingerprinted document, for duplicate
        grouping; the format of a scan read by OCR is ``pdf-ocr``."""
        sql = ("SELECT id, CASE WHEN ocr_json != '[]' THEN 'pdf-ocr' ELSE format END, path, fingerprint "
               "FROM documents WHERE fingerprint IS NOT NULL AND length(fingerprint) > 0 ORDER BY id")
        return [tuple(r) for r in self.db.execute(sql)]

    def count_documents(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def chunks_by_id(self, ids: list[int]) -> dict[int, StoredChunk]:
        out: dict[int, StoredChunk] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT {self._CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", part):
                chunk = self._chunk(row)
                out[chunk.id] = chunk
        return out

    def chunk_counts(self) -> dict[int, int]:
        return dict(self.db.execute("SELECT doc_id, count(*) FROM chunks GROUP BY doc_id"))

    @staticmethod
    def _chunk(row: tuple) -> StoredChunk:
        cid, doc_id, ordinal, section_json, start, end, page, page_end, text, context, n_tokens, embed_hash = row
        return StoredChunk(cid, doc_id, ordinal, tuple(json.loads(section_json)), start, end, page, page_end,
                           text, context, n_tokens, embed_hash)

    def doc_ids_matching(self, where: str, params: list[object]) -> set[int]:
        return {r[0] for r in self.db.execute(f"SELECT id FROM documents WHERE {where}", params)}


def _json_list(text: str | None) -> list:
    """A stored JSON list; most are empty (no pages for text files, no OCR): skip the parser for those."""
    return [] if text in (None, "", "[]") else json.loads(text)
