"""Embedding speed and quality on CPU: PyTorch vs ONNX vs ONNX int8 vs OpenVINO (fp32, int8) (same model, same inputs).

    .venv/bin/python bench/embed_backends.py [--passages 1000] [--synth 300] [--max-load 1.3]

Needs ``onnxruntime`` and ``onnx`` importable (``pip install onnxruntime onnx``; for a separate
folder: ``pip install --no-deps --target DIR onnxruntime onnx flatbuffers protobuf ml_dtypes``
and ``PYTHONPATH=DIR``). The ONNX file is exported once from the bundled model into
``$RAG_ONNX_CACHE`` (default ``~/.cache/vn-report-rag/onnx``); int8 = onnxruntime dynamic
quantisation, per channel, MatMul weights only. The OpenVINO backends (``pip install -e
'.[openvino]'``) read that ONNX file; openvino-int8 = NNCF static quantisation (weights and
activations), calibrated once on 300 generated passages and cached next to it as OpenVINO IR.

* speed: ``Embedder.embed_passages`` (length-sorted batches of 32) on ``--passages`` stored
  chunk texts (document context + text, as ingest embeds them) of the generated archive, after
  a warm-up batch; chunks/s; cosine of each backend's vectors to PyTorch's. Each speed round
  first waits (up to ``--wait`` s) for the 1-minute load to fall below ``--max-load`` (the
  machine is shared); the load of every timed run is recorded.
* quality: the shipped ``corpus/txt`` with ``eval/dev.jsonl``, and (``--synth N``) a generated
  archive of N reports with its gold, each ingested with the backend; ``rag.evaluate`` R@5 and
  MRR@10 in ``hybrid`` and ``dense`` mode.

Prints Markdown; writes ``bench/out/embed-backends.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

from common import ROOT, WORK, log, machine, md_table, synth_archive, wait_for_quiet, write_json

BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")


def sample_texts(n: int, index: str | None = None) -> list[str]:
    from pathlib import Path

    from rag.index_dir import current_generation
    from rag.store import Store

    for path in ([Path(index)] if index else [WORK / name for name in ("index-1000", "index-300", "index-20")]):
        gen = current_generation(path) if path.exists() else None
        if gen:
            store = Store(gen / "meta.sqlite", readonly=True)
            rows = list(store.canonical_chunks())
            store.close()
            rng = np.random.default_rng(0)
            pick = rng.choice(len(rows), min(n, len(rows)), replace=False)
            return [rows[i].context[:300] + "\n" + rows[i].text for i in sorted(pick)]
    raise SystemExit("run bench/ingest.py first (it builds the index the passages come from), or pass --index DIR")


def cold_load(backend: str, repeat: int = 3) -> float:
    """Seconds for a fresh process to import, load the model with ``backend`` and embed one query."""
    import os
    import subprocess
    import sys

    code = ("import time; t = time.perf_counter(); from rag.embedding import Embedder, ModelSpec; "
            f"e = Embedder(ModelSpec.from_name(None), backend={backend!r}); e.embed_query('xin chào'); "
            "print(time.perf_counter() - t)")
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), env=dict(os.environ))
        if out.returncode:
            return float("nan")
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return min(runs)


def quality(embedder, name: str, corpus: list, gold_path, modes=("hybrid", "dense")) -> dict:
    from rag import Searcher, ingest
    from rag.config import Settings
    from rag.evaluate import read_gold, run_gold, summarize

    corpus_dir = WORK / f"q-{name}-corpus"
    index_dir = WORK / f"q-{name}-{embedder.backend}"
    shutil.rmtree(index_dir, ignore_errors=True)
    if not corpus_dir.exists():
        corpus_dir.mkdir(parents=True)
        for f in corpus:
            shutil.copy(f, corpus_dir / f.name)
    t = time.perf_counter()
    ingest([corpus_dir], index_dir, settings=Settings(), embedder=embedder, rebuild=True)
    ingest_s = time.perf_counter() - t
    searcher = Searcher.open(index_dir, settings=Settings(), embedder=embedder)
    questions = read_gold(gold_path)
    out = {"ingest_s": round(ingest_s, 1)}
    for mode in modes:
        s = summarize(run_gold(searcher, questions, mode=mode))
        out[mode] = {"R@5": round(100 * s.recall[5], 1), "MRR@10": round(s.mrr, 3)}
    if name == "dev":  # the same reports asked in English and without diacritics
        for extra in ("dev-en", "dev-unaccented"):
            s = summarize(run_gold(searcher, read_gold(ROOT / "eval" / f"{extra}.jsonl"), mode="hybrid"))
            out[extra] = {"R@5": round(100 * s.recall[5], 1), "MRR@10": round(s.mrr, 3)}
    searcher.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=1000)
    ap.add_argument("--index", help="take the passages from this index (default: the bench/ingest.py ones)")
    ap.add_argument("--synth", type=int, default=300, help="reports of the generated archive for quality (0: skip)")
    ap.add_argument("--backends", nargs="+", default=list(BACKENDS))
    ap.add_argument("--rounds", type=int, default=3, help="speed rounds, backends interleaved; best kept")
    ap.add_argument("--speed-only", action="store_true", help="skip the quality runs (writes embed-backends-speed.json)")
    ap.add_argument("--max-load", type=float, default=1.3, help="before each speed round, wait for a lower 1-minute load")
    ap.add_argument("--wait", type=float, default=1800, help="seconds to wait for --max-load at most (then time anyway)")
    args = ap.parse_args()

    from rag.embedding import Embedder, ModelSpec

    info = machine()
    for name in ("openvino", "nncf"):
        try:
            info["versions"][name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - optional
            pass
    texts = sample_texts(args.passages, args.index)
    log(f"{len(texts)} passages")
    results: dict[str, dict] = {}
    embedders = {}
    for backend in args.backends:
        t = time.perf_counter()
        try:
            embedders[backend] = Embedder(ModelSpec.from_name(None), backend=backend)
        except Exception as exc:  # noqa: BLE001 - onnxruntime missing
            results[backend] = {"error": str(exc)}
            log(f"{backend}: {exc}")
            continue
        results[backend] = {"load_s": round(time.perf_counter() - t, 2), "cold_process_s": round(cold_load(backend), 2)}
        embedders[backend].embed_passages(texts[:32])  # warm-up
    # speed: backends interleaved, best of --rounds (the machine is shared: interleaving spreads load changes)
    best: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    loads: dict[str, list[float]] = {}
    for r in range(args.rounds):
        wait_for_quiet(args.max_load, timeout=args.wait)
        for backend, embedder in embedders.items():
            before = os.getloadavg()[0]
            t = time.perf_counter()
            vectors[backend] = embedder.embed_passages(texts)
            best[backend] = min(best.get(backend, float("inf")), time.perf_counter() - t)
            loads.setdefault(backend, []).append(round(before, 2))
            log(f"round {r + 1} {backend}: {len(texts) / (time.perf_counter() - t):.1f} chunks/s (load {before:.2f} -> {os.getloadavg()[0]:.2f})")
    reference = vectors.get("torch")
    for backend, embedder in embedders.items():
        q_times = []
        for q in ("Huyện Quan Hóa có bao nhiêu sản phẩm OCOP 4 sao năm 2023?", "kinh phí sự nghiệp khoa học"):
            embedder._query_cache.clear()
            t = time.perf_counter()
            embedder.embed_query(q)
            q_times.append(time.perf_counter() - t)
        res = results[backend]
        res.update({"embed_s": round(best[backend], 2), "chunks_per_s": round(len(texts) / best[backend], 1),
                    "query_ms": round(1000 * min(q_times), 1), "load_1min_before_rounds": loads[backend]})
        if reference is not None:
            cos = (vectors[backend] * reference).sum(axis=1)
            res.update({"cosine_to_torch_mean": round(float(cos.mean()), 4), "cosine_to_torch_min": round(float(cos.min()), 4)})
        log(f"{backend}: {res}")
    for backend, embedder in embedders.items():
        if args.speed_only:
            break
        res = results[backend]
        res["dev"] = quality(embedder, "dev", sorted((ROOT / "corpus" / "txt").glob("*.txt")), ROOT / "eval" / "dev.jsonl")
        if args.synth:
            archive = synth_archive(args.synth)
            res[f"synth{args.synth}"] = quality(embedder, f"synth{args.synth}", sorted((archive / "corpus").glob("*.txt")),
                                                archive / "gold.jsonl")
        log(f"{backend}: {res}")
    timing_loads = [x for xs in loads.values() for x in xs]
    write_json("embed-backends-speed" if args.speed_only else "embed-backends",
               {"machine": info, "passages": len(texts), "max_load": args.max_load, "results": results})

    base = results.get("torch", {}).get("chunks_per_s")
    print(f"## Embedding backends ({ModelSpec.from_name(None).name}, {len(texts)} stored chunks, batch 32, length-sorted), "
          f"{info['date']}, {info['cores']} cores, load at start {info['load_at_start']}, 1-minute load during timing "
          f"{min(timing_loads, default=float('nan')):.2f}-{max(timing_loads, default=float('nan')):.2f}\n")
    rows = []
    for b, r in results.items():
        if "error" in r:
            rows.append([b, r["error"]] + [None] * 13)
            continue
        if "dev" not in r:
            rows.append([b, r["chunks_per_s"], round(r["chunks_per_s"] / base, 2) if base else None, r["query_ms"],
                         r["cold_process_s"], r.get("cosine_to_torch_mean")] + [None] * 9)
            continue
        syn = r.get(f"synth{args.synth}", {})
        rows.append([b, r["chunks_per_s"], round(r["chunks_per_s"] / base, 2) if base else None, r["query_ms"],
                     r["cold_process_s"], r.get("cosine_to_torch_mean"), r["dev"]["hybrid"]["R@5"], r["dev"]["hybrid"]["MRR@10"],
                     r["dev"]["dense"]["R@5"], r["dev"]["dense"]["MRR@10"],
                     r["dev"]["dev-en"]["R@5"], r["dev"]["dev-unaccented"]["MRR@10"],
                     syn.get("hybrid", {}).get("R@5"), syn.get("hybrid", {}).get("MRR@10"), syn.get("dense", {}).get("MRR@10")])
    print(md_table(["backend", "chunks/s", "x torch", "query ms", "fresh process: load + 1 query s", "cos to torch", "dev hybrid R@5", "dev hybrid MRR",
                    "dev dense R@5", "dev dense MRR", "English R@5", "unaccented MRR", f"synth{args.synth} hybrid R@5", f"synth{args.synth} hybrid MRR",
                    f"synth{args.synth} dense MRR"], rows))


if __name__ == "__main__":
    main()
