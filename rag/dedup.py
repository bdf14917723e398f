"""Near-duplicate reports: the same report filed as PDF, DOCX and TXT appears once.

A MinHash over accent-folded 5-word shingles estimates the Jaccard similarity of
two texts; documents above ``THRESHOLD`` form a group whose preferred member
(PDF first: it has page numbers for citations; OCRed scans last) is the one that is searched.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from .vntext import fold

N_HASHES = 64
SHINGLE = 5
THRESHOLD = 0.9
# PDF first (pages for citations); a scan read by OCR last (its text has recognition errors)
FORMAT_PREFERENCE = {"pdf": 0, "docx": 1, "html": 2, "md": 3, "txt": 4, "pdf-ocr": 5}
_MASK = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20240601)
_A = _rng.integers(1, 1 << 61, size=N_HASHES, dtype=np.uint64)
_B = _rng.integers(0, 1 << 61, size=N_HASHES, dtype=np.uint64)


def fingerprint(text: str) -> bytes:
    """MinHash signature of ``text`` (``N_HASHES`` uint64 values as bytes)."""
    words = re.findall(r"\w+", fold(text))
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    hashes = np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") >> 3
                       for s in shingles], dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = (hashes[:, None] * _A[None, :] + _B[None, :]) & _MASK
    return mixed.min(axis=0).astype(np.uint64).tobytes()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two fingerprints."""
    return float(np.mean(np.frombuffer(a, dtype=np.uint64) == np.frombuffer(b, dtype=np.uint64)))


def canonical_groups(docs: list[tuple[int, str, str, bytes]]) -> dict[int, int]:
    """Map each document id to the id of its group's preferred member.

    ``docs`` holds (id, format, path, fingerprint). Candidates are found through
    LSH bands (8 bands of 8 hashes), so the work grows with the archive, not its square.
    """
    by_id = {d[0]: d for d in docs}
    parent = {d[0]: d[0] for d in docs}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    buckets: dict[tuple[int, bytes], list[int]] = {}
    for doc_id, _, _, fp in docs:
        for band in range(8):
            buckets.setdefault((band, fp[band * 64:(band + 1) * 64]), []).append(doc_id)
    for members in buckets.values():
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            if a != b and similarity(by_id[members[0]][3], by_id[other][3]) >= THRESHOLD:
                parent[b] = a
    groups: dict[int, list[int]] = {}
    for doc_id in parent:
        groups.setdefault(find(doc_id), []).append(doc_id)
    mapping: dict[int, int] = {}
    for members in groups.values():
        best = min(members, key=lambda i: (FORMAT_PREFERENCE.get(by_id[i][1], 9), by_id[i][2]))
        for m in members:
            mapping[m] = best
    return mapping
