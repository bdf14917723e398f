"""Vietnam's provinces before and after the 2025 merger: 63 former units, 34 current ones.

The data (``rag/data/provinces-2025.json``) is Article 1 of Nghị quyết 202/2025/QH15 of the
National Assembly: adopted and in force on 12 June 2025, the merged provinces' governments at
work from 1 July 2025. 11 units kept their territory, 52 were merged into 23 new ones, each
named after one of its members. Checked against the resolution's text and reports of it; the
pages are listed under ``"source"`` in the JSON.

Archives file reports under the former names; this module says where each one is now.
Names are compared by ``vntext.match_key`` (NFC, tone-mark placement, case, apostrophes) with
accents folded (``hoa binh`` == ``Hòa Bình``) and dashes read as spaces; a leading ``tỉnh``,
``thành phố`` or ``TP.`` and a trailing ``cũ``/``mới`` are dropped when the full name is unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib.resources import files
from typing import Iterable

from .vntext import fold, match_key

__all__ = ["DISTRICT_LEVEL_ENDED", "MERGER_YEAR", "Province", "all_provinces", "covers", "current_province", "former_names",
           "merge_note", "province_record", "same_province_now"]

# Local government has two levels (tỉnh, xã/phường) since this day: the huyện/quận/thị xã level
# ended with the merger, so reports dated earlier name districts and later ones do not.
DISTRICT_LEVEL_ENDED = date(2025, 7, 1)
MERGER_YEAR = 2025  # figures of this year and earlier are reported under the former provinces

_DASHES = re.compile(r"[-‐‑‒–—−]")
_PREFIX = re.compile(r"^(?:tinh|thanh pho|tp|t\.p)\b\.?\s*")  # on folded keys
_SUFFIX = re.compile(r"\s*\(?\b(?:cu|moi)\)?$")  # "Hà Nam cũ", "Ninh Bình (mới)"


@dataclass(frozen=True)
class Province:
    """One of the 34 current provinces and the former provinces it was formed from."""

    current: str
    kind: str  # "tỉnh" or "thành phố"
    former: tuple[str, ...]  # its own name first when that name continued


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads((files("rag") / "data" / "provinces-2025.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def all_provinces() -> tuple[Province, ...]:
    """The 34 current provinces in the resolution's order (the 11 unchanged first)."""
    return tuple(Province(p["current"], p["kind"], tuple(p["former"])) for p in _data()["provinces"])


def _key(name: str) -> str:
    """Comparison form of a name: match_key, accents folded, dashes as spaces."""
    return " ".join(fold(match_key(_DASHES.sub(" ", name))).split())


def _candidates(name: str) -> tuple[str, str, str]:
    """The name's key as written, without its unit word, and without a trailing cũ/mới too."""
    key = _key(name)
    bare = _PREFIX.sub("", key, count=1)
    return key, bare, _SUFFIX.sub("", bare)


@lru_cache(maxsize=1)
def _former_by_key() -> dict[str, str]:
    """Key of every former name and alias -> that former province's name."""
    index = {_key(f): f for p in all_provinces() for f in p.former}
    return index | {_key(a): f for a, f in _data()["aliases"].items() if _key(a) not in index}


@lru_cache(maxsize=1)
def _record_of() -> dict[str, Province]:
    return {f: p for p in all_provinces() for f in p.former}


@lru_cache(maxsize=4096)  # list answers ask it once per row, of a few dozen names
def _former(name: str) -> str | None:
    """The former province ``name`` denotes, spelt as in the data; None when unknown."""
    index = _former_by_key()
    return next((index[k] for k in _candidates(name) if k in index), None)


def province_record(name: str) -> Province | None:
    """The current province a former or current province name belongs to now."""
    former = _former(name)
    return _record_of()[former] if former else None


def current_province(name: str) -> str | None:
    """Current name for a former or current province name (``Hà Nam`` -> ``Ninh Bình``); None when unknown."""
    record = province_record(name)
    return record.current if record else None


def former_names(current: str) -> tuple[str, ...]:
    """The former provinces merged into ``current`` (itself first when its name continued); () if not current."""
    record = province_record(current)
    return record.former if record and _former(current) == record.current else ()


def same_province_now(a: str, b: str) -> bool:
    """Whether two province names are one province today; unknown names compare by their keys."""
    ca, cb = current_province(a), current_province(b)
    return ca == cb if ca and cb else _candidates(a)[1] == _candidates(b)[1]


def covers(asked: str, province: str, years: Iterable[int] = ()) -> bool:
    """Whether a question or filter naming province ``asked`` covers a report filed under ``province``.

    The same province, always. A report of a province merged into ``asked`` only when ``asked`` is a
    current province and the question is not about years before the merger only: "Phú Thọ" in a
    question about 2023 is the Phú Thọ of 2023 (Hòa Bình was another province then); "Phú Thọ" with
    no year, or from 2026, includes the reports of Hòa Bình and Vĩnh Phúc. A former name that did not
    continue ("Hòa Bình") covers its own reports only."""
    if _candidates(asked)[1] == _candidates(province)[1] or _former(asked) == _former(province) is not None:
        return True
    years = tuple(years)
    if years and max(years) < MERGER_YEAR + 1:
        return False
    return bool(former_names(asked)) and same_province_now(asked, province)


def merge_note(province: str) -> str:
    """``"Hà Nam cũ, nay thuộc Ninh Bình"``; "" when the name still exists (or is unknown)."""
    former = _former(province)
    current = _record_of()[former].current if former else former
    return "" if former == current else f"{former} cũ, nay thuộc {current}"
