"""Query latency, cold start, index size and memory of an index.

    .venv/bin/python bench/query.py --index DIR --gold GOLD.jsonl [--name NAME] [--cli] [--repeat 1]

* cold start: a fresh process runs ``open_index`` (manifest, SQLite, FAISS, BM25 memory-mapped),
  loads the model, builds the ``Searcher`` and answers one question; each step timed.
* library: ``rag.Searcher.ask`` on every gold question (and ``eval/dev.jsonl`` questions
  when ``--dev``), p50/p95/p99 with the first query excluded, by question kind; evidence
  recall at 5 and MRR@10 (``rag.evaluate.score_answer``) alongside.
* CLI: ``rag ask - --json`` in a subprocess fed one question per line; per-question time is
  from writing the line to reading its JSON line (first excluded); process peak RSS.

Prints Markdown; writes ``bench/out/query-<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, dir_size_mb, log, machine, md_table, peak_rss_mb, percentiles, write_json

COLD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would carry the parent's across fork+exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
sys.path.insert(0, {root!r})
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from rag.config import Settings
from rag.api import Searcher
t1 = time.perf_counter()
searcher = Searcher.open({index!r}, settings=Settings(backend={backend!r}))  # index and model, overlapped
t4 = time.perf_counter()
searcher.ask({question!r})
t5 = time.perf_counter()
print(json.dumps({{"imports_s": t1 - t0, "open_s": t4 - t1, "first_query_s": t5 - t4, "total_s": t5 - t0,
                  "vector_kind": searcher.index.vectors.kind, "rss_mb": peak_mb()}}))
"""


def cold_start(index: Path, question: str, repeat: int = 3, backend: str = "torch") -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", COLD.format(root=str(ROOT), index=str(index), question=question,
                                                                backend=backend)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["total_s"])  # warm page cache, as a restarted server would see
    return {"runs": runs, "best": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in best.items()}}


def library_latency(index: Path, questions: list[dict], repeat: int = 1, backend: str = "torch") -> dict:
    from rag.api import Searcher
    from rag.config import Settings
    from rag.evaluate import GoldQuestion, score_answer

    searcher = Searcher.open(index, settings=Settings(backend=backend))
    by_kind: dict[str, list[float]] = {}
    seconds: list[float] = []
    results = []
    for rep in range(repeat):
        for q in questions:
            t = time.perf_counter()
            answer = searcher.ask(q["question"])
            dt = time.perf_counter() - t
            seconds.append(dt)
            kind = "list" if answer.rows is not None else q.get("kind", "fact")
            by_kind.setdefault(kind, []).append(dt)
            if rep == 0 and not q.get("_latency_only"):
                gq = GoldQuestion(q["id"], q["question"], q.get("evidence", []), q.get("sources", []), q.get("kind", "fact"),
                                  q.get("answer"))
                results.append(score_answer(gq, answer, dt))
    searcher.close()
    answerable = [r for r in results if r.answerable and r.kind != "aggregate"]
    quality = {"n": len(answerable),
               "R@5": round(100 * sum(r.recall_at(5) for r in answerable) / max(1, len(answerable)), 1),
               "MRR@10": round(sum(r.reciprocal_rank(10) for r in answerable) / max(1, len(answerable)), 3)}
    return {"all": percentiles(seconds), "by_kind": {k: percentiles(v, skip_first=False) for k, v in by_kind.items()},
            "quality_topk": quality, "peak_rss_mb": peak_rss_mb()}


def ui_latency(index: Path, questions: list[str], backend: str = "torch") -> dict:
    """``rag serve`` in a child process, questions through its HTTP API one at a time: POST
    ``/gradio_api/call/ask``, then read the event stream to its ``complete`` event (what ``curl`` or
    any HTTP client does; ``gradio_client`` adds ~65 ms of its own per call on this machine)."""
    import socket
    import urllib.request

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = ROOT / ".venv" / "bin" / "rag"
    started = time.perf_counter()
    proc = subprocess.Popen([str(exe), "serve", "--index", str(index), "--port", str(port), "--backend", backend],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(ROOT))
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 300:
                    raise RuntimeError(f"rag serve did not start (exit {proc.poll()})")
                time.sleep(0.2)
        up = time.perf_counter() - started
        seconds = []
        with httpx.Client(timeout=600) as http:
            for q in questions:
                t = time.perf_counter()
                event = http.post(url + "gradio_api/call/ask", json={"data": [q, "", "", "", "", 5]}).json()["event_id"]
                with http.stream("GET", url + f"gradio_api/call/ask/{event}") as stream:
                    body = "".join(stream.iter_text())
                seconds.append(time.perf_counter() - t)
                if "event: complete" not in body:
                    raise RuntimeError(f"the API did not answer {q!r}: {body[:300]}")
    finally:
        proc.terminate()  # uvicorn waits for the client's open event stream; don't wait long
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"per_question": percentiles(seconds), "process_start_to_serving_s": round(up, 2)}


def cli_latency(index: Path, questions: list[str], backend: str = "torch") -> dict:
    exe = ROOT / ".venv" / "bin" / "rag"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rag.cli"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd + ["ask", "-", "--json", "--index", str(index), "--backend", backend],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            bufsize=1, cwd=str(ROOT))
    seconds = []
    first_answer = None
    for q in questions:
        t = time.perf_counter()
        proc.stdin.write(q + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        seconds.append(time.perf_counter() - t)
        if first_answer is None:
            first_answer = time.perf_counter() - started
        json.loads(line)
    peak = None
    try:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                peak = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    proc.stdin.close()
    proc.wait()
    return {"per_question": percentiles(seconds), "process_start_to_first_answer_s": round(first_answer or 0, 2),
            "child_peak_rss_mb": peak}


def run(index: Path, gold: Path, name: str, dev: bool = True, cli: bool = True, ui: bool = True, repeat: int = 1,
        extra_questions: list[dict] | None = None, score: bool = True, cold_backends: tuple[str, ...] = ("torch",)) -> dict:
    from rag.index_dir import current_generation, open_index

    info = machine()
    questions = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not score:
        questions = [{**q, "_latency_only": True} for q in questions]
    if dev:
        # dev questions are about corpus/, not this archive: timed, not scored
        questions += [{**json.loads(line), "_latency_only": True}
                      for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    questions += extra_questions or []
    gen = current_generation(index)
    opened = open_index(index)
    n_chunks, n_docs, kind = opened.manifest.n_chunks, opened.manifest.n_documents, opened.vectors.kind
    opened.close()
    log(f"{name}: {n_docs} documents, {n_chunks} chunks, vectors {kind}; {len(questions)} questions")
    cold = cold_start(index, questions[0]["question"])
    log(f"cold start {cold['best']}")
    for backend in cold_backends:
        if backend != "torch":
            try:
                cold[backend] = cold_start(index, questions[0]["question"], backend=backend)["best"]
                log(f"cold start, {backend} backend {cold[backend]}")
            except subprocess.CalledProcessError as exc:
                cold[backend] = {"error": exc.stderr[-300:]}
    lib = library_latency(index, questions, repeat)
    log(f"library {lib['all']}")
    lib_onnx = library_latency(index, questions, repeat, backend="onnx") if "onnx" in cold_backends else None
    if lib_onnx:
        log(f"library, onnx backend {lib_onnx['all']}")
    cli_res = cli_latency(index, [q["question"] for q in questions]) if cli else None
    cli_onnx = cli_latency(index, [q["question"] for q in questions], backend="onnx") if cli and lib_onnx else None
    if cli_res:
        log(f"cli {cli_res}; onnx {cli_onnx}")
    ui_res = ui_latency(index, [q["question"] for q in questions]) if ui else None
    ui_onnx = ui_latency(index, [q["question"] for q in questions], backend="onnx") if ui and lib_onnx else None
    if ui_res:
        log(f"ui api {ui_res}; onnx {ui_onnx}")
    sizes = {p.name: dir_size_mb(p) if p.is_dir() else round(p.stat().st_size / 1024 / 1024, 2) for p in sorted(gen.iterdir())}
    data = {"machine": info, "name": name, "index": str(index), "documents": n_docs, "chunks": n_chunks,
            "vector_kind": kind, "questions": len(questions), "cold_start": cold, "library": lib, "cli": cli_res,
            "library_onnx": lib_onnx, "cli_onnx": cli_onnx, "ui": ui_res, "ui_onnx": ui_onnx,
            "index_mb": dir_size_mb(gen), "index_files_mb": sizes}
    write_json(f"query-{name}", data)
    return data


def latency_rows(data: dict) -> list[list[object]]:
    rows = []
    for label, lib, cli, ui in (("torch", data["library"], data["cli"], data.get("ui")),
                                ("onnx", data.get("library_onnx"), data.get("cli_onnx"), data.get("ui_onnx"))):
        if lib:
            rows.append([f"library `Searcher.ask`, all ({label})", lib["all"]["n"], lib["all"]["p50"], lib["all"]["p95"],
                         lib["all"]["p99"]])
            for kind, p in sorted(lib["by_kind"].items()):
                rows.append([f"library, {kind} ({label})", p["n"], p["p50"], p["p95"], p["p99"]])
        if cli:
            p = cli["per_question"]
            rows.append([f"CLI `rag ask - --json`, stdin JSONL ({label})", p["n"], p["p50"], p["p95"], p["p99"]])
        if ui:
            p = ui["per_question"]
            rows.append([f"UI HTTP API `/gradio_api/call/ask` ({label})", p["n"], p["p50"], p["p95"], p["p99"]])
    return rows


def print_report(data: dict) -> None:
    lib, cold, cli = data["library"], data["cold_start"]["best"], data["cli"]
    print(f"## Queries: {data['name']} ({data['documents']:,} documents, {data['chunks']:,} chunks, "
          f"vectors {data['vector_kind']}), load at start {data['machine']['load_at_start']}\n")
    rows = latency_rows(data)
    print(md_table(["path", "questions", "p50 ms", "p95 ms", "p99 ms"], rows))
    print(f"\nCold start (fresh process, best of 3): imports {cold['imports_s']:.2f} s + `Searcher.open` (index and "
          f"model, overlapped) {cold['open_s']:.2f} s = {cold['imports_s'] + cold['open_s']:.2f} s to ready; "
          f"first answer after {cold['total_s']:.2f} s"
          + "".join(f"; with the {b} backend {c['total_s']:.2f} s (open {c['open_s']:.2f} s)"
                    for b, c in data["cold_start"].items() if b not in ("runs", "best") and "total_s" in c)
          + f". Peak RSS: library run {lib['peak_rss_mb']} MB"
          + (f", CLI process {cli['child_peak_rss_mb']} MB" if cli else "") + f". Index on disk {data['index_mb']} MB "
          f"({', '.join(f'{k} {v}' for k, v in data['index_files_mb'].items())}). "
          + (f"Top-k quality on these questions: R@5 {lib['quality_topk']['R@5']}, MRR@10 {lib['quality_topk']['MRR@10']}."
             if lib["quality_topk"]["n"] else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--name", default=None)
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--no-ui", action="store_true", help="skip the web UI's API (rag serve in a child process)")
    ap.add_argument("--no-dev", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--cold-backends", nargs="+", default=["torch"],
                    help="also time the cold start with these embedding backends (onnx needs onnxruntime)")
    ap.add_argument("--no-score", action="store_true", help="time the gold questions without scoring them")
    args = ap.parse_args()
    data = run(args.index, args.gold, args.name or args.index.name, dev=not args.no_dev, cli=not args.no_cli, ui=not args.no_ui,
               repeat=args.repeat, cold_backends=tuple(args.cold_backends), score=not args.no_score)
    print_report(data)


if __name__ == "__main__":
    main()
