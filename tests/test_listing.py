"""List questions over the whole archive: recognise, read counts, reject negatives and targets,
attribute to districts."""

from __future__ import annotations

import pytest

from rag.listing import sentence_counts
from rag.question import parse_list_question

FOUR = parse_list_question("Những huyện nào có sản phẩm OCOP 4 sao?")


@pytest.mark.parametrize("sentence, count", [
    ("Huyện hiện có 27 sản phẩm tham gia chương trình OCOP, trong đó 11 sản phẩm 3 sao; 01 sản phẩm 4 sao.", 1),
    ("13 sản phẩm OCOP, trong đó 08 sản phẩm được xếp 3 sao và 05 sản phẩm được xếp hạng 4 sao.", 5),
    ("- Hạng 4 sao: 02 sản phẩm.", 2),
    ("hạng 4 sao: 03", 3),
    ("Huyện có hai (02) sản phẩm đạt hạng bốn sao.", 2),
    ("Huyện có hai sản phẩm 4 sao.", 2),
    ("Có 11 sản phẩm OCOP đạt ba (03) sao.", None),           # another star level
    ("Chưa có sản phẩm nào đạt hạng 4 sao.", None),            # negative
    ("Huyện không có sản phẩm đạt 4 sao.", None),
    ("Phấn đấu năm 2025 có thêm 02 sản phẩm đạt 4 sao.", None),  # target
    ("Dự kiến nâng hạng 01 sản phẩm lên 4 sao.", None),
    ("Kế hoạch năm tới có 03 sản phẩm 4 sao.", None),
])
def test_counts_negatives_and_targets(sentence, count):
    assert sentence_counts(sentence, FOUR) == count


def test_question_shapes():
    assert parse_list_question("Quan Hoá có những sản phẩm OCOP nào?") is None  # not about districts
    # nothing counted: a list whose rows come from the passages that state it, at any unit level
    uncounted = parse_list_question("Những địa phương nào gặp khó khăn do thiếu nhân lực?")
    assert not uncounted.counted and uncounted.level == "" and "thieu" in uncounted.thing
    assert parse_list_question("Đơn vị nào có thẩm quyền cấp giấy phép phân loại phim?") is None  # an agency
    english = parse_list_question("Which districts have 4-star OCOP products?")
    assert (english.head, english.qualifier, english.topic) == (FOUR.head, FOUR.qualifier, FOUR.topic)
    scoped = parse_list_question("Những huyện nào của tỉnh Lào Cai có sản phẩm OCOP 4 sao năm 2023?", {"lao cai"})
    assert (scoped.year, scoped.province, scoped.qualifier) == (2023, "lao cai", (4, "sao"))
    firms = parse_list_question("huyện nào có doanh nghiệp khoa học và công nghệ")
    assert firms.head == ("doanh", "nghiep") and firms.qualifier is None
    assert parse_list_question("Bao nhiêu huyện có sản phẩm OCOP 3 sao?").count_units
    # "tổng cộng" about one district is a fact question, not a total over a province
    one = parse_list_question("Huyện Cẩm Khê có tổng cộng bao nhiêu sản phẩm OCOP năm 2025?")
    assert one is None or not one.total


def _rows(answer):
    return sorted((r.unit, r.value) for r in answer.rows)


@pytest.mark.parametrize("corpus", ["txt", "pdf"])
def test_ocop_list_answers_on_the_five_reports(corpus, txt_searcher, pdf_searcher):
    searcher = txt_searcher if corpus == "txt" else pdf_searcher
    four = searcher.ask("Những huyện nào có sản phẩm OCOP 4 sao?")
    assert four.found and _rows(four) == [("Ba Chẽ", 5), ("Bình Liêu", 1)]
    assert "2 huyện" in four.answer and "Quan Ho" not in four.answer
    for row in four.rows:  # each row cites a passage that states it
        passage = four.passages[row.passage - 1]
        assert f"{row.value:02d} sản phẩm" in passage.text and "4 sao" in passage.text
        assert f"[{row.passage}]" in four.answer
    three = searcher.ask("Những huyện nào có sản phẩm OCOP 3 sao?")
    assert _rows(three) == [("Ba Chẽ", 8), ("Bình Liêu", 11), ("Quan Hoá", 11)]
    english = searcher.ask("Which districts have 4-star OCOP products?")
    assert _rows(english) == _rows(four)


def test_list_answer_filters_and_nothing_found(txt_searcher):
    from rag.retrieval import Filters

    none = txt_searcher.ask("Những huyện nào có sản phẩm OCOP 5 sao?")
    assert not none.found and none.rows == [] and "Không tìm thấy" in none.answer
    thanh_hoa = txt_searcher.ask("Những huyện nào của tỉnh Thanh Hóa có sản phẩm OCOP 4 sao?")
    assert thanh_hoa.rows == []
    year = txt_searcher.ask("Những huyện nào có sản phẩm OCOP 3 sao năm 2024?")
    assert [r.unit for r in year.rows] == ["Quan Hoá"]
    filtered = txt_searcher.ask("Những huyện nào có sản phẩm OCOP 3 sao?", filters=Filters(province="Quảng Ninh"))
    assert sorted(r.unit for r in filtered.rows) == ["Ba Chẽ", "Bình Liêu"]
    firms = txt_searcher.ask("huyện nào có doanh nghiệp khoa học và công nghệ")
    assert _rows(firms) == [("Ba Chẽ", 1)]
    data = firms.to_json()
    assert data["rows"][0] | {} == {"unit": "Ba Chẽ", "province": "Quảng Ninh", "value": 1, "year": 2023, "passage": 1,
                                    "source": data["passages"][0]["source"], "level": "huyện", "note": ""}


@pytest.mark.parametrize("question, expected", [
    ("Huyện nào có từ 5 sản phẩm OCOP 3 sao trở lên?", [("Ba Chẽ", 8), ("Bình Liêu", 11), ("Quan Hoá", 11)]),
    ("huyen nao co tu 9 san pham ocop 3 sao tro len", [("Bình Liêu", 11), ("Quan Hoá", 11)]),
    ("Những huyện nào có trên 10 sản phẩm OCOP 3 sao?", [("Bình Liêu", 11), ("Quan Hoá", 11)]),
    ("Which districts have more than 10 three-star OCOP products?", [("Bình Liêu", 11), ("Quan Hoá", 11)]),
    ("Huyện nào có ít nhất 2 sản phẩm OCOP 4 sao?", [("Ba Chẽ", 5)]),
    ("Huyện nào có dưới 10 sản phẩm OCOP 3 sao?", [("Ba Chẽ", 8)]),
    ("Huyện nào có ít sản phẩm OCOP 3 sao nhất?", [("Ba Chẽ", 8)]),
    ("Huyện nào có nhiều sản phẩm OCOP 4 sao nhất?", [("Ba Chẽ", 5)]),
    ("Which district has the most 4-star OCOP products?", [("Ba Chẽ", 5)]),
])
def test_thresholds_and_superlatives(question, expected, txt_searcher):
    """A condition on the count ("từ N … trở lên", "trên/hơn/dưới N", "ít nhất N", "nhiều/ít … nhất")
    is taken out of the counted thing and applied to each district's count."""
    answer = txt_searcher.ask(question)
    assert answer.found and _rows(answer) == expected, (question, _rows(answer), answer.answer[:120])


def test_split_comparison_keeps_the_counted_thing():
    from rag.question import Comparison, split_comparison

    assert split_comparison("tu 5 san pham ocop 3 sao tro len") == ("san pham ocop 3 sao", Comparison(">=", 5))
    assert split_comparison("san pham ocop 3 sao nhieu nhat") == ("san pham ocop 3 sao", Comparison("max"))
    assert split_comparison("it san pham ocop 3 sao nhat") == ("san pham ocop 3 sao", Comparison("min"))
    assert split_comparison("san pham tren dia ban") == ("san pham tren dia ban", None)  # "trên" without a number


@pytest.mark.parametrize("question", ["Tổng số sản phẩm OCOP 3 sao của tỉnh Quảng Ninh là bao nhiêu?",
                                      "Cả tỉnh Quảng Ninh có bao nhiêu sản phẩm OCOP 3 sao?",
                                      "tong so san pham ocop 3 sao cua tinh quang ninh"])
def test_a_total_sums_the_districts_and_cites_every_part(question, txt_searcher):
    answer = txt_searcher.ask(question)
    assert answer.found and _rows(answer) == [("Ba Chẽ", 8), ("Bình Liêu", 11)]
    assert answer.answer.startswith("Tổng số sản phẩm OCOP 3 sao (Quảng Ninh): 19, cộng từ 2 huyện"), answer.answer
    for row in answer.rows:
        assert f"{row.value:02d} sản phẩm" in answer.passages[row.passage - 1].text


def test_a_total_no_district_states_falls_back_to_the_passages(txt_searcher):
    """Quảng Trị's reports state its trademarks for the province, not per district: retrieval answers."""
    answer = txt_searcher.ask("Tổng số nhãn hiệu tập thể của tỉnh Quảng Trị là bao nhiêu?")
    assert not answer.rows and answer.found
    assert any("59 nhãn hiệu tập thể" in p.text for p in answer.passages)
