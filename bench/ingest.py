"""Ingest throughput on a generated archive, split into parse / metadata / chunk / embed / index.

    .venv/bin/python bench/ingest.py [--reports 1000] [--batch-size 32]

1. The library's pieces called directly on every file (``load_document``,
   ``extract_metadata``, ``Chunker.chunk`` + the per-chunk document context): parse,
   metadata and chunk time without the model's cost.
2. A real ``rag.ingest`` (the ``Ingestor``: hashing, SQLite, dedup, embeddings with the bundled
   model, FAISS, BM25, publish) into ``$RAG_BENCH_WORK/index-<N>``, its stages timed by the
   progress callback (``read`` = hash + parse + metadata + chunk + SQLite, ``embed``; the
   rest = dedup + FAISS + BM25 + write).
3. ``VectorIndex.build`` and ``LexicalIndex.build`` timed again on the stored vectors/texts.
4. PDF pages/s on the shipped ``corpus/pdf`` (text layer).

Prints a Markdown table; writes ``bench/out/ingest-<N>.json``.
"""

from __future__ import annotations

import argparse
import shutil
import time

from common import (ROOT, WORK, dir_size_mb, log, machine, md_table, peak_rss_mb, synth_archive, write_json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--keep", action="store_true", help="reuse an existing index (skip the real ingest)")
    args = ap.parse_args()

    from rag.chunking import Chunker, ChunkerSettings
    from rag.config import Settings
    from rag.embedding import Embedder, ModelSpec
    from rag.indexer import Ingestor, document_context
    from rag.index_dir import current_generation, load_arrays
    from rag.lexical import LexicalIndex
    from rag.loading import load_document
    from rag.metadata import extract_metadata
    from rag.store import Store
    from rag.vectors import VectorIndex

    info = machine()
    archive = synth_archive(args.reports)
    files = sorted((archive / "corpus").glob("*.txt"))
    log(f"{len(files)} reports in {archive}")
    settings = Settings(batch_size=args.batch_size)

    t0 = time.perf_counter()
    embedder = Embedder(ModelSpec.from_name(None), batch_size=args.batch_size)
    model_load = time.perf_counter() - t0

    # 1. pieces, directly
    stage: dict[str, float] = {"parse": 0.0, "metadata": 0.0, "chunk": 0.0, "context": 0.0}
    chunker = Chunker(embedder.count_tokens, ChunkerSettings(min(384, embedder.max_tokens - settings.context_tokens - 4),
                                                             settings.overlap_tokens))
    n_chunks = 0
    n_chars = 0
    for path in files:
        t = time.perf_counter()
        doc = load_document(path)
        t1 = time.perf_counter()
        meta = extract_metadata(doc.text)
        t2 = time.perf_counter()
        chunks = chunker.chunk(doc)
        t3 = time.perf_counter()
        for c in chunks:
            embedder.truncate_to_tokens(document_context(meta, c.section_path), settings.context_tokens)
        t4 = time.perf_counter()
        stage["parse"] += t1 - t
        stage["metadata"] += t2 - t1
        stage["chunk"] += t3 - t2
        stage["context"] += t4 - t3
        n_chunks += len(chunks)
        n_chars += len(doc.text)
    log(f"pieces: {n_chunks} chunks; {stage}")

    # 2. the real ingest
    index_dir = WORK / f"index-{args.reports}"
    marks: dict[str, list[float]] = {}

    def progress(name: str, done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault(name, [now, now])[1] = now
        if name == "embed":
            log(f"embed {done}/{total}")

    reuse = args.keep and index_dir.exists() and current_generation(index_dir) is not None
    if not reuse:
        shutil.rmtree(index_dir, ignore_errors=True)
        started = time.perf_counter()
        report = Ingestor(index_dir, settings, embedder=embedder, progress=progress).run([archive / "corpus"])
        total = time.perf_counter() - started
        read = marks["read"][1] - started
        embed_t = marks.get("embed", [0, 0])[1] - marks["read"][1]  # from the end of reading to the last batch
        rest = total - read - embed_t
        ingest = {"seconds": round(total, 1), "read_s": round(read, 1), "embed_s": round(embed_t, 1),
                  "dedup_faiss_bm25_write_s": round(rest, 1), "documents": report.n_documents,
                  "chunks": report.n_chunks, "embedded": report.embedded,
                  "chunks_per_s": round(report.n_chunks / total, 2),
                  "embed_chunks_per_s": round(report.embedded / embed_t, 2) if embed_t else None}
    else:
        ingest = {"reused": str(index_dir)}
    log(f"ingest: {ingest}")
    gen = current_generation(index_dir)

    # 3. index structures again, directly
    ids, vectors = load_arrays(gen)
    store = Store(gen / "meta.sqlite", readonly=True)
    texts = [c.context + "\n" + c.text for c in store.canonical_chunks()]
    store.close()
    t = time.perf_counter()
    VectorIndex.build(vectors, vectors.shape[1])
    faiss_s = time.perf_counter() - t
    t = time.perf_counter()
    LexicalIndex.build(texts, settings.lexical_scheme)
    bm25_s = time.perf_counter() - t

    # 4. PDFs (the shipped corpus): pages/s of the text-layer loader
    pdfs = sorted((ROOT / "corpus" / "pdf").glob("*.pdf"))
    pages = 0
    t = time.perf_counter()
    for p in pdfs:
        pages += max(1, len(load_document(p).pages))
    pdf_s = time.perf_counter() - t

    sizes = {p.name: dir_size_mb(p) if p.is_dir() else round(p.stat().st_size / 1024 / 1024, 2)
             for p in sorted(gen.iterdir())}
    n = len(files)
    emb_rate = ingest.get("embed_chunks_per_s")
    rows = [
        ["parse (load_document)", round(stage["parse"], 2), round(n / stage["parse"], 1), round(n_chunks / stage["parse"], 1)],
        ["metadata (extract_metadata)", round(stage["metadata"], 2), round(n / stage["metadata"], 1),
         round(n_chunks / stage["metadata"], 1)],
        ["chunk (Chunker.chunk)", round(stage["chunk"], 2), round(n / stage["chunk"], 1), round(n_chunks / stage["chunk"], 1)],
        ["document context (truncate to 48 tokens)", round(stage["context"], 2), round(n / stage["context"], 1),
         round(n_chunks / stage["context"], 1)],
        ["embed (Embedder.embed_passages, MiniLM, torch)", ingest.get("embed_s"), None, emb_rate],
        ["index: FAISS (VectorIndex.build)", round(faiss_s, 3), None, round(len(ids) / max(faiss_s, 1e-9), 0)],
        ["index: BM25 (LexicalIndex.build)", round(bm25_s, 2), None, round(len(ids) / bm25_s, 1)],
        ["whole ingest (Ingestor.run)", ingest.get("seconds"), round(n / ingest["seconds"], 2) if "seconds" in ingest else None,
         ingest.get("chunks_per_s")],
    ]
    print(f"## Ingest, {n} generated reports ({n_chunks} chunks, {n_chars / 1e6:.1f} M characters), "
          f"{info['cores']} cores, load at start {info['load_at_start']}\n")
    print(md_table(["stage", "seconds", "reports/s", "chunks/s"], rows))
    print(f"\nModel load {model_load:.1f} s. PDF text layer: {pages} pages in {pdf_s:.2f} s "
          f"({pages / pdf_s:.1f} pages/s, {len(pdfs)} shipped PDFs). Index on disk: {dir_size_mb(gen)} MB "
          f"({', '.join(f'{k} {v}' for k, v in sizes.items())}). Peak RSS {peak_rss_mb()} MB.")
    write_json(f"ingest-{args.reports}", {
        "machine": info, "reports": n, "chunks": n_chunks, "characters": n_chars, "model_load_s": round(model_load, 2),
        "pieces_s": {k: round(v, 3) for k, v in stage.items()}, "ingest": ingest,
        "faiss_build_s": round(faiss_s, 4), "bm25_build_s": round(bm25_s, 3),
        "pdf": {"files": len(pdfs), "pages": pages, "seconds": round(pdf_s, 3)},
        "index_dir": str(index_dir), "index_mb": dir_size_mb(gen), "index_files_mb": sizes, "peak_rss_mb": peak_rss_mb()})


if __name__ == "__main__":
    main()
