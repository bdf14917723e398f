"""Calibration passages for the int8 static quantisation (OpenVINO / NNCF).

``calibration-reports.txt.gz`` holds 120 generated district KH&CN reports (form-feed separated):
the output of ``python -m rag.synth --reports 120 --seed 20261122`` (``corpus/*.txt`` in name
order), frozen as data so that the embedding code does not import the generator (which imports
the evaluation and retrieval, which import the embedding). The same reports the quantiser used
when it generated them on the fly, so the int8 models do not change.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from ..vntext import fold

REPORTS_FILE = Path(__file__).with_name("calibration-reports.txt.gz")
SEED, REPORTS = 20261122, 120  # what the file was generated with


def calibration_documents() -> list[str]:
    return gzip.decompress(REPORTS_FILE.read_bytes()).decode("utf-8").split("\f")


def calibration_passages(tokenizer, count: int, tokens: int, prompt: str = "", fold_accents: bool = False,
                         lower_case: bool = False) -> list[str]:
    """``count`` passages like the stored chunks, evenly spread over the reports: a report's heading
    lines + about ``tokens`` tokens (by ``tokenizer``) of consecutive paragraphs, prepared as
    ``embed_passages`` prepares them (prompt, folding, lower case)."""
    passages = [p for doc in calibration_documents() for p in _doc_passages(doc, tokenizer, tokens)]
    if len(passages) > count:
        step = len(passages) / count
        passages = [passages[int(i * step)] for i in range(count)]
    prepared = [prompt + (fold(p) if fold_accents else p) for p in passages]
    return [p.lower() for p in prepared] if lower_case else prepared


def _doc_passages(doc: str, tokenizer, tokens: int) -> list[str]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", doc) if p.strip()]
    context = " ".join(doc.strip().splitlines()[:3])[:200]
    passages, current, size = [], [], 0
    for para in paragraphs:
        n = len(tokenizer.tokenize(para))
        if current and size + n > tokens:
            passages.append(context + "\n" + "\n\n".join(current))
            current, size = [], 0
        current.append(para)
        size += n
    if current:
        passages.append(context + "\n" + "\n\n".join(current))
    return passages
