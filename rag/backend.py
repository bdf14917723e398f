"""The storage seam: what retrieval asks of the place passages are searched in.

``HybridRetriever`` needs two rankings of passages for a question, each restricted to the
documents a filter keeps: the lexical one (BM25 over our Vietnamese tokens, ``rag.lexical``)
and the dense one (nearest embeddings). A ``SearchBackend`` gives both, keyed by chunk id, and
the retriever fuses them (its weighted or RRF fusion, then its rerank): the fusion and
everything above it is the same whichever backend answers.

Two implementations:

* ``LocalBackend`` (the default): the index directory's own bm25s and FAISS arrays (rows
  <-> chunk ids as ``OpenIndex`` holds them). It does what ``HybridRetriever.search`` did
  before the seam, in the same vectorised calls: one mask or row list per question, no
  per-passage Python loop.
* ``rag.qdrant_backend.QdrantBackend``: the same passages mirrored into a Qdrant
  collection (an in-process Edge shard, or a Qdrant server / cluster by URL).

Documents' metadata, passages' text and the facts behind list questions stay in SQL
(``rag.store``) for both: a backend answers "which passages, how well", SQLite "what they say".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .index_dir import OpenIndex


@dataclass(frozen=True)
class Ranking:
    """Passages best first: chunk ids, their documents and scores (arrays of equal length)."""

    chunk_ids: np.ndarray   # int64
    doc_ids: np.ndarray     # int64
    scores: np.ndarray      # float32, descending

    @classmethod
    def empty(cls) -> "Ranking":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.chunk_ids)


class SearchBackend(Protocol):
    """Where passages are searched. ``docs``: the documents a filter keeps (None: every one)."""

    name: str

    def count(self) -> int:
        """Passages searchable."""

    def rankings(self, tokens: list[str] | None, vector: np.ndarray | None, k: int,
                 docs: frozenset[int] | None) -> tuple[Ranking, Ranking]:
        """The lexical top ``k`` for ``tokens`` (distinct query tokens, already known to the archive's
        vocabulary) and the dense top ``k`` for ``vector``, in one call (None: that ranking is empty)."""

    def close(self) -> None:
        ...


def lexical_top(backend: SearchBackend, tokens: list[str], k: int, docs: frozenset[int] | None = None) -> Ranking:
    return backend.rankings(tokens, None, k, docs)[0]


def dense_top(backend: SearchBackend, vector: np.ndarray, k: int, docs: frozenset[int] | None = None) -> Ranking:
    return backend.rankings(None, vector, k, docs)[1]


class LocalBackend:
    """The index directory's bm25s + FAISS arrays (``OpenIndex``)."""

    name = "local"

    def __init__(self, index: OpenIndex, row_doc: np.ndarray) -> None:
        self.index = index
        self.row_doc = row_doc   # row -> document id

    def count(self) -> int:
        return len(self.index.chunk_ids)

    def allowed_rows(self, docs: frozenset[int] | None) -> np.ndarray | None:
        if docs is None:
            return None
        return np.flatnonzero(np.isin(self.row_doc, np.fromiter(docs, dtype=np.int64, count=len(docs))))

    def rankings(self, tokens: list[str] | None, vector: np.ndarray | None, k: int,
                 docs: frozenset[int] | None) -> tuple[Ranking, Ranking]:
        n = self.count()
        rows = self.allowed_rows(docs)
        if n == 0 or (rows is not None and len(rows) == 0):
            return Ranking.empty(), Ranking.empty()
        lexical = dense = Ranking.empty()
        if tokens:
            mask = None
            if rows is not None:
                mask = np.zeros(n, dtype=np.float32)
                mask[rows] = 1.0
            scores = np.asarray(self.index.lexical.bm25.get_scores(tokens, weight_mask=mask), dtype=np.float32)
            top = top_rows(scores, k)
            top = top[scores[top] > 0]
            lexical = self._ranking(top, scores[top])
        if vector is not None:
            scores_d, top_d = self.index.vectors.search(vector, k, rows)
            dense = self._ranking(np.asarray(top_d, dtype=np.int64), np.asarray(scores_d, dtype=np.float32))
        return lexical, dense

    def _ranking(self, rows: np.ndarray, scores: np.ndarray) -> Ranking:
        return Ranking(np.asarray(self.index.chunk_ids[rows], dtype=np.int64), self.row_doc[rows], scores)

    def close(self) -> None:
        pass  # the index is the Searcher's to close


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index first)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.lexsort((part, -scores[part]))]
