"""Evaluation: how well the returned passages carry a gold set's evidence.

Gold sets are JSON Lines (``id``, ``question``, ``evidence``: exact source substrings a
returned passage must contain, ``sources``: file stems, ``kind``). An evidence string
counts as found at rank r when the r-th passage contains it after NFC/whitespace
normalisation. Unanswerable questions (empty evidence) are scored on abstention.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import metrics
from .answer import Answer
from .retrieval import Filters
from .vntext import collapse_whitespace, match_key

KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    evidence: list[str]
    sources: list[str]
    kind: str
    answer: list[str] | None = None  # list questions: the expected units
    shape: str | None = None  # list questions: which, threshold, superlative, total, how_many_units, no_count, …
    total: int | None = None  # shape "total": the expected sum
    count: int | None = None  # shape "how_many_units": the expected number of units


def read_gold(path: Path) -> list[GoldQuestion]:
    """Read a gold set; a bad line raises ``ValueError`` naming the line and the missing field."""
    questions = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            questions.append(GoldQuestion(id=str(data["id"]), question=data["question"],
                                          evidence=list(data.get("evidence", [])), sources=list(data.get("sources", [])),
                                          kind=data.get("kind", "fact"), answer=data.get("answer"),
                                          shape=data.get("shape"), total=data.get("total"), count=data.get("count")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a gold question ({exc}); each line needs id, question, evidence, sources, kind") from exc
    return questions


@dataclass(frozen=True)
class QuestionResult:
    id: str
    kind: str
    question: str
    evidence_ranks: list[int | None]  # 1-based rank of the first passage holding each evidence string
    found: bool
    seconds: float
    returned: list[str] = field(default_factory=list)  # citations, for failure reports
    source_rank: int | None = None  # rank of the first passage from one of the gold sources
    expected_units: list[str] | None = None  # list questions: the gold answer (district names)
    returned_units: list[str] | None = None  # list questions: the units of the answer's rows
    shape: str | None = None
    expected_number: int | None = None  # a total's sum or a count of units, when the gold gives one
    returned_number: int | None = None  # the same read from the answer's rows

    def unit_precision_recall(self) -> tuple[float, float] | None:
        """Set precision and recall of the named districts (accent-folded), for list questions."""
        if self.expected_units is None or self.returned_units is None:
            return None
        expected = {match_key(u) for u in self.expected_units}
        returned = {match_key(u) for u in self.returned_units}
        precision = len(expected & returned) / len(returned) if returned else (1.0 if not expected else 0.0)
        recall = len(expected & returned) / len(expected) if expected else 1.0
        return precision, recall

    @property
    def answerable(self) -> bool:
        return bool(self.evidence_ranks)

    def recall_at(self, k: int) -> float:
        return sum(1 for r in self.evidence_ranks if r is not None and r <= k) / len(self.evidence_ranks)

    def success_at(self, k: int) -> bool:
        return all(r is not None and r <= k for r in self.evidence_ranks)

    def reciprocal_rank(self, k: int = 10) -> float:
        return metrics.reciprocal_rank(self.evidence_ranks, k)

    def ndcg(self, k: int = 10) -> float:
        return metrics.ndcg(self.evidence_ranks, k)


def score_answer(q: GoldQuestion, answer: Answer, seconds: float) -> QuestionResult:
    texts = [collapse_whitespace(p.text) for p in answer.passages]
    ranks: list[int | None] = []
    for ev in q.evidence:
        target = collapse_whitespace(ev)
        ranks.append(next((i for i, t in enumerate(texts, start=1) if target in t), None))
    stems = [Path(p.source).stem for p in answer.passages]
    source_rank = next((i for i, s in enumerate(stems, start=1) if s in q.sources), None)
    returned_units = [r.unit for r in answer.rows] if answer.rows is not None else ([] if q.answer is not None else None)
    expected_number = q.total if q.total is not None else q.count
    returned_number = None
    if expected_number is not None and answer.rows:
        returned_number = (sum(r.value or 0 for r in answer.rows) if q.total is not None
                           else len({match_key(r.unit) for r in answer.rows}))
    return QuestionResult(q.id, q.kind, q.question, ranks, answer.found, seconds,
                          [p.citation for p in answer.passages], source_rank, q.answer, returned_units,
                          q.shape, expected_number, returned_number)


def run_gold(searcher, questions: list[GoldQuestion], mode: str = "hybrid", depth: int = 10) -> list[QuestionResult]:
    results = []
    for q in questions:
        started = time.perf_counter()
        answer = searcher.ask(q.question, top_k=depth, filters=Filters(), mode=mode)
        results.append(score_answer(q, answer, time.perf_counter() - started))
    return results


@dataclass(frozen=True)
class Summary:
    n: int
    recall: dict[int, float]
    success: dict[int, float]
    mrr: float
    ndcg: float
    abstention: float | None  # share of unanswerable questions answered "not found"
    answered_found: float | None  # share of answerable questions with found=True
    p50_ms: float
    p95_ms: float
    source_at1: float = 0.0  # share of answerable questions whose first passage is from a gold source
    list_precision: float | None = None  # mean set precision of named districts (list questions)
    list_recall: float | None = None


def summarize(results: list[QuestionResult]) -> Summary:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    times = sorted(r.seconds * 1000 for r in results) or [0.0]
    lists = [pr for r in results if (pr := r.unit_precision_recall()) is not None]
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return Summary(
        n=len(results),
        recall={k: mean([r.recall_at(k) for r in answerable]) for k in KS},
        success={k: mean([1.0 if r.success_at(k) else 0.0 for r in answerable]) for k in KS},
        mrr=mean([r.reciprocal_rank(10) for r in answerable]),
        ndcg=mean([r.ndcg(10) for r in answerable]),
        abstention=mean([0.0 if r.found else 1.0 for r in unanswerable]) if unanswerable else None,
        answered_found=mean([1.0 if r.found else 0.0 for r in answerable]) if answerable else None,
        p50_ms=statistics.median(times), p95_ms=p95,
        source_at1=mean([1.0 if r.source_rank == 1 else 0.0 for r in answerable]),
        list_precision=mean([pr[0] for pr in lists]) if lists else None,
        list_recall=mean([pr[1] for pr in lists]) if lists else None)


def summarize_by_kind(results: list[QuestionResult]) -> dict[str, Summary]:
    kinds = sorted({r.kind for r in results})
    out = {kind: summarize([r for r in results if r.kind == kind]) for kind in kinds}
    out["all"] = summarize(results)
    return out


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def format_table(by_kind: dict[str, Summary]) -> str:
    """A Markdown table: one row per question kind, then ``all``."""
    head = ("| kind | n | R@1 | R@3 | R@5 | R@10 | S@5 | MRR@10 | nDCG@10 | src@1 | list P | list R | abstain "
            "| found | p50 ms | p95 ms |")
    lines = [head, "|" + "---|" * 16]
    for kind, s in by_kind.items():
        answerable = s.answered_found is not None
        lines.append(
            f"| {kind} | {s.n} | " + " | ".join(_pct(s.recall[k]) if answerable else "–" for k in KS)
            + f" | {_pct(s.success[5]) if answerable else '–'} | {s.mrr:.3f} | {s.ndcg:.3f} | "
            f"{_pct(s.source_at1) if answerable else '–'} | {_pct(s.list_precision)} | {_pct(s.list_recall)} | "
            f"{_pct(s.abstention)} | "
            f"{_pct(s.answered_found)} | {s.p50_ms:.0f} | {s.p95_ms:.0f} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class ListSummary:
    """List questions of one shape: mean set precision, recall and F1 of the named units, the share
    answered with exactly the right set, and (totals, counts) the share with the right number."""

    n: int
    precision: float
    recall: float
    f1: float
    exact: float
    number: float | None


def summarize_lists(results: list[QuestionResult]) -> dict[str, ListSummary]:
    """Per list shape (``shape`` of the gold set, else ``list``), then ``all``."""
    lists = [r for r in results if r.unit_precision_recall() is not None]
    groups: dict[str, list[QuestionResult]] = {}
    for r in lists:
        groups.setdefault(r.shape or "list", []).append(r)
    out = {shape: _list_summary(rs) for shape, rs in sorted(groups.items())}
    if lists:
        out["all"] = _list_summary(lists)
    return out


def _list_summary(results: list[QuestionResult]) -> ListSummary:
    prs = [r.unit_precision_recall() for r in results]
    f1s = [2 * p * r / (p + r) if p + r else 0.0 for p, r in prs]
    numbers = [r for r in results if r.expected_number is not None]
    return ListSummary(len(results), statistics.mean(p for p, _ in prs), statistics.mean(r for _, r in prs),
                       statistics.mean(f1s), statistics.mean(1.0 if p == r == 1.0 else 0.0 for p, r in prs),
                       statistics.mean(1.0 if r.returned_number == r.expected_number else 0.0 for r in numbers)
                       if numbers else None)


def format_list_table(by_shape: dict[str, ListSummary]) -> str:
    """A Markdown table: list precision/recall/F1 per question shape."""
    lines = ["| list shape | n | P | R | F1 | exact set | right number |", "|" + "---|" * 7]
    for shape, s in by_shape.items():
        lines.append(f"| {shape} | {s.n} | {_pct(s.precision)} | {_pct(s.recall)} | {_pct(s.f1)} | {_pct(s.exact)} "
                     f"| {_pct(s.number)} |")
    return "\n".join(lines)


def summary_json(by_kind: dict[str, Summary]) -> dict[str, object]:
    from dataclasses import asdict

    return {kind: asdict(s) for kind, s in by_kind.items()}


@dataclass(frozen=True)
class SystemSpec:
    """One system to measure: an index, a retrieval mode and query-time settings."""

    name: str
    index: Path
    mode: str
    settings: object  # rag.config.Settings


def run_systems(questions: list[GoldQuestion], specs: list[SystemSpec]) -> dict[str, list[QuestionResult]]:
    """Results per system; each index is opened once (its model loaded once)."""
    from dataclasses import replace

    from .api import Searcher

    searchers: dict[tuple[Path, str], object] = {}
    out: dict[str, list[QuestionResult]] = {}
    for spec in specs:
        key = (Path(spec.index).resolve(), spec.settings.store)  # one Searcher per index and store
        if key not in searchers:
            searchers[key] = Searcher.open(spec.index, settings=spec.settings)
        searcher = searchers[key]
        searcher.settings = replace(spec.settings, model=None)
        searcher.retriever.settings = searcher.settings
        out[spec.name] = run_gold(searcher, questions, mode=spec.mode)
    return out
