"""Citations in the official Vietnamese form (issue 15): one function for UI, CLI, JSON and exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.citation import document_reference, format_citation
from rag.metadata import DocumentMetadata

FIVE = {
    "quan-hoa-2024-de-an-khcn": "Công văn số …/UBND-KTHT tháng 12/2024 của UBND huyện Quan Hoá",
    "quang-ninh-2023-binh-lieu-ba-che": "Tin bài “Sở KH&CN làm việc với UBND huyện Bình Liêu và UBND huyện Ba Chẽ "
                                        "về triển khai hoạt động KH&CN và đổi mới sáng tạo năm 2023” đăng trên Cổng "
                                        "TTĐT Sở KH&CN tỉnh Quảng Ninh ngày 14/03/2023",
    "quang-tri-2024-so-khcn": "Báo cáo số …/BC-SKHCN tháng 11/2024 của Sở Khoa học và Công nghệ tỉnh Quảng Trị",
    "thanh-liem-2022-ke-hoach-khcn": "Kế hoạch số …/KH-UBND tháng 4/2022 của UBND huyện Thanh Liêm",
    "trieu-son-2022-so-ket-6-thang": "Báo cáo số …/BC-UBND năm 2022 của UBND huyện Triệu Sơn",
}


def test_the_five_reports_are_cited_type_number_date_issuer(txt_searcher):
    refs = {Path(d.path).stem: document_reference(d.meta) for d in txt_searcher.retriever.documents.values()}
    assert refs == FIVE


def test_full_form_section_page_and_no_file_name():
    meta = DocumentMetadata(doc_type="Báo cáo", number="245/BC-UBND", issuer="UBND huyện Mường Lát",
                            date="2024-10-21", year=2024)
    cite = format_citation(meta, ("I. Kết quả", "2. Chương trình OCOP"), 2, 3)
    assert cite == "Báo cáo số 245/BC-UBND ngày 21/10/2024 của UBND huyện Mường Lát, mục 2. Chương trình OCOP, tr. 2–3"
    assert format_citation(meta, (), 2, None, 96.0) == "Báo cáo số 245/BC-UBND ngày 21/10/2024 của UBND huyện Mường Lát, tr. 2 (OCR, 96%)"
    assert format_citation(DocumentMetadata(), (), None, None) == "Văn bản"


@pytest.mark.parametrize("question", ["Những huyện nào có sản phẩm OCOP 4 sao?", "quan hoa co bao nhieu san pham ocop"])
def test_passages_carry_the_official_citation_and_copy_cleanly(question, txt_searcher):
    from ui.render import copy_text

    answer = txt_searcher.ask(question)
    for p in answer.passages:
        assert Path(p.source).name not in p.citation and ".txt" not in p.citation
        assert FIVE[Path(p.source).stem] in p.citation
        copied = copy_text(p)
        assert copied.endswith(f"(Nguồn: {p.citation})") and "))" not in copied
