"""Ingest: files -> text -> metadata -> chunks -> embeddings -> a new index generation.

Incremental: a file whose content hash is unchanged is not re-read; a changed file is
replaced; a file gone from a scanned folder is removed; an embedding whose input text
is unchanged is reused. The same report filed in several formats is searched once.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .accents import AccentModel
from .budget import FileBudget
from .chunking import Chunk, Chunker, ChunkerSettings
from .config import Settings
from .dedup import canonical_groups, fingerprint
from .embedding import Embedder, ModelSpec
from .filehash import file_sha256
from .facts import DocumentPlaces, Fact, PassageText, extract_facts
from .errors import DiskFullError, IndexMismatchError, UnreadableFileError
from .index_dir import (ACCENTS_DIR, FACTS_VERSION, PIPELINE_VERSION, Manifest, current_generation, load_arrays, new_generation, publish,
                        save_arrays, verify_generation)
from .integrity import checksums
from .lexical import LexicalIndex
from .loading import SUPPORTED_SUFFIXES, LoadedDocument, load_document
from .metadata import DocumentMetadata, extract_metadata
from .store import FACTS_MIGRATION, SkippedFile, Store, StoredChunk, connect
from .vectors import AUTO_FLAT_MAX, VectorIndex
from .writelock import writer_lock

log = logging.getLogger("rag.indexer")
# passage size in model tokens when none is asked for (capped by the model: its maximum minus the
# document context). Chosen by measurement on dev, the generated archive and alqac2023: docs/evaluation.md
DEFAULT_CHUNK_TOKENS = 384


@dataclass(frozen=True)
class ReadFile:
    """One file read for indexing: its text, metadata, chunks and their embedding-input hashes."""

    doc: LoadedDocument
    meta: DocumentMetadata
    chunks: tuple[Chunk, ...]
    contexts: list[str]
    hashes: list[str]
    fingerprint: bytes
    facts: list[Fact]


@dataclass(frozen=True)
class LowConfidencePage:
    """A scanned page whose OCR staff should check."""

    path: str
    page: int
    confidence: float


@dataclass
class IngestReport:
    indexed: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    low_ocr: list[LowConfidencePage] = field(default_factory=list)
    n_documents: int = 0
    n_chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    generation: str = ""
    store: object | None = None   # rag.qdrant_backend.SyncReport when a store was given (settings.store)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Supported files under ``paths``, and the files left out with their reason.

    Folders are walked without following symbolic links to folders; a symbolic link to a file
    is followed only when its target lies inside the folder being ingested (a link pointing
    elsewhere on the server is refused: the UI would serve its text). Hidden files and
    folders are left out and listed; only regular files are read (a FIFO or a device named
    ``.txt`` would block the reader). Paths come back resolved: a folder is resolved once and
    the files under it are joined to it, which keeps a scan of 10,000+ files to string work."""
    found: list[str] = []
    skipped: list[SkippedFile] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            skipped.append(SkippedFile(str(root), "no such file or folder", "missing"))
            continue
        if root.is_file() or not root.is_dir():
            candidates, real_root = [str(root.absolute())], None
        else:
            real_root = os.path.realpath(root)
            candidates = _walk(real_root, skipped)
        for path in candidates:
            outcome = _admit(path, real_root)
            if isinstance(outcome, SkippedFile):
                skipped.append(outcome)
            else:
                found.append(outcome)
    return [Path(p) for p in sorted(set(found))], skipped


def _walk(real_root: str, skipped: list[SkippedFile]) -> list[str]:
    """Every file under ``real_root`` (sorted); hidden files and folders are listed in ``skipped``."""
    candidates: list[str] = []
    for dirpath, dirnames, filenames in os.walk(real_root, followlinks=False):
        for name in sorted(d for d in dirnames if d.startswith(".")):
            skipped.append(SkippedFile(_display_path(os.path.join(dirpath, name), resolved=True),
                                       "hidden folder, not read", "hidden"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.startswith("."):
                skipped.append(SkippedFile(_display_path(path, resolved=True), "hidden file, not read", "hidden"))
            else:
                candidates.append(path)
    return candidates


def _admit(path: str, real_root: str | None) -> str | SkippedFile:
    """The real path of a file to read, or why it is left out. ``real_root``: the resolved folder
    being ingested (None: ``path`` was named on its own)."""
    if real_root is None or os.path.islink(path):
        if not os.path.exists(path):
            return SkippedFile(_display_path(path, resolved=True), "broken symbolic link", "unreadable")
        target = os.path.realpath(path)
        if real_root is not None and not target.startswith(real_root.rstrip(os.sep) + os.sep):
            return SkippedFile(_display_path(path, resolved=True),
                               "symbolic link to a file outside the folder being ingested; not read", "outside")
        path = target
    suffix = os.path.splitext(path)[1]
    if SUPPORTED_SUFFIXES.get(suffix.lower()) is None:
        return SkippedFile(_display_path(path, resolved=True), f"unsupported file type {suffix or '(none)'}",
                           "unsupported")
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        return SkippedFile(_display_path(path, resolved=True), f"cannot read: {exc.strerror or exc}")
    if not regular:
        return SkippedFile(_display_path(path, resolved=True), "not a regular file (a pipe, device or socket)")
    return path


def document_context(meta: DocumentMetadata, section_path: tuple[str, ...]) -> str:
    """The document context indexed with each chunk: who, what, where, when, which section."""
    where = ", ".join(x for x in (
        "; ".join(f"huyện {d}" for d in meta.districts), f"tỉnh {meta.province}" if meta.province else "") if x)
    parts = [meta.issuer, " ".join(x for x in (meta.doc_type, meta.number_display()) if x),
             where, f"năm {meta.year}" if meta.year else "", meta.title, " › ".join(section_path)]
    return " · ".join(p for p in parts if p)


def _hash_file(path: Path) -> tuple[str, int]:
    return file_sha256(path), path.stat().st_size


@lru_cache(maxsize=8)
def _real_cwd(cwd: str) -> str:
    return os.path.realpath(cwd)


def _display_path(path: Path, resolved: bool = False) -> str:
    """The key a file is indexed under: its real path, relative to the working directory when
    below it. ``resolved``: ``path`` is already real (as ``discover`` returns them)."""
    real = str(path) if resolved else os.path.realpath(path)
    cwd = _real_cwd(os.getcwd())
    if real == cwd:
        return "."
    prefix = cwd.rstrip(os.sep) + os.sep
    return real[len(prefix):] if real.startswith(prefix) else real


def _gone(paths: list[Path]) -> list[str]:
    """The keys of the paths named that no longer exist: an indexed file named and gone is removed."""
    return [_display_path(Path(p)) for p in paths if not os.path.lexists(p)]


class Ingestor:
    """Builds and updates an index directory."""

    def __init__(self, index_dir: Path, settings: Settings, embedder: Embedder | None = None,
                 progress: Callable[[str, int, int], None] | None = None, wait: float | None = 0.0,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self._embedder = embedder
        self.progress = progress or (lambda stage, done, total: None)
        self.wait = wait            # seconds to wait for another ingest's writer lock (None: forever)
        self.on_wait = on_wait      # told once when this ingest has to wait
        self.budget = FileBudget.from_settings(settings)  # per-file limits, enforced in the loaders

    def embedder(self, model_name: str) -> Embedder:
        if self._embedder is None or self._embedder.spec.name != model_name:
            spec = ModelSpec.from_name(model_name, self.settings.query_prompt, self.settings.passage_prompt)
            self._embedder = Embedder(spec, batch_size=self.settings.batch_size, backend=self.settings.backend)
        return self._embedder

    def run(self, paths: list[Path], rebuild: bool = False) -> IngestReport:
        """Ingest ``paths`` holding the index's writer lock (``IndexBusyError`` if another ingest
        holds it past ``self.wait``); a full disk is a ``DiskFullError``, the old generation live."""
        try:
            with writer_lock(self.index_dir, self.wait, self.on_wait):
                report = self._run(paths, rebuild)
                self._sync_store(report)
                return report
        except (OSError, sqlite3.Error) as exc:
            if _is_disk_full(exc):
                raise DiskFullError(f"disk full while writing the index {self.index_dir} ({exc})",
                                    "free space on that disk, then run `rag ingest` again; the previous "
                                    "index is unchanged and still answers") from exc
            raise

    def _run(self, paths: list[Path], rebuild: bool) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        previous = None if rebuild else current_generation(self.index_dir)
        prev_manifest = Manifest.read(previous) if previous else None
        model_name = self.settings.model or (prev_manifest.model["name"] if prev_manifest else None)
        reread = prev_manifest is not None and prev_manifest.pipeline_version != PIPELINE_VERSION
        refacts = prev_manifest is not None and prev_manifest.facts_version != FACTS_VERSION
        found = discover(paths)
        if reread:
            log.warning("index built by an older pipeline (version %s): every file is read again",
                        prev_manifest.pipeline_version)
        if (previous is not None and prev_manifest is not None and not reread and not refacts
                and ModelSpec.from_name(model_name).name == prev_manifest.model["name"]):
            unchanged, skipped = self._nothing_changed(previous, paths, found)
            if unchanged is not None:  # every file as indexed: no model load, no new generation
                report.unchanged, report.skipped = unchanged, skipped
                report.n_documents, report.n_chunks = prev_manifest.n_documents, prev_manifest.n_chunks
                report.generation = previous.name
                report.seconds = time.perf_counter() - started
                return report
        if previous is not None and prev_manifest is not None:
            # never derive a generation from damaged files: every checksum, whatever the size
            verify_generation(previous, prev_manifest, max_bytes=None)
        embedder = self.embedder(ModelSpec.from_name(model_name).name)
        chunker_settings = self._chunker_settings(embedder, prev_manifest)
        if prev_manifest is not None:
            self._check_compatible(prev_manifest, embedder, chunker_settings)

        name, tmp = new_generation(self.index_dir)
        try:
            store = self._open_store(previous, tmp)
            if refacts or (store.migrated_from is not None and store.migrated_from < FACTS_MIGRATION):
                backfill_facts(store)  # facts read by an older rag.facts, or none: read them from the stored text
            self._update_documents(store, paths, found, embedder, Chunker(embedder.count_tokens, chunker_settings),
                                   report, reread=reread)
            self._set_canonical(store)
            store.commit()
            plan = plan_rows(store, previous)
            added = store.chunks_by_id(plan.added) if plan.added else {}
            lexical_job = self._lexical_job(store, plan, added, tmp / "lexical")
            accents_job = _accents_job(plan, added, tmp / ACCENTS_DIR)

            def build_lexical() -> None:
                lexical_job()
                accents_job()
            # the lexical side (tokenising, NumPy) runs beside the embedding and FAISS (PyTorch/FAISS
            # release the GIL): on 2 cores an incremental ingest or a full build overlaps the two
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-lexical") as pool:
                lexical_done = pool.submit(build_lexical)
                vectors = self._vectors(plan, added, embedder, report)
                self._vector_index(vectors, embedder.dimension, plan).save(tmp / "vectors.faiss")
                save_arrays(tmp, plan.chunk_ids, vectors, plan.doc_ids)
                lexical_done.result()
            report.n_documents = store.count_documents()
            report.n_chunks = len(plan.chunk_ids)
            store.close()
            Manifest(model=embedder.describe(), chunker=chunker_settings.describe(),
                     lexical_scheme=self.settings.lexical_scheme, n_documents=report.n_documents,
                     n_chunks=report.n_chunks, generation=name,
                     created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), files=checksums(tmp)).write(tmp)
            publish(self.index_dir, name, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report.generation = name
        report.seconds = time.perf_counter() - started
        return report

    def _sync_store(self, report: IngestReport) -> None:
        """Bring the Qdrant store (``settings.store``) to the live generation: also when nothing changed,
        which finishes a sync an earlier ingest could not (rag.qdrant_backend)."""
        if not self.settings.store:
            return
        from .qdrant_backend import StoreSpec, sync_store

        spec = StoreSpec.parse(self.settings.store)
        if not spec.is_local:
            started = time.perf_counter()
            report.store = sync_store(spec, self.index_dir, progress=self.progress)
            report.seconds += time.perf_counter() - started

    def _chunker_settings(self, embedder: Embedder, prev_manifest: Manifest | None) -> ChunkerSettings:
        """The passage size asked for; when none is (``chunk_tokens`` 0), the index's own, else the default."""
        chunk_tokens = self.settings.chunk_tokens
        if not chunk_tokens and prev_manifest is not None and prev_manifest.chunker.get("chunk_tokens"):
            chunk_tokens = int(prev_manifest.chunker["chunk_tokens"])
        chunk_tokens = chunk_tokens or min(DEFAULT_CHUNK_TOKENS, embedder.max_tokens - self.settings.context_tokens - 4)
        return ChunkerSettings(chunk_tokens, min(self.settings.overlap_tokens, chunk_tokens // 4))

    def _check_compatible(self, manifest: Manifest, embedder: Embedder, chunker: ChunkerSettings) -> None:
        if manifest.model.get("name") != embedder.spec.name:
            raise IndexMismatchError(
                f"index {self.index_dir} was built with model {manifest.model.get('name')!r}, not {embedder.spec.name!r}",
                "rebuild it with `rag ingest --rebuild` to change the model")
        sizes = ("chunk_tokens", "overlap_tokens")  # a new strategy comes with a new PIPELINE_VERSION: all re-read
        if ({k: manifest.chunker.get(k) for k in sizes} != {k: chunker.describe()[k] for k in sizes}
                or manifest.lexical_scheme != self.settings.lexical_scheme):
            raise IndexMismatchError(f"index {self.index_dir} was built with other chunking or lexical settings",
                                     "rebuild it with `rag ingest --rebuild` to apply the new settings")

    @staticmethod
    def _nothing_changed(previous: Path, paths: list[Path],
                         found: tuple[list[Path], list[SkippedFile]]) -> tuple[int | None, list[SkippedFile]]:
        """(number of files, skips) when every file under ``paths`` is indexed as it is; (None, []) otherwise."""
        files, skipped = found[0], list(found[1])
        n_discover_skips = len(skipped)
        store = Store(previous / "meta.sqlite", readonly=True)
        try:
            if store.outdated:
                return None, []  # the schema needs a migration: write a new generation
            known = {p: h for p, (_, h) in store.documents_by_path().items()}
            known_skips = store.skipped_by_path()
        finally:
            store.close()
        seen = set()
        for path in files:
            key = _display_path(path, resolved=True)
            seen.add(key)
            try:
                content_hash = _hash_file(path)[0]
            except OSError:
                return None, []
            if key in known_skips and known_skips[key].content_hash == content_hash:
                if known_skips[key].stale():
                    return None, []  # a scan skipped for want of OCR, and OCR can run now
                skipped.append(known_skips[key].as_skipped(key))
            elif known.get(key) != content_hash:
                return None, []
        roots = [_display_path(Path(p)) for p in paths if Path(p).is_dir()]
        if any(k not in seen and any(k.startswith(r.rstrip("/") + "/") for r in roots) for k in known):
            return None, []
        if any(key in known for key in _gone(paths)):
            return None, []  # a file named on its own is gone: it leaves the index
        return len(files) - (len(skipped) - n_discover_skips), skipped

    @staticmethod
    def _open_store(previous: Path | None, tmp: Path) -> Store:
        target = tmp / "meta.sqlite"
        if previous is not None:
            src = connect(previous / "meta.sqlite", readonly=True)
            dst = connect(target)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        return Store(target)

    def _update_documents(self, store: Store, paths: list[Path], found: tuple[list[Path], list[SkippedFile]],
                          embedder: Embedder, chunker: Chunker,
                          report: IngestReport, reread: bool = False) -> None:
        files, skipped = found
        report.skipped.extend(skipped)
        known = store.documents_by_path()
        known_skips = store.skipped_by_path()
        seen: set[str] = set()
        for n, path in enumerate(files, start=1):
            self.progress("read", n, len(files))
            key = _display_path(path, resolved=True)
            seen.add(key)
            try:
                content_hash, size = _hash_file(path)
            except OSError as exc:
                report.skipped.append(SkippedFile(key, f"cannot read: {exc.strerror or exc}"))
                continue
            if key in known and known[key][1] == content_hash and not reread:
                report.unchanged += 1
                continue
            if (key in known_skips and known_skips[key].content_hash == content_hash and not reread
                    and not known_skips[key].stale()):
                report.skipped.append(known_skips[key].as_skipped(key))  # unchanged, still unreadable
                continue
            try:
                read = self._read(path, embedder, chunker)
            except Exception as exc:  # noqa: BLE001 - one file, whatever its fault, must not stop the run
                skip = self._skip(key, exc)
                report.skipped.append(skip)
                store.record_skip(key, content_hash, skip.reason, skip.code)
                if key in known:  # the file changed into something unreadable: drop the stale copy
                    store.delete_document(known[key][0])
                    report.removed.append(key)
                continue
            if key in known:
                store.delete_document(known[key][0])
            store.clear_skip(key)
            doc_id = store.add_document(key, read.doc.format, content_hash, size, read.doc.text, read.doc.pages,
                                        read.meta, read.fingerprint, ocr=read.doc.ocr_confidence)
            report.low_ocr.extend(LowConfidencePage(key, p.page, p.confidence) for p in read.doc.low_confidence_pages())
            store.add_chunks(doc_id, read.chunks, read.contexts, read.hashes)
            store.add_facts(doc_id, read.facts)
            report.indexed.append(key)
        roots = [_display_path(Path(p)) for p in paths if Path(p).is_dir()]
        for key, (doc_id, _) in known.items():
            if key not in seen and any(key == r or key.startswith(r.rstrip("/") + "/") for r in roots):
                if not Path(key).exists():
                    store.delete_document(doc_id)
                    report.removed.append(key)
        gone = [key for key in _gone(paths) if key in known]
        for key in gone:  # named on its own and no longer there (e.g. removed in the interface)
            store.delete_document(known[key][0])
            report.removed.append(key)
        report.skipped[:] = [s for s in report.skipped if not (s.code == "missing" and _display_path(Path(s.path)) in gone)]
        for key in known_skips:
            if key not in seen and not Path(key).exists():
                store.clear_skip(key)

    def _read(self, path: Path, embedder: Embedder, chunker: Chunker) -> "ReadFile":
        """A file's text, metadata and chunks (what an unreadable or hostile file fails in)."""
        doc = load_document(path, progress=self.progress, budget=self.budget)
        meta = extract_metadata(doc.text)
        chunks = chunker.chunk(doc)
        contexts = [document_context(meta, c.section_path) for c in chunks]
        hashes = [hashlib.sha1(self._embed_text(embedder, ctx, c.text).encode()).hexdigest()
                  for ctx, c in zip(contexts, chunks)]
        facts = extract_facts(DocumentPlaces(doc.text, meta.districts, meta.province, meta.year),
                              (PassageText(c.ordinal, c.start, c.text, c.section_path) for c in chunks))
        return ReadFile(doc, meta, tuple(chunks), contexts, hashes, fingerprint(doc.text), facts)

    @staticmethod
    def _skip(key: str, exc: Exception) -> SkippedFile:
        """Why a file is skipped; a full disk is not the file's fault and stops the run."""
        if isinstance(exc, UnreadableFileError):
            return SkippedFile(key, exc.reason, exc.code)
        if _is_disk_full(exc):
            raise exc
        log.error("reading %s failed", key, exc_info=exc)
        return SkippedFile(key, f"could not be read (unexpected {type(exc).__name__}: {str(exc)[:200]}); please "
                                "report this file", "error")

    def _embed_text(self, embedder: Embedder, context: str, text: str) -> str:
        return embedder.truncate_to_tokens(context, self.settings.context_tokens) + "\n" + text

    @staticmethod
    def _set_canonical(store: Store) -> None:
        store.set_canonical(canonical_groups(store.fingerprints()))

    def _vectors(self, plan: "RowPlan", added: dict[int, StoredChunk], embedder: Embedder,
                 report: IngestReport) -> np.ndarray:
        """Vectors in row order: the kept rows' from the previous generation, then the added
        chunks', reusing any previous vector whose embedding input (hash) is the same."""
        dim = embedder.dimension
        kept = np.zeros((0, dim), np.float32)
        reuse: dict[str, np.ndarray] = {}
        if plan.previous is not None:
            prev_ids, prev_vectors = load_arrays(plan.previous)
            kept = np.asarray(prev_vectors[plan.keep_rows], dtype=np.float32).reshape(-1, dim)
            wanted = {c.embed_hash for c in added.values()}
            if wanted:
                reuse = _previous_vectors(plan.previous, prev_ids, prev_vectors, wanted)
        new_chunks = [added[cid] for cid in plan.added]
        missing = list({c.embed_hash: c for c in new_chunks if c.embed_hash not in reuse}.values())
        if missing:
            # longest first, one model batch at a time: batches of similar length pad little, and progress
            # moves every batch (~2 s at 15 passages/s) instead of every 128 passages (issue 15: it stood still)
            texts = [self._embed_text(embedder, c.context, c.text) for c in missing]
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            missing, texts = [missing[i] for i in order], [texts[i] for i in order]
            log.info("embedding %d chunks", len(texts))
            batch = max(1, self.settings.batch_size)
            self.progress("embed", 0, len(texts))
            for start in range(0, len(texts), batch):
                part = embedder.embed_passages(texts[start:start + batch])
                for c, v in zip(missing[start:start + batch], part):
                    reuse[c.embed_hash] = v
                self.progress("embed", min(start + batch, len(texts)), len(texts))
        report.embedded = len(missing)
        fresh = (np.stack([reuse[c.embed_hash] for c in new_chunks]).astype(np.float32) if new_chunks
                 else np.zeros((0, dim), np.float32))
        return np.concatenate([kept, fresh]) if len(kept) else fresh

    @staticmethod
    def _vector_index(vectors: np.ndarray, dimension: int, plan: "RowPlan") -> VectorIndex:
        trained = None
        if plan.previous is not None and len(vectors) > AUTO_FLAT_MAX:  # an IVF index: keep its trained cells
            trained = VectorIndex.load(plan.previous / "vectors.faiss")
        return VectorIndex.build(vectors, dimension, trained=trained)

    def _lexical_job(self, store: Store, plan: "RowPlan", added: dict[int, StoredChunk],
                     target: Path) -> Callable[[], None]:
        """A callable that builds and saves the lexical index (it does not touch ``store``, so it may run in a thread)."""
        scheme = self.settings.lexical_scheme
        texts = [added[cid].context + "\n" + added[cid].text for cid in plan.added]
        if plan.previous is None:  # every row is new
            return lambda: LexicalIndex.build(texts, scheme).save(target)
        if LexicalIndex.updatable(plan.previous / "lexical"):
            return lambda: LexicalIndex.update(plan.previous / "lexical", scheme, plan.keep_rows, texts).save(target)
        chunks = store.chunks_by_id(plan.chunk_ids.tolist())  # written before term frequencies were kept
        every = [chunks[int(c)].context + "\n" + chunks[int(c)].text for c in plan.chunk_ids]
        return lambda: LexicalIndex.build(every, scheme).save(target)


@dataclass(frozen=True)
class RowPlan:
    """The rows of a new generation: the previous generation's rows that stay, in their order,
    then the chunks new to the index (in id order). Keeping the old rows first lets the vector
    and lexical indexes be derived from the previous ones instead of rebuilt from text."""

    chunk_ids: np.ndarray          # int64, row -> chunk id
    doc_ids: np.ndarray            # int64, row -> document id
    keep_rows: np.ndarray          # previous rows kept, ascending
    added: list[int]               # chunk ids of rows len(keep_rows) ...
    previous: Path | None          # the generation the kept rows come from


def backfill_facts(store: Store) -> None:
    """Read the facts of every stored document from its stored text and passages (the ingest that
    upgrades an index from before the facts table; files are not read again)."""
    store.db.execute("DELETE FROM facts")
    for doc in store.documents(with_text=True):
        rows = store.db.execute("SELECT ordinal, start, text, section_json FROM chunks WHERE doc_id = ? ORDER BY ordinal",
                                (doc.id,))
        facts = extract_facts(DocumentPlaces(doc.text, doc.meta.districts, doc.meta.province, doc.meta.year),
                              [PassageText(o, start, text, tuple(json.loads(section))) for o, start, text, section in rows])
        store.add_facts(doc.id, facts)


def plan_rows(store: Store, previous: Path | None) -> RowPlan:
    """Rows for the canonical chunks in ``store``; with ``previous``, its surviving rows first."""
    ids, docs = store.canonical_chunk_ids()
    ids_arr = np.array(ids, dtype=np.int64)
    doc_of = dict(zip(ids, docs))
    if previous is None:
        return RowPlan(ids_arr, np.array(docs, dtype=np.int64), np.zeros(0, np.int64), ids, None)
    prev_ids, _ = load_arrays(previous)
    keep_rows = np.flatnonzero(np.isin(prev_ids, ids_arr))
    kept_ids = np.asarray(prev_ids[keep_rows], dtype=np.int64)
    added = np.setdiff1d(ids_arr, kept_ids, assume_unique=True)
    chunk_ids = np.concatenate([kept_ids, added])
    doc_ids = np.array([doc_of[int(c)] for c in chunk_ids], dtype=np.int64)
    return RowPlan(chunk_ids, doc_ids, keep_rows, added.tolist(), previous)


def _accents_job(plan: RowPlan, added: dict[int, StoredChunk], target: Path) -> Callable[[], None]:
    """A callable that counts how the archive writes its words (``rag.accents``) and saves it: from the
    previous generation's counts when there is one (minus the passages that left, plus the new ones)."""
    new = [c.context + "\n" + c.text for c in (added[cid] for cid in plan.added)]
    if plan.previous is None:
        return lambda: AccentModel.build(new).save(target)
    previous = AccentModel.load(plan.previous / ACCENTS_DIR)
    if previous is None:  # a generation written before rag.accents: count what stays
        kept = _generation_texts(plan.previous, plan.chunk_ids[:len(plan.keep_rows)])
        return lambda: AccentModel.build(kept + new).save(target)
    prev_ids, _ = load_arrays(plan.previous)
    removed = _generation_texts(plan.previous, np.delete(np.asarray(prev_ids, dtype=np.int64), plan.keep_rows))
    return lambda: previous.updated(new, removed).save(target)


def _generation_texts(generation: Path, chunk_ids: np.ndarray) -> list[str]:
    """What was indexed of these chunks of ``generation`` (document context + text)."""
    store = Store(generation / "meta.sqlite", readonly=True)
    try:
        return [c.context + "\n" + c.text for c in store.chunks_by_id([int(c) for c in chunk_ids]).values()]
    finally:
        store.close()


def _previous_vectors(previous: Path, prev_ids: np.ndarray, prev_vectors: np.ndarray,
                      wanted: set[str]) -> dict[str, np.ndarray]:
    """Vectors of the previous generation whose embedding-input hash is in ``wanted``."""
    prev_store = Store(previous / "meta.sqlite", readonly=True)
    hashes = sorted(wanted)
    found: dict[int, str] = {}
    try:
        for start in range(0, len(hashes), 500):
            part = hashes[start:start + 500]
            found.update(prev_store.db.execute(
                f"SELECT id, embed_hash FROM chunks WHERE embed_hash IN ({','.join('?' * len(part))})", part))
    finally:
        prev_store.close()
    out: dict[str, np.ndarray] = {}
    if found:
        rows = np.flatnonzero(np.isin(prev_ids, np.fromiter(found, dtype=np.int64)))
        for row in rows:
            out[found[int(prev_ids[row])]] = np.asarray(prev_vectors[row], dtype=np.float32)
    return out


def _is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the disk or the user's quota is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
