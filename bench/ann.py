"""Vector search at 100k and 1M chunks: exact vs HNSW vs IVF (and compressed storage).

    .venv/bin/python bench/ann.py [--sizes 100000 1000000] [--data realistic|random] [--quick]

Vectors: ``realistic`` (default) = real MiniLM embeddings of generated-archive passages (the
index built by ``bench/ingest.py``, else embedded here) replicated with Gaussian perturbation
(``common.realistic_vectors``: each a real passage vector plus noise, cosine 0.75-0.97 to it);
``random`` = uniform unit vectors (the worst case for every ANN method). Queries: real MiniLM
embeddings of the generated gold questions and ``eval/dev.jsonl``. Truth: exact top-10.

Per configuration: build seconds, bytes per vector (serialised index / n), recall@10 against
exact, single-query latency through ``VectorIndex.search`` (p50/p95/p99, first query
excluded), and the same under a filter keeping 1/12 of the rows (a province) through the
``IDSelector`` path. Also the exact scan time by size, which sets ``AUTO_FLAT_MAX``.
Prints Markdown; writes ``bench/out/ann-<data>.json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from common import (DATE, ROOT, WORK, log, machine, md_table, percentiles, random_unit_vectors, read_jsonl,
                    realistic_vectors, synth_archive, write_json)


def real_base_and_queries() -> tuple[np.ndarray, np.ndarray]:
    from rag.embedding import Embedder, ModelSpec
    from rag.index_dir import current_generation, load_arrays

    embedder = Embedder(ModelSpec.from_name(None))
    archive = synth_archive(1000)
    questions = [q["question"] for q in read_jsonl(archive / "gold.jsonl")]
    questions += [q["question"] for q in read_jsonl(ROOT / "eval" / "dev.jsonl")]
    queries = np.stack([embedder.embed_query(q) for q in questions])
    gen = None
    for name in ("index-1000", "index-300", "index-20"):
        if (WORK / name).exists():
            gen = current_generation(WORK / name)
            if gen:
                break
    if gen is not None:
        base = np.asarray(load_arrays(gen)[1])
    else:  # embed a few hundred passages of the generated archive
        texts = []
        for f in sorted((archive / "corpus").glob("*.txt"))[:150]:
            paras = [p for p in f.read_text(encoding="utf-8").split("\n\n") if len(p) > 80]
            texts += paras
        base = embedder.embed_passages(texts)
    log(f"base {base.shape}, queries {queries.shape}")
    return base.astype(np.float32), queries.astype(np.float32)


def recall_at(rows: list[np.ndarray], truth: list[np.ndarray], k: int = 10) -> float:
    return float(np.mean([len(set(r[:k].tolist()) & set(t[:k].tolist())) / max(1, min(k, len(t)))
                          for r, t in zip(rows, truth)]))


def timed_search(index, queries: np.ndarray, k: int, allowed=None) -> tuple[list[np.ndarray], list[float]]:
    rows, seconds = [], []
    for q in queries:
        t = time.perf_counter()
        _, r = index.search(q, k, allowed)
        seconds.append(time.perf_counter() - t)
        rows.append(r)
    return rows, seconds


def flat_scan_by_size(base: np.ndarray, queries: np.ndarray, sizes: list[int], data: str) -> list[dict]:
    from rag.vectors import VectorIndex

    out = []
    for n in sizes:
        x = realistic_vectors(base, n, seed=7) if data == "realistic" else random_unit_vectors(n, base.shape[1], seed=7)
        index = VectorIndex.build(x, x.shape[1], kind="flat")
        _, secs = timed_search(index, queries[:60], 10)
        p = percentiles(secs)
        out.append({**p, "vectors": n})
        log(f"flat scan n={n}: {p}")
        del x, index
    return out


def hnsw_wide(n: int, queries: np.ndarray) -> dict:
    """recall@10 / latency of the HNSW graph saved by an earlier run at ``n`` vectors with
    efSearch 256-2048 (truth recomputed on the vectors the graph holds)."""
    import faiss

    from rag.vectors import VectorIndex

    index = VectorIndex.load(WORK / f"vectors-{n}-hnsw.faiss")
    x = faiss.downcast_index(index.index.storage).reconstruct_n(0, n)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)
    del exact, x
    out = {}
    for ef in (256, 512, 1024, 2048):
        index.ef_search = ef
        rows, secs = timed_search(index, queries, 10)
        out[ef] = {"recall@10": round(recall_at(rows, list(truth)), 4), **percentiles(secs)}
        log(f"HNSW {n} efSearch={ef}: {out[ef]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--data", choices=["realistic", "random"], default="realistic")
    ap.add_argument("--quick", action="store_true", help="fewer configurations (development; no HNSW-SQ8 above 200k)")
    ap.add_argument("--skip-scan", action="store_true")
    ap.add_argument("--hnsw-wide", type=int, default=0, metavar="N",
                    help="only: efSearch 256-2048 on the HNSW graph an earlier run saved for N vectors")
    args = ap.parse_args()

    import faiss

    if args.hnsw_wide:
        _, queries = real_base_and_queries()
        res = hnsw_wide(args.hnsw_wide, queries)
        write_json(f"ann-hnsw-wide-{args.hnsw_wide}", {"machine": machine(), "n": args.hnsw_wide, "efSearch": res})
        print(md_table(["efSearch", "recall@10", "p50 ms", "p95 ms"],
                       [[ef, r["recall@10"], r["p50"], r["p95"]] for ef, r in res.items()]))
        return

    from rag import vectors as vmod
    from rag.vectors import VectorIndex

    info = machine()
    base, queries = real_base_and_queries()
    dim = base.shape[1]
    results: dict[str, object] = {"machine": info, "data": args.data, "dim": dim, "queries": len(queries),
                                  "base_vectors": len(base), "sizes": {}}
    if not args.skip_scan:
        scan_sizes = [10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000]
        results["flat_scan"] = flat_scan_by_size(base, queries, [s for s in scan_sizes if s <= max(args.sizes)], args.data)

    for n in args.sizes:
        log(f"== n = {n}")
        x = realistic_vectors(base, n, seed=1) if args.data == "realistic" else random_unit_vectors(n, dim, seed=1)
        exact_index = faiss.IndexFlatIP(dim)
        exact_index.add(x)
        _, truth_all = exact_index.search(queries, 10)
        truth = [t for t in truth_all]
        rng = np.random.default_rng(5)
        allowed = np.sort(rng.choice(n, n // 12, replace=False))
        sub = faiss.IndexFlatIP(dim)
        sub.add(x[allowed])
        _, sub_truth = sub.search(queries, 10)
        truth_f = [allowed[t] for t in sub_truth]
        del exact_index, sub

        configs: list[tuple[str, str, dict, list[tuple[str, int]]]] = [("flat", "float32", {}, [("-", 0)])]
        hnsw_ef = [16, 32, 64, 96, 128, 256] if not args.quick else [32, 96]
        ivf_np = [8, 16, 32, 64, 128] if not args.quick else [16, 64]
        configs.append(("hnsw", "float32", {"hnsw_m": 32}, [("efSearch", e) for e in hnsw_ef]))
        if n <= 200_000 and not args.quick:
            configs.append(("hnsw", "float32", {"hnsw_m": 16}, [("efSearch", e) for e in hnsw_ef]))
        if n <= 200_000:  # at 1M one HNSW build (~30 min on 2 cores) is enough; SQ8 cost measured at 100k
            configs.append(("hnsw", "sq8", {"hnsw_m": 32}, [("efSearch", e) for e in (64, 96, 128)]))
        configs.append(("ivf", "float32", {}, [("nprobe", p) for p in ivf_np]))
        configs.append(("ivf", "sq8", {}, [("nprobe", p) for p in (16, 32, 64)]))
        configs.append(("ivf", "pq", {}, [("nprobe", p) for p in (16, 32, 64)]))
        if not args.quick:
            configs.append(("flat", "sq8", {}, [("-", 0)]))
        rows = []
        for kind, storage, kw, sweep in configs:
            log(f"build {kind} {storage} {kw}")
            t = time.perf_counter()
            index = VectorIndex.build(x, dim, kind=kind, storage=storage, **kw)
            build_s = time.perf_counter() - t
            bpv = index.bytes_per_vector()
            if kind == "hnsw" and storage == "float32" and kw.get("hnsw_m") == vmod.HNSW_M and args.data == "realistic":
                index.save(WORK / f"vectors-{n}-hnsw.faiss")  # bench/scale.py --replicate reuses it (same vectors)
            for pname, pval in sweep:
                if kind == "hnsw":
                    index.ef_search = pval
                elif kind == "ivf":
                    index.nprobe = pval
                found, secs = timed_search(index, queries, 10)
                # filtered (1/12 of the rows, above EXACT_SUBSET_MAX so the IDSelector path is used)
                found_f, secs_f = timed_search(index, queries[:100], 10, allowed)
                row = {"kind": kind, "storage": storage, **kw, "param": pname, "value": pval,
                       "build_s": round(build_s, 1), "bytes_per_vector": round(bpv, 1),
                       "recall@10": round(recall_at(found, truth), 4), "latency_ms": percentiles(secs),
                       "filtered_recall@10": round(recall_at(found_f, truth_f[:100]), 4),
                       "filtered_latency_ms": percentiles(secs_f)}
                rows.append(row)
                log(f"{kind} {storage} {kw} {pname}={pval}: recall {row['recall@10']} p95 {row['latency_ms']['p95']} ms; "
                    f"filtered {row['filtered_recall@10']} p95 {row['filtered_latency_ms']['p95']} ms")
            del index
        results["sizes"][str(n)] = {"filter_rows": len(allowed), "exact_subset_max": vmod.EXACT_SUBSET_MAX, "rows": rows}
        del x
        write_json(f"ann-{args.data}", results)

    print(f"## Vector search ({args.data} vectors, {dim} dims, {len(queries)} real queries), {DATE}, "
          f"{info['cores']} cores, load at start {info['load_at_start']}\n")
    if "flat_scan" in results:
        print("Exact scan (IndexFlatIP), one query:\n")
        print(md_table(["vectors", "p50 ms", "p95 ms", "p99 ms"],
                       [[r["vectors"], r["p50"], r["p95"], r["p99"]] for r in results["flat_scan"]]))
        print()
    for n, block in results["sizes"].items():
        print(f"### {int(n):,} vectors (filter: {block['filter_rows']:,} rows = 1/12)\n")
        print(md_table(["index", "param", "build s", "bytes/vector", "recall@10", "p50 ms", "p95 ms", "p99 ms",
                        "filtered recall@10", "filtered p95 ms"],
                       [[f"{r['kind']} {r['storage']}" + (f" M={r['hnsw_m']}" if "hnsw_m" in r else ""),
                         f"{r['param']}={r['value']}" if r["param"] != "-" else "–", r["build_s"], r["bytes_per_vector"],
                         r["recall@10"], r["latency_ms"]["p50"], r["latency_ms"]["p95"], r["latency_ms"]["p99"],
                         r["filtered_recall@10"], r["filtered_latency_ms"]["p95"]] for r in block["rows"]]))
        print()


if __name__ == "__main__":
    main()
