"""Ready-to-paste Vietnamese citations: issuer, document number, date, section, page."""

from __future__ import annotations

from pathlib import Path

from .metadata import DocumentMetadata
from .ocr import ocr_note


def format_date(meta: DocumentMetadata) -> str:
    """``ngày 14/03/2023``, ``tháng 12/2024`` or ``năm 2022`` from what the document states."""
    parts = meta.date.split("-") if meta.date else []
    if len(parts) == 3:
        return f"ngày {parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2:
        return f"tháng {parts[1].lstrip('0') or '0'}/{parts[0]}"
    if len(parts) == 1:
        return f"năm {parts[0]}"
    return ""


def format_pages(page: int | None, page_end: int | None) -> str:
    if page is None:
        return ""
    if page_end and page_end != page:
        return f"tr. {page}–{page_end}"
    return f"tr. {page}"


def format_citation(meta: DocumentMetadata, section_path: tuple[str, ...], page: int | None,
                    page_end: int | None, source: str, ocr_confidence: float | None = None) -> str:
    """E.g. ``UBND huyện Quan Hoá, Công văn số …/UBND-KTHT, tháng 12/2024, mục 4. Nhiệm vụ…, tr. 2 (quan-hoa.pdf)``;
    text read by OCR says so: ``…, tr. 2 (OCR, 96%) (quan-hoa-scan.pdf)``."""
    doc = " ".join(x for x in (meta.doc_type, meta.number_display()) if x)
    title = f"“{meta.title}”" if meta.title and meta.doc_type in ("Tin tức", "Văn bản") else ""
    section = section_path[-1] if section_path and section_path[-1] != "Phần mở đầu" else ""
    pieces = [meta.issuer, doc, title, format_date(meta), f"mục {section}" if section else "",
              format_pages(page, page_end)]
    text = ", ".join(p for p in pieces if p)
    note = ocr_note(ocr_confidence)
    if note:
        text = f"{text} {note}" if text else note
    return f"{text} ({Path(source).name})" if text else Path(source).name
