"""Metadata read from the five real reports, in every format they come in."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.loading import load_document
from rag.metadata import extract_metadata

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

EXPECTED = {
    "quan-hoa-2024-de-an-khcn": dict(doc_type="Công văn", number="/UBND-KTHT", issuer="UBND huyện Quan Hoá",
                                     place="Quan Hoá", date="2024-12", year=2024, signer="Hà Thị Nga",
                                     province="Thanh Hóa", districts=("Quan Hoá",)),
    "quang-ninh-2023-binh-lieu-ba-che": dict(doc_type="Tin tức", number="", issuer="Sở KH&CN tỉnh Quảng Ninh",
                                             date="2023-03-14", year=2023, province="Quảng Ninh",
                                             districts=("Ba Chẽ", "Bình Liêu")),
    "quang-tri-2024-so-khcn": dict(doc_type="Báo cáo", number="/BC-SKHCN",
                                   issuer="Sở Khoa học và Công nghệ tỉnh Quảng Trị", place="Quảng Trị",
                                   date="2024-11", year=2024, signer="Nguyễn Hữu Thắng", province="Quảng Trị",
                                   districts=()),
    "thanh-liem-2022-ke-hoach-khcn": dict(doc_type="Kế hoạch", number="/KH-UBND", issuer="UBND huyện Thanh Liêm",
                                          date="2022-04", year=2022, signer="Trần Văn Quân", province="Hà Nam",
                                          districts=("Thanh Liêm",),
                                          title="Hoạt động khoa học và công nghệ huyện Thanh Liêm năm 2022"),
    "trieu-son-2022-so-ket-6-thang": dict(doc_type="Báo cáo", number="/BC-UBND", issuer="UBND huyện Triệu Sơn",
                                          date="2022", year=2022, signer="Lê Quang Trung", province="Thanh Hóa",
                                          districts=("Triệu Sơn",)),
}


@pytest.mark.parametrize("fmt", ["txt", "pdf", "docx"])
@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_metadata_of_the_five_reports(stem, fmt):
    meta = extract_metadata(load_document(CORPUS / fmt / f"{stem}.{fmt}").text)
    for field, value in EXPECTED[stem].items():
        assert getattr(meta, field) == value, (field, getattr(meta, field))


def test_titles_and_blank_numbers():
    meta = extract_metadata(load_document(CORPUS / "txt" / "quan-hoa-2024-de-an-khcn.txt").text)
    assert meta.title.startswith("V/v báo cáo kết quả thực hiện Đề án")
    assert meta.number_display() == "số …/UBND-KTHT"
    assert meta.signer_role == "Phó chủ tịch"


def test_filled_in_number_and_full_date():
    text = ("UBND TỈNH THANH HÓA\nUBND HUYỆN TRIỆU SƠN\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "Số: 123/BC-UBND\nTriệu Sơn, ngày 05 tháng 7 năm 2022\nBÁO CÁO\nSơ kết 6 tháng\n\nNội dung.\n")
    meta = extract_metadata(text)
    assert (meta.number, meta.date, meta.year, meta.doc_type) == ("123/BC-UBND", "2022-07-05", 2022, "Báo cáo")
    assert meta.issuer == "UBND huyện Triệu Sơn"
    assert meta.province == "Thanh Hóa" and meta.districts == ("Triệu Sơn",)
    assert meta.number_display() == "số 123/BC-UBND"


def test_council_header_on_two_lines_and_province_from_the_body():
    text = ("ỦY BAN NHÂN DÂN\nHUYỆN CẨM THỦY\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n"
            "Số: 150/BC-UBND\n\nCẩm Thủy, ngày    tháng 11 năm 2024\n\nBÁO CÁO\n\nTổng kết công tác KH&CN năm 2024\n\n"
            "Kính gửi: Sở Khoa học và Công nghệ tỉnh Thanh Hoá.\n\nNội dung báo cáo của huyện.\n")
    meta = extract_metadata(text)
    assert meta.issuer == "UBND huyện Cẩm Thủy"
    assert meta.province == "Thanh Hóa" and meta.districts == ("Cẩm Thủy",)
    assert (meta.date, meta.number) == ("2024-11", "150/BC-UBND")
