"""Local backend query speed (issue 16: the SearchBackend seam must not slow it down).

    .venv/bin/python bench/seam_overhead.py INDEX LABEL [GOLD.jsonl]

Opens INDEX, embeds every question once (cached), then times ``HybridRetriever.search`` for the
first 150 questions of GOLD (default: alqac2023's) three times and prints p50 / p95 / mean.
Run it from two checkouts, alternating, on the same index (docs/benchmarks.md, "Beyond one machine").
"""

import json
import statistics
import sys
import time
from pathlib import Path

from rag.api import Searcher
from rag.config import load_settings

GOLD = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "alqac2023" / "gold.jsonl"


def main() -> None:
    index, label = sys.argv[1], sys.argv[2]
    gold = Path(sys.argv[3]) if len(sys.argv) > 3 else GOLD
    questions = [json.loads(line)["question"] for line in gold.open(encoding="utf-8")][:150]
    searcher = Searcher.open(index, settings=load_settings(backend="onnx-int8"))
    for q in questions:  # warm: question embeddings cached, arrays paged in
        searcher.retriever.search(q, k=10)
    times = []
    for _ in range(3):
        for q in questions:
            started = time.perf_counter()
            searcher.retriever.search(q, k=10)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"{label}: n={len(times)} p50={statistics.median(times):.2f} ms p95={times[int(0.95 * len(times))]:.2f} ms "
          f"mean={statistics.mean(times):.2f} ms")


if __name__ == "__main__":
    main()
