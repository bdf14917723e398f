"""Chunking by section: outline paths, offsets into the source text, pages, token limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import PREAMBLE, Chunker, ChunkerSettings, outline_sections
from rag.loading import load_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_outline_paths_follow_roman_arabic_and_dotted_numbers():
    text = ("Số: /BC-UBND\nBÁO CÁO\n\nI. KẾT QUẢ\n\n1. Công tác tuyên truyền\n\nNội dung một.\n\n"
            "1.1. Chi tiết\n\nNội dung chi tiết.\n\na) Mục nhỏ\n\n- gạch đầu dòng\n\n2. Công tác khác\n\nNội dung hai.\n\n"
            "II. PHƯƠNG HƯỚNG\n\nNội dung ba.\n\nNơi nhận:\n- Như trên;\n")
    paths = [s.path for s in outline_sections(text)]
    assert paths == [
        (PREAMBLE,), ("I. KẾT QUẢ",), ("I. KẾT QUẢ", "1. Công tác tuyên truyền"),
        ("I. KẾT QUẢ", "1. Công tác tuyên truyền", "1.1. Chi tiết"),
        ("I. KẾT QUẢ", "1. Công tác tuyên truyền", "1.1. Chi tiết", "a) Mục nhỏ"),
        ("I. KẾT QUẢ", "2. Công tác khác"), ("II. PHƯƠNG HƯỚNG",), ("Nơi nhận",)]


def test_markdown_headings_in_text_files():
    doc = load_document(CORPUS / "txt" / "trieu-son-2022-so-ket-6-thang.txt")
    paths = {s.path for s in outline_sections(doc.text)}
    assert ("I. Tình hình hoạt động và kết quả hoạt động KH&CN",
            "1. Về tổ chức bộ máy và hoạt động của Hội đồng KH &CN huyện") in paths


@pytest.fixture(scope="module")
def chunker(embedder):
    return Chunker(embedder.count_tokens, ChunkerSettings(chunk_tokens=120, overlap_tokens=16))


@pytest.mark.parametrize("fmt", ["txt", "pdf", "docx"])
def test_chunks_point_into_the_source_and_fit_the_model(chunker, embedder, fmt):
    doc = load_document(CORPUS / fmt / f"quang-tri-2024-so-khcn.{fmt}")
    chunks = chunker.chunk(doc)
    assert len(chunks) > 10
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.n_tokens <= 120 == chunker.settings.chunk_tokens
        assert embedder.count_tokens(c.text) == c.n_tokens
    covered = "".join(c.text for c in chunks)
    assert "59 nhãn hiệu tập thể" in doc.text and any("59 nhãn hiệu tập thể" in c.text for c in chunks)
    assert len(covered) >= 0.95 * len(doc.text.replace("\n", "").replace(" ", "")) * 0.9


def test_pdf_chunks_carry_pages_and_sections(chunker):
    doc = load_document(CORPUS / "pdf" / "quan-hoa-2024-de-an-khcn.pdf")
    chunks = chunker.chunk(doc)
    ocop = next(c for c in chunks if "11 sản phẩm OCOP" in c.text)
    assert ocop.section_path[0].startswith("4. Nhiệm vụ")
    assert ocop.page == doc.page_at(doc.text.index("11 sản phẩm OCOP"))
    assert {c.page for c in chunks} == {1, 2, 3}
