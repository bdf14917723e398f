"""The lexical side of the hybrid index: BM25 (``bm25s``) over Vietnamese tokens.

``bm25s`` keeps its index as plain NumPy arrays plus JSON and loads them memory-mapped,
which is what an archive of millions of chunks needs; tokens come from
``vntext.lexical_tokens`` (accent-folded and accented syllables, folded bigrams).

The arrays are written here, in bm25s's own files and with its "lucene" formula (checked
against ``bm25s.BM25.index`` in the tests), next to two more arrays bm25s does not keep:
the term frequency behind every score (``tf.csc.npy``) and each row's length in tokens
(``doc_len.npy``). With them a new generation is derived from the previous one
(``LexicalIndex.update``): rows that leave are dropped, new rows are tokenised and merged
into the token columns, and every score is recomputed for the new document count and mean
length, in a few vectorised passes instead of re-tokenising the archive.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import npyio
from .errors import IndexCorruptError
from .vntext import lexical_tokens

K1 = 1.2
B = 0.75
TF_FILE = "tf.csc.npy"
DOC_LEN_FILE = "doc_len.npy"
VOCAB_FILE = "vocab.index.json"


def _bm25s():
    """Import bm25s and keep its debug chatter ("Building index from tokens") off stderr."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@dataclass(frozen=True)
class TermCounts:
    """Distinct tokens of some rows with their counts: one entry per (row, token) pair, rows ascending."""

    row: np.ndarray        # int64, row of each pair (0-based among the counted texts)
    token: np.ndarray      # int64, token id in the vocabulary
    tf: np.ndarray         # int32, occurrences of the token in the row
    doc_len: np.ndarray    # int32, tokens per row


def count_terms(texts: list[str], scheme: str, vocab: dict[str, int]) -> TermCounts:
    """Tokenise ``texts``; tokens not yet in ``vocab`` are appended to it (in place)."""
    rows: list[np.ndarray] = []
    toks: list[np.ndarray] = []
    tfs: list[np.ndarray] = []
    lens = np.zeros(len(texts), dtype=np.int32)
    for i, text in enumerate(texts):
        tokens = lexical_tokens(text, scheme) or [""]
        lens[i] = len(tokens)
        counts: dict[int, int] = {}
        for tok in tokens:
            j = vocab.setdefault(tok, len(vocab))
            counts[j] = counts.get(j, 0) + 1
        rows.append(np.full(len(counts), i, dtype=np.int64))
        toks.append(np.fromiter(counts.keys(), dtype=np.int64, count=len(counts)))
        tfs.append(np.fromiter(counts.values(), dtype=np.int32, count=len(counts)))
    if not texts:
        return TermCounts(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32), lens)
    return TermCounts(np.concatenate(rows), np.concatenate(toks), np.concatenate(tfs), lens)


@dataclass(frozen=True)
class _Columns:
    """Term frequencies as a token-major (CSC) matrix: column t holds the rows containing token t, ascending."""

    indptr: np.ndarray     # int64, len(vocab) + 1
    indices: np.ndarray    # int32 rows
    tf: np.ndarray         # int32
    doc_len: np.ndarray    # int32 per row


def _columns_from_counts(counts: TermCounts, n_vocab: int) -> _Columns:
    order = np.argsort(counts.token, kind="stable")  # stable: rows stay ascending within a token
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(np.bincount(counts.token, minlength=n_vocab), out=indptr[1:])
    return _Columns(indptr, counts.row[order].astype(np.int32), counts.tf[order], counts.doc_len)


def _merge_columns(prev: _Columns, keep_rows: np.ndarray, new: TermCounts, n_vocab: int) -> _Columns:
    """``prev`` restricted to ``keep_rows`` (ascending; renumbered 0..k-1), then ``new``'s rows as k, k+1, ...

    New rows number above every kept row, so each new entry goes at the end of its token's
    column: one ``np.insert`` pass, no sort of the archive's entries."""
    n_prev_rows = len(prev.doc_len)
    n_prev_vocab = len(prev.indptr) - 1
    indices, tf = np.asarray(prev.indices), np.asarray(prev.tf)
    kept_indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    if len(keep_rows) == n_prev_rows:  # nothing removed
        kept_indptr[:n_prev_vocab + 1] = prev.indptr
    else:
        removed = np.ones(n_prev_rows, dtype=bool)
        removed[keep_rows] = False
        kept = ~removed[indices]
        below = np.cumsum(removed, dtype=np.int32)  # removed rows at or below each row
        indices = indices[kept]
        indices -= below[indices]
        tf = tf[kept]
        upto = np.zeros(len(kept) + 1, dtype=np.int64)
        np.cumsum(kept, out=upto[1:])
        kept_indptr[:n_prev_vocab + 1] = upto[np.asarray(prev.indptr)]
    kept_indptr[n_prev_vocab + 1:] = kept_indptr[n_prev_vocab]  # tokens first seen in the new rows
    order = np.lexsort((new.row, new.token))
    tok_n = new.token[order]
    if len(new.tf) and int(new.tf.max()) > np.iinfo(tf.dtype).max:
        tf = tf.astype(np.int32)  # stored as uint16 (see ``save``); a longer text needs more
    at = kept_indptr[tok_n + 1]  # after the token's kept entries; equal positions keep their (row) order
    indices = np.insert(indices, at, (new.row[order] + len(keep_rows)).astype(np.int32))
    tf = np.insert(tf, at, new.tf[order])
    indptr = kept_indptr.copy()
    indptr[1:] += np.cumsum(np.bincount(tok_n, minlength=n_vocab))
    doc_len = np.concatenate([np.asarray(prev.doc_len)[keep_rows], new.doc_len]).astype(np.int32)
    return _Columns(indptr, indices, tf, doc_len)


def _bm25_scores(cols: _Columns, k1: float = K1, b: float = B) -> np.ndarray:
    """bm25s's "lucene" BM25 for every (token, row) entry: idf(t) * tf / (tf + k1 * (1 - b + b * len / mean len))."""
    n_docs = len(cols.doc_len)
    df = np.diff(cols.indptr)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    mean_len = float(cols.doc_len.mean()) if n_docs else 1.0
    norm = (k1 * ((1 - b) + b * cols.doc_len.astype(np.float32) / mean_len)).astype(np.float32)
    tf = cols.tf.astype(np.float32)
    out = norm[cols.indices]
    out += tf
    np.divide(tf, out, out=out)
    out *= np.repeat(idf, df)
    return out


class LexicalIndex:
    """BM25 scores for every indexed chunk (rows aligned with the index's chunk ids)."""

    def __init__(self, bm25, scheme: str, columns: _Columns | None = None) -> None:
        self.bm25 = bm25
        self.scheme = scheme
        self._columns = columns  # term frequencies, for ``save`` and ``update``

    @classmethod
    def _from_columns(cls, cols: _Columns, vocab: dict[str, int], scheme: str) -> "LexicalIndex":
        bm25 = _bm25s().BM25(k1=K1, b=B)
        bm25.scores = {"data": _bm25_scores(cols), "indices": cols.indices, "indptr": cols.indptr,
                       "num_docs": len(cols.doc_len)}
        bm25.vocab_dict = vocab
        bm25.unique_token_ids_set = set(vocab.values())
        bm25.nonoccurrence_array = None  # lucene scores need none (bm25s sets it for BM25L/BM25+ only)
        return cls(bm25, scheme, cols)

    @classmethod
    def build(cls, texts: list[str], scheme: str) -> "LexicalIndex":
        """Tokenise every text and score it (a fresh generation)."""
        vocab: dict[str, int] = {}
        return cls.from_counts(count_terms(texts or [""], scheme, vocab), vocab, scheme)

    @classmethod
    def from_counts(cls, counts: TermCounts, vocab: dict[str, int], scheme: str) -> "LexicalIndex":
        """The index of rows already counted (``count_terms``; rows ascending) over ``vocab``."""
        return cls._from_columns(_columns_from_counts(counts, len(vocab)), vocab, scheme)

    @classmethod
    def update(cls, previous: Path, scheme: str, keep_rows: np.ndarray, new_texts: list[str]) -> "LexicalIndex":
        """The index of the previous generation (directory ``previous``) with only its rows
        ``keep_rows`` (ascending), renumbered from 0, followed by ``new_texts``. Only the new
        texts are tokenised. Raises ``IndexCorruptError`` when ``previous`` lacks the
        term-frequency arrays (an index written before they existed): build instead."""
        keep_rows = np.asarray(keep_rows, dtype=np.int64)
        if len(keep_rows) > 1 and np.any(np.diff(keep_rows) <= 0):
            raise ValueError("keep_rows must be strictly ascending (the previous generation's order)")
        try:
            vocab = json.loads((previous / VOCAB_FILE).read_text(encoding="utf-8"))
            # read whole (sequential reads), not memory-mapped: every entry is touched once
            prev = _Columns(npyio.load(previous / "indptr.csc.index.npy"), npyio.load(previous / "indices.csc.index.npy"),
                            npyio.load(previous / TF_FILE), npyio.load(previous / DOC_LEN_FILE))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot update the lexical index in {previous} ({exc})",
                                    "rebuild it with `rag ingest --rebuild`") from exc
        if len(keep_rows) and keep_rows[-1] >= len(prev.doc_len):
            raise ValueError(f"keep_rows names row {keep_rows[-1]} but {previous} has {len(prev.doc_len)} rows")
        counts = count_terms(new_texts, scheme, vocab)
        if len(keep_rows) == 0 and not new_texts:
            counts = count_terms([""], scheme, vocab)
        cols = _merge_columns(prev, keep_rows, counts, len(vocab))
        return cls._from_columns(cols, vocab, scheme)

    @staticmethod
    def updatable(previous: Path) -> bool:
        """Whether ``previous`` holds what ``update`` needs."""
        return (previous / TF_FILE).is_file() and (previous / DOC_LEN_FILE).is_file()

    def save(self, directory: Path) -> None:
        self.bm25.save(str(directory), show_progress=False)
        if self._columns is not None:
            tf = self._columns.tf
            small = len(tf) == 0 or int(tf.max()) <= np.iinfo(np.uint16).max  # passages: a token occurs < 65,536 times
            np.save(directory / TF_FILE, tf.astype(np.uint16) if small else tf, allow_pickle=False)
            np.save(directory / DOC_LEN_FILE, self._columns.doc_len, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, scheme: str, mmap: bool = True) -> "LexicalIndex":
        with npyio.LOAD_LOCK:
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
