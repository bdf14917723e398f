"""Measure ranking choices on built indexes without rebuilding them: fusion (RRF / weighted) and
the dense weight for Vietnamese and for foreign questions, and each rerank bonus on and off.

    python eval/tune_retrieval.py --set dev=INDEX:eval/dev.jsonl --set alqac=INDEX2:GOLD2 [...]

Prints one Markdown table per set (stdout): R@5, MRR@10, src@1, found (answerable questions answered
found) and abstain (unanswerable answered not found). Used to choose the defaults in rag/config.py
(docs/evaluation.md, "How the ranking was chosen").
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.api import Searcher  # noqa: E402
from rag.evaluate import read_gold, run_gold, summarize  # noqa: E402

WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def systems(args) -> list[tuple[str, str, dict]]:
    """(label, mode, settings) to measure."""
    out = [("lexical", "lexical", {}), ("dense", "dense", {})]
    for fusion in args.fusion:
        for w in args.weights:
            out.append((f"{fusion} w={w}", "hybrid", {"fusion": fusion, "dense_weight": w, "dense_weight_foreign": w}))
    for fusion, w in [tuple(x.split(":")) for x in args.bonus_at]:
        base = {"fusion": fusion, "dense_weight": float(w), "dense_weight_foreign": float(w)}
        out.append((f"{fusion} w={w} no scope bonus", "hybrid", {**base, "scope_bonus": 0.0}))
        out.append((f"{fusion} w={w} no count bonus", "hybrid", {**base, "count_bonus": 0.0}))
        out.append((f"{fusion} w={w} no bonus", "hybrid", {**base, "scope_bonus": 0.0, "count_bonus": 0.0}))
        out.append((f"{fusion} w={w} no accent restoring", "hybrid", {**base, "restore_accents": False}))
        for coverage in (0.3, 0.4, 0.6, 0.7):
            out.append((f"{fusion} w={w} found coverage {coverage}", "hybrid", {**base, "found_coverage": coverage}))
    out.append(("dense, no accent restoring", "dense", {"restore_accents": False}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", required=True, help="NAME=INDEX:GOLD (repeatable)")
    parser.add_argument("--fusion", action="append", default=None, help="rrf and/or weighted (default both)")
    parser.add_argument("--weights", type=lambda s: [float(x) for x in s.split(",")], default=WEIGHTS)
    parser.add_argument("--bonus-at", action="append", default=[], help="FUSION:WEIGHT to measure the bonuses at")
    args = parser.parse_args()
    args.fusion = args.fusion or ["rrf", "weighted"]
    for spec in args.set:
        name, rest = spec.split("=", 1)
        index, gold = rest.rsplit(":", 1)
        searcher = Searcher.open(index)
        questions = read_gold(Path(gold))
        print(f"\n### {name} ({len(questions)} questions, {gold})\n")
        print("| system | R@5 | MRR@10 | src@1 | found | abstain |")
        print("|---|---|---|---|---|---|")
        base = searcher.settings
        for label, mode, values in systems(args):
            searcher.settings = replace(base, **values)
            searcher.retriever.settings = searcher.settings
            s = summarize(run_gold(searcher, questions, mode=mode))
            found = "–" if s.answered_found is None else f"{100 * s.answered_found:.1f}"
            abstain = "–" if s.abstention is None else f"{100 * s.abstention:.1f}"
            print(f"| {label} | {100 * s.recall[5]:.1f} | {100 * s.mrr:.1f} | {100 * s.source_at1:.1f} | {found} | {abstain} |",
                  flush=True)
        searcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
