"""Vietnamese text handling: NFC, tone-mark placement, accent folding, tokens.

Everything that decides whether two Vietnamese strings "are the same" lives here,
so the lexical index, the metadata extractor and the evaluation agree.

- ``nfc``: Unicode NFC plus whitespace clean-up (non-breaking and doubled spaces).
- ``canonical_tones``: puts the tone mark of ``oa``/``oe``/``uy`` syllables on the
  same vowel whatever the writer's habit, so ``Hoá`` == ``Hóa`` and ``thuỷ`` == ``thủy``.
- ``fold``: strips every diacritic and maps ``đ`` to ``d`` (``Quan Hoá`` -> ``quan hoa``).
- ``syllables`` / ``lexical_tokens``: the tokens the BM25 index is built from.
- ``is_number``: what counts as a number: ASCII digits 0-9 only (see there).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SYLLABLE = re.compile(r"[^\W\d_]+", re.UNICODE)


def nfc(text: str) -> str:
    """NFC-normalise and collapse runs of spaces/tabs/NBSP into one space (newlines kept)."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = _SPACES.sub(" ", text)
    return re.sub(r" *\n *", "\n", text)


def is_number(token: str) -> bool:
    """Whether ``token`` is a whole number written in ASCII digits 0-9, the only digits reports use.

    ``str.isdigit`` also accepts superscripts (``10³`` is ten cubed), circled numbers (``①``) and
    other scripts' digits (``٣``); ``int()`` rejects some of them and none of them is a count.
    Patterns that read numbers say ``[0-9]``, not ``\\d``, for the same reason.
    """
    return token.isascii() and token.isdigit()


def collapse_whitespace(text: str) -> str:
    """One line, single spaces: the form evidence strings are compared in."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@lru_cache(maxsize=1 << 16)
def _syllable_canonical_tones(syl: str) -> str:
    """Move the tone mark of an open ``oa``/``oe``/``uy`` syllable onto the second vowel.

    Old style writes ``hòa``, ``thủy``; new style ``hoà``, ``thuỷ``. We pick the
    new style (mark on the second vowel) as canonical. ``qu`` + ``y`` is already
    unambiguous (``quý``) and syllables with a final consonant (``hoàn``) are untouched.
    """
    decomposed = unicodedata.normalize("NFD", syl)
    tone = next((c for c in decomposed if c in _TONE_MARKS), None)
    if tone is None:
        return syl
    bare = decomposed.replace(tone, "")
    low = bare.lower()
    for pair in ("oa", "oe", "uy"):
        if low.endswith(pair) and not (pair == "uy" and low.endswith("quy")):
            # second vowel is the last character (no combining marks on o/a/e/u/y here
            # except possibly a circumflex/breve, which NFD keeps after the letter)
            rebuilt = bare + tone
            return unicodedata.normalize("NFC", rebuilt)
    return syl


def canonical_tones(text: str) -> str:
    """``text`` with tone-mark placement made uniform (see ``_syllable_canonical_tones``)."""
    text = unicodedata.normalize("NFC", text)
    return _SYLLABLE.sub(lambda m: _syllable_canonical_tones(m.group(0)), text)


def _strip_marks(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


# every precomposed Latin letter (Vietnamese included) -> its letters without marks
_FOLD_TABLE = {cp: _strip_marks(chr(cp)) for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
               if _strip_marks(chr(cp)) != chr(cp).lower()}
# apostrophes inside names ("Cư M’gar", "Ea H'leo") are typed every way: compare them as one
_APOSTROPHES = {ord(c): "'" for c in "’‘ʼ`´"}
_FOLD_TABLE.update(_APOSTROPHES)

# One rule for a place name after its unit word ("huyện Cư M'gar", "thị xã Buôn Hồ", "huyện Krông
# A Na"): up to three words, a word being letters with inner apostrophes or hyphens. Used by the
# metadata reader, the list reader and the question parser alike.
NAME_WORD = r"[^\W\d_]+(?:['’‘ʼ-][^\W\d_]+)*"
PLACE_NAME = rf"({NAME_WORD}(?:[ ]{NAME_WORD}){{0,2}})"


def fold(text: str) -> str:
    """Lower-case and remove all Vietnamese diacritics; ``đ``/``Đ`` become ``d``."""
    quick = unicodedata.normalize("NFC", text).lower().translate(_FOLD_TABLE)
    return quick if quick.isascii() else _strip_marks(quick)  # other scripts, stray combining marks


@lru_cache(maxsize=1 << 16)
def fold_word(word: str) -> str:
    """``fold`` of one syllable or word, memoised: an archive has a few thousand distinct
    syllables, and tokenising it folds each of them millions of times."""
    return fold(word)


def has_diacritics(text: str) -> bool:
    """True when ``text`` carries any Vietnamese diacritic (used to tell typed-without-accents queries)."""
    return fold(text) != text.lower()


def match_key(text: str) -> str:
    """Comparison key: NFC, canonical tones, lower-case, single spaces."""
    return collapse_whitespace(canonical_tones(text)).lower().translate(_APOSTROPHES)


def syllables(text: str) -> list[str]:
    """Lower-cased syllables with canonical tone placement.

    Numbers keep their internal separators (``278,71``, ``3690/KH-UBND`` splits at ``/``
    and ``-``), zero-padded counts become plain (``05`` -> ``5``).
    """
    out: list[str] = []
    for raw in re.findall(r"\w+(?:[.,][0-9]+)*", canonical_tones(text).lower(), re.UNICODE):
        if is_number(raw):
            raw = raw.lstrip("0") or "0"
        out.append(raw)
    return [s for s in out if s != "_"]


# "một" (also "a", as in "Mỗi xã một sản phẩm") and "tư" ("đầu tư") are left out: too ambiguous.
NUMBER_WORDS = {
    "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7,
    "tám": 8, "chín": 9, "mười": 10,
}
# Number words count as numbers only before a counted noun (``ba sao``, ``bốn sản phẩm``),
# because ``ba``/``năm`` are also ordinary syllables (``Ba Chẽ``, ``năm 2024``).
_COUNTED = {"sao", "sản", "nhiệm", "mô", "doanh", "lớp", "dự", "hộ", "xã", "huyện", "cơ", "đề",
            "nhãn", "hợp", "tổ", "người", "đơn", "sáng", "chương", "đề", "hội", "cuộc", "văn", "tỷ", "triệu"}


_UNITS = {"một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7,
          "bẩy": 7, "tám": 8, "chín": 9}


def read_number_words(tokens: list[str], i: int) -> tuple[int, int] | None:
    """(value, tokens used) of a spelled-out number starting at ``tokens[i]``.

    ``mười sáu`` -> 16, ``hai mươi mốt`` -> 21, ``một`` -> 1. Only what counts need (< 100).
    """
    tok = tokens[i] if i < len(tokens) else ""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok == "mười":
        if nxt in _UNITS and nxt not in ("một", "tư", "mốt"):
            return 10 + _UNITS[nxt], 2
        return 10, 1
    if tok in _UNITS and tok not in ("mốt", "lăm", "tư"):
        if nxt == "mươi":
            after = tokens[i + 2] if i + 2 < len(tokens) else ""
            if after in _UNITS:
                return _UNITS[tok] * 10 + _UNITS[after], 3
            return _UNITS[tok] * 10, 2
        return _UNITS[tok], 1
    return None


def number_value(tokens: list[str], i: int) -> int | None:
    """Integer value of ``tokens[i]`` if it is a count (digits, or a number word before a counted noun)."""
    tok = tokens[i]
    if is_number(tok):
        return int(tok)
    if tok in NUMBER_WORDS and i + 1 < len(tokens):
        nxt = tokens[i + 1]
        if nxt in _COUNTED or is_number(nxt):
            return NUMBER_WORDS[tok]
    return None


def lexical_tokens(text: str, scheme: str = "syllable+bigram") -> list[str]:
    """Tokens for the BM25 index and queries.

    Every syllable yields its accent-folded form (so unaccented queries match), and,
    when it has diacritics, its accented form too (so accented queries are sharper).
    Number words before a counted noun also yield their digits (``bốn sao`` -> ``4``).
    ``scheme`` ``syllable+bigram`` adds folded syllable bigrams (``quan_hoa``), which
    stand in for Vietnamese two-syllable words without a word segmenter.
    """
    if scheme not in ("syllable", "syllable+bigram"):
        raise ValueError(f"unknown lexical scheme {scheme!r}; use 'syllable' or 'syllable+bigram'")
    syls = syllables(text)
    folded = [fold_word(s) for s in syls]
    out: list[str] = []
    for i, (s, f) in enumerate(zip(syls, folded)):
        out.append(f)
        if s != f:
            out.append(s)
        value = number_value(syls, i)
        if value is not None and not is_number(s):
            out.append(str(value))
    if scheme == "syllable+bigram":
        out.extend(f"{a}_{b}" for a, b in zip(folded, folded[1:]))
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"“(]?[^\W\d_]*[A-ZĐ\u00C0-\u00DD\u1EA0-\u1EF8][^\W\d_]*|[0-9+-])|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (split after ``.!?`` before a capital, and at newlines)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def quantity_phrases(text: str) -> set[str]:
    """Counted quantities as ``"<number> <unit syllable>"`` (folded): ``05 sản phẩm`` -> ``5 san``, ``bốn sao`` -> ``4 sao``.

    A question asking about "OCOP 5 sao" is only answered by a passage that states "5 sao".
    """
    syls = syllables(text)
    out: set[str] = set()
    for i in range(len(syls) - 1):
        value = number_value(syls, i)
        if value is None or value >= 1000 or (i and syls[i - 1] in _NOT_COUNT_BEFORE):
            continue
        nxt = syls[i + 1]
        if is_number(nxt):
            if int(nxt) == value and i + 2 < len(syls):  # "ba (03) sao"
                out.add(f"{value} {fold(syls[i + 2])}")
            continue
        out.add(f"{value} {fold(nxt)}")
    return out


_NOT_COUNT_BEFORE = {"năm", "ngày", "tháng", "số", "đoạn", "khoá", "khóa", "lần", "điều", "mục", "quý"}
