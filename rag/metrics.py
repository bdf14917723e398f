"""Ranking metrics over evidence strings.

Each evidence string of a question is a relevant item, placed at the rank of the first
returned passage that contains it. Passages that bring no new evidence fill their rank
with a non-relevant item, so positions keep the passage order; several evidence strings
found in one passage are tied and take consecutive positions (their order does not
change the value, since all gains are 1). This is the layout ``ranx`` is given in the
test that checks these functions against it.
"""

from __future__ import annotations

import math


def positions(evidence_ranks: list[int | None], depth: int = 10) -> list[int]:
    """Relevance (1/0) by position: the item list described above, cut at ``depth`` positions."""
    by_rank: dict[int, int] = {}
    for r in evidence_ranks:
        if r is not None and r <= depth:
            by_rank[r] = by_rank.get(r, 0) + 1
    out: list[int] = []
    for rank in range(1, depth + 1):
        out.extend([1] * by_rank.get(rank, 0) or [0])
    return out[:depth]


def reciprocal_rank(evidence_ranks: list[int | None], k: int = 10) -> float:
    ranks = [r for r in evidence_ranks if r is not None and r <= k]
    return 1.0 / min(ranks) if ranks else 0.0


def ndcg(evidence_ranks: list[int | None], k: int = 10) -> float:
    """nDCG@k with binary gains over the evidence strings."""
    if not evidence_ranks:
        return 0.0
    rel = positions(evidence_ranks, k)
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(rel))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(evidence_ranks))))
    return dcg / ideal
