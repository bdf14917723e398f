"""The development questions: every evidence string of every answerable question (the English one
too) is in the top-5 passages, on the text corpus and on the PDF corpus; the same questions typed
without diacritics, and asked in English, on the text corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.vntext import collapse_whitespace
from tests.conftest import dev_questions

EVAL = Path(__file__).resolve().parent.parent / "eval"
ANSWERABLE = [q for q in dev_questions() if q["evidence"]]


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _missing(searcher, question: dict) -> list[str]:
    returned = [collapse_whitespace(p.text) for p in searcher.ask(question["question"], top_k=5).passages]
    return [e for e in question["evidence"] if not any(collapse_whitespace(e) in t for t in returned)]


@pytest.mark.parametrize("corpus", ["txt", "pdf"])
@pytest.mark.parametrize("question", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_evidence_in_top5(question, corpus, txt_searcher, pdf_searcher):
    searcher = txt_searcher if corpus == "txt" else pdf_searcher
    answer = searcher.ask(question["question"], top_k=5)
    returned = [collapse_whitespace(p.text) for p in answer.passages]
    missing = [e for e in question["evidence"] if not any(collapse_whitespace(e) in t for t in returned)]
    assert not missing, f"{question['id']} missing {missing}; got {[p.citation for p in answer.passages]}"
    sources = {p.source.rsplit('/', 1)[-1].rsplit('.', 1)[0] for p in answer.passages}
    assert set(question["sources"]) & sources


def test_unaccented_copies_find_the_same_evidence(txt_searcher):
    questions = [q for q in _read("dev-unaccented.jsonl") if q["evidence"]]
    assert len(questions) == len(ANSWERABLE)
    assert {q["id"]: m for q in questions if (m := _missing(txt_searcher, q))} == {}


def test_english_questions_find_their_evidence(txt_searcher):
    """Target: 90 % of the English questions with their evidence in the top 5 (12 of 12 measured)."""
    questions = [q for q in _read("dev-en.jsonl") if q["evidence"]]
    missed = {q["id"]: m for q in questions if (m := _missing(txt_searcher, q))}
    assert len(missed) <= len(questions) // 10, missed


def test_unanswerable_is_not_found(txt_searcher):
    for q in dev_questions() + _read("dev-en.jsonl"):
        if not q["evidence"]:
            assert not txt_searcher.ask(q["question"]).found, q["question"]


def test_answerable_are_found(txt_searcher):
    for q in ANSWERABLE:
        assert txt_searcher.ask(q["question"]).found, q["question"]
