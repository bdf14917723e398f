"""Ingest and query at ~100k passages: the local backend (bm25s + FAISS) against Qdrant Edge, in one run.

    .venv/bin/python bench/qdrant_scale.py [--passages 100000] [--queries 200]

What is measured, honestly:

* Passages are *stand-ins*: each is 6 sentences drawn at random from a generated archive's
  reports (``rag.synth``, 60 reports, seed 7), so the vocabulary, lengths and token statistics
  are those of our reports, but the mix is random. Vectors are random unit vectors
  (384 dimensions, as multilingual-e5-small): embedding 100k passages on 2 cores takes ~1.5 h,
  and the cost measured here is storing and searching them, not making them. Random vectors are
  the hard case for an ANN index (no clusters); the dense timings are upper bounds.
* "ingest" is what each backend does with passages already embedded: local = tokenise and build
  the BM25 arrays (``LexicalIndex.build``) and the FAISS index (``VectorIndex.build``, the kind
  ``auto`` picks); Edge = tokenise into our sparse vectors (``passage_weights``), upsert in
  batches of ``BATCH``, then let Edge's optimiser index the segments (``EdgeShard.optimize``).
* "query" is one call to ``SearchBackend.rankings`` (lexical top-100 and dense top-100, as
  ``HybridRetriever.search`` asks), for the dev set's questions' tokens and random query
  vectors, unfiltered and filtered to ~2% of the documents; p50 / p95 after one warm-up.
* Both on this machine's 2 shared cores, one process, one after the other.

Prints Markdown; writes ``bench/out/qdrant-scale-<passages>.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (current_rss_mb, dir_size_mb, log, md_table, percentiles, random_unit_vectors,  # noqa: E402
                          write_json)
from rag.backend import LocalBackend  # noqa: E402
from rag.lexical import LexicalIndex  # noqa: E402
from rag.qdrant_backend import BATCH, EdgeEngine, PointData, QdrantBackend, TokenIds, passage_weights  # noqa: E402
from rag.vectors import VectorIndex  # noqa: E402

DIM = 384
DEPTH = 100
SCHEME = "syllable+bigram"
SENTENCES_PER_PASSAGE = 6
PASSAGES_PER_DOC = 12


def sentence_pool(seed: int = 7, reports: int = 60) -> list[str]:
    from rag.synth import main as synth

    out = Path(tempfile.mkdtemp(prefix="qbench-synth-"))
    synth(["--out", str(out), "--reports", str(reports), "--seed", str(seed)])
    pool = [s.strip() for f in sorted((out / "corpus").rglob("*.txt"))
            for s in re.split(r"(?<=[.;:])\s+|\n+", f.read_text(encoding="utf-8")) if len(s.strip()) > 20]
    shutil.rmtree(out, ignore_errors=True)
    return pool


def passages(n: int, pool: list[str], seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(pool), size=(n, SENTENCES_PER_PASSAGE))
    return [" ".join(pool[i] for i in row) for row in picks]


def build_local(texts: list[str], vectors: np.ndarray) -> tuple[LocalBackend, dict]:
    t0 = time.perf_counter()
    lexical = LexicalIndex.build(texts, SCHEME)
    t1 = time.perf_counter()
    index = VectorIndex.build(vectors, DIM)
    t2 = time.perf_counter()
    ids = np.arange(1, len(texts) + 1, dtype=np.int64)
    fake = SimpleNamespace(chunk_ids=ids, lexical=lexical, vectors=index)
    backend = LocalBackend(fake, (ids - 1) // PASSAGES_PER_DOC)
    return backend, {"lexical_s": round(t1 - t0, 1), "vectors_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
                     "vector_kind": index.kind}


def build_edge(texts: list[str], vectors: np.ndarray, path: Path) -> tuple[QdrantBackend, dict]:
    engine = EdgeEngine(path)
    t0 = time.perf_counter()
    engine.create(DIM)
    token_ids = TokenIds()
    from rag.vntext import lexical_tokens

    avgdl = float(np.mean([len(lexical_tokens(t, SCHEME)) for t in texts[:2000]]))  # a sample's mean length
    encode_s = upsert_s = 0.0
    for start in range(0, len(texts), BATCH):
        a = time.perf_counter()
        points = [PointData(start + i + 1, vectors[start + i].tolist(),
                            token_ids.vector(passage_weights(t, SCHEME, avgdl)),
                            {"doc_id": (start + i) // PASSAGES_PER_DOC, "since": 1, "key": ""})
                  for i, t in enumerate(texts[start:start + BATCH])]
        b = time.perf_counter()
        engine.upsert(points)
        c = time.perf_counter()
        encode_s += b - a
        upsert_s += c - b
    engine.flush()
    t1 = time.perf_counter()
    engine.shard.optimize()
    t2 = time.perf_counter()
    backend = QdrantBackend(engine, 1, len(texts))
    return backend, {"encode_s": round(encode_s, 1), "upsert_s": round(upsert_s, 1), "optimize_s": round(t2 - t1, 1),
                     "total_s": round(t2 - t0, 1)}


def query(backend, token_lists: list[list[str]], qvecs: np.ndarray, docs) -> dict:
    times = []
    for tokens, qvec in zip(token_lists, qvecs):
        t = time.perf_counter()
        backend.rankings(tokens, qvec, DEPTH, docs)
        times.append(time.perf_counter() - t)
    return percentiles(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    n = args.passages
    pool = sentence_pool()
    log(f"{len(pool)} sentences in the pool; making {n} passages")
    texts = passages(n, pool)
    vectors = random_unit_vectors(n, DIM, seed=1)
    dev = [json.loads(line)["question"] for line in (Path(__file__).parent.parent / "eval" / "dev.jsonl").open()]
    rng = np.random.default_rng(2)
    n_docs = n // PASSAGES_PER_DOC + 1
    some_docs = frozenset(rng.choice(n_docs, size=max(1, n_docs // 50), replace=False).tolist())

    results: dict = {"passages": n, "queries": args.queries}
    log("local: building")
    rss0 = current_rss_mb()
    local, results["local_ingest"] = build_local(texts, vectors)
    results["local_ingest"]["rss_added_mb"] = round(current_rss_mb() - rss0, 1)
    vocab = local.index.lexical.bm25.vocab_dict
    from rag.vntext import lexical_tokens

    token_lists = [[t for t in dict.fromkeys(lexical_tokens(dev[i % len(dev)], SCHEME)) if t in vocab]
                   for i in range(args.queries)]
    qvecs = random_unit_vectors(args.queries, DIM, seed=3)
    results["local_query"] = query(local, token_lists, qvecs, None)
    results["local_query_filtered"] = query(local, token_lists, qvecs, some_docs)
    overlap = []
    with tempfile.TemporaryDirectory(prefix="qbench-edge-") as tmp:
        log("edge: building")
        rss0 = current_rss_mb()
        edge, results["edge_ingest"] = build_edge(texts, vectors, Path(tmp) / "shard")
        results["edge_ingest"]["rss_added_mb"] = round(current_rss_mb() - rss0, 1)
        results["edge_ingest"]["disk_mb"] = dir_size_mb(Path(tmp) / "shard")
        results["edge_query"] = query(edge, token_lists, qvecs, None)
        results["edge_query_filtered"] = query(edge, token_lists, qvecs, some_docs)
        for tokens, qvec in list(zip(token_lists, qvecs))[:50]:  # do the two rank the same passages?
            a, b = local.rankings(tokens, qvec, 10, None), edge.rankings(tokens, qvec, 10, None)
            overlap.append((len(set(a[0].chunk_ids) & set(b[0].chunk_ids)) / max(1, len(a[0])),
                            len(set(a[1].chunk_ids) & set(b[1].chunk_ids)) / max(1, len(a[1]))))
        edge.close()
    results["top10_overlap"] = {"lexical": round(float(np.mean([o[0] for o in overlap])), 3),
                                "dense": round(float(np.mean([o[1] for o in overlap])), 3)}
    rows = [["local (bm25s + FAISS)", results["local_ingest"]["total_s"], results["local_query"]["p50"],
             results["local_query"]["p95"], results["local_query_filtered"]["p50"], results["local_query_filtered"]["p95"]],
            ["Qdrant Edge", results["edge_ingest"]["total_s"], results["edge_query"]["p50"], results["edge_query"]["p95"],
             results["edge_query_filtered"]["p50"], results["edge_query_filtered"]["p95"]]]
    print(md_table(["backend", "ingest s", "query p50 ms", "p95 ms", "filtered p50 ms", "filtered p95 ms"], rows))
    print()
    print(json.dumps({k: v for k, v in results.items() if "ingest" in k or k == "top10_overlap"}, indent=1))
    write_json(f"qdrant-scale-{n}", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
