"""The development questions: every evidence string of every answerable non-English
question is in the top-5 passages, on the text corpus and on the PDF corpus."""

from __future__ import annotations

import pytest

from rag.vntext import collapse_whitespace
from tests.conftest import dev_questions

ANSWERABLE = [q for q in dev_questions() if q["evidence"] and q["kind"] != "crosslingual"]


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


def test_unanswerable_is_not_found(txt_searcher):
    for q in dev_questions():
        if not q["evidence"]:
            assert not txt_searcher.ask(q["question"]).found, q["question"]


def test_answerable_are_found(txt_searcher):
    for q in ANSWERABLE:
        assert txt_searcher.ask(q["question"]).found, q["question"]
