"""The metric code agrees with ranx and with hand-computed values, ties included."""

from __future__ import annotations

import math

import pytest

from rag.evaluate import QuestionResult, summarize
from rag.metrics import ndcg, positions, reciprocal_rank

# evidence ranks per question: None = not returned; two strings in one passage = a tie
FIXTURE = {
    "q1": [1, 3],        # first and third passage
    "q2": [2, 2],        # both strings in the second passage (tie)
    "q3": [None, 4],     # one missing
    "q4": [None],        # nothing found
    "q5": [1, 1, 1],     # all three in the first passage (tie)
    "q6": [11, 2],       # one beyond the cut-off
}


def test_hand_computed_values():
    assert positions([2, 2]) == [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert reciprocal_rank([2, 2]) == 0.5
    assert ndcg([2, 2]) == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert ndcg([1, 1, 1]) == pytest.approx(1.0)
    assert ndcg([None]) == 0.0 and reciprocal_rank([None]) == 0.0
    r = QuestionResult("q", "fact", "?", [1, 3], True, 0.0)
    assert (r.recall_at(1), r.recall_at(3), r.success_at(1), r.success_at(3)) == (0.5, 1.0, False, True)


def _ranx_run(ranks: dict[str, list[int | None]]):
    """The same items as rag.metrics.positions, as ranx Qrels and Run (equal scores for ties)."""
    from ranx import Qrels, Run

    qrels, run = {}, {}
    for qid, ev in ranks.items():
        qrels[qid] = {f"{qid}-e{i}": 1 for i in range(len(ev))}
        scores = {}
        found_at = {r for r in ev if r is not None}
        for rank in range(1, 11):
            if rank in found_at:
                for i, r in enumerate(ev):
                    if r == rank:
                        scores[f"{qid}-e{i}"] = 1.0 / rank
            else:
                scores[f"{qid}-filler{rank}"] = 1.0 / rank
        run[qid] = scores
    return Qrels(qrels), Run(run)


def test_agrees_with_ranx_including_ties():
    from ranx import evaluate

    qrels, run = _ranx_run(FIXTURE)
    expected = evaluate(qrels, run, ["mrr@10", "ndcg@10"], return_mean=False)
    for i, (qid, ev) in enumerate(FIXTURE.items()):
        assert reciprocal_rank(ev) == pytest.approx(expected["mrr@10"][i]), qid
        assert ndcg(ev) == pytest.approx(expected["ndcg@10"][i]), qid
    results = [QuestionResult(q, "fact", "?", ev, True, 0.0) for q, ev in FIXTURE.items()]
    means = evaluate(qrels, run, ["mrr@10", "ndcg@10"])
    summary = summarize(results)
    assert summary.mrr == pytest.approx(means["mrr@10"]) and summary.ndcg == pytest.approx(means["ndcg@10"])
