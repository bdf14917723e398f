"""Checksums of a generation's files, written into its manifest and verified before use.

Damage that keeps a file's size (permuted chunk ids, flipped bytes in FAISS rows, BM25
arrays or SQLite pages) loads without error and answers wrongly; only a checksum sees it.
An ingest writes the SHA-256 of every file; ``open_index`` verifies them, and an ingest
verifies the previous generation in full before deriving a new one from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexCorruptError
from .filehash import file_sha256

MANIFEST = "manifest.json"
# SHA-256 streams at 1.16 GB/s on this 2-core machine (SHA-NI; blake2b 0.52, md5 0.51 GB/s),
# so opening verifies up to 2 GiB of files (~1.8 s; a 100k-passage generation is ~0.5 GB),
# smallest first; files past that are verified by every ingest and by `rag check`.
VERIFY_ON_OPEN_BYTES = 2 * 2**30
REBUILD_HINT = "rebuild it with `rag ingest --rebuild`"


@dataclass(frozen=True)
class Verified:
    """What a verification covered."""

    files: int
    hashed_bytes: int
    skipped_files: tuple[str, ...]  # present with the right size, not hashed (over the byte budget)


def checksums(directory: Path) -> dict[str, dict[str, object]]:
    """``{relative path: {"bytes": size, "sha256": hex}}`` for every file of ``directory`` but the manifest."""
    out: dict[str, dict[str, object]] = {}
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel != MANIFEST and not rel.endswith(".tmp"):
            out[rel] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    return out


def verify(directory: Path, files: dict[str, dict[str, object]], max_bytes: int | None = VERIFY_ON_OPEN_BYTES) -> Verified:
    """Check every listed file's size, and the SHA-256 of the smallest ones up to ``max_bytes``
    in all (None: all of them). Raises ``IndexCorruptError`` naming the first damaged file."""
    directory = Path(directory)
    sizes = {rel: _size(directory, rel, entry) for rel, entry in files.items()}
    budget = float("inf") if max_bytes is None else max_bytes
    hashed, skipped = 0, []
    for rel in sorted(files, key=lambda r: (sizes[r], r)):
        if hashed + sizes[rel] > budget:
            skipped.append(rel)
            continue
        if file_sha256(directory / rel) != files[rel].get("sha256"):
            raise IndexCorruptError(f"{directory / rel} is damaged (its checksum differs from the manifest's)",
                                    REBUILD_HINT)
        hashed += sizes[rel]
    return Verified(len(files), hashed, tuple(skipped))


def _size(directory: Path, rel: str, entry: dict[str, object]) -> int:
    path = directory / rel
    if ".." in Path(rel).parts or os.path.isabs(rel):
        raise IndexCorruptError(f"{directory / MANIFEST} lists a file outside its generation: {rel!r}", REBUILD_HINT)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"{path} is missing", REBUILD_HINT) from exc
    if size != entry.get("bytes"):
        raise IndexCorruptError(f"{path} is damaged ({size} bytes, the manifest says {entry.get('bytes')})",
                                REBUILD_HINT)
    return size
