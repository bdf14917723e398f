"""Ingest progress: rate and time left per stage, the same numbers in the CLI and the interface."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace

from rag.progress import ProgressMeter, ProgressReport

from .conftest import CORPUS


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_time_left_from_the_stage_start():
    clock = Clock()
    meter = ProgressMeter(clock=clock)
    assert meter.update("embed", 0, 150).rate is None
    clock.now += 4.0
    report = meter.update("embed", 64, 150)
    assert report.rate == 16.0 and round(report.seconds_left, 3) == 5.375
    assert report.english() == "embed: 64/150 passages, 16.0/s, ~5 s left"
    assert report.vietnamese() == "Tạo vector: 64/150 đoạn · 16,0 đoạn/giây · còn khoảng 5 giây"
    clock.now += 6.0
    done = meter.update("embed", 150, 150)
    assert done.fraction == 1.0 and "còn" not in done.vietnamese() and done.rate == 15.0


def test_a_stage_that_starts_over_restarts_its_clock():
    """The second file's OCR counts its own pages from 1: its rate is not the first file's."""
    clock = Clock()
    meter = ProgressMeter(clock=clock)
    meter.update("ocr", 1, 3)
    clock.now += 10
    meter.update("ocr", 3, 3)
    clock.now += 100  # reading other files
    meter.update("ocr", 1, 2)
    clock.now += 2
    report = meter.update("ocr", 2, 2)
    assert report.rate == 0.5 and report.base == 1
    assert report.vietnamese().startswith("Nhận dạng chữ (OCR): 2/2 trang")


def test_no_rate_before_a_second_of_work():
    assert ProgressReport("read", 3, 12, 0.2).rate is None
    assert ProgressReport("read", 3, 12, 0.2).vietnamese() == "Đọc tệp: 3/12 tệp"


def test_cli_prints_lines_without_a_terminal():
    from rag.cli import PROGRESS_LINE_SECONDS, _progress_printer

    clock = Clock()
    out = io.StringIO()
    progress = _progress_printer(stream=out, clock=clock)
    progress("embed", 0, 96)
    for done in (32, 64):
        clock.now += PROGRESS_LINE_SECONDS / 2
        progress("embed", done, 96)
    clock.now += 1
    progress("embed", 96, 96)
    lines = out.getvalue().splitlines()
    # the start, the batch 5 s later, and the end (the batch 2.5 s after the start is not printed)
    assert lines == ["rag: embed: 0/96 passages", "rag: embed: 64/96 passages, 12.8/s, ~2 s left",
                     "rag: embed: 96/96 passages, 16.0/s"]


def test_ingest_reports_embedding_per_model_batch(tmp_path, embedder, settings):
    from rag import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in sorted((CORPUS / "txt").glob("*.txt"))[:2]:
        shutil.copy(src, corpus / src.name)
    calls = []
    report = ingest([corpus], tmp_path / "index", settings=replace(settings, batch_size=4), embedder=embedder,
                    progress=lambda stage, done, total: calls.append((stage, done, total)))
    embeds = [(done, total) for stage, done, total in calls if stage == "embed"]
    total = report.embedded
    assert total > 8
    assert embeds == [(0, total)] + [(min(n, total), total) for n in range(4, total + 4, 4)]
    assert [c for c in calls if c[0] == "read"] == [("read", 1, 2), ("read", 2, 2)]
