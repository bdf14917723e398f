"""The lexical side of the hybrid index: BM25 (``bm25s``) over Vietnamese tokens.

``bm25s`` keeps its index as plain NumPy arrays plus JSON and loads them memory-mapped,
which is what an archive of millions of chunks needs; tokens come from
``vntext.lexical_tokens`` (accent-folded and accented syllables, folded bigrams).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .vntext import lexical_tokens



def _bm25s():
    """Import bm25s and keep its debug chatter ("Building index from tokens") off stderr."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """BM25 scores for every indexed chunk (rows aligned with the index's chunk ids)."""

    def __init__(self, bm25, scheme: str) -> None:
        self.bm25 = bm25
        self.scheme = scheme

    @classmethod
    def build(cls, texts: list[str], scheme: str) -> "LexicalIndex":
        bm25 = _bm25s().BM25(k1=1.2, b=0.75)
        bm25.index([lexical_tokens(t, scheme) or [""] for t in texts] or [[""]], show_progress=False)
        return cls(bm25, scheme)

    def save(self, directory: Path) -> None:
        self.bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, scheme: str, mmap: bool = True) -> "LexicalIndex":
        return cls(_bm25s().BM25.load(str(directory), mmap=mmap, show_progress=False), scheme)

    def query_tokens(self, query: str) -> list[str]:
        vocab = self.bm25.vocab_dict
        return [t for t in dict.fromkeys(lexical_tokens(query, self.scheme)) if t in vocab]

    def document_frequency(self, token: str) -> int:
        """How many passages hold ``token`` (its column length in the BM25 matrix)."""
        token_id = self.bm25.vocab_dict.get(token)
        if token_id is None:
            return 0
        indptr = self.bm25.scores["indptr"]
        return int(indptr[token_id + 1] - indptr[token_id])

    def idf(self, token: str) -> float:
        """Inverse document frequency of ``token`` (0 for unknown tokens)."""
        df = self.document_frequency(token)
        if df == 0:
            return 0.0
        n_docs = int(self.bm25.scores["num_docs"])
        return float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))

    def rows_with(self, token: str) -> np.ndarray:
        """Rows (passages) holding ``token``: a posting list, read straight from the BM25 matrix."""
        token_id = self.bm25.vocab_dict.get(token)
        if token_id is None:
            return np.zeros(0, dtype=np.int64)
        indptr = self.bm25.scores["indptr"]
        return np.asarray(self.bm25.scores["indices"][indptr[token_id]:indptr[token_id + 1]], dtype=np.int64)

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        tokens = self.query_tokens(query)
        n = self.bm25.scores["num_docs"]
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens, weight_mask=mask), dtype=np.float32)
