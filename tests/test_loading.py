"""Loading: page numbers, line-break repair, encodings, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from rag.errors import UnreadableFileError
from rag.loading import load_document, reflow_lines
from rag.vntext import collapse_whitespace

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
QUANG_NINH_PDF = CORPUS / "pdf" / "quang-ninh-2023-binh-lieu-ba-che.pdf"
VI_TEXT = "Huyện Quan Hoá có 11 sản phẩm OCOP đạt ba (03) sao. Đề án phát triển khoa học, công nghệ năm 2024.\n"


def test_pdf_keeps_page_numbers_and_repairs_line_breaks():
    doc = load_document(QUANG_NINH_PDF)
    assert [p.page for p in doc.pages] == [1, 2, 3]
    # a sentence hard-wrapped across lines in the PDF is whole again, with single spaces
    offset = doc.text.index("trong đó 11 sản phẩm 3 sao; 01 sản phẩm 4 sao; có 03 sản phẩm đã được xây dựng nhãn hiệu")
    assert doc.page_at(offset) == 1
    ba_che = doc.text.index("05 sản phẩm được xếp hạng 4 sao")
    assert doc.page_at(ba_che) == 2
    assert "  " not in doc.text


def test_reflow_joins_wrapped_lines_but_not_outline_items():
    lines = ["Huyện có 27 sản phẩm tham gia chương trình OCOP, trong đó 11 sản phẩm 3 sao; 01 sản",
             "phẩm 4 sao.", "1. Nhiệm vụ thứ nhất", "- Gạch đầu dòng"]
    assert reflow_lines(lines, full_width=85) == [
        "Huyện có 27 sản phẩm tham gia chương trình OCOP, trong đó 11 sản phẩm 3 sao; 01 sản phẩm 4 sao.",
        "1. Nhiệm vụ thứ nhất", "- Gạch đầu dòng"]


@pytest.mark.parametrize("fmt", ["txt", "pdf", "docx"])
def test_every_format_gives_the_same_sentences(fmt):
    doc = load_document(CORPUS / fmt / f"quan-hoa-2024-de-an-khcn.{fmt}")
    text = collapse_whitespace(doc.text)
    assert "có 11 sản phẩm OCOP đạt ba (03) sao gồm: Bánh nhãn Hội Xuân, Măng khô Mường Ca Da" in text
    assert doc.text == __import__("unicodedata").normalize("NFC", doc.text)


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter (maybe with ^/˘/ơ) + combining tone mark."""
    import unicodedata

    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = [c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323"]
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += (base + "".join(tones)).encode("cp1258")
    return out


@pytest.mark.parametrize("encoding", ["cp1258", "utf-16", "utf-8-sig", "utf-16-le"])
def test_text_encodings_are_decoded(tmp_path, encoding):
    path = tmp_path / f"bao-cao-{encoding}.txt"
    data = to_cp1258(VI_TEXT) if encoding == "cp1258" else VI_TEXT.encode(encoding)
    path.write_bytes(data)
    assert load_document(path).text.strip() == VI_TEXT.strip()


def _pdf_bytes_from_corpus() -> bytes:
    return QUANG_NINH_PDF.read_bytes()


def _blank_pdf(path: Path, pages: int = 1) -> None:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as fh:
        writer.write(fh)


def _encrypted_pdf(path: Path, user_password: str) -> None:
    writer = PdfWriter(clone_from=PdfReader(QUANG_NINH_PDF))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    with open(path, "wb") as fh:
        writer.write(fh)


def test_encrypted_pdf_with_empty_user_password_is_read(tmp_path):
    path = tmp_path / "open.pdf"
    _encrypted_pdf(path, "")
    assert "Bình Liêu" in load_document(path).text


BAD_INPUTS = {
    "empty.txt": (lambda p: p.write_bytes(b""), "empty file"),
    "empty.pdf": (lambda p: p.write_bytes(b""), "empty file"),
    "truncated.pdf": (lambda p: p.write_bytes(_pdf_bytes_from_corpus()[:1500]), ""),
    "not-a-pdf.pdf": (lambda p: p.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 100), ""),
    "broken-xref.pdf": (lambda p: p.write_bytes(_pdf_bytes_from_corpus().replace(b"xref", b"xxxx").replace(b"obj", b"jbo")), ""),
    "locked.pdf": (lambda p: _encrypted_pdf(p, "secret"), "encrypted"),
    "scan.pdf": (lambda p: _blank_pdf(p, 2), "no text"),
    "renamed.docx": (lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip"), "corrupt DOCX"),
    "plain.docx": (lambda p: p.write_bytes(b"just text pretending to be a docx"), "corrupt DOCX"),
    "binary.txt": (lambda p: p.write_bytes(bytes(range(256)) * 40), ""),
    "image.png": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n"), "unsupported file type"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_a_reason_naming_the_file(tmp_path, name):
    make, expected = BAD_INPUTS[name]
    path = tmp_path / name
    make(path)
    with pytest.raises(UnreadableFileError) as info:
        load_document(path)
    assert name in str(info.value)
    assert expected.lower() in info.value.reason.lower()
    assert "\n" not in str(info.value)


def test_zip_bomb_docx_is_refused(tmp_path, monkeypatch):
    import zipfile

    import rag.loading as loading

    monkeypatch.setattr(loading, "MAX_DOCX_UNCOMPRESSED", 1_000_000)
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"0" * 5_000_000)
    with pytest.raises(UnreadableFileError, match="zip bomb"):
        load_document(path)


def test_html_scripts_are_dropped(tmp_path):
    path = tmp_path / "tin.html"
    path.write_text("<html><body><h1>Tin tức</h1><script>alert('x')</script><p>Huyện Ba Chẽ có 05 sản phẩm 4 sao.</p>"
                    "</body></html>", encoding="utf-8")
    text = load_document(path).text
    assert "alert" not in text and "Huyện Ba Chẽ có 05 sản phẩm 4 sao." in text


def test_vietnamese_file_name_with_spaces_and_quotes(tmp_path):
    path = tmp_path / "Báo cáo 'Quan Hoá' \"2024\".txt"
    path.write_text(VI_TEXT, encoding="utf-8")
    assert "Quan Hoá" in load_document(path).text
