"""The on-disk index: a directory of generations, switched atomically.

    index/
      CURRENT              name of the live generation ("gen-000007")
      gen-000007/
        manifest.json      schema, package version, model, chunker, counts, SHA-256 of every file
        meta.sqlite        documents, metadata, chunks
        chunk_ids.npy      row i of both indexes = chunk id chunk_ids[i]
        chunk_docs.npy     row i = a passage of document chunk_docs[i]
        vectors.npy        embeddings (float32, normalised), rows as above
        vectors.faiss      FAISS index over vectors.npy
        lexical/           BM25 arrays (bm25s) + term frequencies for the next ingest
        accents/           how the archive writes each folded syllable (rag.accents), for unaccented questions

An ingest writes a new ``gen-*.tmp`` directory and publishes it by renaming it and
replacing ``CURRENT`` with ``os.replace``: a reader sees the old or the new
generation, never a mix, and a killed ingest leaves the old one live. One ingest writes at
a time (``rag.writelock``); a generation is checked against its manifest's checksums
before it is read (``rag.integrity``).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, npyio
from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from .integrity import VERIFY_ON_OPEN_BYTES, verify
from .accents import AccentModel
from .lexical import LexicalIndex
from .store import Store
from .vectors import VectorIndex

SCHEMA_VERSION = 1
# Bump when loading, metadata extraction or chunking change what an ingest stores: the next
# ingest then re-reads every file (embeddings of unchanged passages are still reused).
PIPELINE_VERSION = 6  # 6: no passage of a recipients list or signature, headings joined to their text (rag.chunking); 5: small sections packed within a major part, accent counts
# Bump when rag.facts reads counts differently: the next ingest reads the facts of every stored
# passage again from the stored text (no file is re-read, nothing re-embedded).
FACTS_VERSION = 6  # 6: abbreviations in any case, near words from the document and headings (history: git log)
CURRENT = "CURRENT"
CHUNK_DOCS = "chunk_docs.npy"
ACCENTS_DIR = "accents"
MANIFEST = "manifest.json"
REBUILD_HINT = "rebuild it with `rag ingest --rebuild`"


@dataclass(frozen=True)
class Manifest:
    model: dict
    chunker: dict
    lexical_scheme: str
    n_documents: int
    n_chunks: int
    generation: str
    created_at: str
    schema_version: int = SCHEMA_VERSION
    package_version: str = __version__
    pipeline_version: int = PIPELINE_VERSION
    facts_version: int = FACTS_VERSION
    files: dict = field(default_factory=dict)  # relative path -> {"bytes", "sha256"} (rag.integrity)

    def write(self, directory: Path) -> None:
        _write_atomic(directory / MANIFEST, json.dumps(asdict(self), ensure_ascii=False, indent=2))

    @classmethod
    def read(cls, directory: Path) -> "Manifest":
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data.setdefault("pipeline_version", 1)
            data.setdefault("facts_version", 0)
            return cls(**data)
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"{path} is missing", REBUILD_HINT) from exc
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
            raise IndexCorruptError(f"{path} is damaged ({exc})", REBUILD_HINT) from exc


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def current_generation(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{pointer} is unreadable ({exc})", REBUILD_HINT) from exc
    if not name.startswith("gen-") or "/" in name or not (Path(index_dir) / name).is_dir():
        raise IndexCorruptError(f"{pointer} names a missing generation {name!r}", REBUILD_HINT)
    return Path(index_dir) / name


def new_generation(index_dir: Path) -> tuple[str, Path]:
    """A fresh ``gen-N.tmp`` directory to build into (leftovers of killed runs are removed)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    for leftover in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    name = f"gen-{max(numbers, default=0) + 1:06d}"
    tmp = index_dir / f"{name}.tmp"
    tmp.mkdir()
    return name, tmp


def publish(index_dir: Path, name: str, tmp: Path, keep: int = 2) -> Path:
    """Make ``tmp`` the live generation ``name``; keep the ``keep`` newest generations."""
    final = Path(index_dir) / name
    for f in tmp.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    os.replace(tmp, final)
    _write_atomic(Path(index_dir) / CURRENT, name + "\n")
    generations = sorted((p for p in Path(index_dir).glob("gen-*") if p.name[4:].isdigit()), key=lambda p: p.name)
    for old in generations[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def save_arrays(directory: Path, chunk_ids: np.ndarray, vectors: np.ndarray, doc_ids: np.ndarray) -> None:
    np.save(directory / "chunk_ids.npy", chunk_ids.astype(np.int64), allow_pickle=False)
    np.save(directory / CHUNK_DOCS, doc_ids.astype(np.int64), allow_pickle=False)
    np.save(directory / "vectors.npy", np.asarray(vectors, dtype=np.float32), allow_pickle=False)


def load_chunk_docs(directory: Path) -> np.ndarray | None:
    """Row -> document id, as the ingest saved it (None for a generation written before it was kept)."""
    try:
        return npyio.load(directory / CHUNK_DOCS)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{directory / CHUNK_DOCS} is damaged ({exc})", REBUILD_HINT) from exc


def load_arrays(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        ids = npyio.load(directory / "chunk_ids.npy")
        vectors = npyio.load(directory / "vectors.npy", mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"vector arrays in {directory} are damaged ({exc})", REBUILD_HINT) from exc
    if len(ids) != len(vectors):
        raise IndexCorruptError(f"{directory}: {len(ids)} chunk ids but {len(vectors)} vectors", REBUILD_HINT)
    return ids, vectors


@dataclass
class OpenIndex:
    """A live generation opened for reading."""

    directory: Path
    manifest: Manifest
    store: Store
    chunk_ids: np.ndarray
    vectors: VectorIndex
    lexical: LexicalIndex
    accents: AccentModel | None = None   # None: a generation written before rag.accents

    def close(self) -> None:
        self.store.close()


def verify_generation(generation: Path, manifest: Manifest, max_bytes: int | None = None) -> None:
    """Check ``generation``'s files against the checksums of its manifest (all of them unless
    ``max_bytes``). A generation written before checksums were kept passes unchecked."""
    if manifest.files:
        verify(generation, manifest.files, max_bytes)


def open_index(index_dir: Path, expected_model: str | None = None,
               verify_bytes: int | None = VERIFY_ON_OPEN_BYTES) -> OpenIndex:
    """Open the live generation of ``index_dir`` and check it is whole and built as expected
    (checksums of its files up to ``verify_bytes``, smallest first; None: every file)."""
    generation = current_generation(Path(index_dir))
    if generation is None:
        raise IndexMissingError(f"no index in {index_dir}", f"build one with `rag ingest corpus/ --index {index_dir}`")
    manifest = Manifest.read(generation)
    verify_generation(generation, manifest, verify_bytes)
    if manifest.schema_version != SCHEMA_VERSION:
        raise IndexMismatchError(f"index {index_dir} has schema {manifest.schema_version}, this program reads {SCHEMA_VERSION}",
                                 REBUILD_HINT)
    if expected_model and expected_model != manifest.model.get("name"):
        raise IndexMismatchError(
            f"index {index_dir} was built with model {manifest.model.get('name')!r}, not {expected_model!r}",
            f"omit --model to use the index's model, or rebuild: `rag ingest --rebuild --model {expected_model}`")
    try:
        ids = npyio.load(generation / "chunk_ids.npy")
        vectors = VectorIndex.load(generation / "vectors.faiss")
        lexical = LexicalIndex.load(generation / "lexical", manifest.lexical_scheme)
        accents = AccentModel.load(generation / ACCENTS_DIR)
    except (OSError, ValueError, RuntimeError, KeyError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"index files in {generation} are damaged ({type(exc).__name__}: {exc})", REBUILD_HINT) from exc
    n_lex = int(lexical.bm25.scores["num_docs"])
    if not (len(ids) == vectors.size == manifest.n_chunks) or (manifest.n_chunks and n_lex != manifest.n_chunks):
        raise IndexCorruptError(
            f"index {generation} is inconsistent ({len(ids)} ids, {vectors.size} vectors, {n_lex} lexical rows, "
            f"manifest says {manifest.n_chunks})", REBUILD_HINT)
    if vectors.size and vectors.index.d != manifest.model.get("dimension"):
        raise IndexCorruptError(f"{generation}/vectors.faiss has dimension {vectors.index.d}, manifest says "
                                f"{manifest.model.get('dimension')}", REBUILD_HINT)
    store = Store(generation / "meta.sqlite", readonly=True)
    if store.outdated:
        store.close()
        raise IndexMismatchError(f"index {index_dir} was written by an older version of this program",
                                 "run `rag ingest` once to upgrade it (nothing is re-embedded)")
    return OpenIndex(generation, manifest, store, ids, vectors, lexical, accents)
