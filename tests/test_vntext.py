"""Vietnamese text: tone-mark placement, accent folding, tokens, quantities."""

from __future__ import annotations

import unicodedata

import pytest

from rag.vntext import (canonical_tones, collapse_whitespace, fold, lexical_tokens, match_key, nfc,
                        quantity_phrases, split_sentences)


@pytest.mark.parametrize("old, new", [("Hoá", "Hóa"), ("thuỷ", "thủy"), ("Hoà Bình", "Hòa Bình"), ("khoẻ", "khỏe"),
                                      ("Thanh Hoá", "Thanh Hóa"), ("uỷ ban", "ủy ban")])
def test_both_tone_mark_placements_match(old, new):
    assert old != new
    assert match_key(old) == match_key(new)
    assert lexical_tokens(old) == lexical_tokens(new)


def test_tone_placement_leaves_other_syllables_alone():
    assert canonical_tones("quý hoàn thành thuyền") == "quý hoàn thành thuyền"


def test_nfd_input_is_normalised():
    decomposed = unicodedata.normalize("NFD", "Quan Hoá")
    assert nfc(decomposed) == "Quan Hoá"
    assert match_key(decomposed) == match_key("Quan Hóa")


@pytest.mark.parametrize("text, folded", [("Quan Hoá", "quan hoa"), ("Đường Đạp Thanh", "duong dap thanh"),
                                          ("Ba Chẽ", "ba che"), ("Bình Liêu", "binh lieu")])
def test_fold_removes_diacritics_and_d_stroke(text, folded):
    assert fold(text) == folded


def test_unaccented_query_tokens_meet_accented_document_tokens():
    doc = set(lexical_tokens("Huyện Quan Hoá có 11 sản phẩm OCOP"))
    query = set(lexical_tokens("quan hoa co bao nhieu san pham ocop"))
    assert {"quan", "hoa", "san", "pham", "ocop", "quan_hoa", "san_pham"} <= doc & query
    # accented queries are sharper: the accented form is indexed too
    assert "hoá" in doc and "hoá" not in query


def test_numbers_zero_padded_and_words():
    tokens = lexical_tokens("05 sản phẩm đạt bốn sao")
    assert "5" in tokens and "4" in tokens and "05" not in tokens
    assert "4" not in lexical_tokens("Ba Chẽ năm 2024")


def test_quantity_phrases_read_digits_words_and_parentheses():
    assert quantity_phrases("11 sản phẩm OCOP đạt ba (03) sao") == {"11 san", "3 sao"}
    assert quantity_phrases("05 sản phẩm được xếp hạng 4 sao") == {"5 san", "4 sao"}
    assert quantity_phrases("năm 2024, ngày 13 tháng 3") == set()


def test_whitespace_and_sentences():
    assert nfc("a\u00a0 b  c\r\nd") == "a b c\nd"
    assert collapse_whitespace(" a\n b ") == "a b"
    text = "Huyện có 13 sản phẩm; 01 sản phẩm 4 sao. Đến nay xong.\n- Dòng mới"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Huyện có 13 sản phẩm; 01 sản phẩm 4 sao.", "Đến nay xong.", "- Dòng mới"]
