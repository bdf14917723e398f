"""The Qdrant backend against the local one on gold sets (issue 16, docs/evaluation.md "Qdrant parity").

    python eval/qdrant_parity.py --set dev=/tmp/pdev:../shared/eval/dev.jsonl \\
        --set alqac=/tmp/palqac:../shared/eval/alqac2023/gold.jsonl [--store edge]

Each INDEX must have been built (``rag ingest``); it is copied into the store (``sync_store``:
an Edge shard in INDEX/qdrant-edge by default) and both backends answer every question with
the same model loaded once: R@5 and MRR@10 of each, how many questions get the same top-5
passages, and whether every list answer (text and rows) is the same.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.api import Searcher  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.evaluate import read_gold, score_answer, summarize  # noqa: E402
from rag.qdrant_backend import StoreSpec, sync_store  # noqa: E402
from rag.retrieval import Filters  # noqa: E402


def compare(name: str, index: Path, gold: Path, store: str) -> dict:
    started = time.perf_counter()
    report = sync_store(StoreSpec.parse(store), index)
    sync_s = time.perf_counter() - started
    settings = load_settings()
    local = Searcher.open(index, settings=settings)
    remote = Searcher.open(index, settings=replace(settings, store=store), embedder=local.embedder)
    questions = read_gold(gold)
    results = {"local": [], "qdrant": []}
    same_top5 = lists = same_lists = 0
    try:
        for q in questions:
            answers = {}
            for label, searcher in (("local", local), ("qdrant", remote)):
                t = time.perf_counter()
                answers[label] = searcher.ask(q.question, top_k=10, filters=Filters())
                results[label].append(score_answer(q, answers[label], time.perf_counter() - t))
            a, b = answers["local"], answers["qdrant"]
            same_top5 += [p.chunk_id for p in a.passages[:5]] == [p.chunk_id for p in b.passages[:5]]
            if a.rows is not None or b.rows is not None:
                lists += 1
                same_lists += a.answer == b.answer and a.rows == b.rows
    finally:
        local.close()
        remote.close()
    out = {"set": name, "questions": len(questions), "passages": report.upserted + report.reencoded,
           "sync_s": round(sync_s, 1), "same_top5": same_top5, "lists": lists, "same_lists": same_lists}
    for label, rs in results.items():
        s = summarize(rs)
        out[label] = {"R@5": round(100 * s.success[5], 1), "MRR@10": round(100 * s.mrr, 1),
                      "p50_ms": round(s.p50_ms, 1), "p95_ms": round(s.p95_ms, 1)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", required=True, metavar="NAME=INDEX:GOLD")
    ap.add_argument("--store", default="edge", help="the store to compare (default: edge, in INDEX/qdrant-edge)")
    args = ap.parse_args()
    print("| set | questions | local R@5 / MRR@10 | Qdrant R@5 / MRR@10 | same top-5 | list answers identical | "
          "p50 ms local / Qdrant |")
    print("|---|---|---|---|---|---|---|")
    for item in args.set:
        name, rest = item.split("=", 1)
        index, gold = rest.split(":", 1)
        r = compare(name, Path(index), Path(gold), args.store)
        loc, qd = r["local"], r["qdrant"]
        print(f"| {name} | {r['questions']} | {loc['R@5']} / {loc['MRR@10']} | {qd['R@5']} / {qd['MRR@10']} | "
              f"{r['same_top5']}/{r['questions']} | {r['same_lists']}/{r['lists']} | "
              f"{loc['p50_ms']} / {qd['p50_ms']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
