"""Query understanding: which places and years a question names, and whether it asks for a count.

Used twice: retrieval boosts passages of documents about the named place and year
(a district's report from the right year should come first), and the answer is
"not found" when no returned passage is about the place and year asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vntext import PLACE_NAME, fold, has_diacritics

_QUANTITY_CUES = ("bao nhieu", "so luong", "how many", "number of", "tong so", "may san pham")
_UNIT_WORD = re.compile(r"\b(huyen|tinh|thi xa|district|province)\s+([a-z]+(?:'[a-z]+)?(?:\s+[a-z]+(?:'[a-z]+)?)?)")
_STOP_AFTER_UNIT = {"co", "nao", "cua", "o", "tai", "nhung", "cac", "da", "duoc", "la", "va", "trong", "nam", "bo", "dat", "thuc", "has", "have", "had",
                    "in", "of", "did", "do", "does", "the"}
_UNIT_WORD_ACCENTED = re.compile(r"\b(?:huyện|Huyện|tỉnh|Tỉnh|thị xã|Thị xã)\s+" + PLACE_NAME)
_YEAR = re.compile(r"\b(19[5-9][0-9]|20[0-9][0-9])\b")


@dataclass(frozen=True)
class QueryScope:
    """Places (folded names) and years a question is about."""

    places: tuple[str, ...]
    years: tuple[int, ...]

    def is_empty(self) -> bool:
        return not self.places and not self.years


def asks_quantity(question: str) -> bool:
    """Whether the question asks for a count ("bao nhiêu", "số lượng", "how many")."""
    folded = " " + " ".join(fold(question).split()) + " "
    return any(f" {cue} " in folded for cue in _QUANTITY_CUES)


def query_scope(question: str, known_places: set[str]) -> QueryScope:
    """Places named in ``question``: archive places found in it, and any ``huyện X Y``/``tỉnh X`` phrase."""
    folded = " " + " ".join(re.sub(r"[^\w\s']", " ", fold(question)).split()) + " "
    places: list[str] = [p for p in sorted(known_places, key=len, reverse=True) if f" {p} " in folded]
    for name in _unit_phrases(question):
        if name and not any(name in p or p in name for p in places) and name not in _STOP_AFTER_UNIT:
            places.append(name)
    # a province named without "tỉnh" ("ở Quảng Ninh") is a place too
    years = tuple(sorted({int(y) for y in _YEAR.findall(folded)}))
    return QueryScope(tuple(dict.fromkeys(places)), years)


def _unit_phrases(question: str) -> list[str]:
    """Folded names after ``huyện``/``tỉnh``/``thị xã``: capitalised words when the question is accented
    (``huyện Bảo Thắng có`` -> ``bao thang``), else up to two words that are not function words."""
    if has_diacritics(question):
        out = []
        for m in _UNIT_WORD_ACCENTED.finditer(question):
            words = []
            for w in m.group(1).split():
                if not w[:1].isupper():
                    break
                words.append(w)
            if words:
                out.append(fold(" ".join(words)))
        return out
    folded = " ".join(re.sub(r"[^\w\s']", " ", fold(question)).split())
    out = []
    for m in _UNIT_WORD.finditer(folded):
        words = m.group(2).split()
        while words and words[-1] in _STOP_AFTER_UNIT:
            words.pop()
        if words and words[0] not in _STOP_AFTER_UNIT:
            out.append(" ".join(words))
    return out
