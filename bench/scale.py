"""The whole pipeline at ~100k chunks (11,340 reports) and 1M chunks: ingest, list questions,
query latency (library and CLI), cold start, incremental ingest of one report.

    .venv/bin/python bench/scale.py                      # ~100k chunks: build, then measure
    .venv/bin/python bench/scale.py --replicate 10       # + the 1M-chunk index made from it

How the archives are made (honest version):

* ~100k chunks: ``rag.synth`` stops at 1,260 reports (105 districts x 6 years x 2 types), so
  ``--reports 11340`` is 9 synth archives under seeds 1..9 (files prefixed ``s01-``...``s09-``):
  the same districts and years with different numbers, wording, signers and dates, like an
  archive holding several reports per district and year. It is ingested by the real
  ``Ingestor`` (load, metadata, chunking with the model's tokenizer, SQLite, dedup, FAISS, BM25),
  except that passage vectors are *stand-ins* (a real MiniLM passage embedding of the 1k-report
  index plus noise, chosen by a hash of the text; ``common.RandomPassageEmbedder``): embedding
  100k chunks with MiniLM on 2 cores takes ~1 hour. Queries are embedded by the real model.
* 1M chunks: the ~100k-chunk index replicated ``--replicate`` times at the storage level
  (``replicate_index``): replica r shifts every year in texts and metadata by -6r (2020-2025 ->
  2014-2019, ...), so it reads as the same districts over earlier years; chunk ids, document ids
  and paths are offset. BM25 arrays are computed for the replicated token lists with the same
  formula as bm25s (checked equal to bm25s on the unreplicated index); vectors are perturbed
  real embeddings (``common.realistic_vectors``) in the index ``kind="auto"`` picks (HNSW).

Prints Markdown; writes ``bench/out/scale-<chunks>.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

from common import (OUT, ROOT, WORK, RandomPassageEmbedder, dir_size_mb, list_truth, log, machine, md_table, peak_rss_mb,
                    percentiles, real_base_vectors, realistic_vectors, replicated_archive, synth_archive, write_json)

YEARS = (2023, 2024)


def list_question(province: str, year: int) -> str:
    return f"Những huyện nào của tỉnh {province} có sản phẩm OCOP 4 sao năm {year}?"


def profile_top(profiler: cProfile.Profile, n: int = 18) -> list[dict]:
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        rows.append({"function": f"{Path(file).name}:{line}({func})", "calls": nc, "own_s": round(tt, 3),
                     "cumulative_s": round(ct, 3)})
    rows.sort(key=lambda r: -r["cumulative_s"])
    return rows[:n]


def own_top(profiler: cProfile.Profile, n: int = 12) -> list[dict]:
    stats = pstats.Stats(profiler)
    rows = [{"function": f"{Path(file).name}:{line}({func})", "calls": nc, "own_s": round(tt, 3)}
            for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items()]
    rows.sort(key=lambda r: -r["own_s"])
    return rows[:n]


# ------------------------------------------------------------------------------------------
# ~100k chunks


def build(reports: int, embedder, keep: bool) -> tuple[Path, Path, list[dict], dict]:
    from rag.config import Settings
    from rag.index_dir import current_generation
    from rag.indexer import Ingestor

    archive, facts = replicated_archive(reports)
    index_dir = WORK / f"index-r{reports}"
    stats: dict[str, object] = {"reports": reports, "archive": str(archive)}
    if keep and index_dir.exists() and current_generation(index_dir):
        stats["reused"] = True
        return archive, index_dir, facts, stats
    shutil.rmtree(index_dir, ignore_errors=True)
    marks: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault(stage, [now, now])[1] = now
        if stage == "read" and done % 1000 == 0:
            log(f"read {done}/{total}")

    started = time.perf_counter()
    report = Ingestor(index_dir, Settings(), embedder=embedder, progress=progress).run([archive / "corpus"])
    total = time.perf_counter() - started
    stats.update({"ingest_s": round(total, 1), "read_s": round(marks["read"][1] - started, 1),
                  "stand_in_vectors_s": round(marks.get("embed", marks["read"])[1] - marks["read"][1], 1),
                  "after_vectors_s": round(started + total - marks.get("embed", marks["read"])[1], 1),
                  "documents": report.n_documents, "chunks": report.n_chunks,
                  "chunks_per_s_without_model": round(report.n_chunks / total, 1), "peak_rss_mb": peak_rss_mb()})
    log(f"built {stats}")
    return archive, index_dir, facts, stats


def measure_lists(index_dir: Path, facts: list[dict], embedder) -> dict:
    from rag import Searcher
    from rag.config import Settings
    from rag.synth import PROVINCES
    from rag.vntext import fold, match_key

    t = time.perf_counter()
    searcher = Searcher.open(index_dir, settings=Settings(), embedder=embedder)
    open_s = time.perf_counter() - t
    rows = []
    seconds = []
    for province in PROVINCES:
        for year in YEARS:
            q = list_question(province, year)
            t = time.perf_counter()
            answer = searcher.ask(q)
            dt = time.perf_counter() - t
            seconds.append(dt)
            truth = {match_key(d) for d in list_truth(facts, province, year)}
            got = {match_key(r.unit) for r in (answer.rows or [])}
            rows.append({"question": q, "seconds": round(dt, 3), "rows": len(answer.rows or []), "expected": len(truth),
                         "precision": round(len(truth & got) / len(got), 3) if got else (1.0 if not truth else 0.0),
                         "recall": round(len(truth & got) / len(truth), 3) if truth else 1.0})
    # where the time goes: profile the slowest question again
    slowest = max(rows, key=lambda r: r["seconds"])["question"]
    profiler = cProfile.Profile()
    profiler.enable()
    searcher.ask(slowest)
    profiler.disable()
    parse = searcher.lister.parse(slowest)
    allowed = None
    t = time.perf_counter()
    candidates = searcher.lister.candidate_rows(parse, allowed)
    cand_s = time.perf_counter() - t
    keep_docs = {d.id for d in searcher.retriever.documents.values()
                 if d.meta.year == parse.year and (parse.province is None or fold(d.meta.province) == parse.province)}
    in_scope = [r for r in candidates if int(searcher.retriever.row_doc[r]) in keep_docs]
    searcher.close()
    return {"open_s": round(open_s, 2), "questions": rows, "latency_ms": percentiles(seconds, skip_first=False),
            "max_s": round(max(seconds), 3),
            "mean_precision": round(float(np.mean([r["precision"] for r in rows])), 3),
            "mean_recall": round(float(np.mean([r["recall"] for r in rows])), 3),
            "profiled_question": slowest, "candidate_rows_s": round(cand_s, 3), "candidate_rows": len(candidates),
            "candidate_rows_in_scope": len(in_scope),
            "profile_cumulative": profile_top(profiler), "profile_own": own_top(profiler)}


def measure_incremental(index_dir: Path, archive: Path, embedder, repeat: int = 3) -> dict:
    """Add one new report and ingest incrementally, then delete it and ingest again: each
    timed ``repeat`` times through the library (model loaded), then once more under cProfile
    for the breakdown; then the same add through ``rag ingest`` in a fresh process (model
    load included), with the PyTorch and the ONNX backend."""
    from rag.index_dir import current_generation
    from rag.lexical import LexicalIndex

    if not LexicalIndex.updatable(current_generation(index_dir) / "lexical"):
        log("index written before term frequencies were kept: one ingest to upgrade it (not timed)")
        _ingest_timed(index_dir, archive, embedder, profile=False)
    adds, removes = [], []
    for _ in range(repeat):
        dst = _new_report(archive)
        adds.append(_ingest_timed(index_dir, archive, embedder, profile=False)["seconds"])
        dst.unlink()
        removes.append(_ingest_timed(index_dir, archive, embedder, profile=False)["seconds"])
        log(f"add {adds[-1]} s, remove {removes[-1]} s")
    dst = _new_report(archive)
    profiled = _ingest_timed(index_dir, archive, embedder, profile=True)
    dst.unlink()
    _ingest_timed(index_dir, archive, embedder, profile=False)
    cli = {}
    for backend in ("torch", "onnx"):
        dst = _new_report(archive)
        started = time.perf_counter()
        done = subprocess.run([str(ROOT / ".venv/bin/rag"), "ingest", str(archive / "corpus"), "--index", str(index_dir),
                               "--backend", backend], capture_output=True, text=True)
        cli[backend] = round(time.perf_counter() - started, 2) if done.returncode == 0 else f"failed: {done.stderr[-300:]}"
        dst.unlink()
        _ingest_timed(index_dir, archive, embedder, profile=False)
        log(f"rag ingest --backend {backend}: {cli[backend]}")
    return {**profiled, "seconds": statistics.median(adds), "add_s": adds, "remove_s": removes,
            "remove_seconds": statistics.median(removes), "cli_add_s": cli,
            "seconds_under_profiler": profiled["seconds"]}


def _new_report(archive: Path) -> Path:
    extra = synth_archive(1, seed=100 + int(time.time() * 1000) % 100_000)  # a report this index has never seen
    src = sorted((extra / "corpus").glob("*.txt"))[0]
    dst = archive / "corpus" / f"new-{src.name}"
    shutil.copy(src, dst)
    return dst


def _ingest_timed(index_dir: Path, archive: Path, embedder, profile: bool) -> dict:
    from rag.config import Settings
    from rag.indexer import Ingestor

    embedder.fake = False  # new chunks are embedded by the real model
    profiler = cProfile.Profile()
    started = time.perf_counter()
    if profile:
        profiler.enable()
    try:
        report = Ingestor(index_dir, Settings(), embedder=embedder).run([archive / "corpus"])
    finally:
        if profile:
            profiler.disable()
        embedder.fake = True
    total = time.perf_counter() - started
    if not profile:
        return {"seconds": round(total, 2)}
    prof = profile_top(profiler, 40)
    wanted = ("_hash_file", "_open_store", "_update_documents", "_set_canonical", "_vectors", "load_arrays",
              "embed_passages", "build", "save", "save_arrays", "publish", "lexical_tokens", "canonical_chunks",
              "index", "write_index", "backup", "_nothing_changed", "discover", "update", "plan_rows",
              "_merge_columns", "_bm25_scores", "count_terms", "_lexical", "_vector_index", "chunks_by_id",
              "_previous_vectors", "canonical_chunk_ids")
    breakdown = [r for r in prof if any(f"({w})" in r["function"] for w in wanted)]
    return {"seconds": round(total, 2), "indexed": len(report.indexed), "embedded": report.embedded,
            "chunks": report.n_chunks, "breakdown": breakdown, "profile_cumulative": prof[:25],
            "profile_own": own_top(profiler, 15)}


def measure_components(index_dir: Path, questions: list[str], embedder) -> dict:
    """Per question: open time of each structure, then BM25 scores, FAISS search (100 candidates),
    the whole HybridRetriever.search, IDF lookups of ``ask`` (the query embedding cached)."""
    import torch

    from rag.config import Settings
    from rag.index_dir import current_generation, open_index
    from rag.lexical import LexicalIndex
    from rag.retrieval import HybridRetriever
    from rag.vectors import VectorIndex
    from rag.answer import informative_terms

    gen = current_generation(index_dir)
    t = time.perf_counter()
    LexicalIndex.load(gen / "lexical", "syllable+bigram")
    lex_load = time.perf_counter() - t
    t = time.perf_counter()
    VectorIndex.load(gen / "vectors.faiss")
    vec_load = time.perf_counter() - t
    index = open_index(index_dir)
    t = time.perf_counter()
    retriever = HybridRetriever(index, embedder, Settings())
    retr_init = time.perf_counter() - t
    before = torch.get_num_threads()
    times: dict[str, list[float]] = {"embed_query (torch 1 thread)": [], "BM25 scores": [], "FAISS search": [],
                                     "HybridRetriever.search": [], "IDF of question terms": []}
    torch.set_num_threads(1)
    for q in questions:
        embedder._query_cache.clear()
        t = time.perf_counter()
        vec = embedder.embed_query(q)
        times["embed_query (torch 1 thread)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        index.lexical.scores(q)
        times["BM25 scores"].append(time.perf_counter() - t)
        t = time.perf_counter()
        index.vectors.search(vec, 100)
        times["FAISS search"].append(time.perf_counter() - t)
        t = time.perf_counter()
        retriever.search(q, 5)
        times["HybridRetriever.search"].append(time.perf_counter() - t)
        t = time.perf_counter()
        {w: index.lexical.idf(w) for w in informative_terms(q)}
        times["IDF of question terms"].append(time.perf_counter() - t)
    torch.set_num_threads(before)
    index.close()
    return {"lexical_load_s": round(lex_load, 3), "vectors_load_s": round(vec_load, 3),
            "retriever_init_s": round(retr_init, 3), "vector_index": index.vectors.describe(),
            "per_query_ms": {k: percentiles(v) for k, v in times.items()}}


# ------------------------------------------------------------------------------------------
# 1M chunks: replicate the ~100k index


def _shift_years_sql(column: str, r: int) -> str:
    expr = column
    for y in range(2025, 2019, -1):
        expr = f"REPLACE({expr}, '{y}', '{y - 6 * r}')"
    return expr


def _shift_years_str(s: str, r: int) -> str:
    for y in range(2025, 2019, -1):
        s = s.replace(str(y), str(y - 6 * r))
    return s


def replicate_index(src_dir: Path, times: int) -> tuple[Path, dict]:
    from rag.index_dir import Manifest, current_generation, load_arrays, publish, new_generation
    from rag.lexical import LexicalIndex, TermCounts, count_terms
    from rag.store import Store
    from rag.vectors import VectorIndex

    src = current_generation(src_dir)
    manifest = Manifest.read(src)
    ids, vecs = load_arrays(src)
    n = len(ids)
    dst_dir = WORK / f"index-x{times}-{src_dir.name}"
    shutil.rmtree(dst_dir, ignore_errors=True)
    name, tmp = new_generation(dst_dir)
    stats: dict[str, object] = {"source": str(src_dir), "times": times}

    # SQLite: replicas with shifted years and offset ids
    t = time.perf_counter()
    db = sqlite3.connect(tmp / "meta.sqlite")
    s = sqlite3.connect(f"file:{src / 'meta.sqlite'}?mode=ro", uri=True)
    s.backup(db)
    s.close()
    d_off = db.execute("SELECT max(id) FROM documents").fetchone()[0] + 1
    c_off = db.execute("SELECT max(id) FROM chunks").fetchone()[0] + 1
    dcols = [r[1] for r in db.execute("PRAGMA table_info(documents)")]
    ccols = [r[1] for r in db.execute("PRAGMA table_info(chunks)")]
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("CREATE TEMP TABLE d0 AS SELECT * FROM documents")
    db.execute("CREATE TEMP TABLE c0 AS SELECT * FROM chunks")
    fcols = [r[1] for r in db.execute("PRAGMA table_info(facts)")]
    if fcols:
        db.execute("CREATE TEMP TABLE f0 AS SELECT * FROM facts")
        f_off = (db.execute("SELECT max(id) FROM facts").fetchone()[0] or 0) + 1
    shifted_d = {"text", "title", "date", "date_text", "number", "path"}
    shifted_c = {"text", "context"}
    for r in range(1, times):
        def dexpr(c: str) -> str:
            if c == "id":
                return f"id + {r * d_off}"
            if c == "canonical_id":
                return f"CASE WHEN canonical_id IS NULL THEN NULL ELSE canonical_id + {r * d_off} END"
            if c == "year":
                return f"CASE WHEN year IS NULL THEN NULL ELSE year - {6 * r} END"
            if c == "path":
                return f"'r{r:02d}/' || " + _shift_years_sql("path", r)
            if c == "content_hash":
                return f"content_hash || '-r{r}'"
            if c in shifted_d:
                return _shift_years_sql(c, r)
            return c

        def cexpr(c: str) -> str:
            if c == "id":
                return f"id + {r * c_off}"
            if c == "doc_id":
                return f"doc_id + {r * d_off}"
            if c == "embed_hash":
                return f"embed_hash || '-r{r}'"
            if c in shifted_c:
                return _shift_years_sql(c, r)
            return c

        db.execute(f"INSERT INTO documents ({', '.join(dcols)}) SELECT {', '.join(dexpr(c) for c in dcols)} FROM d0")
        db.execute(f"INSERT INTO chunks ({', '.join(ccols)}) SELECT {', '.join(cexpr(c) for c in ccols)} FROM c0")
        if fcols:  # the facts read at ingest (rag.facts): the replica's ids, its years shifted
            def fexpr(c: str) -> str:
                shifts = {"id": f"id + {r * f_off}", "doc_id": f"doc_id + {r * d_off}", "chunk_id": f"chunk_id + {r * c_off}",
                          "year": f"year - {6 * r}", "year_from": f"year_from - {6 * r}", "near": _shift_years_sql("near", r)}
                return shifts.get(c, c)
            db.execute(f"INSERT INTO facts ({', '.join(fcols)}) SELECT {', '.join(fexpr(c) for c in fcols)} FROM f0")
        db.commit()
        log(f"sqlite replica {r}")
    db.close()
    stats["sqlite_s"] = round(time.perf_counter() - t, 1)

    all_ids = np.concatenate([ids + r * c_off for r in range(times)]).astype(np.int64)
    np.save(tmp / "chunk_ids.npy", all_ids, allow_pickle=False)
    db = sqlite3.connect(tmp / "meta.sqlite")
    doc_of = dict(db.execute("SELECT id, doc_id FROM chunks"))
    db.close()
    np.save(tmp / "chunk_docs.npy", np.array([doc_of[int(c)] for c in all_ids], dtype=np.int64), allow_pickle=False)

    # BM25: tokenise the source texts once; replicas remap year tokens
    t = time.perf_counter()
    store = Store(src / "meta.sqlite", readonly=True)
    texts = [c.context + "\n" + c.text for c in store.canonical_chunks()]
    store.close()
    assert len(texts) == n
    vocab: dict[str, int] = {}
    counts = count_terms(texts, manifest.lexical_scheme, vocab)
    stats["tokenise_s"] = round(time.perf_counter() - t, 1)
    # check: our arrays score as the source index does
    ref = LexicalIndex.load(src / "lexical", manifest.lexical_scheme)
    mine = LexicalIndex.from_counts(counts, dict(vocab), manifest.lexical_scheme)
    probe = ["ocop", "san_pham", "huyen", "2023", "kinh_phi"]
    for tok in probe:
        if tok in vocab and tok in ref.bm25.vocab_dict:
            assert np.allclose(mine.bm25.get_scores([tok]), ref.bm25.get_scores([tok]), rtol=1e-4, atol=1e-5), \
                f"BM25 arrays differ from the source index for {tok!r}"
    del mine, ref
    stats["bm25_checked_against_source"] = probe
    full_vocab = dict(vocab)
    tok_list = list(vocab)
    parts_row, parts_tok = [counts.row], [counts.token]
    for r in range(1, times):
        remap = np.empty(len(tok_list), dtype=np.int64)
        for j, tok in enumerate(tok_list):
            new = _shift_years_str(tok, r) if any(str(y) in tok for y in range(2020, 2026)) else tok
            remap[j] = full_vocab.setdefault(new, len(full_vocab))
        parts_row.append(counts.row + r * n)
        parts_tok.append(remap[counts.token])
    t = time.perf_counter()
    replicated = TermCounts(np.concatenate(parts_row), np.concatenate(parts_tok), np.tile(counts.tf, times),
                            np.tile(counts.doc_len, times))
    del parts_row, parts_tok
    lexical = LexicalIndex.from_counts(replicated, full_vocab, manifest.lexical_scheme)
    lexical.save(tmp / "lexical")  # with term frequencies: later ingests update it
    stats["bm25_build_s"] = round(time.perf_counter() - t, 1)
    stats["bm25_nnz"] = int(len(replicated.row))
    del replicated, lexical

    # vectors
    t = time.perf_counter()
    base = real_base_vectors()
    total = n * times
    from rag.vectors import choose_kind

    cached = WORK / f"vectors-{total}-{choose_kind(total)}.faiss"  # bench/ann.py leaves the HNSW one
    if cached.exists():
        shutil.copy(cached, tmp / "vectors.faiss")
        stats["vectors"] = f"reused {cached}"
        x = realistic_vectors(base, total, seed=1) if base is not None else np.asarray(np.tile(vecs, (times, 1)))
    else:
        x = realistic_vectors(base, total, seed=1) if base is not None else np.asarray(np.tile(vecs, (times, 1)))
        index = VectorIndex.build(x, x.shape[1])
        index.save(tmp / "vectors.faiss")
        index.save(cached)
        stats["vectors"] = index.describe()
    np.save(tmp / "vectors.npy", x.astype(np.float32), allow_pickle=False)
    del x
    stats["vectors_s"] = round(time.perf_counter() - t, 1)

    if (src / "accents").is_dir():  # the source's accent counts (a seventh of the words: enough for timing)
        shutil.copytree(src / "accents", tmp / "accents")
    from rag.integrity import checksums

    mdata = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    mdata.update(n_documents=manifest.n_documents * times, n_chunks=total, generation=name,
                 created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), files=checksums(tmp))
    (tmp / "manifest.json").write_text(json.dumps(mdata, ensure_ascii=False, indent=2), encoding="utf-8")
    publish(dst_dir, name, tmp)
    stats["index_mb"] = dir_size_mb(dst_dir / name)
    log(f"replicated: {stats}")
    return dst_dir, stats


# ------------------------------------------------------------------------------------------


def print_report(res: dict) -> None:
    import query as query_bench

    print(f"## Scale: {res['chunks']:,} chunks ({res['documents']:,} reports), {res['machine']['date']}, "
          f"{res['machine']['cores']} cores, load at start {res['machine']['load_at_start']}\n")
    if "build" in res and "ingest_s" in res["build"]:
        b = res["build"]
        print(f"Ingest (real Ingestor, stand-in passage vectors): {b['ingest_s']} s "
              f"({b['chunks_per_s_without_model']} chunks/s without the model): read/parse/chunk/SQLite "
              f"{b['read_s']} s, vectors {b['stand_in_vectors_s']} s, dedup + FAISS + BM25 + write {b['after_vectors_s']} s; "
              f"peak RSS {b['peak_rss_mb']} MB.\n")
    if "replicate" in res:
        print(f"Replication: {res['replicate']}\n")
    comp = res["components"]
    print(f"Components (one question at a time, first excluded; load: BM25 {comp['lexical_load_s']} s memory-mapped, "
          f"FAISS {comp['vectors_load_s']} s ({comp['vector_index']['kind']}), retriever init {comp['retriever_init_s']} s):\n")
    print(md_table(["step", "p50 ms", "p95 ms", "p99 ms"],
                   [[k, v["p50"], v["p95"], v["p99"]] for k, v in comp["per_query_ms"].items()]))
    print()
    lst = res["lists"]
    print("List questions (\"Những huyện nào của tỉnh P có sản phẩm OCOP 4 sao năm Y?\", "
          f"{len(lst['questions'])} = 12 provinces x {YEARS}) through `Searcher.ask`:\n")
    p = lst["latency_ms"]
    print(md_table(["questions", "p50 ms", "p95 ms", "max ms", "target", "district precision", "district recall"],
                   [[p["n"], p["p50"], p["p95"], p["max"], "< 2,000 ms", lst["mean_precision"], lst["mean_recall"]]]))
    print(f"\nProfile of the slowest list question ({lst['profiled_question']}); candidate rows "
          f"{lst['candidate_rows']:,} ({lst['candidate_rows_in_scope']:,} in the asked province and year), "
          f"`candidate_rows` {lst['candidate_rows_s']} s:\n")
    print(md_table(["function", "calls", "own s", "cumulative s"],
                   [[r["function"], r["calls"], r["own_s"], r["cumulative_s"]] for r in lst["profile_cumulative"][:14]]))
    print()
    q = res["query"]
    cold = q["cold_start"]["best"]
    rows = query_bench.latency_rows(q)
    print(md_table(["path", "questions", "p50 ms", "p95 ms", "p99 ms"], rows))
    print(f"\nCold start: `Searcher.open` (index and model, overlapped) {cold['open_s']:.2f} s "
          f"(+ imports {cold['imports_s']:.2f} s); first answer at {cold['total_s']:.2f} s. "
          f"Index on disk {q['index_mb']} MB ({', '.join(f'{k} {v}' for k, v in q['index_files_mb'].items())}).\n")
    if res.get("incremental"):
        inc = res["incremental"]
        print(f"Incremental ingest of one new report: {inc['seconds']} s ({inc['embedded']} chunks embedded; "
              f"{inc.get('seconds_under_profiler')} s under cProfile). Where the time goes (cumulative, under cProfile):\n")
        print(md_table(["function", "calls", "cumulative s"],
                       [[r["function"], r["calls"], r["cumulative_s"]] for r in inc["breakdown"]]))
        print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=11_340)
    ap.add_argument("--replicate", type=int, default=0, help="also build and measure an index this many times larger")
    ap.add_argument("--keep", action="store_true", help="reuse the ~100k index if built")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--skip-small", action="store_true", help="with --replicate: measure only the replicated index")
    ap.add_argument("--incremental-only", action="store_true", help="with --keep: only the incremental ingest step")
    ap.add_argument("--lists-only", action="store_true",
                    help="with --keep: only the list questions (and, with --replicate N, on the replicated index built before)")
    args = ap.parse_args()

    import query as query_bench
    from rag.embedding import Embedder, ModelSpec

    info = machine()
    embedder = RandomPassageEmbedder(Embedder(ModelSpec.from_name(None)), base=real_base_vectors())
    archive, index_dir, facts, build_stats = build(args.reports, embedder, args.keep)
    gold = synth_archive(1260, seed=1) / "gold.jsonl"
    prefixed = WORK / "gold-s01.jsonl"
    prefixed.write_text("".join(json.dumps({**q, "sources": [f"s01-{s}" for s in q["sources"]]}, ensure_ascii=False) + "\n"
                                for q in (json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines() if x.strip())),
                        encoding="utf-8")

    def measure(idx: Path, extra: dict, incremental: bool) -> dict:
        from rag.index_dir import open_index

        o = open_index(idx)
        n_chunks, n_docs = o.manifest.n_chunks, o.manifest.n_documents
        o.close()
        res = {"machine": machine(), "chunks": n_chunks, "documents": n_docs, **extra}
        log("components")
        qs = [json.loads(x)["question"] for x in prefixed.read_text(encoding="utf-8").splitlines() if x.strip()][:120]
        res["components"] = measure_components(idx, qs, embedder)
        log(f"components {res['components']}")
        log("list questions")
        res["lists"] = measure_lists(idx, facts, embedder)
        log(f"lists {res['lists']['latency_ms']}")
        log("top-k questions")
        # generated questions are timed, not scored: with 9 reports per district and year the gold of seed 1 is ambiguous
        res["query"] = query_bench.run(idx, prefixed, f"scale-{n_chunks}", dev=True, cli=not args.no_cli, ui=not args.no_cli,
                                       score=False, cold_backends=("torch", "onnx"))
        if incremental:
            log("incremental ingest")
            res["incremental"] = measure_incremental(idx, archive, embedder)
            log(f"incremental {res['incremental']['seconds']} s")
        write_json(f"scale-{n_chunks}", res)
        print_report(res)
        return res

    if args.lists_only:
        targets = [index_dir]
        if args.replicate and (WORK / f"index-x{args.replicate}-{index_dir.name}").exists():
            targets.append(WORK / f"index-x{args.replicate}-{index_dir.name}")
        for idx in targets:
            res = measure_lists(idx, facts, embedder)
            write_json(f"lists-{idx.name}", {"machine": machine(), "index": str(idx), **res})
            lat = res["latency_ms"]
            print(f"List questions on {idx.name}: p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {res['max_s'] * 1000:.0f} ms; "
                  f"precision {res['mean_precision']}, recall {res['mean_recall']} ({len(res['questions'])} questions)")
        return
    if args.incremental_only:
        res = measure_incremental(index_dir, archive, embedder)
        path = OUT / f"scale-{res['chunks']}.json"
        for f in OUT.glob("scale-*.json"):
            if json.loads(f.read_text()).get("build", {}).get("reports") == args.reports:
                path = f
        data = json.loads(path.read_text()) if path.exists() else {"machine": info}
        data["incremental"] = res
        write_json(path.stem, data)
        print(f"Incremental ingest into {res['chunks']:,} chunks, median of {len(res['add_s'])}: add one report "
              f"{res['seconds']} s, remove it {res['remove_seconds']} s ({res['seconds_under_profiler']} s under cProfile); "
              f"`rag ingest` in a fresh process: {res['cli_add_s']}\n")
        print(md_table(["function", "calls", "cumulative s (under cProfile)"],
                       [[r["function"], r["calls"], r["cumulative_s"]] for r in res["breakdown"]]))
        return
    if not (args.replicate and args.skip_small):
        measure(index_dir, {"build": build_stats}, incremental=True)
    if args.replicate:
        big, rep_stats = replicate_index(index_dir, args.replicate)
        measure(big, {"replicate": rep_stats}, incremental=False)


if __name__ == "__main__":
    main()
