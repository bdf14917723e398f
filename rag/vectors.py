"""The dense side of the hybrid index: FAISS over normalised embeddings (inner product).

Vectors are kept as a plain ``vectors.npy`` (row i = chunk ``chunk_ids[i]``) so that an
incremental ingest can reuse them, and as a FAISS index for search.

Which FAISS index (``VectorIndex.build(vectors, dim, kind=...)``):

* ``flat``  exact inner product (``IndexFlatIP``). Build is a copy; one query reads every
  vector (1,536 bytes each at 384 dimensions), so its time grows with the archive.
* ``hnsw``  graph search (``IndexHNSWFlat``, ``METRIC_INNER_PRODUCT``): query time grows
  with log(n); build ~0.2 ms per vector on 2 cores; the graph adds ~2·M·4 bytes per vector.
* ``ivf``   inverted lists (``IndexIVFFlat``): k-means (on at most 100k vectors) into ``nlist``
  cells; a query scans ``nprobe`` of them. ~8 + 1,536 bytes per vector at 384 dimensions.
* ``auto``  (default) ``flat`` up to ``AUTO_FLAT_MAX`` vectors, ``ivf`` above. Chosen by
  measurement (``bench/ann.py``, ``docs/benchmarks.md``): at ~1M vectors IVF (nlist ~4·sqrt(n),
  nprobe 64) kept recall@10 >= 0.99 against the exact search at ~8 ms per query and built in
  2 minutes, while HNSW (M=32, efConstruction 80, twice the build time) needed efSearch ~1,500
  for 0.95 (0.81 at 256, 0.98 at 2048 for ~9 ms).
  IVF also takes new vectors (``add``) and removals without retraining, which incremental
  ingest at that scale needs.

``storage`` trades recall for memory: ``float32`` (default), ``fp16`` / ``sq8`` (scalar
quantisation, 2 / 1 byte per dimension) or ``pq`` (product quantisation, ``PQ_M`` bytes
per vector; IVF-PQ / HNSW-PQ). Costs are measured in ``docs/benchmarks.md``.

Filters (``allowed_rows``) go through a FAISS ``IDSelector`` inside the search. An ANN
search with a selective filter can miss allowed rows (the graph or the probed cells hold
few of them), so a filter leaving at most ``EXACT_SUBSET_MAX`` rows is searched exactly
over those rows, and a larger one widens the search (``efSearch`` / ``nprobe``) by the
inverse of its selectivity.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

KINDS = ("auto", "flat", "hnsw", "ivf")
STORAGES = ("float32", "fp16", "sq8", "pq")

# Up to this many vectors "auto" builds an exact index: at 384 dimensions one exact query
# reads n * 1.5 KB; measured on the 2-core machine (one thread): p50 16 ms at 100k vectors,
# 37 ms at 250k, 71 ms at 500k, p95 128 ms at 1M, against a 150 ms budget for the whole
# question (docs/benchmarks.md). An exact index is also rebuilt in a fraction of a second,
# which keeps incremental ingest fast, and it needs no training.
AUTO_FLAT_MAX = 250_000

HNSW_M = 32                 # graph degree (level 0 has 2*M links): 256 bytes per vector
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256        # recall@10 0.98 at 100k, only 0.81 at 1M (0.98 at 2048; bench/ann.py): prefer IVF there
IVF_NPROBE = 64             # recall@10 0.99 at 100k and 1M, p95 8 ms at 1M (bench/ann.py)
PQ_M = 48                   # sub-quantisers of 8 bits: 48 bytes per 384-dim vector
EXACT_SUBSET_MAX = 20_000   # filters leaving at most this many rows are searched exactly
MAX_WIDEN = 16              # at most this factor on efSearch / nprobe under a filter
# OpenMP threads for one query's search. One: a single query gains little from a second thread
# on 2 cores, and when the cores are busy (other requests, an ingest) the threads' barrier
# waits make it slower: exact search over 100k vectors took 40 ms with 2 threads and 12 ms
# with 1 on the loaded development machine (docs/benchmarks.md). Batches keep FAISS's default.
SEARCH_THREADS = 1


def ivf_nlist(n: int) -> int:
    """Cells of an IVF index over ``n`` vectors: ~4·sqrt(n), at least 1, at most n // 39."""
    return max(1, min(int(4 * math.sqrt(max(n, 1))), max(1, n // 39)))


def choose_kind(n: int) -> str:
    """The kind ``auto`` builds for ``n`` vectors."""
    return "flat" if n <= AUTO_FLAT_MAX else "ivf"


def _sq_type(storage: str):
    return faiss.ScalarQuantizer.QT_fp16 if storage == "fp16" else faiss.ScalarQuantizer.QT_8bit


def _pq_m(dimension: int) -> int:
    m = min(PQ_M, dimension)
    while dimension % m:
        m -= 1
    return m


def _pq_bits(n: int) -> int:
    """8-bit codes need 256 * 39 training vectors; fewer vectors get smaller codebooks."""
    return int(min(8, max(4, math.floor(math.log2(max(n, 16 * 39) / 39)))))


def _new_index(kind: str, storage: str, dimension: int, n: int, hnsw_m: int, nlist: int | None) -> faiss.Index:
    ip = faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        if storage == "float32":
            return faiss.IndexFlatIP(dimension)
        if storage == "pq":
            return faiss.IndexPQ(dimension, _pq_m(dimension), _pq_bits(n), ip)
        return faiss.IndexScalarQuantizer(dimension, _sq_type(storage), ip)
    if kind == "hnsw":
        if storage == "float32":
            index = faiss.IndexHNSWFlat(dimension, hnsw_m, ip)
        elif storage == "pq":
            index = faiss.IndexHNSWPQ(dimension, _pq_m(dimension), hnsw_m, _pq_bits(n), ip)
        else:
            index = faiss.IndexHNSWSQ(dimension, _sq_type(storage), hnsw_m, ip)
        return index
    if kind == "ivf":
        nlist = nlist or ivf_nlist(n)
        quantizer = faiss.IndexFlatIP(dimension)
        if storage == "float32":
            index = faiss.IndexIVFFlat(quantizer, dimension, nlist, ip)
        elif storage == "pq":
            index = faiss.IndexIVFPQ(quantizer, dimension, nlist, _pq_m(dimension), _pq_bits(n), ip)
        else:
            index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, _sq_type(storage), ip)
        return index  # the faiss wrapper keeps ``quantizer`` alive with the index
    raise ValueError(f"unknown vector index kind {kind!r}; use one of {', '.join(KINDS)}")


def _reusable_cells(trained: "VectorIndex | None", kind: str, dimension: int, n: int,
                    nlist: int | None) -> faiss.Index | None:
    """An empty copy of ``trained``'s IVF index (cells and storage kept) when it suits ``n`` vectors."""
    if trained is None or kind != "ivf" or trained.kind != "ivf" or trained.dimension != dimension:
        return None
    have = int(trained.index.nlist)
    if not 0.5 <= (nlist or ivf_nlist(n)) / have <= 2:
        return None
    index = faiss.clone_index(trained.index)
    index.reset()
    return index


def kind_of(index: faiss.Index) -> str:
    """``flat``, ``hnsw`` or ``ivf`` for a FAISS index read from disk."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"


class VectorIndex:
    def __init__(self, index: faiss.Index, ef_search: int | None = None, nprobe: int | None = None) -> None:
        # keep the object we were given: a downcast proxy does not own the C++ index
        self.index = index if type(index) is not faiss.Index else faiss.downcast_index(index)
        self._owner = index
        self.kind = kind_of(self.index)
        if self.kind == "hnsw":
            self.ef_search = int(ef_search or max(self.index.hnsw.efSearch, HNSW_EF_SEARCH))
            self.index.hnsw.efSearch = self.ef_search
        if self.kind == "ivf":
            self.nprobe = int(nprobe or max(self.index.nprobe, 1))
            self.index.nprobe = self.nprobe
            if self.index.direct_map.type == faiss.DirectMap.NoMap:
                self.index.make_direct_map()

    @classmethod
    def build(cls, vectors: np.ndarray, dimension: int, kind: str = "auto", storage: str = "float32", *,
              hnsw_m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION, ef_search: int = HNSW_EF_SEARCH,
              nlist: int | None = None, nprobe: int = IVF_NPROBE, train_size: int = 100_000,
              seed: int = 1234, trained: "VectorIndex | None" = None) -> "VectorIndex":
        """An index over ``vectors`` (rows = row numbers). ``kind``: auto | flat | hnsw | ivf;
        ``storage``: float32 | fp16 | sq8 | pq (see the module docstring).

        ``trained``: the previous generation's index. An IVF index reuses its trained cells
        (no k-means: the bulk of an IVF build) while the archive is within 4x of the size
        they were trained for; otherwise, and for other kinds, the index is built afresh."""
        if kind not in KINDS:
            raise ValueError(f"unknown vector index kind {kind!r}; use one of {', '.join(KINDS)}")
        if storage not in STORAGES:
            raise ValueError(f"unknown vector storage {storage!r}; use one of {', '.join(STORAGES)}")
        data = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
        n = len(data)
        if kind == "auto":
            kind = choose_kind(n)
        if kind == "ivf" and n < 39:
            kind = "flat"  # too few vectors to train cells
        reused = _reusable_cells(trained, kind, dimension, n, nlist)
        if reused is not None:
            reused.add(data)
            return cls(reused, nprobe=nprobe)
        index = _new_index(kind, storage, dimension, n, hnsw_m, nlist)
        if kind == "hnsw":
            index.hnsw.efConstruction = ef_construction
        if n:
            if not index.is_trained:
                sample = data
                if n > train_size:
                    rows = np.random.default_rng(seed).choice(n, train_size, replace=False)
                    sample = data[np.sort(rows)]
                index.train(sample)
            index.add(data)
        elif not index.is_trained and kind != "flat":
            index = faiss.IndexFlatIP(dimension)
            kind = "flat"
        return cls(index, ef_search=ef_search if kind == "hnsw" else None, nprobe=nprobe if kind == "ivf" else None)

    def save(self, path: Path) -> None:
        # written through a Python file: a full disk is an OSError (ENOSPC) like every other write,
        # not a FAISS RuntimeError that only its message text would tell apart
        with open(path, "wb") as fh:
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(fh.write))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        return cls(faiss.read_index(str(path)))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def describe(self) -> dict[str, object]:
        """Kind and parameters, for manifests and benchmark reports."""
        out: dict[str, object] = {"kind": self.kind, "type": type(self.index).__name__, "size": self.size}
        if self.kind == "hnsw":
            out.update(M=int(self.index.hnsw.nb_neighbors(1)), ef_search=self.ef_search,
                       ef_construction=int(self.index.hnsw.efConstruction))
        if self.kind == "ivf":
            out.update(nlist=int(self.index.nlist), nprobe=self.nprobe)
        return out

    def bytes_per_vector(self) -> float:
        """Serialised size per vector (what the index holds in memory, to within a few percent)."""
        if not self.size:
            return 0.0
        return len(faiss.serialize_index(self.index)) / self.size

    def search(self, query: np.ndarray, k: int, allowed_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``k`` nearest rows, restricted to ``allowed_rows`` when given."""
        scores, rows = self.search_many(np.asarray(query, dtype=np.float32).reshape(1, -1), k, allowed_rows)
        return scores[0], rows[0]

    def search_many(self, queries: np.ndarray, k: int,
                    allowed_rows: np.ndarray | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per query, (scores, rows) as in ``search`` (lists, since filtered results can be short)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        k = min(k, self.size if allowed_rows is None else len(allowed_rows))
        if k <= 0:
            empty = (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64))
            return [empty[0]] * len(queries), [empty[1]] * len(queries)
        params = None
        if allowed_rows is not None:
            allowed = np.unique(np.asarray(allowed_rows, dtype=np.int64))
            allowed = allowed[(allowed >= 0) & (allowed < self.size)]
            k = min(k, len(allowed))
            if k <= 0:
                return self.search_many(queries, 0)
            if self.kind != "flat" and len(allowed) <= EXACT_SUBSET_MAX:
                return self._search_subset(queries, k, allowed)
            params = self._filtered_params(allowed)
        elif self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=self.nprobe)
        scores, rows = self._faiss_search(queries, k, params)
        keep = rows >= 0
        return [s[m] for s, m in zip(scores, keep)], [r[m] for r, m in zip(rows, keep)]

    @staticmethod
    def _threads(n_queries: int) -> int | None:
        return SEARCH_THREADS if n_queries == 1 and SEARCH_THREADS else None

    def _faiss_search(self, queries: np.ndarray, k: int, params) -> tuple[np.ndarray, np.ndarray]:
        threads = self._threads(len(queries))
        if threads is None:
            return self.index.search(queries, k, params=params)
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(threads)
        try:
            return self.index.search(queries, k, params=params)
        finally:
            faiss.omp_set_num_threads(before)

    def _filtered_params(self, allowed: np.ndarray) -> faiss.SearchParameters:
        bitmap = np.zeros(self.size, dtype=bool)
        bitmap[allowed] = True
        bits = np.packbits(bitmap, bitorder="little")
        selector = faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bits))
        selector.__dict__["_bits"] = bits  # the selector reads this buffer during the search
        widen = min(MAX_WIDEN, max(1.0, self.size / len(allowed)))
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=int(self.ef_search * widen))
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF(sel=selector, nprobe=min(int(self.nprobe * widen), int(self.index.nlist)))
        else:
            params = faiss.SearchParameters(sel=selector)
        params.__dict__["_selector"] = selector
        return params

    def _search_subset(self, queries: np.ndarray, k: int,
                       allowed: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Exact search over the allowed rows (vectors decoded from the index's storage)."""
        threads = self._threads(len(queries))
        before = faiss.omp_get_max_threads()
        if threads:
            faiss.omp_set_num_threads(threads)
        try:
            vectors = self.index.reconstruct_batch(allowed)
        finally:
            faiss.omp_set_num_threads(before)
        sims = queries @ vectors.T
        out_s, out_r = [], []
        for row in sims:
            top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
            top = top[np.lexsort((allowed[top], -row[top]))]
            out_s.append(row[top].astype(np.float32))
            out_r.append(allowed[top])
        return out_s, out_r
