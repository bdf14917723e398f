"""Progress of an ingest: how far each stage is, how fast it goes and how long is left.

The indexer calls ``progress(stage, done, total)`` (stages: ``read`` files, ``ocr`` pages,
``embed`` passages). ``ProgressMeter`` turns those calls into ``ProgressReport`` records with a
rate and an estimate of the time left; the CLI prints them (English, stderr) and the interface
shows them (Vietnamese), so both say the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

ProgressCallback = Callable[[str, int, int], None]
UNITS_EN = {"read": "files", "ocr": "pages", "embed": "passages"}
UNITS_VI = {"read": "tệp", "ocr": "trang", "embed": "đoạn"}
LABELS_VI = {"read": "Đọc tệp", "ocr": "Nhận dạng chữ (OCR)", "embed": "Tạo vector"}
# a rate from under this many seconds of work is noise (the first batch also loads the model)
MIN_SECONDS_FOR_RATE = 1.0


@dataclass(frozen=True)
class ProgressReport:
    """One stage's progress: ``done`` of ``total`` units after ``elapsed`` seconds."""

    stage: str
    done: int
    total: int
    elapsed: float
    base: int = 0  # units already done when the clock started

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    @property
    def rate(self) -> float | None:
        """Units per second, once there is enough to measure."""
        if self.done <= self.base or self.elapsed < MIN_SECONDS_FOR_RATE:
            return None
        return (self.done - self.base) / self.elapsed

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate
        return None if rate is None else max(0.0, (self.total - self.done) / rate)

    def english(self) -> str:
        """``embed: 64/150 passages, 12.3/s, ~7 s left``."""
        text = f"{self.stage}: {self.done}/{self.total} {UNITS_EN.get(self.stage, 'items')}"
        if self.rate is not None:
            text += f", {self.rate:.1f}/s"
        if self.seconds_left is not None and self.done < self.total:
            text += f", ~{_duration_en(self.seconds_left)} left"
        return text

    def vietnamese(self) -> str:
        """``Tạo vector: 64/150 đoạn · 12,3 đoạn/giây · còn khoảng 7 giây``."""
        unit = UNITS_VI.get(self.stage, "mục")
        text = f"{LABELS_VI.get(self.stage, self.stage)}: {self.done}/{self.total} {unit}"
        if self.rate is not None:
            text += f" · {self.rate:.1f}".replace(".", ",") + f" {unit}/giây"
        if self.seconds_left is not None and self.done < self.total:
            text += f" · còn khoảng {_duration_vi(self.seconds_left)}"
        return text


@dataclass
class ProgressMeter:
    """Times each stage from its first call: the rate counts the units done since then. A stage
    that starts over (the next file's OCR, a count going back) restarts its clock."""

    clock: Callable[[], float] = time.monotonic
    _start: dict[str, tuple[float, int]] = field(default_factory=dict)  # stage -> (time, units done then)
    _last: dict[str, int] = field(default_factory=dict)

    def update(self, stage: str, done: int, total: int) -> ProgressReport:
        now = self.clock()
        if stage not in self._start or done < self._last[stage]:
            self._start[stage] = (now, done)
        self._last[stage] = done
        started, base = self._start[stage]
        return ProgressReport(stage, done, total, now - started, base)


def _duration_en(seconds: float) -> str:
    s = round(seconds)
    return f"{s} s" if s < 90 else f"{round(s / 60)} min"


def _duration_vi(seconds: float) -> str:
    s = round(seconds)
    return f"{s} giây" if s < 90 else f"{round(s / 60)} phút"
