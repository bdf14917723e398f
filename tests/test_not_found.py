"""An honest "not found" (issue 15 item 5): say when the archive holds no report about the place or
year asked, and show the closest passages as what they are, not as answers."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("question, missing", [
    ("Huyện Bảo Thắng có bao nhiêu sản phẩm OCOP?", "Kho chưa có báo cáo nào về Bảo Thắng."),
    ("quan hoa co bao nhieu san pham ocop nam 2019", "Kho chưa có báo cáo nào năm 2019."),
    ("Huyện Triệu Sơn có sản phẩm OCOP 5 sao nào không?", None),  # the archive has Triệu Sơn: just not found
    ("Tỉnh Ninh Bình có bao nhiêu mô hình?", None),  # Hà Nam's reports: Ninh Bình now (rag.provinces)
])
def test_not_found_says_when_the_archive_has_no_report_about_it(question, missing, txt_searcher):
    answer = txt_searcher.ask(question)
    if missing is None:
        assert "Kho chưa có báo cáo nào" not in answer.answer
    else:
        assert not answer.found and answer.answer.startswith(missing), answer.answer


def test_the_closest_passages_are_not_shown_as_answers(txt_searcher):
    from ui.render import render_answer

    answer = txt_searcher.ask("Huyện Triệu Sơn có sản phẩm OCOP 5 sao nào không?")
    assert not answer.found and answer.passages
    page = render_answer(answer)
    assert "Chưa tìm thấy câu trả lời chắc chắn" in page and "không phải câu trả lời" in page
    assert "<mark>" not in page.split("rag-summary", 1)[1]  # no sentence marked as if it answered
    found = render_answer(txt_searcher.ask("Những huyện nào có sản phẩm OCOP 4 sao?"))
    assert "<mark>" in found and "không phải câu trả lời" not in found
