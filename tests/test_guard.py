"""The CI quality guard, the comparison's significance test and the report."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from rag.compare import compare, paired_p_value
from rag.evaluate import read_gold, run_gold, summarize
from rag.guard import Baseline, violations
from rag.report import write_report
from rag.retrieval import Hit

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Baseline.read(ROOT / "eval" / "baseline.json")
DEV = read_gold(ROOT / "eval" / "dev.jsonl")


def test_dev_set_meets_the_baseline(shipped_searcher):
    summary = summarize(run_gold(shipped_searcher, DEV))
    assert violations(summary, BASELINE) == []


def test_a_random_retriever_fails_the_guard(shipped_searcher, monkeypatch):
    rng = random.Random(0)
    retriever = shipped_searcher.retriever
    rows = list(range(len(retriever.index.chunk_ids)))

    def random_search(query, k=5, filters=None, mode="hybrid"):
        picked = rng.sample(rows, k)
        return [Hit(int(retriever.index.chunk_ids[r]), int(retriever.row_doc[r]), 1.0 / (i + 1), None, None)
                for i, r in enumerate(picked)]

    monkeypatch.setattr(retriever, "search", random_search)
    results = run_gold(shipped_searcher, DEV)
    failed = violations(summarize(results), BASELINE)
    assert failed and any("success@5" in f for f in failed)


def test_paired_significance():
    same = np.array([1.0, 0.0, 1.0, 1.0])
    assert paired_p_value(same, same) is None
    a = np.zeros(40)
    b = np.ones(40)
    assert paired_p_value(a, b) < 0.001
    noisy = np.array([1.0, 0.0] * 20)
    assert paired_p_value(noisy, noisy[::-1]) > 0.5


def test_report_with_comparison_and_plot(shipped_searcher, tmp_path):
    systems = {"lexical": run_gold(shipped_searcher, DEV, mode="lexical"),
               "hybrid": run_gold(shipped_searcher, DEV, mode="hybrid")}
    comparisons = {c.metric: c for c in compare(systems)}
    assert set(comparisons["MRR@10"].values) == {"lexical", "hybrid"}
    path = write_report(systems, Path("eval/dev.jsonl"), tmp_path / "report.md", "rag eval test")
    text = path.read_text(encoding="utf-8")
    assert "## Comparison" in text and "| S@5 |" in text and "Failed questions" in text
    assert "d11" in text  # the crosslingual miss is listed with what came back instead
    png = path.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
