"""Measure retrieval choices on a built index without rebuilding it: lexical token scheme
(syllables vs syllables + bigrams) and fusion (weighted / RRF, dense weight).

    python eval/tune_retrieval.py --index index --gold eval/dev.jsonl [--gold other.jsonl ...]

Prints one Markdown table per gold set (stdout); used to choose the defaults in rag/config.py.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.api import Searcher  # noqa: E402
from rag.evaluate import read_gold, run_gold, summarize  # noqa: E402
from rag.lexical import LexicalIndex  # noqa: E402

SCHEMES = ("syllable", "syllable+bigram")
FUSIONS = [("lexical", "weighted", 0.0), ("dense", "weighted", 1.0)] + [
    ("hybrid", fusion, w) for fusion in ("weighted", "rrf") for w in (0.0, 0.1, 0.2, 0.3, 0.5)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--gold", type=Path, action="append", required=True)
    args = parser.parse_args()
    searcher = Searcher.open(args.index)
    texts = [f"{c.context}\n{c.text}" for c in searcher.index.store.canonical_chunks()]
    golds = {g: [q for q in read_gold(g)] for g in args.gold}
    rows: dict[Path, list[str]] = {g: [] for g in golds}
    for scheme in SCHEMES:
        print(f"building lexical index ({scheme})", file=sys.stderr)
        searcher.index.lexical = LexicalIndex.build(texts, scheme)
        for mode, fusion, weight in FUSIONS:
            if scheme != "syllable+bigram" and mode == "dense":
                continue
            searcher.settings = replace(searcher.settings, fusion=fusion, dense_weight=weight)
            searcher.retriever.settings = searcher.settings
            for gold, questions in golds.items():
                s = summarize(run_gold(searcher, questions, mode=mode))
                rows[gold].append(f"| {scheme} | {mode} | {fusion if mode == 'hybrid' else '–'} | "
                                  f"{weight if mode == 'hybrid' else '–'} | {100 * s.recall[5]:.1f} | "
                                  f"{100 * s.success[5]:.1f} | {s.mrr:.3f} | {100 * s.source_at1:.1f} |")
    for gold, lines in rows.items():
        print(f"\n### {gold} ({len(golds[gold])} questions)\n")
        print("| lexical tokens | mode | fusion | dense weight | R@5 | S@5 | MRR@10 | src@1 |")
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
