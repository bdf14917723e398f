"""No text may crash the pipeline (issue 12, item 4).

Every function that reads document text or a question is fed arbitrary Unicode (lone
surrogates, NUL, combining marks, bidi and zero-width marks, digits of other scripts,
superscripts, circled numbers) and must return normally with the right type. Only the
ASCII digits 0-9 are read as numbers: ``10³`` is ten cubed, not a count of 103, and
``٣`` or ``①`` are not counts at all.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.answer import Passage, best_sentences, compose_answer, coverage, informative_terms
from rag.chunking import Chunk, Chunker, ChunkerSettings, outline_sections
from rag.citation import format_citation, format_date
from rag.lexical import TermCounts, count_terms
from rag.facts import DocumentPlaces, PassageText, extract_facts
from rag.listing import sentence_counts
from rag.question import ListQuery, parse_list_question
from rag.loading import LoadedDocument
from rag.metadata import DocumentMetadata, capitalised_prefix, extract_metadata
from rag.question import QueryScope, asks_quantity, query_scope
from rag.vntext import (canonical_tones, collapse_whitespace, fold, fold_word, has_diacritics, is_number,
                        lexical_tokens, match_key, nfc, number_value, quantity_phrases, read_number_words,
                        split_sentences, syllables)

# --- reported crashes: each of these raised ValueError (or read a non-ASCII digit) before the fix ---


def test_superscript_exponent_is_not_a_count():
    assert number_value(syllables("10³"), 0) is None
    assert "10³" in syllables("10³") and lexical_tokens("10³")


def test_superscript_in_a_density_does_not_stop_the_reader():
    assert quantity_phrases("mật độ 10⁸ CFU/g") == set()


def test_circled_number_before_a_count_is_skipped_and_the_count_still_reads():
    assert quantity_phrases("① 05 sản phẩm") == {"5 san"}
    assert number_value(syllables("05 sản phẩm"), 0) == 5
    assert quantity_phrases("05 sản phẩm") == {"5 san"}


def test_number_word_before_a_superscript():
    assert quantity_phrases("ba ³ sao") == set()  # "ba" before a non-number is an ordinary syllable
    assert lexical_tokens("ba ³ sao")


def test_other_scripts_digits_are_not_numbers():
    assert number_value(["٣", "sao"], 0) is None
    assert quantity_phrases("٣ sao") == set()
    assert not is_number("٣") and not is_number("①") and not is_number("10³") and not is_number("")
    assert is_number("05") and is_number("2024")


def test_list_question_with_a_superscript():
    q = parse_list_question("Những huyện nào có 10³ sản phẩm OCOP?")
    assert q is None or q.qualifier is None


def test_list_sentence_with_odd_digits():
    query = parse_list_question("Những huyện nào có sản phẩm OCOP 4 sao?")
    assert query is not None and query.qualifier == (4, "sao")
    assert sentence_counts("Huyện có ³ sao và 4 sao", query) is None
    assert sentence_counts("Huyện có ba ³ sao", query) is None
    assert sentence_counts("Huyện có 05 sản phẩm OCOP đạt 4 sao", query) == 5


def test_dates_and_years_in_other_digits_are_not_read():
    meta = extract_metadata("UBND HUYỆN QUAN HOÁ\nQuan Hoá, ngày ١٤ tháng ٠٣ năm ٢٠٢٣\nBÁO CÁO\nKết quả")
    assert meta.year is None and meta.date == ""
    assert extract_metadata("Quan Hoá, ngày 14 tháng 03 năm 2023\n").date == "2023-03-14"
    assert query_scope("Quan Hoá năm ٢٠٢٤ có gì?", set()).years == ()
    assert query_scope("Quan Hoá năm 2024 có gì?", set()).years == (2024,)


# --- strategies ---

ANY_CHAR = st.characters(exclude_categories=())  # all of Unicode, surrogates (Cs) included
ANY_TEXT = st.text(alphabet=ANY_CHAR, max_size=200)

ODD_CHARS = ("³⁸①٣²½Ⅻ０𝟓߁໓\x00\ud800\udcff\ufeff\u00a0"
             + "".join(map(chr, range(0x0300, 0x0370)))
             + "".join(map(chr, range(0x200B, 0x2010)))
             + "".join(map(chr, range(0x202A, 0x202F)))
             + "".join(map(chr, range(0x2066, 0x206A))))
WORDS = ("huyện Huyện HUYỆN thị xã tỉnh Quan Hoá Quảng Ninh Ba Chẽ nào Những có đạt sản phẩm OCOP sao ba bốn "
         "năm mười hai mươi mốt tư một ngày tháng Số: BÁO CÁO V/v I. II. 1. 1.1. a) Nơi nhận: KT. CHỦ TỊCH "
         "Nguyễn Văn An doanh nghiệp bao nhiêu chưa phấn đấu mật độ CFU/g 2024 2023 05 03 14 4 10 "
         "CỘNG HÒA UBND Sở KH&CN how many which districts 4-star").split()
DIGITS = st.text(alphabet="0123456789" + ODD_CHARS[:12], min_size=1, max_size=4)
SEPARATORS = st.sampled_from([" ", " ", "", "\n", "\n\n", ". ", ", ", "/", "(", ")", ": ", "; "])
TOKEN = st.one_of(st.sampled_from(WORDS), DIGITS, st.text(alphabet=ODD_CHARS, min_size=1, max_size=3),
                  st.integers(0, 2100).map(str))
DATE_LINE = st.builds("{}, ngày {} tháng {} năm {}".format, st.sampled_from(["Quan Hoá", "Hà Nội", "Ba Chẽ"]),
                      DIGITS, DIGITS, DIGITS)
NEWS_DATE = st.builds("{}/{}/{} {}:{}".format, DIGITS, DIGITS, DIGITS, DIGITS, DIGITS)
MIXED = st.lists(st.tuples(st.one_of(TOKEN, DATE_LINE, NEWS_DATE), SEPARATORS), max_size=40).map(
    lambda parts: "".join(tok + sep for tok, sep in parts))
TEXT = st.one_of(ANY_TEXT, MIXED)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(FUZZ, max_examples=120)

OCOP_4_STARS = parse_list_question("Những huyện nào có sản phẩm OCOP 4 sao?")
ENTERPRISES = parse_list_question("Những huyện nào có doanh nghiệp khoa học và công nghệ?")


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


# --- vntext: normalisation, folding, tokens, numbers ---

@FUZZ
@given(TEXT)
def test_vntext_string_functions_take_any_text(text):
    for f in (nfc, collapse_whitespace, canonical_tones, fold, fold_word, match_key):
        assert isinstance(f(text), str)
    assert isinstance(has_diacritics(text), bool)
    assert _is_str_list(syllables(text))
    assert _is_str_list(lexical_tokens(text, "syllable"))
    assert _is_str_list(lexical_tokens(text, "syllable+bigram"))


@FUZZ
@given(TEXT)
def test_sentences_and_quantities_take_any_text(text):
    spans = split_sentences(text)
    assert all(isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text) for s, e in spans)
    phrases = quantity_phrases(text)
    assert isinstance(phrases, set) and all(isinstance(p, str) for p in phrases)


@FUZZ
@given(st.one_of(TEXT.map(syllables), st.lists(st.one_of(TOKEN, ANY_TEXT), max_size=8)))
def test_number_readers_take_any_tokens(tokens):
    for i in range(len(tokens)):
        value = number_value(tokens, i)
        assert value is None or (isinstance(value, int) and value >= 0)
        if value is not None and tokens[i][:1] in "0123456789":
            assert is_number(tokens[i]) and value == int(tokens[i])
        spelled = read_number_words(tokens, i)
        assert spelled is None or all(isinstance(x, int) for x in spelled)
        assert isinstance(is_number(tokens[i]), bool)


@FUZZ
@given(st.lists(TEXT, max_size=3))
def test_lexical_counting_takes_any_text(texts):
    vocab: dict[str, int] = {}
    counts = count_terms(texts, "syllable+bigram", vocab)
    assert isinstance(counts, TermCounts) and len(counts.doc_len) == len(texts)
    assert all(isinstance(t, str) for t in vocab)


# --- document side: metadata, citation, chunking, list rows ---

@SLOW
@given(TEXT)
def test_metadata_and_citation_take_any_text(text):
    meta = extract_metadata(text)
    assert isinstance(meta, DocumentMetadata)
    assert meta.year is None or isinstance(meta.year, int)
    assert meta.date == "" or meta.date.replace("-", "").isascii()
    assert isinstance(format_date(meta), str)
    assert isinstance(format_citation(meta, ("1. Mục",), 1, 2), str)
    assert isinstance(capitalised_prefix(text), str)


_CHUNKER = Chunker(lambda s: len(s.split()), ChunkerSettings(chunk_tokens=16, overlap_tokens=4))


@SLOW
@given(TEXT)
def test_chunker_takes_any_text(text):
    assert all(0 <= s.start <= s.end <= len(text) for s in outline_sections(text))
    doc = LoadedDocument(Path("fuzz.txt"), "txt", text)
    chunks = _CHUNKER.chunk(doc)
    assert isinstance(chunks, list) and all(isinstance(c, Chunk) for c in chunks)
    assert all(text[c.start:c.end] == c.text for c in chunks)


@FUZZ
@given(TEXT)
def test_list_sentences_take_any_text(text):
    for query in (OCOP_4_STARS, ENTERPRISES):
        value = sentence_counts(text, query)
        assert value is None or isinstance(value, int)
    facts = extract_facts(DocumentPlaces(text, ("Ba Chẽ",), "Quảng Ninh", 2023), [PassageText(0, 0, text)])
    assert all(0 < f.value < 10_000 and 0 <= f.start <= f.end <= len(text) for f in facts)


# --- question side: list questions, scope, answer composition ---

@FUZZ
@given(TEXT)
def test_question_parsers_take_any_question(question):
    for q in (question, "Những huyện nào có " + question, "Which districts have " + question):
        parsed = parse_list_question(q, {"quang ninh", "thanh hoa"})
        assert parsed is None or isinstance(parsed, ListQuery)
    assert isinstance(asks_quantity(question), bool)
    scope = query_scope(question, {"quan hoa", "ba che"})
    assert isinstance(scope, QueryScope) and all(isinstance(y, int) for y in scope.years)


@FUZZ
@given(question=TEXT, text=TEXT)
def test_answer_composition_takes_any_question_and_passage(question, text):
    terms = informative_terms(question)
    assert _is_str_list(terms)
    weights = {t: 1.0 + len(t) for t in terms}
    assert isinstance(coverage(terms, weights, text), float)
    spans = best_sentences(text, terms, weights, quantities=quantity_phrases(question))
    assert all(0 <= s < e <= len(text) for s, e in spans)
    passage = Passage(rank=1, source="a.pdf", page=1, page_end=1, section="", text=text, score=1.0,
                      citation="", chunk_id=0, doc_id=0, start=0, end=len(text), highlights=spans)
    assert isinstance(compose_answer(question, [passage], found=True), str)
