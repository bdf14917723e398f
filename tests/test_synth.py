"""Tests for the synthetic archive generator (rag.synth)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from rag.synth import PROVINCES, YEARS, fold, generate_archive, main, tone_variant

SHAPES = {"which", "threshold", "superlative", "total", "how_many_units", "no_count", "commune",
          "year_range", "english", "unaccented"}


def _read_dir(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def arc300(tmp_path_factory):
    return generate_archive(tmp_path_factory.mktemp("synth300"), 300, seed=7)


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
    assert {"Cư M'gar", "Ea H'leo", "M'Đrắk", "Krông Búk", "Ea Kar"} <= set(PROVINCES["Đắk Lắk"])


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
            assert len(g["evidence"]) == len(g["answer"]), g["question"]  # one per answer unit
            for ev, src in zip(g["evidence"], g["sources"], strict=True):
                assert ev in texts300[src], (g["question"], ev)


def test_question_counts(arc300):
    kinds = [q.kind for q in arc300.questions]
    n_fact = kinds.count("fact") + kinds.count("unaccented")
    assert n_fact == 200
    assert 0.1 <= kinds.count("unaccented") / n_fact <= 0.3
    assert 40 <= kinds.count("aggregate") <= 80
    assert kinds.count("unanswerable") >= 3
    for q in arc300.questions:
        if q.kind == "unaccented":
            assert q.question == fold(q.question).lower()
            assert q.question.isascii()


def _figure_values(facts):
    """(level, unit, district, thing, qualifier, year) -> value; every report agrees."""
    values = {}
    for f in facts:
        for g in f["figures"]:
            key = (g["level"], g["unit"], g["district"], g["thing"], g["qualifier"], g["year"])
            assert values.setdefault(key, g["value"]) == g["value"], (key, f["stem"])
    return values


def _expected(spec, facts, values):
    """The answer to a list question, computed from facts.jsonl alone (module docstring)."""
    province_of = {f["district"]: f["province"] for f in facts}
    years = spec["years"]
    in_scope = lambda district: spec["province"] in (None, province_of[district])  # noqa: E731
    if spec["op"] == "flag":
        return sorted({f["district"] for f in facts if f[spec["flag"]] and f["year"] in years
                       and in_scope(f["district"])}), None
    per_year = {y: {} for y in years}
    for (level, unit, district, thing, qual, year), v in values.items():
        if (year in per_year and level in spec["levels"] and thing == spec["thing"] and qual == spec["qualifier"]
                and v > 0 and in_scope(district) and spec["district"] in (None, district)):
            per_year[year][unit] = v
    if spec["op"] in ("has", "count"):
        return sorted(set().union(*per_year.values())), None
    (vals,) = per_year.values()
    n = spec["n"]
    if spec["op"] == "sum":
        return sorted(vals), sum(vals.values())
    pick = {"ge": lambda v: v >= n, "gt": lambda v: v > n, "lt": lambda v: v < n,
            "max": lambda v: v == max(vals.values()), "min": lambda v: v == min(vals.values())}[spec["op"]]
    return sorted(u for u, v in vals.items() if pick(v)), None


_OP_WORDS = {  # folded words the question must hold for its operator
    "ge": ("tro len", "it nhat", "toi thieu", "at least"), "gt": ("hon", "tren", "more than"),
    "lt": ("duoi",), "max": ("nhieu", "most"), "min": ("it",), "sum": ("tong", "ca tinh"),
    "count": ("bao nhieu huyen",), "has": ("",), "flag": ("chuyen doi so", "nhan hieu tap the"),
}


def test_aggregate_answers_match_facts(arc300, texts300):
    facts = _facts(arc300)
    by_stem = {f["stem"]: f for f in facts}
    values = _figure_values(facts)
    aggregates = [g for g in _gold(arc300) if g["kind"] == "aggregate"]
    assert aggregates
    for g in aggregates:
        spec, q = g["spec"], g["question"]
        answer, total = _expected(spec, facts, values)
        assert g["answer"] == answer and answer, (q, g["answer"], answer)
        assert g["shape"] in SHAPES
        assert ("total" in g) == (spec["op"] == "sum") and g.get("total") == total
        assert ("count" in g) == (spec["op"] == "count")
        if spec["op"] == "count":
            assert g["count"] == len(answer)
        # the question states what the answer was computed for
        fq = fold(q).lower().replace("’", "'")
        if spec["province"]:
            assert fold(spec["province"]).lower() in fq, q
        elif not spec["district"]:  # (a district may share its name with a province: Điện Biên)
            assert not any(fold(p).lower() in fq for p in PROVINCES), q
        if spec["district"]:
            assert fold(spec["district"]).lower() in fq, q
        found_years = sorted(int(y) for y in re.findall(r"\b20\d\d\b", q))
        if spec["years"] == list(YEARS) and g["shape"] == "commune":
            assert found_years == [], q  # no year named: any year
        else:
            assert found_years == sorted({min(spec["years"]), max(spec["years"])}), q
        if spec["n"] is not None:
            assert re.search(rf"\b{spec['n']}\b", q), q
        if spec["qualifier"]:
            star = spec["qualifier"].split()[0]
            assert f"{star} sao" in q or f"{star}-star" in q, q
        elif spec["thing"]:
            assert "doanh nghiep" in fq or "enterprises" in fq, q
        assert any(w in fq for w in _OP_WORDS[spec["op"]]), q
        if g["shape"] == "unaccented":
            assert q == fold(q).lower()
        if g["shape"] == "english":
            assert q.startswith(("Which", "List")), q
        if g["shape"] == "commune":
            assert set(spec["levels"]) <= {"xã", "thị trấn"}
        # each evidence string is where its source states the unit's figure (or fact)
        for unit, ev, src in zip(g["answer"], g["evidence"], g["sources"], strict=True):
            f = by_stem[src]
            assert ev in texts300[src]
            if spec["op"] == "flag":
                assert f["district"] == unit and f[spec["flag"]] and f["year"] in spec["years"]
            else:
                assert any(x["unit"] == unit and x["year"] in spec["years"] and x["thing"] == spec["thing"]
                           and x["qualifier"] == spec["qualifier"] and x["value"] > 0 for x in f["figures"]), (q, unit)


def test_every_shape_at_300(arc300):
    shapes = [g.get("shape") for g in _gold(arc300) if g["kind"] == "aggregate"]
    assert set(shapes) == SHAPES
    assert all(shapes.count(s) >= 2 for s in SHAPES), {s: shapes.count(s) for s in SHAPES}
    gold = _gold(arc300)
    assert all("shape" not in g and "spec" not in g for g in gold if g["kind"] != "aggregate")
    ops = {g["spec"]["op"] for g in gold if g["kind"] == "aggregate"}
    assert {"has", "ge", "gt", "max", "min", "sum", "count", "flag"} <= ops
    assert any(g["spec"]["province"] is None for g in gold if g["kind"] == "aggregate")  # unscoped
    # some answers hold a unit only through a figure about an earlier period
    by_stem = {f["stem"]: f for f in _facts(arc300)}
    assert any(by_stem[src]["year"] not in g["spec"]["years"]
               for g in gold if g["kind"] == "aggregate" for src in g["sources"])


def test_figures_ground_truth(arc300, texts300):
    facts = _facts(arc300)
    _figure_values(facts)  # consistent across the archive
    earlier = communes = 0
    for f in facts:
        text = texts300[f["stem"]].replace("’", "'")
        figs = f["figures"]
        own = {int(x["qualifier"].split()[0]): x["value"] for x in figs
               if x["level"] == "huyện" and x["year"] == f["year"] and x["thing"] == "sản phẩm OCOP"}
        assert own == {int(k): v for k, v in f["ocop_stars"].items()}
        firms = [x["value"] for x in figs if x["thing"] == "doanh nghiệp khoa học và công nghệ"]
        assert firms == ([f["science_firms"]] if f["science_firms"] else [])
        for x in figs:
            assert x["value"] > 0 and x["district"] == f["district"] and x["year"] <= f["year"]
            if x["level"] == "huyện":
                assert x["unit"] == f["district"]
            else:
                communes += 1
                assert x["year"] == f["year"]
                assert any(f"{x['level']} {tone_variant(x['unit'], new)}" in text for new in (True, False))
                # parts of the district's own figure
                parts = sum(y["value"] for y in figs if y["level"] != "huyện" and y["qualifier"] == x["qualifier"])
                assert parts <= own[int(x["qualifier"].split()[0])]
            if x["year"] < f["year"]:
                earlier += 1
                assert str(x["year"]) in text
        if f["doc_type"] == "Kế hoạch":
            assert all(x["year"] < f["year"] for x in figs)
    assert earlier >= 20 and communes >= 20


def test_facts_without_count(arc300, texts300):
    facts = _facts(arc300)
    assert sum(f["digital_plan"] for f in facts) >= 10 and sum(f["collective_mark"] for f in facts) >= 10
    for f in facts:
        text, y = texts300[f["stem"]], f["year"]
        plan = (f"ban hành Kế hoạch chuyển đổi số năm {y}," in text
                or re.search(rf"đã ban hành Kế hoạch số \d+/KH-UBND ngày [\d/]+ về chuyển đổi số năm {y}\.", text))
        assert bool(plan) == f["digital_plan"], f["stem"]
        mark = re.search(rf"Trong (năm|6 tháng đầu năm) {y}, (huyện|UBND huyện) đã [^.]*xây dựng[^.]* nhãn hiệu tập thể", text)
        assert bool(mark) == f["collective_mark"], f["stem"]
    allt = "\n".join(texts300.values())
    assert "Tham mưu UBND huyện ban hành Kế hoạch chuyển đổi số năm" in allt  # plans: distractors
    assert "chưa ban hành kế hoạch chuyển đổi số năm" in allt
    assert "Hỗ trợ xây dựng nhãn hiệu tập thể cho sản phẩm" in allt


def test_ocop_rate_and_distractors(arc300, texts300):
    rate = sum(1 for r in arc300.reports if r.ocop_stars.get(4, 0) >= 1) / len(arc300.reports)
    assert 0.2 <= rate <= 0.4
    assert all(5 not in r.ocop_stars for r in arc300.reports)
    assert all(x.qualifier != "5 sao" for r in arc300.reports for x in r.figures)
    # 5 stars appear only in negations and targets
    for t in texts300.values():
        assert "năm sao" not in t
        for sentence in re.split(r"(?<=[.;])\s", t):
            if "5 sao" in sentence:
                assert re.search(r"chưa có|Phấn đấu|Mục tiêu", sentence), sentence
    allt = "\n".join(texts300.values())
    assert "chưa có sản phẩm đạt 5 sao" in allt
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
    assert re.search(r"^- Hạng [34] sao: \d\d[;.]$", allt, re.M)  # table line without the noun
    assert re.search(r"^- Hạng [34] sao: \d\d sản phẩm[;.]$", allt, re.M)
    # figures about earlier periods next to the current one
    assert re.search(r"Năm 20\d\d, huyện có \S+( \(\d\d\))? sản phẩm OCOP", allt)
    assert re.search(r"Kết thúc giai đoạn 20\d\d[–-]20\d\d, huyện có", allt)
    assert re.search(r"Năm 20\d\d, huyện chưa có sản phẩm nào đạt 4 sao", allt)
    # commune-level parts and targets near the figures
    assert re.search(r"Trong đó[,:] (xã|thị trấn) [^;.]+ có \S+", allt)
    assert re.search(r"Phấn đấu năm 20\d\d có thêm 0\d sản phẩm đạt 4 sao\.", allt)
    # apostrophes: both the straight and the typographic one
    assert "huyện Cư M'gar" in allt or "huyện Ea H'leo" in allt or "huyện M'Đrắk" in allt
    assert "huyện Cư M’gar" in allt or "huyện Ea H’leo" in allt or "huyện M’Đrắk" in allt
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
    assert all(x.year < r.year for r in kh for x in r.figures)
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
