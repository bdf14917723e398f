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

    def idf(self, token: str) -> float:
        """Inverse document frequency of ``token`` (0 for unknown tokens)."""
        scores = self.bm25.get_scores([token]) if token in self.bm25.vocab_dict else None
        if scores is None:
            return 0.0
        n_docs = len(scores)
        df = int(np.count_nonzero(scores))
        return float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        tokens = self.query_tokens(query)
        n = self.bm25.scores["num_docs"]
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens, weight_mask=mask), dtype=np.float32)
