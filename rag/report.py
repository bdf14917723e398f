"""Evaluation reports: a Markdown file with the tables, the failed questions (and what was
returned instead), and a recall@k plot (PNG, matplotlib) — one curve per system."""

from __future__ import annotations

import time
from pathlib import Path

from .compare import compare, format_comparison
from .evaluate import QuestionResult, format_table, summarize_by_kind


def recall_curve_png(systems: dict[str, list[QuestionResult]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = list(range(1, 11))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name, results in systems.items():
        answerable = [r for r in results if r.answerable]
        ys = [100 * sum(r.recall_at(k) for r in answerable) / max(1, len(answerable)) for k in ks]
        ax.plot(ks, ys, marker="o", label=name)
    ax.set_xlabel("k (passages returned)")
    ax.set_ylabel("evidence recall@k (%)")
    ax.set_ylim(0, 100)
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Evidence recall by rank")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def failures(results: list[QuestionResult], k: int = 5) -> list[QuestionResult]:
    """Answerable questions missing evidence in the top ``k``, and unanswerable ones answered."""
    return [r for r in results if (r.answerable and not r.success_at(k)) or (not r.answerable and r.found)]


def write_report(systems: dict[str, list[QuestionResult]], gold: Path, out: Path, command: str) -> Path:
    """``out`` (Markdown) plus ``out`` with ``.png`` for the recall curve; returns the Markdown path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    png = recall_curve_png(systems, out.with_suffix(".png"))
    lines = [f"# Evaluation report: {gold}", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')} with `{command}`.", "",
             f"![recall@k]({png.name})", ""]
    if len(systems) > 1:
        lines += ["## Comparison (paired permutation test against the first system)", "",
                  format_comparison(compare(systems)), ""]
    for name, results in systems.items():
        lines += [f"## {name}", "", format_table(summarize_by_kind(results)), ""]
        failed = failures(results)
        lines += [f"### Failed questions ({len(failed)})", ""]
        for r in failed:
            missing = "answered although the archive does not say" if not r.answerable else \
                f"evidence ranks {r.evidence_ranks}"
            lines.append(f"- **{r.id}** ({r.kind}) {r.question} — {missing}")
            for citation in r.returned[:3]:
                lines.append(f"  - returned: {citation}")
        lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")
    return out
