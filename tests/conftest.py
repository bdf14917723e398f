"""Shared fixtures: the bundled model loaded once, indexes of the shipped corpus built once."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAG_OCR_CACHE", "off")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV_SET = ROOT / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from rag.embedding import Embedder, ModelSpec

    return Embedder(ModelSpec.from_name(None))


@pytest.fixture(scope="session")
def settings():
    from rag.config import Settings

    return Settings()


def _build(tmp_path_factory, name: str, sources: list[Path], embedder, settings):
    from rag import ingest

    corpus = tmp_path_factory.mktemp(f"{name}-corpus")
    for src in sources:
        shutil.copy(src, corpus / src.name)
    index = tmp_path_factory.mktemp(f"{name}-index")
    report = ingest([corpus], index, settings=settings, embedder=embedder)
    return corpus, index, report


@pytest.fixture(scope="session")
def txt_index(tmp_path_factory, embedder, settings):
    return _build(tmp_path_factory, "txt", sorted((CORPUS / "txt").glob("*.txt")), embedder, settings)


@pytest.fixture(scope="session")
def pdf_index(tmp_path_factory, embedder, settings):
    return _build(tmp_path_factory, "pdf", sorted((CORPUS / "pdf").glob("*.pdf")), embedder, settings)


@pytest.fixture(scope="session")
def txt_searcher(txt_index, embedder, settings):
    from rag import Searcher

    searcher = Searcher.open(txt_index[1], settings=settings, embedder=embedder)
    yield searcher
    searcher.close()


@pytest.fixture(scope="session")
def pdf_searcher(pdf_index, embedder, settings):
    from rag import Searcher

    searcher = Searcher.open(pdf_index[1], settings=settings, embedder=embedder)
    yield searcher
    searcher.close()


def dev_questions() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def shipped_searcher(tmp_path_factory, embedder, settings):
    """The whole shipped corpus/ (every format, the scanned PDF included), as `make run` indexes it."""
    from rag import Searcher, ingest

    index = tmp_path_factory.mktemp("shipped-index")
    ingest([CORPUS], index, settings=settings, embedder=embedder)
    searcher = Searcher.open(index, settings=settings, embedder=embedder)
    yield searcher
    searcher.close()


def pytest_generate_tests(metafunc):
    """``RAG_REPEAT=N`` runs every selected test N times (scripts/stress-concurrency.sh)."""
    repeat = int(os.environ.get("RAG_REPEAT", "1"))
    if repeat > 1:
        metafunc.fixturenames.append("_repeat")
        metafunc.parametrize("_repeat", range(repeat))
