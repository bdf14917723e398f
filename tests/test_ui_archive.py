"""The archive from the interface: a report in another format, a corrupt file's reason in Vietnamese,
removing a report (with its copies) and the index following without a restart."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from .conftest import CORPUS

TXT = sorted((CORPUS / "txt").glob("*.txt"))


@pytest.fixture()
def archive(tmp_path, embedder, settings):
    from rag import Searcher, ingest
    from ui.service import SearchService

    cwd = os.getcwd()
    os.chdir(tmp_path)  # documents are keyed by path relative to the working folder, as under `rag serve`
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in TXT[:2]:
        shutil.copy(src, corpus / src.name)
    index = tmp_path / "index"
    ingest([corpus], index, settings=settings, embedder=embedder)
    uploads = tmp_path / "gradio"
    (uploads / uuid.uuid4().hex).mkdir(parents=True)
    service = SearchService(index, settings, corpus_dir=corpus,
                            searcher=Searcher.open(index, settings=settings, embedder=embedder), upload_root=uploads)
    yield service, corpus, next(uploads.iterdir())
    os.chdir(cwd)


def _ids_by_name(service) -> dict[str, int]:
    return {Path(d.path).name: d.id for d in service.searcher.retriever.documents.values()}


def test_the_same_report_in_another_format_is_said_to_be_one(archive):
    service, corpus, uploads = archive
    first = TXT[0]
    upload = uploads / (first.stem + "-ban-md.md")  # the same text, another format and file
    upload.write_text(first.read_text(encoding="utf-8") + "\n\nBản lưu.\n", encoding="utf-8")
    outcome = service.add_reports([(str(upload), upload.name)])
    assert not outcome.added and [(c.name, c.same_file) for c in outcome.copies] == [(upload.name, False)], outcome
    kind, text = outcome.messages()[0]
    assert kind == "warn" and "là một bản khác của báo cáo đã có trong kho" in text and first.name in text
    rows, _, _ = service.corpus()
    assert len(rows) == 2 and any(r.formats == ["MD", "TXT"] for r in rows), rows


def test_a_corrupt_pdf_is_refused_in_vietnamese(archive):
    service, corpus, uploads = archive
    bad = uploads / "hong.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n" + os.urandom(300))
    outcome = service.add_reports([(str(bad), bad.name)])
    assert outcome.skipped == [("hong.pdf", "corrupt")], outcome
    kind, text = outcome.messages()[0]
    assert kind == "error" and text == ("Không đọc được hong.pdf: tệp bị hỏng, không mở được. "
                                        "Tệp không được thêm vào kho.")
    assert not any(name == "hong.pdf" for name in _ids_by_name(service))


def test_removing_a_report_takes_it_and_its_copies_out_and_keeps_it_out(archive, embedder, settings):
    from rag import ingest
    from ui.service import REMOVED_FOLDER

    service, corpus, uploads = archive
    first, second = TXT[0], TXT[1]
    upload = uploads / (first.stem + ".md")
    upload.write_text(first.read_text(encoding="utf-8") + "\n\nBản lưu.\n", encoding="utf-8")
    service.add_reports([(str(upload), upload.name)])
    ids = _ids_by_name(service)
    assert set(ids) == {first.name, second.name, upload.name}
    outcome = service.remove_report(ids[first.name])
    assert outcome.message()[0] == "ok" and sorted(Path(p).name for p in outcome.removed) == sorted([first.name, upload.name])
    assert set(_ids_by_name(service)) == {second.name}            # the open index followed, no restart
    assert not (corpus / first.name).exists() and (service.index_dir / REMOVED_FOLDER / first.name).is_file()
    # `make run` ingests corpus/ again: the report stays out
    report = ingest([corpus], service.index_dir, settings=settings, embedder=embedder)
    assert not report.indexed
    service.follow_index()
    assert set(_ids_by_name(service)) == {second.name}
    assert service.remove_report(ids[first.name]).message()[0] == "error"  # already gone: said so


def test_a_file_named_and_gone_leaves_the_index(tmp_path, embedder, settings):
    from rag import Searcher, ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in TXT[:2]:
        shutil.copy(src, corpus / src.name)
    ingest([corpus], tmp_path / "index", settings=settings, embedder=embedder)
    (corpus / TXT[0].name).unlink()
    report = ingest([corpus / TXT[0].name], tmp_path / "index", settings=settings, embedder=embedder)
    assert [Path(p).name for p in report.removed] == [TXT[0].name] and not report.skipped
    searcher = Searcher.open(tmp_path / "index", settings=settings, embedder=embedder)
    assert [Path(d.path).name for d in searcher.retriever.documents.values()] == [TXT[1].name]
    searcher.close()


def test_every_skip_code_has_vietnamese_words():
    from rag.errors import SKIP_CODES
    from ui.service import SKIP_REASONS_VI

    assert set(SKIP_REASONS_VI) == set(SKIP_CODES)
    assert not any(word in text for text in SKIP_REASONS_VI.values() for word in ("file", "corrupt", "PDF has"))
