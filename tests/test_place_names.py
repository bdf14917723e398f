"""Place names as they are written: apostrophes (straight or typographic) and hyphens in district
names ("Cư M'gar", "Ea H’leo", "M'Đrắk") are read whole by the metadata reader, the list reader and
the question parser (one rule: rag.vntext.PLACE_NAME)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.metadata import extract_metadata
from rag.question import query_scope
from rag.vntext import fold

REPORTS = {
    "cu-mgar-2024.txt": ("UBND HUYỆN CƯ M'GAR\nSố: 12/BC-UBND\nCư M'gar, ngày 05 tháng 12 năm 2024\n\nBÁO CÁO\n"
                         "Kết quả thực hiện Chương trình OCOP năm 2024\n\n1. Kết quả\nNăm 2024, huyện Cư M'gar có "
                         "03 sản phẩm OCOP đạt 4 sao và 07 sản phẩm đạt 3 sao.\n"),
    "ea-hleo-2024.txt": ("UBND HUYỆN EA H’LEO\nSố: 30/BC-UBND\nEa H’leo, ngày 10 tháng 12 năm 2024\n\nBÁO CÁO\n"
                         "Kết quả thực hiện Chương trình OCOP năm 2024\n\n1. Kết quả\nNăm 2024, huyện Ea H’leo có "
                         "02 sản phẩm OCOP đạt 4 sao.\n"),
    "mdrak-2024.txt": ("UBND HUYỆN M'ĐRẮK\nSố: 41/BC-UBND\nM'Đrắk, ngày 12 tháng 12 năm 2024\n\nBÁO CÁO\n"
                       "Kết quả thực hiện Chương trình OCOP năm 2024\n\n1. Kết quả\nNăm 2024, huyện M'Đrắk có "
                       "01 sản phẩm OCOP đạt 4 sao. Huyện Krông A Na có 04 sản phẩm đạt 3 sao.\n"),
}


def test_metadata_reads_the_whole_name():
    assert extract_metadata(REPORTS["cu-mgar-2024.txt"]).districts[:1] == ("Cư M'gar",)
    assert fold(extract_metadata(REPORTS["ea-hleo-2024.txt"]).districts[0]) == "ea h'leo"


@pytest.mark.parametrize("question", ["Huyện Cư M'gar có bao nhiêu sản phẩm OCOP 4 sao?",
                                      "Huyện Cư M’gar có bao nhiêu sản phẩm OCOP 4 sao?",
                                      "huyen cu m'gar co bao nhieu san pham ocop 4 sao"])
def test_the_question_names_the_whole_place(question):
    assert "cu m'gar" in query_scope(question, {"cu m'gar", "ea h'leo"}).places


def test_list_answer_names_every_district_whole(tmp_path, settings):
    from rag import Searcher, ingest
    from tests.tiny_model import build_tiny_model

    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, text in REPORTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    model = build_tiny_model(tmp_path / "m", list(REPORTS.values()))
    tiny = replace(settings, model=str(model))
    ingest([corpus], tmp_path / "i", settings=tiny)
    searcher = Searcher.open(tmp_path / "i", settings=tiny)
    try:
        answer = searcher.ask("Những huyện nào có sản phẩm OCOP 4 sao?")
        assert sorted((fold(r.unit), r.value) for r in answer.rows) == [("cu m'gar", 3), ("ea h'leo", 2),
                                                                        ("m'drak", 1)]
        three = searcher.ask("Những huyện nào có sản phẩm OCOP 3 sao?")
        assert sorted(r.unit for r in three.rows) == ["Cư M'gar", "Krông A Na"]
    finally:
        searcher.close()
