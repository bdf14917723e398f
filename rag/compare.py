"""Side-by-side comparison of systems on one gold set, with a paired significance test.

A claimed improvement must not be noise: for each metric the per-question values of two
systems are compared with a paired permutation test (``scipy.stats.permutation_test``,
sign flips of the per-question differences), and the p-value is shown with the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluate import QuestionResult

METRICS = {
    "S@5": lambda r: 1.0 if r.success_at(5) else 0.0,
    "R@5": lambda r: r.recall_at(5),
    "MRR@10": lambda r: r.reciprocal_rank(10),
    "nDCG@10": lambda r: r.ndcg(10),
    "src@1": lambda r: 1.0 if r.source_rank == 1 else 0.0,
}


@dataclass(frozen=True)
class Comparison:
    metric: str
    values: dict[str, float]          # system -> mean over answerable questions
    deltas: dict[str, float]          # system -> mean minus the first system's
    p_values: dict[str, float | None]  # system -> paired test against the first system


def paired_p_value(a: np.ndarray, b: np.ndarray, resamples: int = 9999) -> float | None:
    """Two-sided p-value of the mean paired difference (None when the systems never differ)."""
    from scipy.stats import permutation_test

    diff = b - a
    if not np.any(diff):
        return None
    result = permutation_test((a, b), lambda x, y, axis: np.mean(y - x, axis=axis), permutation_type="samples",
                              n_resamples=resamples, alternative="two-sided", random_state=0, vectorized=True)
    return float(result.pvalue)


def compare(systems: dict[str, list[QuestionResult]]) -> list[Comparison]:
    """One ``Comparison`` per metric; the first system is the reference."""
    names = list(systems)
    reference = names[0]
    ids = [r.id for r in systems[reference] if r.answerable]
    by_id = {name: {r.id: r for r in results} for name, results in systems.items()}
    out = []
    for metric, fn in METRICS.items():
        series = {name: np.array([fn(by_id[name][i]) for i in ids], dtype=float) for name in names}
        values = {name: float(series[name].mean()) if len(ids) else 0.0 for name in names}
        deltas = {name: values[name] - values[reference] for name in names}
        p_values = {name: (paired_p_value(series[reference], series[name]) if name != reference else None)
                    for name in names}
        out.append(Comparison(metric, values, deltas, p_values))
    return out


def format_comparison(comparisons: list[Comparison]) -> str:
    names = list(comparisons[0].values)
    head = "| metric | " + " | ".join(names) + " | " + " | ".join(f"Δ {n} (p)" for n in names[1:]) + " |"
    lines = [head, "|" + "---|" * (1 + len(names) + len(names) - 1)]
    for c in comparisons:
        cells = [f"{100 * c.values[n]:.1f}" for n in names]
        for n in names[1:]:
            p = c.p_values[n]
            cells.append(f"{100 * c.deltas[n]:+.1f} ({'–' if p is None else f'{p:.3f}'})")
        lines.append(f"| {c.metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
