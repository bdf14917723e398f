"""Where list questions spend their time, and what two small changes to rag/listing.py would save.

    .venv/bin/python bench/listing_profile.py [--index DIR]

On the ~100k-chunk index of ``bench/scale.py`` (default ``$RAG_BENCH_WORK/index-r11340``):
a scoped question (province + year, the < 2 s target) and an unscoped one ("Những huyện nào có
sản phẩm OCOP 4 sao?", every district and year of 11k reports), each timed as shipped, then
with two changes applied by monkeypatching (nothing in ``rag/`` is edited):

* ``memo``: per-syllable memoisation of ``fold`` and tone canonicalisation inside
  ``listing._syllables_with_values`` (the syllable vocabulary is a few thousand words, while
  the unscoped question folds ~1.4M syllables one call each);
* ``prefilter``: ``sentence_counts`` skips a sentence whose folded text lacks the qualifier's
  unit (``sao``) or the counted noun's first syllable (``san``) before any clause parsing.

The answers (rows) must be identical; prints the timings and writes
``bench/out/listing-profile.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import re
import time
from pathlib import Path

from common import WORK, log, machine, md_table, write_json

SCOPED = "Những huyện nào của tỉnh Thanh Hóa có sản phẩm OCOP 4 sao năm 2024?"
UNSCOPED = "Những huyện nào có sản phẩm OCOP 4 sao?"


def patch_memo(listing, vntext):
    fold_one = functools.lru_cache(maxsize=200_000)(vntext.fold)
    syl_tones = functools.lru_cache(maxsize=200_000)(vntext._syllable_canonical_tones)
    syllable_re = vntext._SYLLABLE
    import unicodedata

    def canonical_tones(text: str) -> str:
        return syllable_re.sub(lambda m: syl_tones(m.group(0)), unicodedata.normalize("NFC", text))

    def syllables_with_values(text):
        raw = re.findall(r"\w+", canonical_tones(text).lower())
        out = []
        i = 0
        while i < len(raw):
            tok = raw[i]
            if tok.isdigit():
                out.append((tok, int(tok)))
                i += 1
                continue
            spelled = vntext.read_number_words(raw, i)
            if spelled is None:
                out.append((fold_one(tok), None))
                i += 1
                continue
            value, used = spelled
            i += used
            if i < len(raw) and raw[i].isdigit() and int(raw[i]) == value:
                i += 1
            out.append((str(value), value))
        return out

    listing._syllables_with_values = syllables_with_values


def patch_prefilter(listing, vntext):
    original = listing.sentence_counts

    def sentence_counts(sentence, query):
        folded = vntext.fold(sentence)
        if query.qualifier is not None and query.qualifier[1] not in folded:
            return None
        if query.head and query.head[0] not in folded and query.qualifier is None:
            return None
        return original(sentence, query)

    listing.sentence_counts = sentence_counts


def time_question(searcher, question: str, repeat: int = 2) -> tuple[float, list]:
    best = float("inf")
    rows = None
    for _ in range(repeat):
        t = time.perf_counter()
        answer = searcher.ask(question)
        best = min(best, time.perf_counter() - t)
        rows = [(r.unit, r.province, r.value, r.year, r.source) for r in answer.rows or []]
    return best, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=WORK / "index-r11340")
    args = ap.parse_args()

    import rag.listing as listing
    import rag.vntext as vntext
    from rag import Searcher
    from rag.config import Settings

    info = machine()
    searcher = Searcher.open(args.index, settings=Settings())
    searcher.ask("khởi động")  # model warm-up
    results = {}
    baseline = {}
    for q in (SCOPED, UNSCOPED):
        secs, rows = time_question(searcher, q)
        baseline[q] = rows
        results.setdefault("as shipped", {})[q] = {"seconds": round(secs, 3), "rows": len(rows)}
        log(f"as shipped: {secs:.2f} s, {len(rows)} rows: {q}")
    profiler = cProfile.Profile()
    profiler.enable()
    searcher.ask(UNSCOPED)
    profiler.disable()
    stats = pstats.Stats(profiler)
    prof = sorted(({"function": f"{Path(f).name}:{l}({fn})", "calls": nc, "own_s": round(tt, 3), "cumulative_s": round(ct, 3)}
                   for (f, l, fn), (cc, nc, tt, ct, _) in stats.stats.items()), key=lambda r: -r["cumulative_s"])[:16]
    original_swv, original_sc = listing._syllables_with_values, listing.sentence_counts
    for name, patches in (("memo", [patch_memo]), ("memo + prefilter", [patch_memo, patch_prefilter])):
        listing._syllables_with_values, listing.sentence_counts = original_swv, original_sc
        for p in patches:
            p(listing, vntext)
        for q in (SCOPED, UNSCOPED):
            secs, rows = time_question(searcher, q)
            same = rows == baseline[q]
            results.setdefault(name, {})[q] = {"seconds": round(secs, 3), "rows": len(rows), "same_rows": same}
            log(f"{name}: {secs:.2f} s, {len(rows)} rows, same={same}: {q}")
    listing._syllables_with_values, listing.sentence_counts = original_swv, original_sc
    searcher.close()
    write_json("listing-profile", {"machine": info, "index": str(args.index), "results": results, "profile_unscoped": prof})
    print(f"## List questions on {args.index.name}, load at start {info['load_at_start']}\n")
    print(md_table(["variant", "scoped (province + year) s", "unscoped s", "same rows"],
                   [[k, v[SCOPED]["seconds"], v[UNSCOPED]["seconds"],
                     all(x.get("same_rows", True) for x in v.values())] for k, v in results.items()]))
    print("\nProfile of the unscoped question as shipped (cumulative):\n")
    print(md_table(["function", "calls", "own s", "cumulative s"],
                   [[r["function"], r["calls"], r["own_s"], r["cumulative_s"]] for r in prof]))


if __name__ == "__main__":
    main()
