"""A plain BM25 baseline against the shipped pipeline on a folder of documents with a gold set:
bm25s over fixed 800-character passages, words split at non-letters (what a newcomer writes in
20 lines), then `rag`'s lexical and hybrid modes on an index of the same folder.

    python eval/plain_bm25.py --corpus ../shared/eval/alqac2023/corpus --gold ../shared/eval/alqac2023/gold.jsonl \\
        --index /tmp/ialqac [--backend onnx-int8]

Prints, per system, the share of questions whose source document is in the top 5 (doc@5) and
first (doc@1), and whose evidence string is inside a top-5 passage (evidence@5).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.vntext import collapse_whitespace, nfc  # noqa: E402

PASSAGE_CHARS = 800


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def plain_bm25(corpus: Path, questions: list[dict]) -> list[list[tuple[str, str]]]:
    import bm25s

    passages: list[tuple[str, str]] = []
    for path in sorted(corpus.glob("*.txt")):
        text = nfc(path.read_text(encoding="utf-8"))
        passages += [(path.stem, text[i:i + PASSAGE_CHARS]) for i in range(0, max(len(text), 1), PASSAGE_CHARS)]
    bm25 = bm25s.BM25()
    bm25.index([_tokens(t) for _, t in passages], show_progress=False)
    out = []
    for q in questions:
        ids, _ = bm25.retrieve([_tokens(q["question"])], k=5, show_progress=False)
        out.append([passages[i] for i in ids[0]])
    return out


def shipped(index: Path, backend: str, mode: str, questions: list[dict]) -> list[list[tuple[str, str]]]:
    from rag.api import Searcher
    from rag.config import load_settings

    searcher = Searcher.open(index, settings=load_settings(backend=backend))
    try:
        return [[(Path(p.source).stem, p.text) for p in searcher.ask(q["question"], top_k=5, mode=mode).passages]
                for q in questions]
    finally:
        searcher.close()


def scores(questions: list[dict], ranked: list[list[tuple[str, str]]]) -> str:
    doc5 = doc1 = ev5 = 0
    for q, top in zip(questions, ranked):
        stems = [stem for stem, _ in top]
        evidence = [collapse_whitespace(e) for e in ([q["evidence"]] if isinstance(q["evidence"], str) else q["evidence"])]
        doc5 += any(s in stems for s in q["sources"])
        doc1 += bool(top) and top[0][0] in q["sources"]
        ev5 += all(any(e in collapse_whitespace(t) for _, t in top) for e in evidence)
    n = len(questions)
    return f"| {100 * doc5 / n:.1f} | {100 * doc1 / n:.1f} | {100 * ev5 / n:.1f} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--backend", default="torch")
    args = ap.parse_args()
    questions = [q for q in (json.loads(x) for x in args.gold.read_text(encoding="utf-8").splitlines() if x.strip())
                 if q["evidence"]]
    print(f"| system ({len(questions)} questions) | doc@5 | doc@1 | evidence@5 |\n|---|---|---|---|")
    print(f"| plain bm25s, {PASSAGE_CHARS}-character passages " + scores(questions, plain_bm25(args.corpus, questions)))
    for mode in ("lexical", "hybrid"):
        print(f"| rag `{mode}` " + scores(questions, shipped(args.index, args.backend, mode, questions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
