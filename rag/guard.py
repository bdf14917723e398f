"""The quality guard: dev-set numbers must not fall below the recorded baseline minus a margin.

``eval/baseline.json`` holds the numbers, updated deliberately (``rag eval ... --update-baseline``)
when a change is meant to move them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .evaluate import Summary

GUARDED = ("success@5", "mrr@10")


@dataclass(frozen=True)
class Baseline:
    success_at5: float
    mrr_at10: float
    margin: float

    @classmethod
    def read(cls, path: Path) -> "Baseline":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(float(data["success@5"]), float(data["mrr@10"]), float(data.get("margin", 0.02)))

    def write(self, path: Path, note: str = "") -> None:
        Path(path).write_text(json.dumps({"success@5": round(self.success_at5, 4), "mrr@10": round(self.mrr_at10, 4),
                                          "margin": self.margin, "note": note}, indent=2) + "\n", encoding="utf-8")


def violations(summary: Summary, baseline: Baseline) -> list[str]:
    """Human-readable reasons the summary fails the guard (empty when it passes)."""
    out = []
    if summary.success[5] < baseline.success_at5 - baseline.margin:
        out.append(f"success@5 {summary.success[5]:.3f} < baseline {baseline.success_at5:.3f} - {baseline.margin}")
    if summary.mrr < baseline.mrr_at10 - baseline.margin:
        out.append(f"MRR@10 {summary.mrr:.3f} < baseline {baseline.mrr_at10:.3f} - {baseline.margin}")
    return out
