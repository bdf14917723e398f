"""Is a question Vietnamese? Diacritics say yes; without them, Vietnamese spelling decides.

Staff type Vietnamese without diacritics (``so luong nhan hieu tap the``), so "no diacritics"
does not mean English. Every Vietnamese syllable, accents folded, is an onset (``b``, ``ch``,
``ngh``, ``qu`` …) followed by a rhyme from a closed set (``a``, ``oai``, ``uong`` …); most
English words are not (``what``, ``products``, ``does``, ``many``). A question is Vietnamese
unless a clear share of its words cannot be Vietnamese syllables.

Measured on the text this project has (2026-12-01): every one of the 1,517 alqac2023 articles,
the 181 alqac2023 questions, the dev questions and their unaccented copies, and the generated
archive's questions is Vietnamese by this rule; every English dev question is not
(tests/test_language.py).
"""

from __future__ import annotations

import re

from .vntext import fold, has_diacritics

_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
           "b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
# the rhymes of Vietnamese, accents folded (ă, â -> a; ê -> e; ô, ơ -> o; ư -> u)
_NUCLEI = ("a", "e", "i", "o", "u", "y", "ai", "ao", "au", "ay", "eo", "eu", "ia", "ie", "iu", "oa", "oe",
           "oi", "ua", "ue", "ui", "uo", "uu", "uy", "ya", "ye", "ieu", "oai", "oay", "oao", "oeo", "uay",
           "uoi", "uou", "uya", "uye", "uyu", "yeu", "ueu", "uai", "uao")
_CODAS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")
_RHYME = re.compile(r"^(?:%s)(?:%s)$" % ("|".join(sorted(_NUCLEI, key=len, reverse=True)),
                                         "|".join(sorted(_CODAS, key=len, reverse=True))))
# a question with at least this share of non-Vietnamese words (and at least two of them) is foreign:
# the English dev questions run 0.6-1.0; 451 Vietnamese questions (dev, alqac2023, generated, lists)
# with their diacritics folded away run 0-0.2 (loanwords; acronyms in capitals do not vote)
FOREIGN_SHARE = 0.34


def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` (lower case, accents folded) is spelt like a Vietnamese syllable."""
    for onset in _ONSETS:
        if word.startswith(onset) and _RHYME.match(word[len(onset):]):
            return True
    return False


def is_vietnamese(text: str) -> bool:
    """Whether ``text`` is Vietnamese: it has Vietnamese diacritics, or most of its words could be
    Vietnamese syllables. Words in capitals (acronyms: OCOP, KH&CN) and one-letter words do not vote."""
    if has_diacritics(text):
        return True
    words = [fold(w) for w in re.findall(r"[^\W\d_]+", text) if len(w) > 1 and not w.isupper()]
    if not words:
        return True
    foreign = sum(not is_vietnamese_syllable(w) for w in words)
    return not (foreign >= 2 and foreign / len(words) >= FOREIGN_SHARE)
