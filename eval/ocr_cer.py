"""Character error rate of the OCR text of a scanned report against its original text.

    .venv/bin/python eval/ocr_cer.py                      # the scanned Quan Hoá report vs corpus/txt
    .venv/bin/python eval/ocr_cer.py --dpi 150 --workers 1
    .venv/bin/python eval/ocr_cer.py --pdf scan.pdf --ref original.txt --json

CER = Levenshtein distance(OCR text, reference) / length of the reference, both after NFC and
whitespace collapse (every run of whitespace is one space). Diacritics count: "Đối" for "Đổi" is
one error. ``cer_folded`` is the same after accent folding and lower-casing (only base letters
count), to tell diacritic errors from letter errors; ``cer_body`` leaves out the closing
"Nơi nhận" / signature block, a two-column layout that OCR reads in another order. The OCR runs without the cache, so the time is real work.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.loading import load_document  # noqa: E402
from rag.ocr import OcrSettings, ocr_unavailable  # noqa: E402
from rag.vntext import collapse_whitespace, fold, nfc  # noqa: E402

SCAN = ROOT / "corpus" / "scanned" / "quan-hoa-2024-de-an-khcn-scan.pdf"
REFERENCE = ROOT / "corpus" / "txt" / "quan-hoa-2024-de-an-khcn.txt"


def normalise(text: str) -> str:
    return " ".join(collapse_whitespace(nfc(text)).split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute: cost 1), one NumPy row at a time."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1, dtype=np.int64)
    row = steps.copy()
    for i, ch in enumerate(a, start=1):
        sub = row[:-1] + (codes_b != ord(ch))          # diagonal: substitute or match
        dele = row[1:] + 1                               # from the row above: delete a's char
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(sub, dele)
        # insertion chain along the row: best[j] = min_k<=j (best[k] + j - k)
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def cer(hypothesis: str, reference: str) -> float:
    return levenshtein(hypothesis, reference) / max(1, len(reference))


def throughput(pdf: Path, n_pages: int, settings: OcrSettings) -> dict[str, object]:
    """Pages per second of ``ocr_pdf`` (render + Tesseract, no cache) over ``n_pages`` pages."""
    import tempfile

    from pypdf import PdfReader, PdfWriter

    from rag.ocr import ocr_pdf

    reader = PdfReader(str(pdf))
    writer = PdfWriter()
    for i in range(n_pages):
        writer.add_page(reader.pages[i % len(reader.pages)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "repeated.pdf"
        with open(path, "wb") as fh:
            writer.write(fh)
        started = time.perf_counter()
        pages = ocr_pdf(path, range(1, n_pages + 1), settings)
        seconds = time.perf_counter() - started
    return {"throughput_pages": len(pages), "throughput_seconds": round(seconds, 2),
            "throughput_pages_per_second": round(len(pages) / seconds, 3)}


def body(text: str) -> str:
    """The text before ``Nơi nhận:``, the two-column distribution/signature block at the end."""
    cut = text.rfind("Nơi nhận")
    return text[:cut] if cut > 0 else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdf", type=Path, default=SCAN)
    parser.add_argument("--ref", type=Path, default=REFERENCE)
    parser.add_argument("--dpi", type=int, help="render resolution (default RAG_OCR_DPI, or 0: the scan's own)")
    parser.add_argument("--workers", type=int, help="tesseract processes at a time (default RAG_OCR_WORKERS or 2)")
    parser.add_argument("--throughput-pages", type=int, default=0, metavar="N",
                        help="also time OCR of an N-page PDF made by repeating the scan's pages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = replace(OcrSettings.from_env().with_overrides(dpi=args.dpi, workers=args.workers),
                       cache_dir=None)  # no cache: measure real work
    reason = ocr_unavailable(settings.lang)
    if reason:
        print(f"cannot OCR: {reason}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    doc = load_document(args.pdf, ocr=settings)
    seconds = time.perf_counter() - started
    hyp, ref = normalise(doc.text), normalise(args.ref.read_text(encoding="utf-8"))
    result = {
        "pdf": str(args.pdf), "reference": str(args.ref), "dpi": settings.dpi or "auto", "workers": settings.workers,
        "pages": len(doc.pages), "ocr_pages": list(doc.ocr_pages),
        "confidence": {c.page: c.confidence for c in doc.ocr_confidence},
        "reference_chars": len(ref), "ocr_chars": len(hyp),
        "edit_distance": levenshtein(hyp, ref), "cer": round(cer(hyp, ref), 4),
        "cer_folded": round(cer(fold(hyp), fold(ref)), 4),
        "cer_body": round(cer(body(hyp), body(ref)), 4),
        "seconds": round(seconds, 2), "pages_per_second": round(len(doc.ocr_pages) / seconds, 3),
    }
    if args.throughput_pages:
        result.update(throughput(args.pdf, args.throughput_pages, settings))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
