"""Facts read at ingest (rag.facts): counts, their unit and level, the period they refer to, and
the status (achieved, target, negated); the facts table's migration and backfill."""

from __future__ import annotations

import sqlite3

import pytest

from rag.facts import ACHIEVED, NEGATED, TARGET, DocumentPlaces, PassageText, extract_facts, period, unit_mentions

BA_CHE = DocumentPlaces("", ("Ba Chẽ",), "Quảng Ninh", 2023)
TWO = DocumentPlaces("", ("Bình Liêu", "Ba Chẽ"), "Quảng Ninh", 2023)


def facts(text: str, doc: DocumentPlaces = BA_CHE):
    return [(f.head, f.qualifier, f.value, f.status, f.unit, f.level, f.year)
            for f in extract_facts(doc, [PassageText(0, 0, text)])]


def test_each_clause_is_credited_to_the_unit_it_names():
    """A sentence naming two districts credits each clause to its own (it used to credit the last)."""
    got = facts("Năm 2023, huyện Bình Liêu có 01 sản phẩm 4 sao, huyện Ba Chẽ có 05 sản phẩm được xếp hạng 4 sao.", TWO)
    assert got == [("san pham", "", 1, ACHIEVED, "Bình Liêu", "huyện", 2023),
                   ("san pham", "", 5, ACHIEVED, "Ba Chẽ", "huyện", 2023)]


@pytest.mark.parametrize("text, expected", [
    ("Toàn tỉnh đã đăng ký bảo hộ được 02 chỉ dẫn địa lý.", ("chi dan dia ly", 2, "Quảng Ninh", "tỉnh")),
    ("Xã Đồn Đạc, huyện Ba Chẽ có 03 mô hình.", ("mo hinh", 3, "Đồn Đạc", "xã")),  # an address: its first unit
    ("Thị trấn Ba Chẽ có 2 sản phẩm OCOP.", ("san pham", 2, "Ba Chẽ", "thị trấn")),  # a commune keeps its kind
    ("Hợp tác xã Thanh Sơn có 04 sản phẩm OCOP.", ("san pham", 4, "Ba Chẽ", "huyện")),  # a cooperative, not a commune
    ("Thành phố Hạ Long có 12 doanh nghiệp.", ("doanh nghiep", 12, "Hạ Long", "huyện")),
    ("Thành phố Đà Nẵng có 30 doanh nghiệp.", ("doanh nghiep", 30, "Đà Nẵng", "tỉnh")),
    ("Huyện Cư M’gar có 03 sản phẩm OCOP 3 sao.", ("san pham", 3, "Cư M’gar", "huyện")),
])
def test_units_and_levels(text, expected):
    head, value, unit, level = expected
    got = facts(text)
    assert (got[0][0], got[0][2], got[0][4], got[0][5]) == (head, value, unit, level), got


@pytest.mark.parametrize("text, status", [
    ("Huyện có 05 sản phẩm được xếp hạng 4 sao.", ACHIEVED),
    ("Phấn đấu năm 2025 có 02 sản phẩm đạt 4 sao.", TARGET),
    ("Dự kiến nâng hạng 01 sản phẩm lên 4 sao.", TARGET),
    ("Huyện không có 02 sản phẩm đạt 4 sao như kế hoạch.", NEGATED),
])
def test_status(text, status):
    assert facts(text)[0][3] == status


@pytest.mark.parametrize("head, doc_year, expected", [
    ("Năm 2021, huyện có", 2023, (2021, None)),
    ("Giai đoạn 2020–2022, huyện có", 2023, (2022, 2020)),
    ("Từ năm 2019 đến nay, huyện có", 2023, (2023, 2019)),
    ("Đến năm 2025, huyện có", 2023, (2023, None)),  # a horizon after the report: the report's year
    ("Ngày 12 tháng 5 năm 2021, huyện có", 2023, (2023, None)),  # a date is not the figure's period
    ("Huyện có", 2023, (2023, None)),
])
def test_period_of_a_figure(head, doc_year, expected):
    assert period(head, doc_year) == expected


def test_table_lines_and_spelled_numbers():
    got = facts("- Hạng 4 sao: 02 sản phẩm; - Hạng 3 sao: 05.\n\nHuyện có mười sáu mô hình.")
    assert ("san pham", "", 2, ACHIEVED, "Ba Chẽ", "huyện", 2023) in got
    assert ("", "3 sao", 5, ACHIEVED, "Ba Chẽ", "huyện", 2023) in got
    assert ("mo hinh", "", 16, ACHIEVED, "Ba Chẽ", "huyện", 2023) in got


def test_unit_mentions_keep_apostrophes_and_skip_cooperatives():
    names = [(u.name, u.level) for u in unit_mentions("huyện Ea H'leo, xã Ea Khăl và Hợp tác xã Ea Súp; tỉnh Đắk Lắk")]
    assert names == [("Ea H'leo", "huyện"), ("Ea Khăl", "xã"), ("Đắk Lắk", "tỉnh")]


def test_an_older_store_gets_its_facts_table_and_facts(tmp_path):
    """Schema 3 (before facts) -> 4: the ingest that upgrades reads the facts of the stored documents
    from their stored text (rag.indexer.backfill_facts); no file is read again."""
    from rag.chunking import Chunk
    from rag.indexer import backfill_facts
    from rag.metadata import DocumentMetadata
    from rag.store import FACTS_MIGRATION, MIGRATIONS, Store

    path = tmp_path / "meta.sqlite"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:FACTS_MIGRATION - 1], start=1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    db.commit()
    db.close()
    old = Store(path, readonly=True)
    assert old.outdated
    old.close()
    store = Store(path)
    assert store.migrated_from == FACTS_MIGRATION - 1 and store.schema_version() == len(MIGRATIONS)
    text = "Huyện Ba Chẽ có 05 sản phẩm được xếp hạng 4 sao."
    doc_id = store.add_document("a.txt", "txt", "h", len(text), text, [], DocumentMetadata(year=2023, districts=("Ba Chẽ",)),
                                b"")
    store.add_chunks(doc_id, [Chunk(text=text, section_path=(), start=0, end=len(text), page=None, page_end=None,
                                    ordinal=0, n_tokens=12)], [""], ["x"])
    assert store.facts("1", []) == []
    backfill_facts(store)
    [fact] = store.facts("head = ?", ["san pham"])
    assert (fact.value, fact.unit, fact.year, " 4 sao " in fact.levels) == (5, "Ba Chẽ", 2023, True)
    store.delete_document(doc_id)
    assert store.facts("1", []) == []
    store.close()


def test_a_change_is_not_a_count():
    """"tăng 01 sản phẩm so với năm 2023 (02 sản phẩm)": 2 products in 2023, not 1."""
    got = facts("Số sản phẩm 4 sao tăng 01 sản phẩm so với năm 2023 (02 sản phẩm).", DocumentPlaces("", ("Yên Lập",), "Phú Thọ", 2025))
    assert [(g[0], g[2], g[6]) for g in got] == [("san pham", 2, 2023)]
