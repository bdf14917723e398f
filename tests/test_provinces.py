"""The 2025 province merger (rag.provinces, rag/data/provinces-2025.json): 63 former provinces, 34 current."""

from __future__ import annotations

import json
import tomllib
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from rag.gazetteer import PROVINCES as ARCHIVE_PROVINCES
from rag.provinces import (DISTRICT_LEVEL_ENDED, Province, all_provinces, current_province, former_names,
                           merge_note, province_record, same_province_now)
from rag.vntext import fold

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "rag" / "data" / "provinces-2025.json"
FORMER = [name for p in all_provinces() for name in p.former]


def test_34_current_from_63_former_each_in_exactly_one():
    assert len(all_provinces()) == 34
    assert len({p.current for p in all_provinces()}) == 34
    assert len(FORMER) == 63 and len(set(FORMER)) == 63
    for name in FORMER:
        assert [p.current for p in all_provinces() if name in p.former] == [current_province(name)]


def test_11_unchanged_23_merged_6_cities():
    unchanged = {p.current for p in all_provinces() if p.former == (p.current,)}
    assert unchanged == {"Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh",
                         "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Cao Bằng"}
    assert sum(len(p.former) for p in all_provinces() if p.current not in unchanged) == 52
    assert {p.current for p in all_provinces() if p.kind == "thành phố"} == {
        "Hà Nội", "Huế", "Hải Phòng", "Đà Nẵng", "Thành phố Hồ Chí Minh", "Cần Thơ"}
    assert {p.kind for p in all_provinces()} == {"tỉnh", "thành phố"}


def test_every_current_name_continues_a_former_one_listed_first():
    for p in all_provinces():
        assert p.former[0] == p.current
        assert current_province(p.current) == p.current


def test_names_are_nfc_and_distinct_once_accents_are_folded():
    raw = DATA.read_text(encoding="utf-8")
    assert raw == unicodedata.normalize("NFC", raw)
    assert len({fold(n) for n in FORMER}) == 63


@pytest.mark.parametrize("name, now", [
    ("Hà Nam", "Ninh Bình"), ("Nam Định", "Ninh Bình"), ("Ninh Bình", "Ninh Bình"),
    ("Quảng Bình", "Quảng Trị"), ("Thừa Thiên Huế", "Huế"), ("Thành phố Huế", "Huế"),
    ("hoa binh", "Phú Thọ"), ("Hoà Bình", "Phú Thọ"), ("Hòa Bình", "Phú Thọ"), ("HÒA BÌNH", "Phú Thọ"),
    ("tỉnh Bắc Giang", "Bắc Ninh"), ("Tỉnh Bắc Giang", "Bắc Ninh"), ("bac giang", "Bắc Ninh"),
    ("Bà Rịa – Vũng Tàu", "Thành phố Hồ Chí Minh"), ("Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh"),
    ("tỉnh Bà Rịa-Vũng Tàu", "Thành phố Hồ Chí Minh"), ("ba ria vung tau", "Thành phố Hồ Chí Minh"),
    ("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh"), ("TP.HCM", "Thành phố Hồ Chí Minh"),
    ("thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"), ("Bình Dương", "Thành phố Hồ Chí Minh"),
    ("Thanh Hoá", "Thanh Hóa"), ("Khánh Hoà", "Khánh Hòa"), ("Ninh Thuận", "Khánh Hòa"),
    ("thành phố Hải Dương", "Hải Phòng"), ("TP Cần Thơ", "Cần Thơ"), ("Sóc Trăng", "Cần Thơ"),
    ("Hậu Giang", "Cần Thơ"), ("Kon Tum", "Quảng Ngãi"), ("Bình Định", "Gia Lai"), ("Phú Yên", "Đắk Lắk"),
    ("Đắk Nông", "Lâm Đồng"), ("dak nong", "Lâm Đồng"), ("Bình Thuận", "Lâm Đồng"), ("Bình Phước", "Đồng Nai"),
    ("Long An", "Tây Ninh"), ("Bến Tre", "Vĩnh Long"), ("Trà Vinh", "Vĩnh Long"), ("Tiền Giang", "Đồng Tháp"),
    ("Bạc Liêu", "Cà Mau"), ("Kiên Giang", "An Giang"), ("Quảng Nam", "Đà Nẵng"), ("Yên Bái", "Lào Cai"),
    ("Hà Giang", "Tuyên Quang"), ("Bắc Kạn", "Thái Nguyên"), ("Bắc Cạn", "Thái Nguyên"),
    ("Vĩnh Phúc", "Phú Thọ"), ("Thái Bình", "Hưng Yên"), ("Hà Nam cũ", "Ninh Bình"),
])
def test_current_province(name, now):
    assert current_province(name) == now


@pytest.mark.parametrize("name", ["Atlantis", "", "huyện Bình Liêu", "Sài Gòn Mới Toanh", "Hà", "tỉnh"])
def test_unknown_names_have_no_current_province(name):
    assert current_province(name) is None
    assert province_record(name) is None
    assert merge_note(name) == ""


def test_every_province_the_archive_names_has_a_current_one():
    for name in ARCHIVE_PROVINCES:  # rag.gazetteer spells them "TP. Hồ Chí Minh", "Thừa Thiên Huế", ...
        assert current_province(name) is not None, name


def test_former_names():
    assert former_names("Ninh Bình") == ("Ninh Bình", "Hà Nam", "Nam Định")
    assert former_names("ninh binh") == ("Ninh Bình", "Hà Nam", "Nam Định")
    assert former_names("TP.HCM") == ("Thành phố Hồ Chí Minh", "Bình Dương", "Bà Rịa – Vũng Tàu")
    assert former_names("Phú Thọ") == ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình")
    assert former_names("Hà Nội") == ("Hà Nội",)
    assert former_names("Hà Nam") == ()  # a former province, not a current one
    assert former_names("Atlantis") == ()


def test_merge_note():
    assert merge_note("Hà Nam") == "Hà Nam cũ, nay thuộc Ninh Bình"
    assert merge_note("tỉnh Quảng Bình") == "Quảng Bình cũ, nay thuộc Quảng Trị"
    assert merge_note("hoa binh") == "Hòa Bình cũ, nay thuộc Phú Thọ"
    assert merge_note("Bà Rịa - Vũng Tàu") == "Bà Rịa – Vũng Tàu cũ, nay thuộc Thành phố Hồ Chí Minh"
    assert merge_note("Kiên Giang") == "Kiên Giang cũ, nay thuộc An Giang"
    for still in ("Ninh Bình", "Hà Nội", "Thanh Hoá", "TP. Hồ Chí Minh", "Thừa Thiên Huế", "Cần Thơ"):
        assert merge_note(still) == "", still


def test_same_province_now():
    assert same_province_now("Hà Nam", "Ninh Bình")
    assert same_province_now("Hà Nam", "nam dinh")
    assert same_province_now("Bình Dương", "TP.HCM")
    assert same_province_now("Hòa Bình", "Hoà Bình")
    assert not same_province_now("Hà Nam", "Hà Giang")
    assert not same_province_now("Quảng Nam", "Quảng Ngãi")  # Đà Nẵng vs Quảng Ngãi
    assert not same_province_now("Hà Nam", "Atlantis")
    assert same_province_now("Atlantis", "tỉnh atlantis")  # unknown: compared by key
    assert not same_province_now("Atlantis", "Lemuria")


def test_record_is_frozen():
    record = province_record("Hà Nam")
    assert record == Province("Ninh Bình", "tỉnh", ("Ninh Bình", "Hà Nam", "Nam Định"))
    with pytest.raises(AttributeError):
        record.current = "Hà Nam"  # type: ignore[misc]


def test_source_and_packaging():
    source = json.loads(DATA.read_text(encoding="utf-8"))["source"]
    assert "202/2025/QH15" in source["resolution"]
    assert (source["adopted"], source["new_units_operate_from"]) == ("2025-06-12", "2025-07-01")
    assert source["urls"] and all(u.startswith("https://") for u in source["urls"])
    assert DISTRICT_LEVEL_ENDED == date(2025, 7, 1)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*.json" in pyproject["tool"]["setuptools"]["package-data"]["rag"]
