"""Qdrant as the ``SearchBackend``: the index's passages mirrored into a Qdrant collection.

Where (``--store`` / ``RAG_STORE``, parsed by ``StoreSpec``):

* ``edge`` or ``edge:PATH``: an in-process Qdrant Edge shard (``qdrant-edge-py``: Qdrant's own
  engine, no server), in ``<index>/qdrant-edge/`` or at PATH. One process opens a shard at a
  time (Edge locks its write-ahead log): for tests, CI and one machine.
* ``qdrant://host:6333[/collection][?shards=6&replicas=2]`` (``qdrants://`` for TLS): a Qdrant
  server or cluster through ``qdrant-client`` (REST); ``QDRANT_API_KEY`` is sent when set.

Both go through one ``Engine`` interface of eight calls; everything above it (the points, the
sparse vectors, the diffing sync, the queries, the fusion in ``rag.retrieval``) is shared.

Each canonical passage is one point, id = its chunk id:

* ``dense``: its embedding (dot product; the vectors are normalised, as FAISS's inner product);
* ``lexical``: a sparse vector over *our* Vietnamese tokens (``rag.vntext.lexical_tokens``: the
  accent-folded and accented syllables and folded bigrams the local BM25 index uses), each token
  hashed to a stable 32-bit id, its value BM25's term part ``tf / (tf + k1 (1 - b + b len / avgdl))``;
  the collection applies Qdrant's IDF modifier, ``ln(1 + (N - df + 0.5) / (df + 0.5))``, which is
  bm25s's "lucene" idf (checked in tests/test_qdrant_backend.py): a query of the distinct tokens
  with weight 1 scores a passage exactly as the local index does;
* payload: document id, province, districts, year, document type, page, section, ``key`` (what the
  point was made from: model, embedding-input hash, document) and ``since`` (the generation that
  wrote it).

Queries ask for both rankings in one batch call (two ``Nearest`` requests, each with the
filter) and ``HybridRetriever`` fuses them with its own fusion, measured better than Qdrant's
built-in RRF on our sets (rag/config.py). Filters reach Qdrant as a ``doc_id`` payload match on
the documents ``HybridRetriever.allowed_docs`` keeps (a current province covers the provinces
merged into it, a report without a province gets its district's: rules that live in Python),
and every query keeps ``since <= `` the reader's generation, so a server reading generation N
never sees the points an ingest is writing for N+1.

Documents' metadata, passages' text and list questions' facts stay in SQL (``meta.sqlite`` of
the generation, as for the local backend); docs/scale-out.md says what a multi-machine
deployment uses.

Sync (``sync_store``, run by every ingest given a store): the live generation's canonical
passages are diffed against the collection's points by id and ``key``; missing or different
points are upserted, points gone are deleted, in batches. An interrupted or failed sync leaves
the collection partly written and the index's marker (``store-sync.json``) behind; the next
ingest (even one with no file changed) finishes it, and a ``Searcher`` refuses a store whose
marker is behind the live generation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import parse_qs, urlsplit

import numpy as np

from . import npyio
from .backend import Ranking
from .errors import ConfigError, IndexMismatchError, RagError, StoreUnreachableError
from .index_dir import CURRENT, Manifest, OpenIndex, _write_atomic, current_generation
from .lexical import B, DOC_LEN_FILE, K1
from .store import Store
from .vectors import AUTO_FLAT_MAX
from .vntext import lexical_tokens

log = logging.getLogger("rag.qdrant")

DENSE = "dense"
SPARSE = "lexical"
EDGE_DIR = "qdrant-edge"
SYNC_FILE = "store-sync.json"
DEFAULT_COLLECTION = "rag"
DEFAULT_PORT = 6333
PAYLOAD_INDEXES = {"doc_id": "integer", "since": "integer", "year": "integer", "province": "keyword",
                   "districts": "keyword", "doc_type": "keyword"}
# points per upsert: 256 points of 384 floats + ~300 sparse entries are ~1 MB of JSON, well under
# a server's 32 MB request limit; at 100k passages Edge took the same time at 256 and 1,024
# (bench/qdrant_scale.py)
BATCH = 256
SCROLL_PAGE = 4096
# The stored sparse values hold the mean passage length (avgdl) of the sync that wrote them;
# when the archive's mean length has moved by more than this share, every point's sparse vector
# is rewritten (no re-embedding). At 2% the length term of a passage of mean length moves by
# under 1.5% of its value, the order of float32 rounding between bm25s and Qdrant.
AVGDL_DRIFT = 0.02
# a server write that fails for want of a connection is retried (a node restarting, a leader
# moving): 3 more tries, 1, 2 then 4 s apart, then the ingest stops with the server's URL
WRITE_RETRIES = (1.0, 2.0, 4.0)
SERVER_TIMEOUT = 30  # seconds per request (an upsert of BATCH points takes ~0.1 s on one node)
# The dense ranking is exact up to as many passages as the local backend searches exactly
# (rag.vectors.AUTO_FLAT_MAX): Edge's exact search over 100k vectors took p50 12.1 / p95 14.3 ms,
# as FAISS's flat index does. Above that Qdrant's HNSW with this ef. Measured on 100k *random*
# unit vectors (bench/qdrant_scale.py's, the worst case for a graph): recall@10 against exact
# 0.14 at Qdrant's default, 0.18 at ef 128, 0.29 at 256, 0.47 at 512 (4.9 ms). Real embeddings
# cluster and do far better, but that was not measured: check recall on the real collection.
DENSE_HNSW_EF = 512


@dataclass(frozen=True)
class StoreSpec:
    """Where passages are searched: ``local`` (the index directory), an Edge shard or a server."""

    kind: str                   # "local", "edge" or "server"
    path: str = ""              # edge: the shard directory ("" : <index>/qdrant-edge)
    url: str = ""               # server: http(s)://host:port
    collection: str = DEFAULT_COLLECTION
    shards: int = 0             # server: create the collection with this many shard keys (0: Qdrant's default)
    replicas: int = 0           # server: replication factor (0: Qdrant's default, 1)

    @classmethod
    def parse(cls, text: str | None) -> "StoreSpec":
        text = (text or "").strip()
        if text in ("", "local"):
            return cls("local")
        if text == "edge" or text.startswith("edge:"):
            return cls("edge", path=text[5:])
        parts = urlsplit(text)
        if parts.scheme in ("qdrant", "qdrants") and parts.hostname:
            query = parse_qs(parts.query)
            try:
                shards, replicas = int(query.get("shards", ["0"])[0]), int(query.get("replicas", ["0"])[0])
                port = parts.port or DEFAULT_PORT
            except ValueError as exc:
                raise ConfigError(f"bad store URL {text!r} ({exc})", _STORE_HINT) from None
            http = "https" if parts.scheme == "qdrants" else "http"
            return cls("server", url=f"{http}://{parts.hostname}:{port}",
                       collection=parts.path.strip("/") or DEFAULT_COLLECTION, shards=shards, replicas=replicas)
        raise ConfigError(f"unknown store {text!r}", _STORE_HINT)

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    def shard_path(self, index_dir: Path) -> Path:
        return Path(self.path) if self.path else Path(index_dir) / EDGE_DIR

    def name(self, index_dir: Path) -> str:
        """How messages and the sync marker name this store."""
        if self.kind == "edge":
            return f"edge:{self.shard_path(index_dir)}"
        return f"{self.url}/{self.collection}" if self.kind == "server" else "local"


_STORE_HINT = "use local, edge, edge:PATH or qdrant://host:6333[/collection] (qdrants:// for TLS)"


# -- the engine interface: the only code that differs between Edge and a server -------------------

@dataclass(frozen=True)
class PointData:
    id: int
    dense: list[float] | None
    sparse: tuple[list[int], list[float]]
    payload: dict


@dataclass(frozen=True)
class QueryData:
    using: str                                     # DENSE or SPARSE
    vector: list[float] | tuple[list[int], list[float]]
    limit: int
    docs: list[int] | None                         # documents kept (None: all)
    max_since: int                                 # the reader's generation
    exact: bool = False                            # dense: exact search, not HNSW


class Engine(Protocol):
    def exists(self) -> bool: ...
    def create(self, dimension: int) -> None: ...
    def drop(self) -> None: ...
    def upsert(self, points: list[PointData]) -> None: ...
    def set_sparse(self, ids: list[int], sparse: list[tuple[list[int], list[float]]]) -> None: ...
    def delete(self, ids: list[int]) -> None: ...
    def keys(self) -> dict[int, str]: ...
    def query(self, queries: list[QueryData]) -> list[list[tuple[int, float, int]]]: ...
    def count(self, max_since: int | None = None) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class EdgeEngine:
    """An in-process Qdrant Edge shard (``qdrant_edge.EdgeShard``)."""

    _open: dict[str, list] = {}     # path -> [shard, users]: one EdgeShard per path and process
    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()
        self._shard = None

    def _edge(self):
        try:
            import qdrant_edge
        except ImportError as exc:
            raise RagError("the edge store needs qdrant-edge-py", "pip install qdrant-edge-py==0.9.0") from exc
        return qdrant_edge

    def exists(self) -> bool:
        return self.path.is_dir() and any(self.path.iterdir())

    @property
    def shard(self):
        if self._shard is None:
            key = str(self.path)
            with self._lock:
                entry = self._open.get(key)
                if entry is None:
                    try:
                        entry = self._open[key] = [self._edge().EdgeShard.load(key), 0]
                    except Exception as exc:  # noqa: BLE001 - the binding raises a bare Exception
                        hint = ("Edge serves one process at a time: stop the other one (a `rag serve`?), or use a "
                                "Qdrant server (--store qdrant://host:6333)") if "WouldBlock" in str(exc) else \
                            "rebuild it: delete the folder and run `rag ingest --store edge:...`"
                        raise RagError(f"cannot open the Qdrant Edge shard {key} ({exc})", hint) from exc
                entry[1] += 1
                self._shard = entry[0]
        return self._shard

    def create(self, dimension: int) -> None:
        qe = self._edge()
        config = qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Dot)},
                               sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)})
        self.path.mkdir(parents=True, exist_ok=True)
        with self._lock:
            shard = qe.EdgeShard.create(str(self.path), config)
            self._open[str(self.path)] = [shard, 1]
            self._shard = shard
        kinds = {"integer": qe.PayloadSchemaType.Integer, "keyword": qe.PayloadSchemaType.Keyword}
        for name, kind in PAYLOAD_INDEXES.items():
            shard.update(qe.UpdateOperation.create_field_index(name, kinds[kind]))

    def drop(self) -> None:
        import shutil

        self.close(force=True)
        shutil.rmtree(self.path, ignore_errors=True)

    def upsert(self, points: list[PointData]) -> None:
        qe = self._edge()
        self.shard.update(qe.UpdateOperation.upsert_points([
            qe.Point(p.id, {DENSE: p.dense, SPARSE: qe.SparseVector(*p.sparse)}, p.payload) for p in points]))

    def set_sparse(self, ids: list[int], sparse: list[tuple[list[int], list[float]]]) -> None:
        qe = self._edge()
        self.shard.update(qe.UpdateOperation.update_vectors(
            [qe.PointVectors(i, {SPARSE: qe.SparseVector(*s)}) for i, s in zip(ids, sparse)]))

    def delete(self, ids: list[int]) -> None:
        self.shard.update(self._edge().UpdateOperation.delete_points(ids))

    def keys(self) -> dict[int, str]:
        qe = self._edge()
        out: dict[int, str] = {}
        offset = None
        while True:
            records, offset = self.shard.scroll(qe.ScrollRequest(offset=offset, limit=SCROLL_PAGE, with_vector=False,
                                                                 with_payload=qe.PayloadSelector.Include(["key"])))
            out.update((int(r.id), (r.payload or {}).get("key", "")) for r in records)
            if offset is None:
                return out

    def _filter(self, docs: list[int] | None, max_since: int | None):
        qe = self._edge()
        must = []
        if docs is not None:
            must.append(qe.FieldCondition("doc_id", match=qe.MatchAny(docs)))
        if max_since is not None:
            must.append(qe.FieldCondition("since", range=qe.RangeFloat(lte=float(max_since))))
        return qe.Filter(must=must) if must else None

    def query(self, queries: list[QueryData]) -> list[list[tuple[int, float, int]]]:
        qe = self._edge()
        requests = []
        for q in queries:
            vector = qe.SparseVector(*q.vector) if q.using == SPARSE else q.vector
            params = (qe.SearchParams(exact=True) if q.exact else qe.SearchParams(hnsw_ef=DENSE_HNSW_EF)) \
                if q.using == DENSE else None
            requests.append(qe.QueryRequest(limit=q.limit, query=qe.Query.Nearest(vector, using=q.using),
                                            filter=self._filter(q.docs, q.max_since), params=params,
                                            with_payload=qe.PayloadSelector.Include(["doc_id"])))
        results = self.shard.query_batch(qe.QueryBatchRequest(requests))
        return [[(int(p.id), float(p.score), int(p.payload["doc_id"])) for p in points] for points in results]

    def count(self, max_since: int | None = None) -> int:
        return int(self.shard.count(self._edge().CountRequest(exact=True, filter=self._filter(None, max_since))))

    def flush(self) -> None:
        self.shard.flush()

    def close(self, force: bool = False) -> None:
        if self._shard is None and not force:
            return
        key = str(self.path)
        with self._lock:
            entry = self._open.get(key)
            if entry is not None:
                entry[1] -= 1
                if entry[1] <= 0 or force:
                    entry[0].close()
                    del self._open[key]
            self._shard = None


class ServerEngine:
    """A Qdrant server or cluster through ``qdrant-client`` (``client``: one made elsewhere, e.g. in tests)."""

    def __init__(self, spec: StoreSpec, client=None) -> None:
        self.spec = spec
        self.collection = spec.collection
        if client is None:
            try:
                from qdrant_client import QdrantClient
            except ImportError as exc:
                raise RagError("a qdrant:// store needs qdrant-client", "pip install qdrant-client==1.20.0") from exc
            client = QdrantClient(url=spec.url, timeout=SERVER_TIMEOUT, api_key=os.environ.get("QDRANT_API_KEY"),
                                  check_compatibility=False)
        self.client = client
        from qdrant_client import models

        self.m = models

    def _call(self, what: str, fn: Callable, *args, retries: tuple[float, ...] = (), **kwargs):
        """``fn(*args, **kwargs)``; a connection failure is retried after each of ``retries`` seconds,
        then raised as ``StoreUnreachableError`` naming the URL."""
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        for attempt, pause in enumerate((*retries, None)):
            try:
                return fn(*args, **kwargs)
            except (ResponseHandlingException, ConnectionError, TimeoutError) as exc:
                if pause is None:
                    raise StoreUnreachableError(
                        f"cannot reach the Qdrant server at {self.spec.url} to {what} ({_reason(exc)})",
                        "start it (docker compose -f deploy/docker-compose.qdrant.yml up -d) or check --store / "
                        "RAG_STORE", url=self.spec.url) from None
                log.warning("Qdrant at %s: %s failed (%s); retrying in %.0f s", self.spec.url, what, exc, pause)
                time.sleep(pause)
            except UnexpectedResponse as exc:
                raise RagError(f"the Qdrant server at {self.spec.url} refused to {what} "
                               f"(HTTP {exc.status_code}: {_reason(exc)})",
                               "check the collection name and the server's log") from None

    def exists(self) -> bool:
        return bool(self._call("look up the collection", self.client.collection_exists, self.collection))

    def create(self, dimension: int) -> None:
        m = self.m
        custom = self.spec.shards > 0
        kwargs = {"replication_factor": self.spec.replicas} if self.spec.replicas else {}
        self._call("create the collection", self.client.create_collection, self.collection,
                   vectors_config={DENSE: m.VectorParams(size=dimension, distance=m.Distance.DOT)},
                   sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)},
                   sharding_method=m.ShardingMethod.CUSTOM if custom else None, **kwargs)
        for key in self._shard_keys():
            self._call("create a shard key", self.client.create_shard_key, self.collection, key, **kwargs)
        kinds = {"integer": m.PayloadSchemaType.INTEGER, "keyword": m.PayloadSchemaType.KEYWORD}
        for name, kind in PAYLOAD_INDEXES.items():
            self._call("index the payload", self.client.create_payload_index, self.collection, name, kinds[kind])

    def _shard_keys(self) -> list[str]:
        return [f"s{i}" for i in range(self.spec.shards)]

    def drop(self) -> None:
        self._call("delete the collection", self.client.delete_collection, self.collection)

    def upsert(self, points: list[PointData]) -> None:
        m = self.m
        groups: dict[str | None, list] = {}
        for p in points:  # shards by document: a document's passages live together
            key = f"s{p.payload['doc_id'] % self.spec.shards}" if self.spec.shards else None
            groups.setdefault(key, []).append(m.PointStruct(
                id=p.id, vector={DENSE: p.dense, SPARSE: m.SparseVector(indices=p.sparse[0], values=p.sparse[1])},
                payload=p.payload))
        for key, structs in groups.items():
            self._call("write passages", self.client.upsert, self.collection, structs, wait=True,
                       shard_key_selector=key, retries=WRITE_RETRIES)

    def set_sparse(self, ids: list[int], sparse: list[tuple[list[int], list[float]]]) -> None:
        m = self.m
        vectors = [m.PointVectors(id=i, vector={SPARSE: m.SparseVector(indices=s[0], values=s[1])})
                   for i, s in zip(ids, sparse)]
        self._call("rewrite sparse vectors", self.client.update_vectors, self.collection, vectors, wait=True,
                   retries=WRITE_RETRIES)

    def delete(self, ids: list[int]) -> None:
        self._call("delete passages", self.client.delete, self.collection, self.m.PointIdsList(points=ids), wait=True,
                   retries=WRITE_RETRIES)

    def keys(self) -> dict[int, str]:
        out: dict[int, str] = {}
        offset = None
        while True:
            records, offset = self._call("list passages", self.client.scroll, self.collection, limit=SCROLL_PAGE,
                                         offset=offset, with_payload=["key"], with_vectors=False)
            out.update((int(r.id), (r.payload or {}).get("key", "")) for r in records)
            if offset is None:
                return out

    def _filter(self, docs: list[int] | None, max_since: int | None):
        m = self.m
        must = []
        if docs is not None:
            must.append(m.FieldCondition(key="doc_id", match=m.MatchAny(any=docs)))
        if max_since is not None:
            must.append(m.FieldCondition(key="since", range=m.Range(lte=max_since)))
        return m.Filter(must=must) if must else None

    def query(self, queries: list[QueryData]) -> list[list[tuple[int, float, int]]]:
        m = self.m
        requests = [m.QueryRequest(
            query=m.SparseVector(indices=q.vector[0], values=q.vector[1]) if q.using == SPARSE else q.vector,
            using=q.using, limit=q.limit, filter=self._filter(q.docs, q.max_since), with_payload=["doc_id"],
            params=(m.SearchParams(exact=True) if q.exact else m.SearchParams(hnsw_ef=DENSE_HNSW_EF))
            if q.using == DENSE else None)
            for q in queries]
        responses = self._call("search", self.client.query_batch_points, self.collection, requests)
        return [[(int(p.id), float(p.score), int(p.payload["doc_id"])) for p in r.points] for r in responses]

    def count(self, max_since: int | None = None) -> int:
        return int(self._call("count passages", self.client.count, self.collection,
                              count_filter=self._filter(None, max_since), exact=True).count)

    def flush(self) -> None:
        pass  # every write above waited for the server to apply it

    def close(self) -> None:
        self._call("close the connection", self.client.close)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def open_engine(spec: StoreSpec, index_dir: Path) -> Engine:
    if spec.kind == "edge":
        return EdgeEngine(spec.shard_path(index_dir))
    if spec.kind == "server":
        return ServerEngine(spec)
    raise ValueError(f"the {spec.kind} store has no Qdrant engine")


# -- sparse vectors over our tokens -----------------------------------------------------------------

class TokenIds:
    """Each token's stable 32-bit id (BLAKE2b of its UTF-8), remembered once computed.

    A hash, not a vocabulary, so that ids never depend on what was ingested before or by which
    worker. Two tokens share an id with probability ~V/2^32 per token (V: the vocabulary; 0.02%
    at a million tokens): the shared id then counts both, as one merged term would."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def __call__(self, token: str) -> int:
        i = self._ids.get(token)
        if i is None:
            i = self._ids[token] = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest(), "little")
        return i

    def vector(self, weights: dict[str, float]) -> tuple[list[int], list[float]]:
        """The sparse vector of ``weights`` (token -> value), colliding ids summed, ids ascending."""
        merged: dict[int, float] = {}
        for token, value in weights.items():
            i = self(token)
            merged[i] = merged.get(i, 0.0) + value
        ids = sorted(merged)
        return ids, [merged[i] for i in ids]


def passage_weights(text: str, scheme: str, avgdl: float) -> dict[str, float]:
    """BM25's term part of each token of ``text`` (the idf is Qdrant's modifier), as bm25s's lucene
    variant computes it: ``tf / (tf + k1 * (1 - b + b * len / avgdl))``, in float32."""
    tokens = lexical_tokens(text, scheme) or [""]
    counts = Counter(tokens)
    tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    norm = np.float32(K1 * ((1 - B) + B * len(tokens) / avgdl))
    return dict(zip(counts, (tf / (tf + norm)).tolist()))


def query_vector(ids: TokenIds, tokens: list[str]) -> tuple[list[int], list[float]]:
    return ids.vector({t: 1.0 for t in tokens})


# -- the backend ----------------------------------------------------------------------------------

class QdrantBackend:
    """A ``SearchBackend`` over a Qdrant collection kept in step with an index (``sync_store``)."""

    name = "qdrant"

    def __init__(self, engine: Engine, generation: int, n_passages: int) -> None:
        self.engine = engine
        self.generation = generation
        self.n_passages = n_passages
        self.ids = TokenIds()

    def count(self) -> int:
        return self.n_passages

    def rankings(self, tokens: list[str] | None, vector: np.ndarray | None, k: int,
                 docs: frozenset[int] | None) -> tuple[Ranking, Ranking]:
        keep = sorted(docs) if docs is not None else None
        queries = []
        if tokens:
            queries.append(QueryData(SPARSE, query_vector(self.ids, tokens), k, keep, self.generation))
        if vector is not None:
            queries.append(QueryData(DENSE, np.asarray(vector, dtype=np.float32).tolist(), k, keep, self.generation,
                                     exact=self.n_passages <= AUTO_FLAT_MAX))
        results = iter(self.engine.query(queries) if queries else [])
        lexical = _ranking(next(results)) if tokens else Ranking.empty()
        dense = _ranking(next(results)) if vector is not None else Ranking.empty()
        return lexical, dense

    def close(self) -> None:
        self.engine.close()


def _ranking(points: list[tuple[int, float, int]]) -> Ranking:
    if not points:
        return Ranking.empty()
    ids, scores, docs = zip(*points)
    return Ranking(np.array(ids, np.int64), np.array(docs, np.int64), np.array(scores, np.float32))


def generation_number(name: str) -> int:
    """7 for ``gen-000007``."""
    return int(name.split("-", 1)[1].split(".", 1)[0])


def open_backend(spec: StoreSpec, index: OpenIndex, engine: Engine | None = None) -> QdrantBackend:
    """The backend for ``index`` (its live generation), refusing a store an ingest has not brought up to it."""
    index_dir = index.directory.parent
    engine = engine or open_engine(spec, index_dir)
    try:
        if not engine.exists():  # reaches the server / opens the shard now, not at the first question
            raise IndexMismatchError(f"the store {spec.name(index_dir)} has no collection {spec.collection!r}",
                                     f"fill it: rag ingest --index {index_dir} --store {_flag(spec, index_dir)}")
        engine.count()
        marker = read_marker(index_dir, spec)
        if marker.get("generation") != index.directory.name:
            behind = f"holds generation {marker['generation']}" if marker.get("generation") else "was never filled"
            raise IndexMismatchError(
                f"the store {spec.name(index_dir)} {behind}, the index {index_dir} is at {index.directory.name}",
                f"bring it up to date: rag ingest --index {index_dir} --store {_flag(spec, index_dir)}")
    except BaseException:
        engine.close()
        raise
    return QdrantBackend(engine, generation_number(index.directory.name), index.manifest.n_chunks)


def _flag(spec: StoreSpec, index_dir: Path) -> str:
    if spec.kind == "edge":
        return "edge" if not spec.path else f"edge:{spec.path}"
    return spec.url.replace("http", "qdrant", 1) + f"/{spec.collection}"


# -- keeping the collection in step with the index ----------------------------------------------------

@dataclass
class SyncReport:
    store: str = ""
    upserted: int = 0
    deleted: int = 0
    reencoded: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Generation:
    directory: Path
    manifest: Manifest
    chunk_ids: np.ndarray
    vectors: np.ndarray
    avgdl: float
    keys: dict[int, str] = field(repr=False)


def read_marker(index_dir: Path, spec: StoreSpec) -> dict:
    try:
        data = json.loads((Path(index_dir) / SYNC_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get(spec.name(index_dir), {}) if isinstance(data, dict) else {}


def _write_marker(index_dir: Path, spec: StoreSpec, entry: dict) -> None:
    path = Path(index_dir) / SYNC_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[spec.name(index_dir)] = entry
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _load_generation(index_dir: Path) -> _Generation:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMismatchError(f"no index in {index_dir} to copy into the store",
                                 f"build one with `rag ingest corpus/ --index {index_dir}`")
    manifest = Manifest.read(generation)
    chunk_ids = npyio.load(generation / "chunk_ids.npy")
    vectors = npyio.load(generation / "vectors.npy", mmap_mode="r")
    try:
        doc_len = npyio.load(generation / "lexical" / DOC_LEN_FILE)
    except FileNotFoundError:
        raise IndexMismatchError(f"{generation} was written before passage lengths were kept",
                                 f"run `rag ingest --index {index_dir}` once, then again with --store") from None
    avgdl = float(doc_len.mean()) if len(doc_len) else 1.0
    store = Store(generation / "meta.sqlite", readonly=True)
    try:
        rows = dict(((cid, (h, d)) for cid, h, d in store.db.execute("SELECT id, embed_hash, doc_id FROM chunks")))
    finally:
        store.close()
    model = manifest.model["name"]
    keys = {int(c): _key(model, *rows[int(c)]) for c in chunk_ids}
    return _Generation(generation, manifest, chunk_ids, vectors, avgdl, keys)


def _key(model: str, embed_hash: str, doc_id: int) -> str:
    """What a point is made from: a point whose key differs is written again."""
    return hashlib.sha1(f"{model}\n{embed_hash}\n{doc_id}".encode()).hexdigest()[:20]


def sync_store(spec: StoreSpec, index_dir: Path, engine: Engine | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> SyncReport:
    """Bring the store's collection to the index's live generation (see the module's docstring)."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    progress = progress or (lambda stage, done, total: None)
    report = SyncReport(store=spec.name(index_dir))
    gen = _load_generation(index_dir)
    own_engine = engine is None
    engine = engine or open_engine(spec, index_dir)
    try:
        marker = read_marker(index_dir, spec)
        model = gen.manifest.model
        if marker and (marker.get("model") != model["name"] or marker.get("dimension") != model["dimension"]):
            log.warning("%s holds another model's vectors: emptied and written again", report.store)
            engine.drop()
        if not engine.exists():
            engine.create(int(model["dimension"]))
            marker = {}
        present = engine.keys()
        wanted = gen.keys
        upsert = [cid for cid in wanted if present.get(cid) != wanted[cid]]
        delete = [cid for cid in present if cid not in wanted]
        old_avgdl = marker.get("avgdl")
        drifted = old_avgdl is None or abs(gen.avgdl / old_avgdl - 1) > AVGDL_DRIFT
        avgdl = gen.avgdl if drifted else float(old_avgdl)
        reencode = [cid for cid in wanted if cid in present and present[cid] == wanted[cid]] if drifted else []
        _upsert(engine, gen, upsert, avgdl, progress)
        _reencode(engine, gen, reencode, avgdl, progress)
        for start in range(0, len(delete), SCROLL_PAGE):
            engine.delete(delete[start:start + SCROLL_PAGE])
        engine.flush()
        _write_marker(index_dir, spec, {"generation": gen.directory.name, "model": model["name"],
                                        "dimension": model["dimension"], "avgdl": avgdl, "points": len(wanted),
                                        "synced_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        report.upserted, report.deleted, report.reencoded = len(upsert), len(delete), len(reencode)
        if current_generation(index_dir) == gen.directory:
            # CURRENT written again (same name, new file): a server that found the store behind when
            # this generation went live reopens it now (ui.service follows CURRENT's stat)
            _write_atomic(index_dir / CURRENT, gen.directory.name + "\n")
    finally:
        if own_engine:
            engine.close()
    report.seconds = time.perf_counter() - started
    return report


def _passages(gen: _Generation, ids: list[int]):
    """Batches of (chunk ids, stored chunks, documents, provinces) for ``ids``."""
    from .retrieval import infer_provinces

    store = Store(gen.directory / "meta.sqlite", readonly=True)
    try:
        documents = {d.id: d for d in store.documents(with_text=False)}
        provinces = infer_provinces(documents.values())
        for start in range(0, len(ids), BATCH):
            part = ids[start:start + BATCH]
            yield part, store.chunks_by_id(part), documents, provinces
    finally:
        store.close()


def _upsert(engine: Engine, gen: _Generation, ids: list[int], avgdl: float,
            progress: Callable[[str, int, int], None]) -> None:
    if not ids:
        return
    row_of = {int(c): r for r, c in enumerate(gen.chunk_ids)}
    number = generation_number(gen.directory.name)
    scheme = gen.manifest.lexical_scheme
    token_ids = TokenIds()
    done = 0
    for part, chunks, documents, provinces in _passages(gen, ids):
        rows = np.array([row_of[c] for c in part])
        order = np.argsort(rows)  # read the memory-mapped vectors in file order
        vectors = np.empty((len(rows), gen.vectors.shape[1]), np.float32)
        vectors[order] = gen.vectors[rows[order]]
        points = []
        for cid, vector in zip(part, vectors):
            chunk = chunks[cid]
            meta = documents[chunk.doc_id].meta
            sparse = token_ids.vector(passage_weights(chunk.context + "\n" + chunk.text, scheme, avgdl))
            points.append(PointData(cid, vector.tolist(), sparse, {
                "doc_id": chunk.doc_id, "province": provinces.get(chunk.doc_id, ""), "districts": list(meta.districts),
                "year": meta.year, "doc_type": meta.doc_type, "page": chunk.page,
                "section": " › ".join(chunk.section_path), "key": gen.keys[cid], "since": number}))
        engine.upsert(points)
        done += len(part)
        progress("store", done, len(ids))


def _reencode(engine: Engine, gen: _Generation, ids: list[int], avgdl: float,
              progress: Callable[[str, int, int], None]) -> None:
    scheme = gen.manifest.lexical_scheme
    token_ids = TokenIds()
    done = 0
    for part, chunks, _, _ in _passages(gen, ids):
        engine.set_sparse(part, [token_ids.vector(passage_weights(chunks[c].context + "\n" + chunks[c].text, scheme, avgdl))
                                 for c in part])
        done += len(part)
        progress("store", done, len(ids))
