"""Reliability: hostile and odd files, killed ingests, readers during an ingest."""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.pdf_bytes import write_pdf
from rag import Searcher, ingest
from rag.errors import UnreadableFileError
from rag.index_dir import current_generation, open_index
from rag.loading import SUPPORTED_SUFFIXES, load_document

ROOT = Path(__file__).resolve().parent.parent
TXT = sorted((ROOT / "corpus" / "txt").glob("*.txt"))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_fuzz_loaders_never_crash(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        doc = load_document(path)
    except UnreadableFileError as exc:
        assert str(path) in str(exc) and exc.reason
    else:
        assert isinstance(doc.text, str) and doc.text


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=20000), flips=st.lists(st.integers(0, 20000), max_size=8))
def test_fuzz_damaged_real_pdf_and_docx(tmp_path, cut, flips):
    for src in (ROOT / "corpus/pdf/quan-hoa-2024-de-an-khcn.pdf", ROOT / "corpus/docx/quan-hoa-2024-de-an-khcn.docx"):
        data = bytearray(src.read_bytes())
        for i in flips:
            data[i % len(data)] ^= 0xFF
        path = tmp_path / f"damaged{src.suffix}"
        path.write_bytes(bytes(data[: max(1, len(data) - cut)]))
        try:
            load_document(path)
        except UnreadableFileError:
            pass


def _deflate_bomb_pdf(path: Path, inflated_mb: int = 200) -> None:
    """A small PDF whose page content stream inflates to ``inflated_mb`` MB."""
    comp = zlib.compressobj(9)
    chunk = b"0 0 m\n" * (1 << 17)
    body = b"".join(comp.compress(chunk) for _ in range(inflated_mb * (1 << 20) // len(chunk))) + comp.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"]
    write_pdf(path, objects)


def test_pdf_bomb_and_huge_page_count_stay_within_memory(tmp_path):
    from pypdf import PdfWriter

    bomb = tmp_path / "bomb.pdf"
    _deflate_bomb_pdf(bomb)
    assert bomb.stat().st_size < 2_000_000
    many = tmp_path / "5000-pages.pdf"
    writer = PdfWriter()
    for _ in range(5000):
        writer.add_blank_page(width=595, height=842)
    with open(many, "wb") as fh:
        writer.write(fh)
    # a real report first: what reading any PDF imports and caches (decoders, OCR probing) is not
    # the bomb's growth (run alone, the imports alone came to ~435 MB)
    load_document(sorted((ROOT / "corpus" / "pdf").glob("*.pdf"))[0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UnreadableFileError, match="page 1 inflates beyond 16 MB"):
        load_document(bomb)  # not rendered for OCR either (pdfium would inflate all of it)
    with pytest.raises(UnreadableFileError):
        load_document(many)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 400, f"peak memory grew by {grown_mb:.0f} MB"


def test_symlink_loop_and_many_small_files(tmp_path, settings):
    """A folder with a symlink loop and 2,000 small files (tiny model, so it stays quick)."""
    from dataclasses import replace

    from tests.tiny_model import build_tiny_model

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    for i in range(2000):
        (corpus / f"tin-{i:05d}.txt").write_text(f"Huyện số {i} có {i % 7} sản phẩm OCOP đạt 3 sao năm 2023.\n",
                                                  encoding="utf-8")
    model = build_tiny_model(tmp_path / "m", ["Huyện số có sản phẩm OCOP đạt sao năm"])
    report = ingest([corpus], tmp_path / "i", settings=replace(settings, model=str(model)))
    assert len(report.indexed) == 2000 and report.n_documents == 2000
    assert [Path(s.path).name for s in report.skipped] == ["dangling.txt"]


def _ingest_cmd(corpus: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--index", str(index)]


def test_sigkill_during_ingest_leaves_the_previous_index(tmp_path, embedder, settings):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for src in TXT[:2]:
        shutil.copy(src, corpus / src.name)
    index = tmp_path / "i"
    ingest([corpus], index, settings=settings, embedder=embedder)
    searcher = Searcher.open(index, embedder=embedder)
    expected = [p.text for p in searcher.ask("quan hoa co bao nhieu san pham ocop").passages]
    searcher.close()
    # a larger batch of new files, so the run spends seconds embedding and publishing
    for n in range(12):
        for src in TXT[2:]:
            text = src.read_text(encoding="utf-8").replace("năm", f"năm (bản {n})", 3)
            (corpus / f"{src.stem}-{n}.txt").write_text(text, encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    rng = random.Random(7)
    for delay in sorted(rng.uniform(4, 25) for _ in range(3)):
        proc = subprocess.Popen(_ingest_cmd(corpus, index), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        searcher = Searcher.open(index, embedder=embedder)  # opens and answers: old or new generation
        got = searcher.ask("quan hoa co bao nhieu san pham ocop")
        n_docs = searcher.index.manifest.n_documents
        assert n_docs in (2, 2 + 12 * len(TXT[2:])), n_docs  # the old index or the whole new one, never a mix
        if n_docs == 2:
            assert got.found and got.passages[0].text == expected[0]
        else:
            assert got.found
        searcher.close()
    final = subprocess.run(_ingest_cmd(corpus, index), env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert final.returncode == 0, final.stderr
    index_now = open_index(index)
    assert index_now.manifest.n_documents == 2 + 12 * len(TXT[2:])
    index_now.close()
    assert not list(index.glob("*.tmp"))


def test_readers_during_an_ingest_see_a_whole_index(tmp_path, embedder, settings):
    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(TXT[0], corpus / TXT[0].name)
    index = tmp_path / "i"
    ingest([corpus], index, settings=settings, embedder=embedder)
    errors: list[str] = []
    seen_generations: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                opened = open_index(index)
                n = len(opened.chunk_ids)
                assert n == opened.vectors.size == opened.manifest.n_chunks
                assert opened.store.db.execute("SELECT count(*) FROM documents").fetchone()[0] == \
                    opened.manifest.n_documents
                seen_generations.add(opened.directory.name)
                opened.close()
            except Exception as exc:  # noqa: BLE001 - any error is a failure of the guarantee
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for src in TXT[1:]:
        shutil.copy(src, corpus / src.name)
        ingest([corpus], index, settings=settings, embedder=embedder)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen_generations) >= 2 and current_generation(index).name in seen_generations | {current_generation(index).name}
