"""Which questions are Vietnamese (rag.language): diacritics or Vietnamese spelling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.language import is_vietnamese, is_vietnamese_syllable
from rag.vntext import fold

EVAL = Path(__file__).resolve().parent.parent / "eval"


def _questions(name: str) -> list[str]:
    return [json.loads(line)["question"] for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_english_questions_are_not_vietnamese():
    english = _questions("dev-en.jsonl")
    assert len(english) >= 10
    assert [q for q in english if is_vietnamese(q)] == []


@pytest.mark.parametrize("name", ["dev.jsonl", "dev-unaccented.jsonl", "lists.jsonl"])
def test_vietnamese_questions_are_vietnamese_with_or_without_diacritics(name):
    questions = [q for q in _questions(name) if q.isascii() is False or not _looks_english(q)]
    assert questions
    assert [q for q in questions if not is_vietnamese(q)] == []
    assert [q for q in questions if not is_vietnamese(fold(q))] == []


def _looks_english(question: str) -> bool:
    """The dev sets keep one English question each (kind crosslingual)."""
    return question.lower().startswith(("what ", "which "))


def test_every_report_folded_is_still_vietnamese():
    corpus = Path(__file__).resolve().parent.parent / "corpus" / "txt"
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    assert len(texts) == 5 and all(is_vietnamese(fold(t)) for t in texts)


@pytest.mark.parametrize("word,expected", [
    ("nghieng", True), ("quyet", True), ("khuyu", True), ("truong", True), ("nguyen", True),
    ("what", False), ("products", False), ("does", False), ("many", False), ("science", False)])
def test_syllable_spelling(word, expected):
    assert is_vietnamese_syllable(word) is expected


def test_acronyms_and_short_questions_do_not_make_a_question_foreign():
    assert is_vietnamese("OCOP KH&CN")
    assert is_vietnamese("")
    assert is_vietnamese("so luong OCOP o Ba Che")
    assert not is_vietnamese("How many OCOP products in Ba Che?")
