"""Side by side: this pipeline vs the one a user would assemble from the same parts.

    .venv/bin/python bench/peer.py [--reports 1000]

Peer: LangChain's ``RecursiveCharacterTextSplitter`` (chunk_size 1000 characters, overlap 200,
plain text, no document context) + the same model (``SentenceTransformer`` on the bundled
all-MiniLM-L6-v2, normalised, batch 32) + a flat FAISS ``IndexFlatIP``; top-k = the k nearest
chunks. Ours: ``rag.ingest`` + ``rag.Searcher.ask`` with default settings.

Two archives and gold sets: the generated archive of ``--reports`` reports with its generated
gold questions (``rag.synth``), and the shipped ``corpus/txt`` with ``eval/dev.jsonl``.
Quality as in ``rag.evaluate.score_answer``: an evidence string is found at rank r when the
r-th passage contains it (NFC, whitespace collapsed); R@5 = share of evidence in the top 5,
MRR@10 over answerable questions; "abstain" = unanswerable questions answered "not found"
(the peer has no way to abstain). Times: ingest (split/chunk + embed + index) and per-question
latency (p50/p95, first excluded). Our ingest of the generated archive is reused from
``bench/ingest.py`` when present (same archive, same machine), else run here.

Prints Markdown; writes ``bench/out/peer-<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from common import OUT, ROOT, WORK, log, machine, md_table, percentiles, read_jsonl, synth_archive, write_json


class Peer:
    def __init__(self, model_path: str, chunk_size: int = 1000, overlap: int = 200, batch_size: int = 32) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
        self.batch_size = batch_size
        self.texts: list[str] = []
        self.sources: list[str] = []
        self.index = None
        self.times: dict[str, float] = {}

    def ingest(self, files: list[Path]) -> None:
        import faiss

        t = time.perf_counter()
        for f in files:
            text = f.read_text(encoding="utf-8")
            for piece in self.splitter.split_text(text):
                self.texts.append(piece)
                self.sources.append(f.stem)
        t1 = time.perf_counter()
        vectors = self.model.encode(self.texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        t2 = time.perf_counter()
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)
        t3 = time.perf_counter()
        self.times = {"split_s": t1 - t, "embed_s": t2 - t1, "index_s": t3 - t2, "total_s": t3 - t}

    def ask(self, question: str, k: int = 10) -> list[int]:
        q = self.model.encode([question], normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=False).astype(np.float32)
        _, rows = self.index.search(q, k)
        return [int(r) for r in rows[0] if r >= 0]


def evidence_ranks(evidence: list[str], passages: list[str]) -> list[int | None]:
    from rag.vntext import collapse_whitespace

    texts = [collapse_whitespace(p) for p in passages]
    return [next((i for i, t in enumerate(texts, start=1) if collapse_whitespace(ev) in t), None) for ev in evidence]


def summarise(rows: list[dict]) -> dict:
    from rag import metrics

    answerable = [r for r in rows if r["ranks"]]
    unanswerable = [r for r in rows if not r["ranks"]]
    # as rag.evaluate.summarize: per question, the share of its evidence in the top 5; then the mean
    r5 = sum(sum(1 for x in r["ranks"] if x is not None and x <= 5) / len(r["ranks"]) for r in answerable) / max(1, len(answerable))
    mrr = sum(metrics.reciprocal_rank(r["ranks"], 10) for r in answerable) / max(1, len(answerable))
    s5 = sum(1 for r in answerable if all(x is not None and x <= 5 for x in r["ranks"])) / max(1, len(answerable))
    src1 = sum(1 for r in answerable if r.get("source_first")) / max(1, len(answerable))
    abstain = (sum(1 for r in unanswerable if not r["found"]) / len(unanswerable)) if unanswerable else None
    return {"n": len(rows), "answerable": len(answerable), "R@5": round(100 * r5, 1), "S@5": round(100 * s5, 1),
            "MRR@10": round(mrr, 3), "src@1": round(100 * src1, 1),
            "abstain": None if abstain is None else round(100 * abstain, 1),
            "latency_ms": percentiles([r["seconds"] for r in rows])}


def compare(name: str, files: list[Path], gold: list[dict], index_dir: Path, ours_ingest: dict | None,
            peer: Peer) -> dict:
    from rag import Searcher, ingest
    from rag.config import Settings

    if ours_ingest is None:
        shutil.rmtree(index_dir, ignore_errors=True)
        corpus = WORK / f"{name}-corpus"
        shutil.rmtree(corpus, ignore_errors=True)
        corpus.mkdir(parents=True)
        for f in files:
            shutil.copy(f, corpus / f.name)
        t = time.perf_counter()
        report = ingest([corpus], index_dir, settings=Settings())
        ours_ingest = {"seconds": round(time.perf_counter() - t, 1), "chunks": report.n_chunks}
    log(f"{name}: ours ingest {ours_ingest}")
    peer.ingest(files)
    log(f"{name}: peer ingest {peer.times}, {len(peer.texts)} chunks")

    searcher = Searcher.open(index_dir, settings=Settings())
    ours_rows, peer_rows = [], []
    for q in gold:
        t = time.perf_counter()
        answer = searcher.ask(q["question"], top_k=10)
        dt = time.perf_counter() - t
        passages = [p.text for p in answer.passages]
        ours_rows.append({"id": q["id"], "kind": q["kind"], "ranks": evidence_ranks(q["evidence"], passages),
                          "found": answer.found, "seconds": dt,
                          "source_first": bool(answer.passages) and Path(answer.passages[0].source).stem in q["sources"]})
        t = time.perf_counter()
        rows = peer.ask(q["question"], 10)
        dt = time.perf_counter() - t
        peer_rows.append({"id": q["id"], "kind": q["kind"], "ranks": evidence_ranks(q["evidence"], [peer.texts[r] for r in rows]),
                          "found": True, "seconds": dt,
                          "source_first": bool(rows) and peer.sources[rows[0]] in q["sources"]})
    searcher.close()
    kinds = sorted({q["kind"] for q in gold})
    out = {"ours": {"all": summarise(ours_rows), **{k: summarise([r for r in ours_rows if r["kind"] == k]) for k in kinds}},
           "peer": {"all": summarise(peer_rows), **{k: summarise([r for r in peer_rows if r["kind"] == k]) for k in kinds}},
           "ours_ingest": ours_ingest,
           "peer_ingest": {**{k: round(v, 2) for k, v in peer.times.items()}, "chunks": len(peer.texts)}}
    return out


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def print_block(title: str, res: dict) -> None:
    o, p = res["ours"]["all"], res["peer"]["all"]
    print(f"### {title}\n")
    rows = [
        ["chunks", res["ours_ingest"].get("chunks"), res["peer_ingest"]["chunks"], None],
        ["ingest seconds", res["ours_ingest"].get("seconds"), res["peer_ingest"]["total_s"],
         _ratio(res["ours_ingest"].get("seconds"), res["peer_ingest"]["total_s"])],
        ["R@5 (evidence in top 5, %)", o["R@5"], p["R@5"], _ratio(o["R@5"], p["R@5"])],
        ["S@5 (all evidence in top 5, %)", o["S@5"], p["S@5"], _ratio(o["S@5"], p["S@5"])],
        ["MRR@10", o["MRR@10"], p["MRR@10"], _ratio(o["MRR@10"], p["MRR@10"])],
        ["src@1 (right report first, %)", o["src@1"], p["src@1"], _ratio(o["src@1"], p["src@1"])],
        ["abstain on unanswerable (%)", o["abstain"], p["abstain"] if p["abstain"] else 0.0, None],
        ["query p50 ms", o["latency_ms"].get("p50"), p["latency_ms"].get("p50"),
         _ratio(o["latency_ms"].get("p50"), p["latency_ms"].get("p50"))],
        ["query p95 ms", o["latency_ms"].get("p95"), p["latency_ms"].get("p95"),
         _ratio(o["latency_ms"].get("p95"), p["latency_ms"].get("p95"))],
    ]
    print(md_table(["", "ours", "peer (LangChain splitter + MiniLM + FAISS flat)", "ours / peer"], rows))
    print()
    kinds = [k for k in res["ours"] if k != "all"]
    print(md_table(["kind", "n", "ours R@5", "peer R@5", "ours MRR@10", "peer MRR@10"],
                   [[k, res["ours"][k]["n"], res["ours"][k]["R@5"], res["peer"][k]["R@5"], res["ours"][k]["MRR@10"],
                     res["peer"][k]["MRR@10"]] for k in kinds]))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    args = ap.parse_args()

    from rag.embedding import MINILM_MODEL, resolve_model_path
    from rag.index_dir import current_generation

    info = machine()
    model_path = resolve_model_path(MINILM_MODEL)
    results = {"machine": info, "reports": args.reports}

    # the shipped text corpus with the hand-written dev set
    dev = read_jsonl(ROOT / "eval" / "dev.jsonl")
    files = sorted((ROOT / "corpus" / "txt").glob("*.txt"))
    results["dev"] = compare("corpus-txt", files, dev, WORK / "index-corpus-txt", None, Peer(model_path))

    # the generated archive with its generated gold
    archive = synth_archive(args.reports)
    gold = read_jsonl(archive / "gold.jsonl")
    index_dir = WORK / f"index-{args.reports}"
    ours_ingest = None
    measured = OUT / f"ingest-{args.reports}.json"
    if measured.exists() and index_dir.exists() and current_generation(index_dir):
        ing = json.loads(measured.read_text())["ingest"]
        if "seconds" in ing:
            ours_ingest = {"seconds": ing["seconds"], "chunks": ing["chunks"], "from": str(measured)}
    results["synth"] = compare(f"synth-{args.reports}", sorted((archive / "corpus").glob("*.txt")), gold, index_dir,
                               ours_ingest, Peer(model_path))
    write_json(f"peer-{args.reports}", results)

    print(f"## Peer comparison, {info['date']}, {info['cores']} cores, load at start {info['load_at_start']}\n")
    print_block(f"Generated archive ({args.reports} reports, {len(gold)} generated questions)", results["synth"])
    print_block(f"Shipped corpus/txt (5 reports, eval/dev.jsonl, {len(dev)} questions)", results["dev"])


if __name__ == "__main__":
    main()
