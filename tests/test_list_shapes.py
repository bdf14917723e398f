"""Every shape of list question staff ask, parsed once (rag.question) and answered from the facts
read at ingest or from passages: on the five reports and on a generated archive."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.question import parse_list_question
from rag.vntext import match_key

# question -> (level, kinds, counted, qualifier, comparison op, years, province, district, total, count_units)
SHAPES = [
    ("Những huyện nào có sản phẩm OCOP 4 sao?", ("huyện", ("huyện",), True, (4, "sao"), None, (), None, None, False, False)),
    ("Các huyện có sản phẩm OCOP 4 sao là những huyện nào?", ("huyện", ("huyện",), True, (4, "sao"), None, (), None, None, False, False)),
    ("Kể tên các huyện có sản phẩm OCOP 3 sao năm 2023.", ("huyện", ("huyện",), True, (3, "sao"), None, (2023,), None, None, False, False)),
    ("Liệt kê các huyện của tỉnh Quảng Ninh có doanh nghiệp KH&CN", ("huyện", ("huyện",), True, None, None, (), "quang ninh", None, False, False)),
    ("Địa phương nào có nhãn hiệu tập thể?", ("", ("huyện", "tỉnh"), True, None, None, (), None, None, False, False)),
    ("Những tỉnh nào có chỉ dẫn địa lý được bảo hộ?", ("tỉnh", ("tỉnh",), True, None, None, (), None, None, False, False)),
    ("Xã nào của huyện Vân Đồn có sản phẩm OCOP đạt 3 sao?", ("xã", ("xã",), True, (3, "sao"), None, (), None, "van don", False, False)),
    ("Xã, thị trấn nào ở huyện Cẩm Khê có sản phẩm OCOP 3 sao?", ("xã", ("xã", "thị trấn"), True, (3, "sao"), None, (), None, "cam khe", False, False)),
    ("Which districts have 4-star OCOP products?", ("huyện", ("huyện",), True, (4, "sao"), None, (), None, None, False, False)),
    ("Which provinces have geographical indications?", ("tỉnh", ("tỉnh",), True, None, None, (), None, None, False, False)),
    ("Huyện nào có từ 5 sản phẩm OCOP 3 sao trở lên?", ("huyện", ("huyện",), True, (3, "sao"), ">=", (), None, None, False, False)),
    ("Huyện nào của tỉnh Quảng Trị có trên 10 sản phẩm OCOP 3 sao năm 2024?", ("huyện", ("huyện",), True, (3, "sao"), ">", (2024,), "quang tri", None, False, False)),
    ("Huyện nào có dưới 3 sản phẩm OCOP 4 sao?", ("huyện", ("huyện",), True, (4, "sao"), "<", (), None, None, False, False)),
    ("Trong năm 2022, huyện nào trên địa bàn tỉnh Đắk Lắk có số sản phẩm OCOP đạt 3 sao ít nhất?", ("huyện", ("huyện",), True, (3, "sao"), "min", (2022,), "dak lak", None, False, False)),
    ("Which district of Quang Tri province had the most 4-star OCOP products in 2023?", ("huyện", ("huyện",), True, (4, "sao"), "max", (2023,), "quang tri", None, False, False)),
    ("Tổng số sản phẩm OCOP 3 sao của tỉnh Quảng Ninh là bao nhiêu?", ("huyện", ("huyện",), True, (3, "sao"), None, (), "quang ninh", None, True, False)),
    ("Cả tỉnh Thanh Hoá có bao nhiêu doanh nghiệp khoa học và công nghệ năm 2022?", ("huyện", ("huyện",), True, None, None, (2022,), "thanh hoa", None, True, False)),
    ("tinh dak lak co bao nhieu huyen co san pham ocop dat 4 sao trong nam 2023?", ("huyện", ("huyện",), True, (4, "sao"), None, (2023,), "dak lak", None, False, True)),
    ("Những huyện nào của tỉnh Quảng Ninh có sản phẩm OCOP 3 sao từ năm 2021 đến 2024?", ("huyện", ("huyện",), True, (3, "sao"), None, (2021, 2022, 2023, 2024), "quang ninh", None, False, False)),
    ("Trong giai đoạn 2020–2022, các huyện nào thuộc tỉnh Hà Giang có sản phẩm đạt OCOP 4 sao?", ("huyện", ("huyện",), True, (4, "sao"), None, (2020, 2021, 2022), "ha giang", None, False, False)),
    ("Huyện nào đã ban hành kế hoạch chuyển đổi số năm 2024?", ("huyện", ("huyện",), False, None, None, (2024,), None, None, False, False)),
    ("nhung dia phuong nao gap kho khan do thieu nhan luc", ("", ("huyện", "tỉnh"), False, None, None, (), None, None, False, False)),
]


@pytest.mark.parametrize("question, expected", SHAPES, ids=[q for q, _ in SHAPES])
def test_every_shape_is_parsed(question, expected):
    level, kinds, counted, qualifier, op, years, province, district, total, count_units = expected
    q = parse_list_question(question)
    assert q is not None, question
    got = (q.level, q.kinds, q.counted, q.qualifier, q.comparison.op if q.comparison else None, q.years,
           q.province, q.district, q.total, q.count_units)
    assert got == expected


@pytest.mark.parametrize("question", [
    "Quan Hoá có những sản phẩm OCOP nào?",                      # one place's facts: not a list of units
    "Đơn vị nào có thẩm quyền cấp giấy phép phân loại phim?",      # an agency, nothing counted
    "Huyện Cẩm Khê có tổng cộng bao nhiêu sản phẩm OCOP năm 2025?",  # one district's total
    "Kinh phí sự nghiệp KH&CN năm 2023 của huyện Bình Liêu là bao nhiêu?",
])
def test_fact_questions_stay_fact_questions(question):
    assert parse_list_question(question) is None


def _rows(answer):
    return sorted((r.unit, r.value) for r in answer.rows or [])


@pytest.mark.parametrize("question, expected", [
    ("Các huyện có sản phẩm OCOP 4 sao là những huyện nào?", [("Ba Chẽ", 5), ("Bình Liêu", 1)]),
    ("Kể tên các huyện có sản phẩm OCOP 3 sao", [("Ba Chẽ", 8), ("Bình Liêu", 11), ("Quan Hoá", 11)]),
    ("Những tỉnh nào có chỉ dẫn địa lý được bảo hộ?", [("Quảng Trị", 2)]),
    ("Which provinces have geographical indications?", [("Quảng Trị", 2)]),
    ("Những địa phương nào xây dựng nhãn hiệu tập thể?", [("Quảng Trị", 59)]),
    ("Bao nhiêu huyện của tỉnh Quảng Ninh có sản phẩm OCOP 3 sao?", [("Ba Chẽ", 8), ("Bình Liêu", 11)]),
    ("Những huyện nào của tỉnh Quảng Ninh có sản phẩm OCOP 4 sao năm 2023?", [("Ba Chẽ", 5), ("Bình Liêu", 1)]),
])
def test_shapes_on_the_five_reports(question, expected, txt_searcher):
    answer = txt_searcher.ask(question)
    assert answer.found and _rows(answer) == expected, (question, _rows(answer), answer.answer[:200])
    for row in answer.rows:  # the cited passage states the figure, and it is highlighted first
        passage = answer.passages[row.passage - 1]
        s, e = passage.highlights[0]
        assert f"{row.value:02d}" in passage.text[s:e], (row, passage.text[s:e])


@pytest.mark.parametrize("question", ["Which districts have 4-star OCOP products?",
                                      "nhung huyen nao co san pham ocop 4 sao"])
def test_the_heading_states_the_understood_condition_in_vietnamese(question, txt_searcher):
    """Typed in English or without diacritics, the list heading is proper Vietnamese (issue 15 item 3)."""
    assert txt_searcher.ask(question).answer.splitlines()[0] == "2 huyện có sản phẩm OCOP 4 sao:"


def test_a_condition_without_a_count_lists_the_units_whose_reports_state_it(txt_searcher):
    answer = txt_searcher.ask("Những địa phương nào gặp khó khăn do thiếu nhân lực làm công tác khoa học công nghệ?")
    assert answer.found and [r.unit for r in answer.rows] == ["Triệu Sơn"] and answer.rows[0].value is None
    assert "theo các đoạn báo cáo nêu việc này; không có số liệu" in answer.answer.splitlines()[0]
    passage = answer.passages[answer.rows[0].passage - 1]
    s, e = passage.highlights[0]
    assert "khó khăn do nhân lực ít" in passage.text[s:e]
    # the closest passages follow the rows: the other district that says it in other words is shown too
    assert any("Nhân lực phụ trách lĩnh vực khoa học công nghệ còn mỏng" in p.text for p in answer.passages)


def test_a_current_province_covers_the_provinces_merged_into_it(txt_searcher):
    """Hà Nam was merged into Ninh Bình (Nghị quyết 202/2025/QH15): a question about Ninh Bình with no
    year covers Thanh Liêm's reports, and the row says where it stands now; about 2022, Ninh Bình is
    the province it then was."""
    merged = txt_searcher.ask("Những xã nào của tỉnh Ninh Bình có mô hình?")
    assert merged.found and ("Liêm Phong", 3) in _rows(merged)
    assert {(r.province, r.note) for r in merged.rows} == {("Hà Nam", "Hà Nam cũ, nay thuộc Ninh Bình")}
    assert "Hà Nam cũ, nay thuộc Ninh Bình" in merged.answer
    assert _rows(txt_searcher.ask("Những xã nào của tỉnh Hà Nam có mô hình?")) == _rows(merged)
    assert not txt_searcher.ask("Những xã nào của tỉnh Ninh Bình có mô hình năm 2022?").rows


@pytest.fixture(scope="module")
def generated(tmp_path_factory, settings):
    """A generated archive (rag.synth, every list shape), indexed with a tiny model built here: the
    facts do not depend on the model, and conditions without a count are found by the lexical half."""
    from rag import Searcher, ingest
    from rag.evaluate import read_gold
    from rag.synth import generate_archive
    from tests.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("gen")
    archive = generate_archive(root / "a", 240, seed=23)
    texts = [p.read_text(encoding="utf-8") for p in sorted(archive.corpus_dir.glob("*.txt"))]
    tiny = replace(settings, model=str(build_tiny_model(root / "m", texts)))
    ingest([archive.corpus_dir], root / "i", settings=tiny)
    searcher = Searcher.open(root / "i", settings=tiny)
    yield searcher, [q for q in read_gold(archive.gold_path) if q.kind == "aggregate"]
    searcher.close()


def test_every_shape_on_a_generated_archive(generated):
    """Each generated list question's units (and its total or count) are exactly the generator's."""
    searcher, questions = generated
    shapes = {q.shape for q in questions}
    assert {"which", "threshold", "superlative", "total", "how_many_units", "commune", "year_range", "no_count",
            "english", "unaccented"} <= shapes
    wrong = []
    for q in questions:
        answer = searcher.ask(q.question)
        got = {match_key(r.unit) for r in answer.rows or []}
        number = (sum(r.value or 0 for r in answer.rows or []) if q.total is not None
                  else len(got) if q.count is not None else None)
        if got != {match_key(u) for u in q.answer} or number != (q.total if q.total is not None else q.count):
            wrong.append((q.shape, q.question, sorted(got), number))
    assert not wrong, wrong
