"""Diacritics put back into a question typed without them, from the archive's own words.

``quan hoa co bao nhieu san pham ocop`` matches lexically (the BM25 tokens are folded), but the
embedding model reads unaccented Vietnamese poorly: dense retrieval over the five reports finds
the evidence in the top 5 for 57.7 % of the unaccented dev questions as typed and for 100 % once
restored (generated archive: 82.5 % -> 92.1 %; docs/evaluation.md). The archive says how its
words are written: for each folded syllable, the accented forms that occur, how often each pair
of neighbouring forms occurs, and how often each is written in capitals. The restored
question is the most likely sequence under that bigram model (Viterbi), so ``quan hoa`` becomes
``quan hoá`` when the reports write ``Quan Hoá``, and ``san pham`` becomes ``sản phẩm``.

Counted at ingest over every passage (``AccentModel.build``), kept beside the lexical index as
plain arrays, and updated incrementally (``updated``: the passages that left subtracted, the new
ones added).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import npyio
from .vntext import canonical_tones, fold_word, has_diacritics, nfc

FORMS_FILE = "forms.json"
COUNTS_FILE = "form_counts.npy"
PAIRS_FILE = "pairs.npy"
PAIR_COUNTS_FILE = "pair_counts.npy"
CAPITALS_FILE = "capital_counts.npy"
# a form the archive writes in capitals at least this often is put back in capitals ("ocop" -> "OCOP")
CAPITALS_SHARE = 0.9
_TOKEN = re.compile(r"[^\W\d_]+|\S", re.UNICODE)
# interpolation of the bigram and the unigram estimate. Word accuracy of each archive's questions
# folded and restored from its own text (2026-12-01): 0.8 and 0.9 give dev 100 %, alqac2023 98.1 %,
# generated archive 96.8 %; 0.5 gives 100 / 98.0 / 96.7
BIGRAM_SHARE = 0.8
MAX_FORMS = 8   # candidates per folded syllable (the most frequent forms)
# reports state, questions ask: the words of asking are rare in an archive ("bao nhiêu" does not
# occur in the five reports, so "bao nhieu" came back as "bảo nhiều"). They are counted as if
# QUESTION_WEIGHT passages held each phrase.
QUESTION_PHRASES = (
    "bao nhiêu", "có bao nhiêu", "là bao nhiêu", "mấy", "những gì", "là gì", "cái gì", "nào", "những nào",
    "các nào", "ở đâu", "tại đâu", "khi nào", "bao giờ", "lúc nào", "năm nào", "như thế nào", "thế nào",
    "ra sao", "tại sao", "vì sao", "có không", "hay không", "có phải", "đúng hay sai", "đúng không",
    "ai", "của ai", "kể tên", "liệt kê", "nhiều nhất", "ít nhất", "tổng số", "số lượng", "trên", "dưới",
    "từ trở lên", "huyện nào", "tỉnh nào", "xã nào", "địa phương nào", "đơn vị nào", "sản phẩm nào")
QUESTION_WEIGHT = 20


def _syllables(text: str) -> list[tuple[str, bool] | None]:
    """(lower-case syllable, written in capitals) of ``text`` in order; None where punctuation or a
    number breaks a run. One-letter words do not count as capitals."""
    out: list[tuple[str, bool] | None] = []
    for token in _TOKEN.findall(canonical_tones(nfc(text))):
        out.append((token.lower(), len(token) > 1 and token.isupper()) if token[0].isalpha() else None)
    return out


@dataclass(frozen=True)
class Counts:
    """Forms and form pairs counted over some texts: the ids index ``forms``."""

    forms: list[str]
    form_counts: np.ndarray   # int64 per form
    capital_counts: np.ndarray  # int64 per form: how often it is written in capitals
    pairs: np.ndarray         # int64 keys (first id << 32 | second id), ascending, unique
    pair_counts: np.ndarray   # int64 per key


class AccentModel:
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self._by_fold: dict[str, list[tuple[int, int]]] = {}
        for i, (form, n) in enumerate(zip(counts.forms, counts.form_counts.tolist())):
            if n > 0:
                self._by_fold.setdefault(fold_word(form), []).append((n, i))
        for key, options in self._by_fold.items():
            self._by_fold[key] = sorted(options, reverse=True)[:MAX_FORMS]
        self._total = max(int(counts.form_counts.sum()), 1)

    # ---- building ---------------------------------------------------------------------------
    @classmethod
    def build(cls, texts: list[str]) -> "AccentModel":
        empty = Counts([], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        asking = [". ".join(QUESTION_PHRASES)] * QUESTION_WEIGHT
        return cls(_add(empty, asking + list(texts), +1))

    def updated(self, added: list[str], removed: list[str]) -> "AccentModel":
        """This model with the counts of ``removed`` passages taken out and ``added`` ones put in."""
        return AccentModel(_add(_add(self.counts, removed, -1), added, +1))

    # ---- storage ----------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / FORMS_FILE).write_text(json.dumps(self.counts.forms, ensure_ascii=False), encoding="utf-8")
        for name, array in ((COUNTS_FILE, self.counts.form_counts), (CAPITALS_FILE, self.counts.capital_counts),
                            (PAIRS_FILE, self.counts.pairs), (PAIR_COUNTS_FILE, self.counts.pair_counts)):
            np.save(directory / name, array, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> "AccentModel | None":
        """The model saved in ``directory``; None when the index predates it or holds an older layout
        (an ingest then counts again from the passages)."""
        if not all((directory / name).is_file() for name in (FORMS_FILE, COUNTS_FILE, CAPITALS_FILE, PAIRS_FILE,
                                                            PAIR_COUNTS_FILE)):
            return None
        forms = json.loads((directory / FORMS_FILE).read_text(encoding="utf-8"))
        return cls(Counts(forms, npyio.load(directory / COUNTS_FILE), npyio.load(directory / CAPITALS_FILE),
                          npyio.load(directory / PAIRS_FILE), npyio.load(directory / PAIR_COUNTS_FILE)))

    # ---- restoring --------------------------------------------------------------------------
    def restore(self, question: str) -> str:
        """``question`` with diacritics put back where the archive knows the word; unchanged when
        it already has diacritics."""
        if has_diacritics(question):
            return question
        tokens = re.findall(r"[^\W\d_]+|[^\w]+|\w+", nfc(question))
        out = list(tokens)
        run: list[int] = []
        for i, token in enumerate(tokens + [" . "]):
            if token[0].isalpha() and i < len(tokens) and fold_word(token.lower()) in self._by_fold:
                run.append(i)
                continue
            if token.strip() and run:  # punctuation, a number or an unknown word ends a run
                self._restore_run(tokens, run, out)
                run = []
        return "".join(out)

    def _restore_run(self, tokens: list[str], run: list[int], out: list[str]) -> None:
        options = [self._by_fold[fold_word(tokens[i].lower())] for i in run]
        # Viterbi over the forms of each syllable: log P(form | previous form), interpolated
        best = [{i: (math.log(n / self._total), -1) for n, i in options[0]}]
        for position in range(1, len(run)):
            column: dict[int, tuple[float, int]] = {}
            for n, form in options[position]:
                unigram = n / self._total
                column[form] = max((score + math.log(self._transition(prev, form, unigram)), prev)
                                   for prev, (score, _) in best[-1].items())
            best.append(column)
        form = max(best[-1], key=lambda f: best[-1][f][0])
        for position in range(len(run) - 1, -1, -1):
            out[run[position]] = self._cased(tokens[run[position]], form)
            form = best[position][form][1]

    def _transition(self, prev: int, form: int, unigram: float) -> float:
        key = (prev << 32) | form
        at = int(np.searchsorted(self.counts.pairs, key))
        pair = int(self.counts.pair_counts[at]) if at < len(self.counts.pairs) and self.counts.pairs[at] == key else 0
        return BIGRAM_SHARE * pair / max(int(self.counts.form_counts[prev]), 1) + (1 - BIGRAM_SHARE) * unigram

    def _cased(self, typed: str, form: int) -> str:
        """The restored form in the typed case, or in capitals when the archive writes it so."""
        text = self.counts.forms[form]
        capitals = int(self.counts.capital_counts[form]) >= CAPITALS_SHARE * max(int(self.counts.form_counts[form]), 1)
        if (typed.isupper() and len(typed) > 1) or (capitals and typed.islower()):
            return text.upper()
        return text[:1].upper() + text[1:] if typed[:1].isupper() else text


def _add(counts: Counts, texts: list[str], sign: int) -> Counts:
    """``counts`` plus (sign +1) or minus (sign -1) the forms and pairs of ``texts``."""
    if not texts:
        return counts
    ids = {form: i for i, form in enumerate(counts.forms)}
    forms = list(counts.forms)
    seq: list[int] = []
    upper: list[int] = []
    firsts: list[int] = []
    seconds: list[int] = []
    for text in texts:
        prev = -1
        for found in _syllables(text):
            if found is None:
                prev = -1
                continue
            syl, in_capitals = found
            i = ids.get(syl)
            if i is None:
                i = ids[syl] = len(forms)
                forms.append(syl)
            seq.append(i)
            if in_capitals:
                upper.append(i)
            if prev >= 0:
                firsts.append(prev)
                seconds.append(i)
            prev = i
    form_counts = np.zeros(len(forms), np.int64)
    form_counts[:len(counts.form_counts)] = counts.form_counts
    form_counts += sign * np.bincount(np.asarray(seq, np.int64), minlength=len(forms))
    capital_counts = np.zeros(len(forms), np.int64)
    capital_counts[:len(counts.capital_counts)] = counts.capital_counts
    capital_counts += sign * np.bincount(np.asarray(upper, np.int64), minlength=len(forms))
    keys = (np.asarray(firsts, np.int64) << 32) | np.asarray(seconds, np.int64)
    all_keys = np.concatenate([counts.pairs, keys])
    all_counts = np.concatenate([counts.pair_counts, np.full(len(keys), sign, np.int64)])
    pairs, inverse = np.unique(all_keys, return_inverse=True)
    pair_counts = np.bincount(inverse, weights=all_counts, minlength=len(pairs)).astype(np.int64)
    keep = pair_counts > 0
    return Counts(forms, np.maximum(form_counts, 0), np.maximum(capital_counts, 0), pairs[keep], pair_counts[keep])
