"""Tests for the synthetic archive generator (rag.synth)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from rag.synth import PROVINCES, fold, generate_archive, main, tone_variant


def _read_dir(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def arc300(tmp_path_factory):
    return generate_archive(tmp_path_factory.mktemp("synth300"), 300, seed=1)


@pytest.fixture(scope="module")
def texts300(arc300):
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(arc300.corpus_dir.glob("*.txt"))}


def _gold(arc):
    return [json.loads(line) for line in arc.gold_path.read_text(encoding="utf-8").splitlines()]


def _facts(arc):
    return [json.loads(line) for line in arc.facts_path.read_text(encoding="utf-8").splitlines()]


def test_geography_table():
    assert sum(1 for ds in PROVINCES.values() if len(ds) >= 8) >= 8
    names = [d for ds in PROVINCES.values() for d in ds]
    assert len(names) == len(set(names))
    for name in list(PROVINCES) + names:
        assert unicodedata.is_normalized("NFC", name)


def test_tone_variant_and_fold():
    assert tone_variant("Thanh Hóa", True) == "Thanh Hoá"
    assert tone_variant("Thanh Hoá", False) == "Thanh Hóa"
    assert tone_variant("Hòa Bình", True) == "Hoà Bình"
    assert tone_variant("Lạc Thủy", True) == "Lạc Thuỷ"
    assert tone_variant("Hoằng Hóa", True) == "Hoằng Hoá"
    assert tone_variant("Quỳ Châu", True) == "Quỳ Châu"
    assert tone_variant("Hoàng Su Phì", True) == "Hoàng Su Phì"
    assert fold("Đồng Văn") == "Dong Van"


def test_determinism(tmp_path):
    a = generate_archive(tmp_path / "a", 80, seed=7)
    b = generate_archive(tmp_path / "b", 80, seed=7)
    generate_archive(tmp_path / "c", 80, seed=8)
    da, db, dc = _read_dir(tmp_path / "a"), _read_dir(tmp_path / "b"), _read_dir(tmp_path / "c")
    assert da == db
    assert da != dc
    assert a.reports == b.reports and a.questions == b.questions


def test_files_and_stems(arc300, texts300):
    assert len(texts300) == 300 == len(arc300.reports)
    stems = [r.stem for r in arc300.reports]
    assert len(set(stems)) == 300
    for stem in stems:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*-20\d\d-(bc|kh)-\d{4}", stem), stem
    seen = set()
    for r in arc300.reports:
        key = (r.district, r.year, r.doc_type)
        assert key not in seen
        seen.add(key)
        assert 2020 <= r.year <= 2025
        assert r.province in PROVINCES and r.district in PROVINCES[r.province]
    facts = _facts(arc300)
    assert [f["stem"] for f in facts] == stems
    assert all(all(isinstance(k, str) for k in f["ocop_stars"]) for f in facts)


def test_nfc(arc300, texts300):
    for text in texts300.values():
        assert unicodedata.is_normalized("NFC", text)
    raw = arc300.gold_path.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    assert "\\u" not in raw  # ensure_ascii=False


def test_evidence_verbatim_and_unique(arc300, texts300):
    gold = _gold(arc300)
    assert [g["id"] for g in gold] == [f"s{i:04d}" for i in range(1, len(gold) + 1)]
    big = "\x00".join(texts300.values())
    for g in gold:
        assert g["kind"] in {"fact", "unaccented", "aggregate", "unanswerable"}
        if g["kind"] == "unanswerable":
            assert g["evidence"] == [] and g["sources"] == []
            continue
        assert g["sources"] and g["evidence"]
        for src in g["sources"]:
            assert src in texts300
        if g["kind"] in {"fact", "unaccented"}:
            assert len(g["sources"]) == 1 and len(g["evidence"]) == 1
            ev = g["evidence"][0]
            assert ev in texts300[g["sources"][0]]
            assert big.count(ev) == 1, ev
        else:
            for ev, src in zip(g["evidence"], g["sources"], strict=True):
                assert ev in texts300[src]


def test_question_counts(arc300):
    kinds = [q.kind for q in arc300.questions]
    n_fact = kinds.count("fact") + kinds.count("unaccented")
    assert n_fact == 200
    assert 0.1 <= kinds.count("unaccented") / n_fact <= 0.3
    assert kinds.count("aggregate") >= 10
    assert kinds.count("unanswerable") >= 3
    for q in arc300.questions:
        if q.kind == "unaccented":
            assert q.question == fold(q.question).lower()
            assert q.question.isascii()


def test_aggregate_answers_match_facts(arc300):
    facts = _facts(arc300)
    for g in _gold(arc300):
        if g["kind"] != "aggregate":
            continue
        year = int(re.search(r"20\d\d", g["question"]).group())
        prov = next(p for p in PROVINCES if p in g["question"] or tone_variant(p, True) in g["question"])
        expected = sorted(
            f["district"] for f in facts
            if f["province"] == prov and f["year"] == year and f["doc_type"] == "Báo cáo"
            and f["ocop_stars"].get("4", 0) >= 1
        )
        assert g["answer"] == expected and expected
        stems = {f["stem"]: f for f in facts}
        assert sorted(stems[s]["district"] for s in g["sources"]) == expected


def test_ocop_rate_and_distractors(arc300, texts300):
    rate = sum(1 for r in arc300.reports if r.ocop_stars.get(4, 0) >= 1) / len(arc300.reports)
    assert 0.2 <= rate <= 0.4
    assert all(5 not in r.ocop_stars for r in arc300.reports)
    assert not any("5 sao" in t or "năm sao" in t for t in texts300.values())
    # numbers differ between years of the same district
    by_district: dict[str, list] = {}
    for r in arc300.reports:
        by_district.setdefault(r.district, []).append(r)
    for rs in by_district.values():
        assert len({r.budget_million for r in rs}) == len(rs)
        assert len({r.ocop_stars.get(3, 0) for r in rs}) == len(rs)


def test_variety(texts300):
    allt = "\n".join(texts300.values())
    assert re.search(r"\b0\d sản phẩm", allt)  # zero-padded
    assert re.search(r"\b(một|hai|ba|bốn|năm) \(0\d\) sản phẩm", allt)  # word-number form
    assert "chưa có sản phẩm nào đạt hạng 4 sao" in allt  # negative
    assert "chưa có doanh nghiệp khoa học và công nghệ" in allt
    assert re.search(r"Phấn đấu năm 20\d\d có thêm 0\d sản phẩm đạt 4 sao", allt)  # target
    assert re.search(r"nâng hạng 0\d sản phẩm lên 4 sao", allt)
    assert "- Hạng 4 sao:" in allt
    assert "## **BÁO CÁO**" in allt and "#### **I. " in allt
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in allt
    assert "Số: /BC-UBND" in allt and "/UBND-KTHT" in allt and "V/v " in allt
    assert re.search(r"ngày +tháng \d+ năm 20\d\d", allt)
    assert re.search(r"Quyết định số \d+/QĐ-UBND ngày \d+/\d+/20\d\d", allt)
    assert "KT. CHỦ TỊCH" in allt and "TM. ỦY BAN NHÂN DÂN" in allt
    assert re.search(r"tổng diện tích \d+,\d\d ha", allt)
    # most reports start directly with the header or the document number
    assert sum(t.startswith("Số:") for t in texts300.values()) > 0
    assert sum(not t.startswith("Số:") for t in texts300.values()) > 0


def test_paragraphs_without_district(arc300, texts300):
    for r in arc300.reports[:50]:
        text = texts300[r.stem]
        names = {r.district, tone_variant(r.district, True), tone_variant(r.district, False)}
        paras = [p for p in text.split("\n\n") if len(p) > 60]
        without = [p for p in paras if not any(n in p or n.upper() in p for n in names)]
        assert len(without) >= 3


def test_both_tone_placements(texts300):
    allt = "\n".join(texts300.values())
    assert "Thanh Hóa" in allt and "Thanh Hoá" in allt
    assert "Hòa Bình" in allt and "Hoà Bình" in allt


def test_kehoach_when_more_than_district_years(tmp_path):
    n_pairs = sum(len(ds) for ds in PROVINCES.values()) * 6
    arc = generate_archive(tmp_path, n_pairs + 20, seed=3, n_questions=30)
    kh = [r for r in arc.reports if r.doc_type == "Kế hoạch"]
    assert len(kh) == 20
    assert all(r.ocop_stars == {} for r in kh)
    bc_keys = {(r.district, r.year) for r in arc.reports if r.doc_type == "Báo cáo"}
    assert len(bc_keys) == n_pairs
    assert all((r.district, r.year) in bc_keys for r in kh)
    text = (arc.corpus_dir / f"{kh[0].stem}.txt").read_text(encoding="utf-8")
    assert "KẾ HOẠCH" in text
    kinds = [q.kind for q in arc.questions]
    assert kinds.count("fact") + kinds.count("unaccented") == 30


def test_cli(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "o"), "--reports", "40", "--seed", "2", "--questions", "10"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "o" / "gold.jsonl")
    assert "40 reports" in err
    gold = [json.loads(x) for x in Path(out.strip()).read_text(encoding="utf-8").splitlines()]
    assert sum(g["kind"] in ("fact", "unaccented") for g in gold) == 10
