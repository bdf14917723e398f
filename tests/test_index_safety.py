"""Issue 12: one writer per index, checksummed generations, full disks, odd paths and names,
hostile files isolated per file, index opening safe under threads. Each test reproduces an
attack that worked before the fix."""

from __future__ import annotations

import ast
import errno
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag import Searcher, ingest
from rag.errors import DiskFullError, IndexBusyError, IndexCorruptError
from rag.index_dir import Manifest, current_generation, open_index
from rag.writelock import writer_lock

ROOT = Path(__file__).resolve().parent.parent
TXT = sorted((ROOT / "corpus" / "txt").glob("*.txt"))
RAG = [sys.executable, "-m", "rag.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_OCR_CACHE": "off", "PYTHONPATH": str(ROOT)}


def _rag(*args: str, cwd: Path = ROOT, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*RAG, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout, **kw)


def _corpus(tmp_path: Path, name: str, sources: list[Path]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for src in sources:
        shutil.copy(src, folder / src.name)
    return folder


@pytest.fixture()
def small_index(tmp_path, embedder, settings):
    corpus = _corpus(tmp_path, "corpus", TXT[:2])
    index = tmp_path / "index"
    ingest([corpus], index, settings=settings, embedder=embedder)
    return corpus, index


# ------------------------------------------------------------------ one writer at a time

HOLDER = """
import sys
from rag.writelock import writer_lock
with writer_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def _hold_lock(index: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(index)], env=ENV, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_ingest_process_is_told_the_index_is_busy(small_index, tmp_path):
    corpus, index = small_index
    before = current_generation(index).name
    holder = _hold_lock(index)
    try:
        shutil.copy(TXT[2], corpus / TXT[2].name)
        busy = _rag("ingest", str(corpus), "--index", str(index))
        assert busy.returncode == 4, busy.stderr
        assert f"being written by another ingest (pid {holder.pid}" in busy.stderr
        assert "Traceback" not in busy.stderr
        assert current_generation(index).name == before
        # a writer that may wait queues behind the holder and completes once it is done
        waiting = subprocess.Popen([*RAG, "ingest", str(corpus), "--index", str(index), "--wait", "-1"],
                                   cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        told = next((line for line in iter(waiting.stderr.readline, "") if "waiting" in line), "")
        assert f"being written by another ingest (pid {holder.pid}" in told
    finally:
        holder.communicate("\n", timeout=60)
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, err
    assert open_index(index).manifest.n_documents == 3


def test_two_ingest_processes_at_once_lose_nothing(tmp_path):
    first = _corpus(tmp_path, "a", TXT[:2])
    second = _corpus(tmp_path, "b", TXT[2:])
    index = tmp_path / "index"
    runs = [subprocess.Popen([*RAG, "ingest", str(folder), "--index", str(index), "--wait", "-1", "--json"],
                             cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for folder in (first, second)]
    results = [run.communicate(timeout=900) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in results]
    opened = open_index(index, verify_bytes=None)
    try:
        paths = {Path(d.path).name for d in opened.store.documents(with_text=False)}
    finally:
        opened.close()
    assert paths == {p.name for p in TXT}
    assert _rag("check", "--index", str(index)).returncode == 0


def test_the_lock_excludes_threads_of_one_process_and_says_who_holds_it(tmp_path):
    with writer_lock(tmp_path / "i"):
        with pytest.raises(IndexBusyError, match=f"pid {os.getpid()}"):
            with writer_lock(tmp_path / "i", wait=0.2):
                pass
    with writer_lock(tmp_path / "i", wait=0):  # released: free again
        pass


# ------------------------------------------------------------------ same-size damage

def _permute_ids(generation: Path) -> None:
    ids = np.load(generation / "chunk_ids.npy")
    np.save(generation / "chunk_ids.npy", ids[::-1].copy())


def _flip(path: Path, n: int = 64) -> None:
    data = bytearray(path.read_bytes())
    start = len(data) // 2
    for i in range(start, min(len(data), start + n)):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _biggest(generation: Path, pattern: str) -> Path:
    return max(generation.glob(pattern), key=lambda p: p.stat().st_size)


DAMAGES = {
    "permuted chunk ids": _permute_ids,
    "flipped FAISS rows": lambda g: _flip(g / "vectors.faiss"),
    "flipped BM25 arrays": lambda g: _flip(_biggest(g, "lexical/*.npy")),
    "flipped SQLite pages": lambda g: _flip(g / "meta.sqlite"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_same_size_damage_is_refused_with_exit_3(small_index, tmp_path, damage):
    corpus, index = small_index
    generation = current_generation(index)
    sizes = {p: p.stat().st_size for p in generation.rglob("*") if p.is_file()}
    DAMAGES[damage](generation)
    assert {p: p.stat().st_size for p in generation.rglob("*") if p.is_file()} == sizes
    with pytest.raises(IndexCorruptError, match="damaged"):
        open_index(index)
    asked = _rag("ask", "sản phẩm OCOP", "--index", str(index))
    assert asked.returncode == 3 and "rag ingest --rebuild" in asked.stderr and "Traceback" not in asked.stderr
    checked = _rag("check", "--index", str(index))
    assert checked.returncode == 3 and "Traceback" not in checked.stderr


def test_no_generation_is_derived_from_damaged_vectors(small_index, embedder, settings):
    corpus, index = small_index
    generation = current_generation(index)
    _flip(generation / "vectors.npy")
    shutil.copy(TXT[2], corpus / TXT[2].name)
    with pytest.raises(IndexCorruptError, match="vectors.npy"):
        ingest([corpus], index, settings=settings, embedder=embedder)
    assert current_generation(index) == generation
    assert not list(index.glob("gen-*.tmp"))


def test_manifest_lists_every_file_with_its_checksum(small_index):
    generation = current_generation(small_index[1])
    manifest = Manifest.read(generation)
    on_disk = {p.relative_to(generation).as_posix() for p in generation.rglob("*") if p.is_file()}
    assert set(manifest.files) == on_disk - {"manifest.json"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest.files.values())


# ------------------------------------------------------------------ a full disk

def test_a_full_disk_is_a_clear_error_and_the_index_stays_live(small_index, embedder, settings, monkeypatch):
    corpus, index = small_index
    before = current_generation(index)
    shutil.copy(TXT[2], corpus / TXT[2].name)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("rag.index_dir.np.save", full)
    with pytest.raises(DiskFullError, match="disk full"):
        ingest([corpus], index, settings=settings, embedder=embedder)
    assert current_generation(index) == before and not list(index.glob("gen-*.tmp"))
    assert open_index(index).manifest.n_documents == 2


def _mount_tmpfs(target: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    target.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                          capture_output=True).returncode == 0


def test_a_really_full_disk_exits_5_without_a_traceback(tmp_path, embedder, settings):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("needs root and tmpfs to make a small disk (CI runs as root)")
    try:
        corpus = _corpus(tmp_path, "corpus", TXT[:1])
        index = disk / "index"
        ingest([corpus], index, settings=settings, embedder=embedder)
        before = current_generation(index)
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(0, free - 8192))
        shutil.copy(TXT[1], corpus / TXT[1].name)
        full = _rag("ingest", str(corpus), "--index", str(index))
        assert full.returncode == 5, full.stderr
        assert "disk full" in full.stderr and "Traceback" not in full.stderr
        assert current_generation(index) == before
        (disk / "filler").unlink()
        assert open_index(index, verify_bytes=None).manifest.n_documents == 1
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# ------------------------------------------------------------------ odd paths and names

def test_an_index_path_with_hash_and_question_mark_stays_inside_it(tmp_path, embedder, settings):
    corpus = _corpus(tmp_path, "corpus", TXT[:1])
    index = tmp_path / "kho#1?mode=rw"
    ingest([corpus], index, settings=settings, embedder=embedder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "kho#1?mode=rw"]
    searcher = Searcher.open(index, embedder=embedder, settings=settings)
    try:
        assert searcher.index.store.count_documents() == 1
    finally:
        searcher.close()


def test_hostile_names_links_and_special_files_are_listed_escaped_and_never_read(tmp_path):
    corpus = _corpus(tmp_path, "corpus", TXT[:1])
    secret = tmp_path / "secret.txt"
    secret.write_text("MẬT KHẨU MÁY CHỦ: hunter2", encoding="utf-8")
    (corpus / "link.txt").symlink_to(secret)
    os.mkfifo(corpus / "pipe.txt")
    (corpus / ".an.txt").write_text("ẩn", encoding="utf-8")
    (corpus / ".git").mkdir()
    (corpus / "bad\nskipped: quan-hoa.pdf: encrypted PDF\x1b[2J.bin").write_bytes(b"x")
    done = _rag("ingest", str(corpus), "--index", str(tmp_path / "index"), "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    skips = [line for line in lines if line.startswith("skipped: ")]
    assert len(skips) == 5, lines
    assert not any(line.startswith("skipped: quan-hoa.pdf") for line in lines)
    assert "\x1b" not in done.stderr and "bad\\nskipped: quan-hoa.pdf: encrypted PDF\\x1b[2J.bin" in done.stderr
    reasons = " ".join(skips)
    for expected in ("link.txt: symbolic link to a file outside", "pipe.txt: not a regular file",
                     ".an.txt: hidden file", ".git: hidden folder"):
        assert expected in reasons
    opened = open_index(tmp_path / "index")
    try:
        texts = " ".join(d.text for d in opened.store.documents())
    finally:
        opened.close()
    assert "hunter2" not in texts and opened.manifest.n_documents == 1


# ------------------------------------------------------------------ one bad file, not the run

def test_an_unexpected_error_in_one_file_skips_it_and_indexes_the_rest(tmp_path, embedder, settings, monkeypatch):
    import rag.indexer

    corpus = _corpus(tmp_path, "corpus", TXT[:3])
    real = rag.indexer.extract_metadata
    victim = TXT[1].read_text(encoding="utf-8")[:200]

    def explode(text: str):
        if text.startswith(victim):
            raise ValueError("invalid literal for int() with base 10: '10³'")
        return real(text)

    monkeypatch.setattr(rag.indexer, "extract_metadata", explode)
    report = ingest([corpus], tmp_path / "index", settings=settings, embedder=embedder)
    assert len(report.indexed) == 2
    assert [Path(s.path).name for s in report.skipped] == [TXT[1].name]
    assert "unexpected ValueError" in report.skipped[0].reason


def test_superscripts_and_circled_digits_neither_stop_an_ingest_nor_a_question(tmp_path, embedder, settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "che-pham.txt").write_text(
        "UBND TỈNH QUẢNG NINH\nBÁO CÁO\nKết quả ứng dụng chế phẩm vi sinh năm 2023\n"
        "① Chế phẩm đạt mật độ 10⁸ CFU/g, thử nghiệm trên 10³ m² tại huyện Ba Chẽ.\n"
        "② Có 05 sản phẩm OCOP được công nhận.\n", encoding="utf-8")
    report = ingest([corpus], tmp_path / "index", settings=settings, embedder=embedder)
    assert report.skipped == [] and len(report.indexed) == 1
    searcher = Searcher.open(tmp_path / "index", embedder=embedder, settings=settings)
    try:
        answer = searcher.ask("mật độ 10⁸ CFU/g ① bao nhiêu sản phẩm OCOP ở 10³ m²?")
        assert answer.passages and "10⁸ CFU/g" in answer.passages[0].text
        assert searcher.ask("chế phẩm \ud800 vi sinh \x00 ٣ sao").passages  # lone surrogate, NUL
    finally:
        searcher.close()


# ------------------------------------------------------------------ opening under threads

def test_index_files_are_never_parsed_by_two_threads_at_once(small_index, monkeypatch):
    """CPython 3.11.7 fails ('AST constructor recursion depth mismatch') when threads parse at
    once, and NumPy parses each .npy header with ast.literal_eval: count overlapping calls."""
    _, index = small_index
    real = ast.literal_eval
    inside, overlaps = [0], []
    guard = threading.Lock()

    def watched(node_or_string):
        with guard:
            inside[0] += 1
            if inside[0] > 1:
                overlaps.append(inside[0])
        time.sleep(0.002)  # widen the window in which a second parser would overlap
        try:
            return real(node_or_string)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(ast, "literal_eval", watched)
    errors: list[str] = []

    def reader() -> None:
        for _ in range(15):
            try:
                open_index(index).close()
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and overlaps == []
