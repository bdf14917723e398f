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
    assert {p for c in chunks for p in range(c.page, c.page_end + 1)} == {1, 2, 3}


@pytest.mark.parametrize("fmt", ["txt", "pdf", "docx"])
def test_no_card_is_only_a_heading_or_a_signature(embedder, fmt):
    """Issue 15 item 7: recipients and signature block are no passage (the signer stays in the metadata);
    a heading too small to stand alone joins the text under it; a news item has no "Phần mở đầu"."""
    from rag.chunking import MIN_PASSAGE_TOKENS
    from rag.metadata import extract_metadata

    chunker = Chunker(embedder.count_tokens, ChunkerSettings(chunk_tokens=384, overlap_tokens=48))
    for path in sorted((CORPUS / fmt).glob(f"*.{fmt}")):
        doc = load_document(path)
        chunks = chunker.chunk(doc)
        for c in chunks:
            assert "Nơi nhận" not in c.text and "PHÓ CHỦ TỊCH" not in c.text and "PHÓ GIÁM ĐỐC" not in c.text, c.text
            heading_only = all(len(line.split()) < 25 and not line.rstrip().endswith((".", ";"))
                               for line in c.text.splitlines() if line.strip())
            assert not (heading_only and c.n_tokens < MIN_PASSAGE_TOKENS), (path.name, c.text)
        meta = extract_metadata(doc.text)
        if meta.doc_type == "Tin tức":
            assert all(c.section_path == () for c in chunks), path.name
        else:
            assert meta.signer and meta.signer not in " ".join(c.text for c in chunks[-1:]), (path.name, meta.signer)


def test_text_after_the_signature_is_kept(chunker):
    from rag.loading import LoadedDocument

    text = ("I. KẾT QUẢ\n\nHuyện có 05 sản phẩm OCOP đạt 4 sao trong năm 2024, tăng hai sản phẩm so với năm trước.\n\n"
            "Nơi nhận:\n- Sở KH&CN;\n- Lưu: VT.\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nNguyễn Văn A\n\n"
            "PHỤ LỤC\n\nDanh sách 05 sản phẩm OCOP 4 sao của huyện: mật ong, chè, miến dong, gạo, nấm.\n")
    chunks = chunker.chunk(LoadedDocument(Path("x.txt"), "txt", text, ()))
    joined = " | ".join(c.text for c in chunks)
    assert "Nguyễn Văn A" not in joined and "Nơi nhận" not in joined
    assert "PHỤ LỤC" in joined and "miến dong" in joined and "05 sản phẩm OCOP đạt 4 sao" in joined
