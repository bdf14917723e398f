"""List questions over 100k+ reports, answered from the facts read at ingest: every shape timed.

    .venv/bin/python bench/lists_scale.py [--source DIR] [--times 7]

1. Upgrades the ~100k-passage index of ``bench/scale.py --keep`` (15,120 generated reports) to the
   facts table: the ingest that migrates reads the facts of every stored passage from the stored
   text (timed: what fact extraction costs an ingest; nothing is re-read or re-embedded).
2. Replicates it ``--times`` times at the storage level (``scale.replicate_index``: replica r shifts
   every year by -6r, so each replica is another six years of the same districts): 7 x 15,120 =
   105,840 reports.
3. Asks list questions of every shape through ``Searcher.ask`` (best of 3 each): scoped to a
   province and year (72 questions, checked against the generator's truth), and unscoped ones that
   read the whole archive (the 22-30 s case of the question-time reader), thresholds, a total, a
   count of districts, a condition without a count. Prints a table; writes
   ``bench/out/lists-scale.json``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from common import WORK, RandomPassageEmbedder, dir_size_mb, list_truth, log, machine, md_table, percentiles, \
    real_base_vectors, write_json

UNSCOPED = ("Những huyện nào có sản phẩm OCOP 4 sao?",
            "Huyện nào có từ 5 sản phẩm OCOP 3 sao trở lên?",
            "Huyện nào có nhiều sản phẩm OCOP 4 sao nhất?",
            "Which districts have 4-star OCOP products?",
            "nhung huyen nao co doanh nghiep khoa hoc va cong nghe",
            "Bao nhiêu huyện có sản phẩm OCOP 3 sao năm 2023?",
            "Tổng số sản phẩm OCOP 4 sao của tỉnh Thanh Hóa năm 2024 là bao nhiêu?",
            "Những huyện nào của tỉnh Quảng Ninh có sản phẩm OCOP 3 sao từ năm 2021 đến 2024?",
            "Những huyện nào đã ứng dụng tiến bộ kỹ thuật vào sản xuất năm 2023?")


def upgrade(index_dir: Path, corpus: Path, embedder) -> dict:
    """One ingest of an index written before the facts table: migration + facts from stored text."""
    from rag.config import Settings
    from rag.index_dir import current_generation
    from rag.indexer import Ingestor

    gen = current_generation(index_dir)
    db = sqlite3.connect(f"file:{gen / 'meta.sqlite'}?mode=ro", uri=True)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.close()
    started = time.perf_counter()
    report = Ingestor(index_dir, Settings(), embedder=embedder).run([corpus])
    seconds = time.perf_counter() - started
    gen = current_generation(index_dir)
    db = sqlite3.connect(f"file:{gen / 'meta.sqlite'}?mode=ro", uri=True)
    n_facts = db.execute("SELECT count(*) FROM facts").fetchone()[0]
    facts_mb = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('facts', 'facts_head', 'facts_doc')").fetchone()[0]
    db.close()
    return {"schema_before": version, "ingest_s": round(seconds, 1), "documents": report.n_documents,
            "passages": report.n_chunks, "embedded": report.embedded,
            "facts": n_facts, "facts_table_mb": round((facts_mb or 0) / 1e6, 1)}


def extraction_cost(index_dir: Path) -> dict:
    """The time ``rag.facts.extract_facts`` alone takes over every stored passage (what reading the
    facts adds to an ingest, without the ingest around it)."""
    from rag.facts import DocumentPlaces, PassageText, extract_facts
    from rag.index_dir import current_generation
    from rag.store import Store

    store = Store(current_generation(index_dir) / "meta.sqlite", readonly=True)
    seconds, n_facts, n_passages = 0.0, 0, 0
    for doc in store.documents(with_text=True):
        rows = store.db.execute("SELECT ordinal, start, text, section_json FROM chunks WHERE doc_id = ?", (doc.id,)).fetchall()
        passages = [PassageText(o, start, text, tuple(json.loads(sec))) for o, start, text, sec in rows]
        t = time.perf_counter()
        n_facts += len(extract_facts(DocumentPlaces(doc.text, doc.meta.districts, doc.meta.province, doc.meta.year),
                                     passages))
        seconds += time.perf_counter() - t
        n_passages += len(passages)
    store.close()
    return {"seconds": round(seconds, 1), "passages": n_passages, "facts": n_facts,
            "passages_per_s": round(n_passages / seconds) if seconds else None}


def best_of(searcher, question: str, repeat: int = 3):
    best, answer = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        answer = searcher.ask(question)
        best = min(best, time.perf_counter() - t)
    return best, answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=WORK / "index-r15120")
    ap.add_argument("--corpus", type=Path, default=WORK / "replicated-15120")
    ap.add_argument("--times", type=int, default=7)
    args = ap.parse_args()

    import scale
    from rag import Searcher
    from rag.config import Settings
    from rag.embedding import Embedder, ModelSpec
    from rag.synth import PROVINCES
    from rag.vntext import match_key

    info = machine()
    embedder = RandomPassageEmbedder(Embedder(ModelSpec.from_name(None)), base=real_base_vectors())
    log("upgrade (facts read from the stored text)")
    up = upgrade(args.source, args.corpus / "corpus", embedder)
    log(f"upgrade {up}")
    cost = extraction_cost(args.source)
    log(f"extraction alone {cost}")
    log(f"replicate x{args.times}")
    index_dir, rep = scale.replicate_index(args.source, args.times)
    facts = [json.loads(x) for x in (args.corpus / "facts.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]

    t = time.perf_counter()
    searcher = Searcher.open(index_dir, settings=Settings(), embedder=embedder)
    open_s = time.perf_counter() - t
    searcher.ask("khởi động")
    scoped, seconds, prs = [], [], []
    for province in PROVINCES:
        if province not in {f["province"] for f in facts}:
            continue  # a province the replicated (older) archive does not hold
        for year in scale.YEARS:
            q = scale.list_question(province, year)
            secs, answer = best_of(searcher, q)
            seconds.append(secs)
            truth = {match_key(d) for d in list_truth(facts, province, year)}
            got = {match_key(r.unit) for r in answer.rows or []}
            prs.append((len(truth & got) / len(got) if got else float(not truth),
                        len(truth & got) / len(truth) if truth else 1.0))
    rows = []
    for q in UNSCOPED:
        secs, answer = best_of(searcher, q)
        rows.append({"question": q, "seconds": round(secs, 3), "rows": len(answer.rows or []),
                     "passages": len(answer.passages), "found": answer.found})
        log(f"{secs:.2f} s {len(answer.rows or [])} rows: {q}")
    searcher.close()
    result = {"machine": info, "upgrade": up, "extraction": cost, "replicate": rep, "open_s": round(open_s, 2),
              "documents": up["documents"] * args.times, "passages": up["passages"] * args.times,
              "scoped": {"latency_ms": percentiles(seconds, skip_first=False),
                         "precision": round(float(np.mean([p for p, _ in prs])), 3),
                         "recall": round(float(np.mean([r for _, r in prs])), 3)},
              "unscoped": rows, "index_mb": dir_size_mb(index_dir)}
    write_json("lists-scale", result)
    print(f"## List questions over {result['documents']:,} reports ({result['passages']:,} passages), "
          f"{info['date']}, {info['cores']} cores, load at start {info['load_at_start']}\n")
    upgraded = (f"the ingest that upgraded it (schema {up['schema_before']} -> 4) {up['ingest_s']} s"
                if up["schema_before"] < 4 else "already upgraded by an earlier run")
    print(f"{up['documents']:,}-report index: {up['facts']:,} facts, facts table {up['facts_table_mb']} MB; {upgraded}; "
          f"fact extraction alone {cost['seconds']} s for {cost['passages']:,} passages ({cost['passages_per_s']} "
          f"passages/s). Searcher.open of the replicated index {result['open_s']} s.\n")
    p = result["scoped"]["latency_ms"]
    print(md_table(["questions", "n", "p50 ms", "p95 ms", "max ms", "district P", "district R"],
                   [["scoped: province + year", p["n"], p["p50"], p["p95"], p["max"], result["scoped"]["precision"],
                     result["scoped"]["recall"]]]))
    print()
    print(md_table(["question", "seconds", "rows", "passages"],
                   [[r["question"], r["seconds"], r["rows"], r["passages"]] for r in rows]))


if __name__ == "__main__":
    main()
