"""Ready-to-paste Vietnamese citations in the official order: type, number, date, issuer; section, page."""

from __future__ import annotations

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


def document_reference(meta: DocumentMetadata) -> str:
    """The document as Vietnamese drafting cites it: ``Báo cáo số 245/BC-UBND ngày 21/10/2024 của UBND
    huyện Mường Lát``; a blank number or a partial date as written (``số …/BC-UBND``, ``tháng
    12/2024``); a news item as news: ``Tin bài “…” đăng trên Cổng TTĐT Sở KH&CN tỉnh Quảng Ninh ngày
    14/03/2023``."""
    date = format_date(meta)
    if meta.doc_type == "Tin tức":
        title = f" “{meta.title}”" if meta.title else ""
        where = f" đăng trên Cổng TTĐT {meta.issuer}" if meta.issuer else ""
        return " ".join(x for x in (f"Tin bài{title}{where}", date) if x)
    number = meta.number_display()  # "số 245/BC-UBND", "số …/BC-UBND" or ""
    issuer = f"của {meta.issuer}" if meta.issuer else ""
    return " ".join(x for x in (meta.doc_type or "Văn bản", number, date, issuer) if x)


def format_citation(meta: DocumentMetadata, section_path: tuple[str, ...], page: int | None,
                    page_end: int | None, ocr_confidence: float | None = None) -> str:
    """The one citation UI, CLI, JSON and exports print: the document reference, then where in it:
    ``Công văn số …/UBND-KTHT tháng 12/2024 của UBND huyện Quan Hoá, mục 4. Nhiệm vụ…, tr. 2``; text read
    by OCR says so (``tr. 2 (OCR, 96%)``). The file name is not part of it (``Passage.source``)."""
    section = section_path[-1] if section_path and section_path[-1] != "Phần mở đầu" else ""
    pieces = [document_reference(meta), f"mục {section}" if section else "", format_pages(page, page_end)]
    text = ", ".join(p for p in pieces if p)
    note = ocr_note(ocr_confidence)
    return f"{text} {note}" if note else text
