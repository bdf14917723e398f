"""List questions at scale: a scoped and an unscoped question timed, and where the unscoped one spends its time.

    .venv/bin/python bench/listing_profile.py [--index DIR]

On the ~100k-chunk index of ``bench/scale.py`` (default ``$RAG_BENCH_WORK/index-r11340``):
a scoped question (province + year, the < 2 s target) and an unscoped one ("Những huyện nào có
sản phẩm OCOP 4 sao?", every district and year of the archive), best of two each, then the
unscoped one under cProfile. Prints the timings and the profile; writes
``bench/out/listing-profile.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from common import WORK, log, machine, md_table, write_json

SCOPED = "Những huyện nào của tỉnh Thanh Hóa có sản phẩm OCOP 4 sao năm 2024?"
UNSCOPED = "Những huyện nào có sản phẩm OCOP 4 sao?"


def time_question(searcher, question: str, repeat: int = 2) -> tuple[float, int]:
    best = float("inf")
    n_rows = 0
    for _ in range(repeat):
        t = time.perf_counter()
        answer = searcher.ask(question)
        best = min(best, time.perf_counter() - t)
        n_rows = len(answer.rows or [])
    return best, n_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=WORK / "index-r11340")
    args = ap.parse_args()

    from rag import Searcher
    from rag.config import Settings

    info = machine()
    searcher = Searcher.open(args.index, settings=Settings())
    searcher.ask("khởi động")  # model warm-up
    results = {}
    for label, q in (("scoped", SCOPED), ("unscoped", UNSCOPED)):
        secs, n_rows = time_question(searcher, q)
        results[label] = {"question": q, "seconds": round(secs, 3), "rows": n_rows}
        log(f"{label}: {secs:.2f} s, {n_rows} rows: {q}")
    profiler = cProfile.Profile()
    profiler.enable()
    searcher.ask(UNSCOPED)
    profiler.disable()
    searcher.close()
    stats = pstats.Stats(profiler)
    prof = sorted(({"function": f"{Path(f).name}:{l}({fn})", "calls": nc, "own_s": round(tt, 3), "cumulative_s": round(ct, 3)}
                   for (f, l, fn), (cc, nc, tt, ct, _) in stats.stats.items()), key=lambda r: -r["cumulative_s"])[:16]
    write_json("listing-profile", {"machine": info, "index": str(args.index), "results": results, "profile_unscoped": prof})
    print(f"## List questions on {args.index.name}, load at start {info['load_at_start']}\n")
    print(md_table(["question", "seconds", "rows"], [[v["question"], v["seconds"], v["rows"]] for v in results.values()]))
    print("\nProfile of the unscoped question (cumulative, under cProfile):\n")
    print(md_table(["function", "calls", "own s", "cumulative s"],
                   [[r["function"], r["calls"], r["own_s"], r["cumulative_s"]] for r in prof]))


if __name__ == "__main__":
    main()
