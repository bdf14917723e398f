"""Deterministic synthetic archive of Vietnamese district-level KH&CN reports.

Generates reports of UBND huyện about science & technology (khoa học và công
nghệ, KH&CN) in the style of the real corpus, together with gold questions
whose evidence is taken verbatim from the generated texts. Used to measure
retrieval at scale and list ("which districts ...") questions.

    python -m rag.synth --out DIR --reports N --seed S [--questions Q]

Writes ``DIR/corpus/<stem>.txt``, ``DIR/gold.jsonl`` and ``DIR/facts.jsonl``.
Standard library only; the same arguments always give byte-identical output.

Semantics of :class:`ReportFacts`:

* ``ocop_stars`` maps star level -> number of products *achieved* (cumulative,
  as stated in the document); levels with zero products are omitted. Targets,
  pending applications and negatives are never counted. Kế hoạch documents
  state only targets, so their ``ocop_stars`` is empty.
* ``budget_million``: KH&CN budget stated in the document (for a Kế hoạch the
  planned budget), in million đồng.
* ``science_firms``: S&T enterprises stated (0 for a Kế hoạch or a negative).
* ``decision_number``: the Quyết định on the district KH&CN council, e.g.
  ``"1089/QĐ-UBND"`` (unique in the archive).
* ``date``: ISO-like date as far as written: ``"2023-06-15"``, ``"2023-12"``
  (day left blank) or ``"2023"`` (day and month blank).
* ``figures``: every *achieved* figure the document states, one :class:`Figure`
  ``{"unit", "level", "district", "year", "thing", "qualifier", "value"}``: the
  report's own current figures (``year`` = the report's year), figures about an
  earlier period (``"Năm 2021, huyện có 02 sản phẩm OCOP 3 sao"`` inside a 2023
  report: ``year`` 2021; ``"Kết thúc giai đoạn 2020–2022, ..."``: the period's last
  year, 2022) and commune-level parts (``level`` ``"xã"``/``"thị trấn"``, ``unit`` the
  commune, ``district`` its huyện; stated after ``"Trong đó, ..."`` as parts of the
  district figure). ``thing`` is ``"sản phẩm OCOP"`` (``qualifier`` ``"3 sao"`` /
  ``"4 sao"``) or ``"doanh nghiệp khoa học và công nghệ"`` (``qualifier`` ``""``).
  Targets (``phấn đấu``, ``dự kiến``, ``mục tiêu``), pending applications and
  negations (``chưa có sản phẩm đạt 5 sao``) are never figures. All figures of one
  (unit, year, thing, qualifier) in the archive agree (one trajectory per district).
* ``digital_plan`` / ``collective_mark``: facts without a count: the report states
  that UBND huyện issued its Kế hoạch chuyển đổi số for the report's year / built a
  collective trademark (nhãn hiệu tập thể) during the report's year. Plans to do so
  and "chưa ban hành" never count.

List ("aggregate") questions and their gold answers are computed from these
figures (never from the product's parser); each has a ``shape`` and a ``spec``
(the structured query the answer was computed from):

* a unit *has* X in year Y when an achieved figure > 0 of X refers to year Y
  (for figures about earlier periods: the year the figure refers to);
  ``which`` / ``english`` / ``unaccented``: the units that have X in Y;
* ``threshold``: compares that figure among the units that have X in Y
  (``từ N … trở lên``/``ít nhất N``: >= N; ``hơn``/``trên N``: > N; ``dưới N``: 0 < v < N);
* ``superlative``: the units with the largest (smallest) figure among the units
  with a figure > 0 (ties: all of them);
* ``total``: the sum over the districts of each district's figure for year Y
  (``"total"``; ``"answer"``: the districts summed);
* ``how_many_units``: the units that have X in Y (``"count"`` = their number);
* ``commune``: the xã (``"Xã nào …"``) or xã and thị trấn (``"Xã, thị trấn nào …"``) of
  one district with a stated commune figure > 0 (in year Y, or in any year when the
  question names none); communes no report names are unknown, not answers;
* ``year_range``: the union over the years Y1..Y2;
* ``no_count``: the districts whose report of year Y states the fact.

Scope: mostly one province and one year; a few questions name no province (all
districts of the archive). Units are canonical names (straight apostrophe: ``Cư M'gar``),
sorted. Evidence: per answer unit, one verbatim string of one source text stating its
figure (``evidence[i]`` is found in ``sources[i]``; the unit's own report of that year
when there is one). ``spec``: ``{"op": has|ge|gt|lt|max|min|sum|count|flag, "thing",
"qualifier", "years", "province" (None: all), "levels", "district" (commune questions),
"n" (thresholds), "flag" (digital_plan|collective_mark)}``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .evaluate import GoldQuestion  # the gold-set record, shared with the evaluation

__all__ = [
    "ReportFacts",
    "Figure",
    "GoldQuestion",
    "SynthQuestion",
    "SynthArchive",
    "generate_archive",
    "main",
    "PROVINCES",
    "fold",
    "tone_variant",
]

YEARS = (2020, 2021, 2022, 2023, 2024, 2025)
DOC_BC = "Báo cáo"
DOC_KH = "Kế hoạch"
OCOP = "sản phẩm OCOP"
FIRMS = "doanh nghiệp khoa học và công nghệ"

# --------------------------------------------------------------------------
# Data classes


@dataclass(frozen=True)
class Figure:
    """One achieved figure stated in a report (see the module docstring)."""

    unit: str
    level: str  # "huyện", "xã" or "thị trấn"
    district: str
    year: int
    thing: str
    qualifier: str
    value: int


@dataclass(frozen=True)
class ReportFacts:
    stem: str
    province: str
    district: str
    year: int
    doc_type: str
    doc_number: str
    date: str
    signer: str
    ocop_stars: dict[int, int]
    budget_million: int
    science_firms: int
    decision_number: str
    figures: tuple[Figure, ...] = ()
    digital_plan: bool = False
    collective_mark: bool = False


@dataclass(frozen=True)
class SynthQuestion(GoldQuestion):
    """A gold question with the list-question fields of this generator."""

    spec: dict[str, object] | None = None  # the query the answer was computed from


@dataclass(frozen=True)
class SynthArchive:
    corpus_dir: Path
    gold_path: Path
    facts_path: Path
    reports: list[ReportFacts]
    questions: list[SynthQuestion]


# --------------------------------------------------------------------------
# Geography (real provinces and their huyện; canonical spelling with the
# tone mark on the first vowel of "oa/oe/uy": Hóa, Hòa, Thủy).

PROVINCES: dict[str, tuple[str, ...]] = {
    "Thanh Hóa": (
        "Quan Hóa", "Triệu Sơn", "Bá Thước", "Mường Lát", "Quan Sơn", "Lang Chánh",
        "Ngọc Lặc", "Cẩm Thủy", "Thạch Thành", "Nga Sơn", "Hoằng Hóa", "Như Xuân",
    ),
    "Quảng Ninh": ("Ba Chẽ", "Bình Liêu", "Cô Tô", "Đầm Hà", "Hải Hà", "Tiên Yên", "Vân Đồn"),
    "Hà Nam": ("Kim Bảng", "Lý Nhân", "Thanh Liêm", "Bình Lục"),
    "Quảng Trị": (
        "Vĩnh Linh", "Gio Linh", "Cam Lộ", "Triệu Phong", "Hải Lăng", "Hướng Hóa",
        "Đakrông", "Cồn Cỏ",
    ),
    "Nghệ An": (
        "Anh Sơn", "Con Cuông", "Diễn Châu", "Đô Lương", "Kỳ Sơn", "Nam Đàn", "Quế Phong",
        "Quỳ Châu", "Quỳ Hợp", "Tương Dương",
    ),
    "Hà Giang": (
        "Bắc Mê", "Bắc Quang", "Đồng Văn", "Hoàng Su Phì", "Mèo Vạc", "Quản Bạ",
        "Quang Bình", "Vị Xuyên", "Xín Mần", "Yên Minh",
    ),
    "Lào Cai": ("Bảo Thắng", "Bảo Yên", "Bát Xát", "Bắc Hà", "Mường Khương", "Si Ma Cai", "Văn Bàn"),
    "Sơn La": (
        "Bắc Yên", "Mai Sơn", "Mộc Châu", "Mường La", "Phù Yên", "Quỳnh Nhai", "Sông Mã",
        "Sốp Cộp", "Thuận Châu", "Vân Hồ", "Yên Châu",
    ),
    "Hòa Bình": (
        "Cao Phong", "Đà Bắc", "Kim Bôi", "Lạc Sơn", "Lạc Thủy", "Lương Sơn", "Mai Châu",
        "Tân Lạc", "Yên Thủy",
    ),
    "Điện Biên": (
        "Điện Biên Đông", "Mường Ảng", "Mường Chà", "Mường Nhé", "Nậm Pồ", "Tủa Chùa",
        "Tuần Giáo", "Điện Biên",
    ),
    "Lạng Sơn": (
        "Bắc Sơn", "Bình Gia", "Cao Lộc", "Chi Lăng", "Đình Lập", "Hữu Lũng", "Lộc Bình",
        "Tràng Định", "Văn Lãng", "Văn Quan",
    ),
    "Phú Thọ": (
        "Cẩm Khê", "Đoan Hùng", "Hạ Hòa", "Lâm Thao", "Phù Ninh", "Tam Nông", "Tân Sơn",
        "Thanh Ba", "Thanh Sơn", "Thanh Thủy", "Yên Lập",
    ),
    # names with apostrophes (written ' or ’ in the reports) and several short words
    "Đắk Lắk": (
        "Buôn Đôn", "Cư Kuin", "Cư M'gar", "Ea H'leo", "Ea Kar", "Ea Súp", "Krông A Na",
        "Krông Búk", "Krông Pắc", "M'Đrắk",
    ),
}

# Commune-level units (xã, thị trấn). Đắk Lắk: real names; elsewhere drawn per
# district from the pools below (never a district's or province's name).
_REAL_COMMUNES: dict[str, tuple[tuple[str, str], ...]] = {
    "Cư M'gar": (("thị trấn", "Ea Pốk"), ("xã", "Ea H'đing"), ("xã", "Cư Suê"), ("xã", "Ea Kiết"),
                 ("xã", "Cuôr Đăng"), ("xã", "Ea M'nang")),
    "Ea H'leo": (("thị trấn", "Ea Drăng"), ("xã", "Ea Sol"), ("xã", "Ea Ral"), ("xã", "Dliê Yang"),
                 ("xã", "Cư Mốt"), ("xã", "Ea Wy")),
    "M'Đrắk": (("xã", "Cư M'ta"), ("xã", "Krông Jing"), ("xã", "Ea Riêng"), ("xã", "Ea M'đoal"),
               ("xã", "Cư Prao")),
    "Krông Búk": (("xã", "Pơng Drang"), ("xã", "Cư Né"), ("xã", "Chư Kbô"), ("xã", "Ea Ngai"),
                  ("xã", "Cư Pơng"), ("xã", "Ea Sin")),
    "Ea Kar": (("thị trấn", "Ea Knốp"), ("xã", "Ea Đar"), ("xã", "Cư Huê"), ("xã", "Ea Sô"),
               ("xã", "Cư Ni"), ("xã", "Ea Păl")),
    "Krông Pắc": (("thị trấn", "Phước An"), ("xã", "Ea Kly"), ("xã", "Ea Phê"), ("xã", "Hòa Tiến"),
                  ("xã", "Vụ Bổn"), ("xã", "Ea Yông")),
    "Buôn Đôn": (("xã", "Ea Wer"), ("xã", "Ea Huar"), ("xã", "Krông Na"), ("xã", "Tân Hòa"),
                 ("xã", "Cuôr Knia"), ("xã", "Ea Nuôl")),
    "Cư Kuin": (("xã", "Ea Tiêu"), ("xã", "Dray Bhăng"), ("xã", "Ea Ning"), ("xã", "Ea Ktur"),
                ("xã", "Cư Êwi"), ("xã", "Hòa Hiệp")),
    "Krông A Na": (("thị trấn", "Buôn Trấp"), ("xã", "Bình Hòa"), ("xã", "Dray Sáp"), ("xã", "Ea Na"),
                   ("xã", "Quảng Điền"), ("xã", "Băng A Drênh")),
    "Ea Súp": (("xã", "Ea Lê"), ("xã", "Ea Rốk"), ("xã", "Cư M'Lan"), ("xã", "Ya Tờ Mốt"),
               ("xã", "Ia Lốp"), ("xã", "Ea Bung")),
}
_XA_POOL = ("Đồn Đạc", "Thanh Lâm", "Nam Sơn", "Lương Mông", "Minh Cầm", "Đạp Thanh", "Tân Phong",
            "Hồng Thái", "Quang Trung", "Nghĩa Đô", "Phúc Khánh", "Xuân Hòa", "Đồng Tiến", "Thượng Lâm",
            "Trung Hà", "Tân Hương", "Phong Niên", "Cốc San", "Tả Phìn", "Kim Phượng", "Hữu Kiệm", "Châu Quang",
            "Tam Quang", "Thạch Lâm", "Mỹ Lương", "Yên Nhân", "Quyết Tiến", "Lũng Cú", "Sà Phìn", "Chiềng Sinh")
_TT_POOL = ("Việt Lâm", "Cành Nàng", "Yên Cát", "Bến Sung", "Thiên Tôn", "Phố Châu", "Trới",
            "Bích Động", "Mường Khến", "Na Sầm", "Thanh Nê", "Cô Lễ")

# Real districts deliberately absent from the archive (unanswerable questions).
ABSENT_DISTRICTS: tuple[tuple[str, str], ...] = (
    ("Mù Cang Chải", "Yên Bái"),
    ("Trạm Tấu", "Yên Bái"),
    ("Hưng Hà", "Thái Bình"),
    ("Kiến Xương", "Thái Bình"),
    ("Bảo Lâm", "Cao Bằng"),
    ("Ba Bể", "Bắc Kạn"),
)

# --------------------------------------------------------------------------
# Text helpers

_OLD_TO_NEW = {  # "Hóa" (mark on o/u) -> "Hoá" (mark on a/e/y)
    "óa": "oá", "òa": "oà", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
    "óe": "oé", "òe": "oè", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ",
    "úy": "uý", "ùy": "uỳ", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ",
}
_NEW_TO_OLD = {v: k for k, v in _OLD_TO_NEW.items()}
_OLD_RE = re.compile(r"(?<![qQ])(" + "|".join(_OLD_TO_NEW) + r")\b", re.IGNORECASE)
_NEW_RE = re.compile(r"(?<![qQ])(" + "|".join(_NEW_TO_OLD) + r")\b", re.IGNORECASE)


def _swap(m: re.Match[str], table: dict[str, str]) -> str:
    s = m.group(1)
    out = table[s.lower()]
    return "".join(o.upper() if c.isupper() else o for c, o in zip(s, out))


def tone_variant(name: str, new_style: bool) -> str:
    """Spell ``name`` with the tone mark on the second vowel (``Hoá``) if
    ``new_style`` else on the first (``Hóa``). Closed syllables are untouched."""
    if new_style:
        return _OLD_RE.sub(lambda m: _swap(m, _OLD_TO_NEW), name)
    return _NEW_RE.sub(lambda m: _swap(m, _NEW_TO_OLD), name)


def fold(text: str) -> str:
    """Strip Vietnamese diacritics (đ -> d), keep case."""
    text = text.replace("đ", "d").replace("Đ", "D")
    nfd = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in nfd if unicodedata.category(c) != "Mn"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text).lower()).strip("-")


_WORDS = (
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười",
    "mười một", "mười hai", "mười ba", "mười bốn", "mười lăm", "mười sáu", "mười bảy",
    "mười tám", "mười chín", "hai mươi",
)


def _num(n: int, style: str) -> str:
    """Format a small count: plain '2', padded '02', word 'hai', paren 'hai (02)'."""
    if style == "padded" or (style in ("word", "paren") and n >= len(_WORDS)):
        return f"{n:02d}"
    if style == "word":
        return _WORDS[n]
    if style == "paren":
        return f"{_WORDS[n]} ({n:02d})"
    return str(n)


def _money(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _star(level: int, style: str) -> str:
    """'4 sao', 'hạng 4 sao', 'hạng bốn sao', 'bốn (04) sao'."""
    if style == "hang":
        return f"hạng {level} sao"
    if style == "hang_word":
        return f"hạng {_WORDS[level]} sao"
    if style == "paren":
        return f"{_WORDS[level]} ({level:02d}) sao"
    return f"{level} sao"


# --------------------------------------------------------------------------
# Pools

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Hà",
             "Lò", "Cầm", "Lương", "Vi", "Mai", "Lục", "Sùng", "Giàng")
_MIDDLES = ("Văn", "Thị", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Ngọc", "Xuân", "Công")
_GIVEN = ("Hùng", "Dũng", "Lan", "Hải", "Thắng", "Tuấn", "Hương", "Bình", "Sơn", "Cường",
          "Long", "Nam", "Phương", "Toàn", "Khánh", "Thảo", "Chiến", "Quyết", "Tiến", "Hiếu")
_COMMUNES = ("Thanh Xuân", "Phú Lộc", "Tân Lập", "Hồng Phong", "Trung Sơn", "Xuân Phú",
             "Đồng Tâm", "Quyết Thắng", "Minh Khai", "Tân Thành", "Hợp Tiến", "Nam Tiến",
             "Yên Lạc", "Phúc Sơn", "Hòa Bình", "Vĩnh Lộc", "Tam Thanh", "Bình Minh")
_PRODUCTS = ("Mật ong rừng", "Chè Shan tuyết", "Gạo nếp cái hoa vàng", "Miến dong",
             "Măng khô", "Thịt trâu gác bếp", "Rượu ngô men lá", "Cam sành", "Bưởi đỏ",
             "Tinh dầu quế", "Trà hoa vàng", "Nấm linh chi", "Mắm cá", "Bánh chưng đen",
             "Dầu sả chanh", "Chuối sấy dẻo", "Ớt chỉ thiên ngâm", "Lạp xưởng hun khói",
             "Sâm Bố Chính", "Cá suối sấy", "Tương nếp", "Mơ muối", "Chè dây", "Gừng sấy")
_CROPS = ("lúa chất lượng cao", "ngô lai", "cam đường canh", "chè Shan tuyết", "keo lai mô",
          "dưa lưới trong nhà màng", "dược liệu dưới tán rừng", "rau an toàn", "sắn cao sản",
          "mía tím", "lạc giống mới", "bưởi Diễn", "khoai tây giống Solara")
_ANIMALS = ("nuôi gà lông màu an toàn sinh học", "nuôi lợn đen bản địa", "nuôi cá lồng trên sông",
            "nuôi ong lấy mật", "nuôi dê thương phẩm", "nuôi bò lai Sind")


def _person(rng: random.Random) -> str:
    sur = rng.choice(_SURNAMES)
    mid = rng.choice(_MIDDLES)
    if mid == "Thị":
        given = rng.choice(("Lan", "Hương", "Thảo", "Phương", "Hà", "Mai", "Nhung", "Hằng"))
    else:
        given = rng.choice(_GIVEN)
    return f"{sur} {mid} {given}"


# --------------------------------------------------------------------------
# Per-district trajectories


@dataclass
class _Plan:
    province: str
    district: str
    year: int
    doc_type: str
    n3: int
    n4: int
    budget: int
    firms: int
    models: int
    area: str
    classes: int
    trainees: int
    signers: tuple[str, ...]
    # year -> (n3, n4) of this district for every year (figures about earlier periods)
    history: dict[int, tuple[int, int]] = field(default_factory=dict)
    # (level, name, year -> (products 3 sao, products 4 sao)) of the district's communes
    communes: tuple[tuple[str, str, dict[int, tuple[int, int]]], ...] = ()


def _communes(district: str) -> tuple[tuple[str, str], ...]:
    """The district's commune-level units as (level, name); the same for every seed."""
    if district in _REAL_COMMUNES:
        return _REAL_COMMUNES[district]
    cr = random.Random(f"communes:{district}")
    return (("thị trấn", cr.choice(_TT_POOL)),) + tuple(("xã", n) for n in cr.sample(_XA_POOL, 5))


def _commune_states(seed: int, states: dict[tuple[str, str, int], dict[str, object]]
                    ) -> dict[tuple[str, str], tuple[tuple[str, str, dict[int, tuple[int, int]]], ...]]:
    """Split each district's 3- and 4-star products among its communes, year by year
    (cumulative: a commune's count never falls and the parts sum to the district's figure)."""
    out = {}
    for province, districts in PROVINCES.items():
        for district in districts:
            units = _communes(district)
            cr = random.Random(f"{seed}:communes:{district}")
            weights = [cr.choice((0, 1, 1, 2, 4, 6)) for _ in units]
            if not any(weights):
                weights[0] = 1
            c3 = [0] * len(units)
            c4 = [0] * len(units)
            per_year: list[dict[int, tuple[int, int]]] = [{} for _ in units]
            prev3 = prev4 = 0
            for year in YEARS:
                st = states[(province, district, year)]
                n3, n4 = int(st["n3"]), int(st["n4"])  # type: ignore[call-overload]
                for _ in range(n3 - prev3):
                    c3[cr.choices(range(len(units)), weights)[0]] += 1
                for _ in range(n4 - prev4):
                    c4[cr.choices(range(len(units)), weights)[0]] += 1
                prev3, prev4 = n3, n4
                for i in range(len(units)):
                    per_year[i][year] = (c3[i], c4[i])
            out[(province, district)] = tuple((lvl, name, per_year[i]) for i, (lvl, name) in enumerate(units))
    return out


def _district_states(rng: random.Random) -> dict[tuple[str, str, int], dict[str, object]]:
    states: dict[tuple[str, str, int], dict[str, object]] = {}
    for province, districts in PROVINCES.items():
        for district in districts:
            n3 = rng.randint(0, 5)
            first4 = rng.randint(2020, 2031)
            n4 = 0
            base_budget = rng.randint(30, 300) * 5
            used_budget: set[int] = set()
            signers = (_person(rng), _person(rng), _person(rng))
            for year in YEARS:
                n3 += rng.choice((1, 1, 2, 2, 3))
                if year >= first4:
                    n4 = max(1, n4 + rng.choice((0, 0, 1)))
                while True:
                    b = int(base_budget * rng.uniform(0.7, 1.5)) // 5 * 5
                    b = max(b, 100)
                    if b not in used_budget:
                        used_budget.add(b)
                        break
                states[(province, district, year)] = {
                    "n3": n3,
                    "n4": n4,
                    "budget": b,
                    "firms": rng.choice((0, 0, 0, 1, 1, 2, 3)),
                    "models": rng.randint(3, 18),
                    "area": f"{rng.randint(12, 640)},{rng.randint(1, 99):02d}",
                    "classes": rng.randint(4, 36),
                    "trainees": rng.randint(15, 140) * 10,
                    "signers": signers,
                }
    return states


# --------------------------------------------------------------------------
# Report writer


class _Doc:
    """Collects blocks (paragraphs) and fact statements of one report."""

    def __init__(self, rng: random.Random, md: bool) -> None:
        self.rng = rng
        self.md = md
        self.blocks: list[str] = []
        # fact key -> candidate evidence strings, shortest first
        self.evidence: dict[str, list[str]] = {}
        self.half = False  # 6-month report: cumulative "đến ngày 30/6", "6 tháng đầu năm"
        self.apos = "'"  # how this report writes the apostrophe of names like Cư M'gar
        self.new_style = False  # tone mark placement of this report (Hoá vs Hóa)
        # achieved figures with their evidence candidates (shortest first)
        self.figs: list[tuple[Figure, list[str]]] = []
        self.fig_evidence: list[str] = []  # chosen once the text is final, parallel to figs
        # facts without a count: name -> evidence candidates
        self.flags: dict[str, list[str]] = {}
        # (district, year) pairs an earlier-period sentence speaks about (also negations)
        self.mentions: set[tuple[str, int]] = set()

    def until(self, y: int) -> str:
        return f"đến ngày 30/6/{y}" if self.half else f"đến hết năm {y}"

    def during(self) -> str:
        return "Trong 6 tháng đầu năm" if self.half else "Trong năm"

    def add(self, *blocks: str) -> None:
        self.blocks.extend(b for b in blocks if b)

    def heading(self, text: str, level: int) -> None:
        if self.md:
            hashes = "#" * min(6, level + 3)
            self.blocks.append(f"{hashes} **{text}**")
        else:
            self.blocks.append(text)

    def fact(self, key: str, *candidates: str) -> None:
        self.evidence[key] = [c for c in candidates if c]

    def figure(self, fig: Figure, *candidates: str) -> None:
        assert fig.value > 0
        self.figs.append((fig, [c for c in candidates if c]))

    def flag(self, name: str, *candidates: str) -> None:
        self.flags[name] = [c for c in candidates if c]

    def name(self, name: str) -> str:
        """A place name as this report writes it (apostrophe, tone mark placement)."""
        return tone_variant(name, self.new_style).replace("'", self.apos)

    def choose_evidence(self, text: str) -> None:
        """For each figure and flag: the first candidate found exactly once in ``text``."""
        def pick(cands: list[str]) -> str:
            found = [c for c in cands if c in text]
            assert found, cands
            return next((c for c in found if text.count(c) == 1), found[-1])
        self.fig_evidence = [pick(c) for _, c in self.figs]
        self.flags = {k: [pick(c)] for k, c in self.flags.items()}

    def text(self) -> str:
        return unicodedata.normalize("NFC", "\n\n".join(self.blocks) + "\n")


def _bullets(items: list[str]) -> str:
    """Join '- ...;' lines, ending the last one with a full stop."""
    items = [i.rstrip(";.") for i in items]
    return ";\n".join(items) + "."


def _pick(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def _roman(i: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII")[i - 1]


def _write_report(p: _Plan, facts_meta: dict[str, object], rng: random.Random) -> _Doc:
    md = rng.random() < 0.3
    doc = _Doc(rng, md)
    doc.half = facts_meta["report_kind"] == "6m"
    new_style = rng.random() < 0.5
    prov = tone_variant(p.province, new_style)
    dist = tone_variant(p.district, new_style if rng.random() < 0.8 else not new_style)
    doc.new_style = new_style
    if p.province == "Đắk Lắk" and rng.random() < 0.5:
        doc.apos = "’"  # typographic apostrophe: "Cư M’gar"
    dist = dist.replace("'", doc.apos)
    y = p.year
    is_kh = p.doc_type == DOC_KH
    # ---- header ---------------------------------------------------------
    header = rng.random()
    if header < 0.35:
        doc.add(f"UBND TỈNH {prov.upper()}\nUBND HUYỆN {dist.upper()}",
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    elif header < 0.6:
        doc.add(f"ỦY BAN NHÂN DÂN\nHUYỆN {dist.upper()}",
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    cong_van = "UBND-KTHT" in str(facts_meta["doc_number"])
    if cong_van:
        vv = {
            "6m": f"V/v báo cáo sơ kết công tác KH&CN\n6 tháng đầu năm {y}",
            "dean": f"V/v báo cáo kết quả thực hiện Đề án\n“Phát triển khoa học, công nghệ và\n"
                    f"đổi mới sáng tạo tỉnh {prov},\ngiai đoạn 2021-2025”, năm {y}",
        }.get(str(facts_meta["report_kind"]),
              f"V/v báo cáo kết quả hoạt động\nkhoa học và công nghệ năm {y}")
        doc.add(f"Số: {facts_meta['doc_number']}\n{vv}")
    else:
        doc.add(f"Số: {facts_meta['doc_number']}")
    doc.add(f"{dist}, {facts_meta['date_text']}")

    kinh_gui = cong_van or rng.random() < 0.5
    if is_kh:
        title = _pick(rng, f"Hoạt động khoa học và công nghệ năm {y}",
                      f"Triển khai nhiệm vụ khoa học, công nghệ và đổi mới sáng tạo năm {y}",
                      f"Thực hiện công tác quản lý nhà nước về KH&CN trên địa bàn huyện năm {y}")
        doc.heading("KẾ HOẠCH", -1) if md else doc.add("KẾ HOẠCH")
        doc.heading(title, 0) if md else doc.add(title)
    elif not cong_van:
        kind = facts_meta["report_kind"]
        if kind == "6m":
            title = (f"Sơ kết công tác quản lý Khoa học và Công nghệ 6 tháng đầu năm, "
                     f"phương hướng nhiệm vụ 6 tháng cuối năm {y}")
        elif kind == "dean":
            title = (f"Kết quả thực hiện Đề án “Phát triển khoa học, công nghệ và đổi mới sáng tạo "
                     f"tỉnh {prov}, giai đoạn 2021-2025” năm {y}")
        else:
            title = _pick(rng, f"Kết quả hoạt động khoa học và công nghệ năm {y}, "
                               f"phương hướng nhiệm vụ năm {y + 1}",
                          f"Tổng kết công tác KH&CN năm {y} và kế hoạch năm {y + 1}",
                          f"Tình hình thực hiện nhiệm vụ khoa học và công nghệ năm {y}")
        if md:
            doc.heading("BÁO CÁO", -1)
            doc.heading(title, 0)
        else:
            doc.add("BÁO CÁO", title)
    if kinh_gui:
        doc.add(f"Kính gửi: Sở Khoa học và Công nghệ tỉnh {prov}.")

    # ---- opening --------------------------------------------------------
    cv_no = rng.randint(300, 2400)
    doc.add(_pick(
        rng,
        f"Thực hiện Công văn số {cv_no}/SKHCN-QLKH ngày {rng.randint(1, 28):02d}/{rng.randint(5, 12):02d}/{y} "
        f"của Sở Khoa học và Công nghệ tỉnh {prov} về việc báo cáo kết quả hoạt động khoa học và "
        f"công nghệ năm {y}. UBND huyện {dist} báo cáo như sau:",
        f"Căn cứ chức năng, nhiệm vụ được giao, UBND huyện {dist} "
        f"{'xây dựng Kế hoạch' if is_kh else 'báo cáo kết quả'} hoạt động khoa học và công nghệ "
        f"năm {y}{' như sau' if is_kh else ', cụ thể như sau'}:",
        f"Thực hiện chỉ đạo của UBND tỉnh {prov} và hướng dẫn của Sở Khoa học và Công nghệ, "
        f"UBND huyện {dist} {'ban hành kế hoạch' if is_kh else 'báo cáo'} với các nội dung sau:",
    ))

    if rng.random() < 0.5:
        dr = random.Random(f"district:{p.district}")
        doc.add(_pick(rng,
                      f"Huyện có {dr.randint(8, 26)} đơn vị hành chính cấp xã, dân số khoảng "
                      f"{_money(dr.randint(25, 160) * 1000)} người; kinh tế chủ yếu là sản xuất nông, lâm nghiệp.",
                      f"Là huyện {dr.choice(('miền núi', 'miền núi', 'trung du', 'đồng bằng'))} với "
                      f"{dr.randint(8, 26)} xã, thị trấn, trong những năm qua hoạt động khoa học và công nghệ "
                      f"của huyện từng bước được quan tâm, gắn với phát triển sản phẩm chủ lực."))
    if is_kh:
        _write_kh_body(doc, p, facts_meta, rng, dist, prov)
    else:
        _write_bc_body(doc, p, facts_meta, rng, dist, prov)

    # ---- closing --------------------------------------------------------
    doc.add(_pick(
        rng,
        f"Trên đây là {'Kế hoạch' if is_kh else 'báo cáo'} {'hoạt động' if is_kh else 'kết quả hoạt động'} "
        f"khoa học và công nghệ năm {y} của UBND huyện {dist}./.",
        f"UBND huyện {dist} trân trọng báo cáo Sở Khoa học và Công nghệ tỉnh {prov}./."
        if not is_kh else
        "Yêu cầu các cơ quan, đơn vị, UBND các xã, thị trấn nghiêm túc triển khai thực hiện./.",
        "Trên đây là nội dung báo cáo, kính đề nghị Sở Khoa học và Công nghệ quan tâm, tổng hợp./."
        if not is_kh else
        "Trong quá trình thực hiện, nếu có vướng mắc, các đơn vị phản ánh về phòng Kinh tế và Hạ tầng "
        "để tổng hợp, báo cáo UBND huyện xem xét, giải quyết./.",
    ))
    recipients = ["Nơi nhận:"]
    if not is_kh or rng.random() < 0.5:
        recipients.append("- Sở KH&CN tỉnh (b/c);")
    recipients.append(_pick(rng, "- TT Huyện ủy, HĐND huyện (b/c);", "- Thường trực Huyện ủy (b/c);"))
    recipients.append("- Chủ tịch, các PCT UBND huyện;")
    if is_kh or rng.random() < 0.5:
        recipients.append("- Các phòng, ban, đơn vị liên quan;")
    if is_kh:
        recipients.append("- UBND các xã, thị trấn;")
    recipients.append(_pick(rng, "- Lưu: VT, KTHT.", "- Lưu: VT.", "- Lưu VT, KT&HT."))
    signer = str(facts_meta["signer"])
    if facts_meta["sign_kt"]:
        sig = f"KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\n{signer}"
    else:
        sig = f"TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n\n{signer}"
    doc.add("\n".join(recipients), sig)
    return doc


def _decision(doc: _Doc, p: _Plan, meta: dict[str, object], rng: random.Random, dist: str) -> None:
    dec = f"Quyết định số {meta['decision_number']} ngày {meta['decision_date']}"
    if rng.random() < 0.5:
        sent = (f"UBND huyện {dist} đã kiện toàn Hội đồng Khoa học và Công nghệ huyện tại {dec}; "
                f"phân công nhiệm vụ cho các thành viên phù hợp với lĩnh vực công tác.")
    elif rng.random() < 0.5:
        sent = (f"Kiện toàn Hội đồng Khoa học và Công nghệ huyện và phân công cán bộ phụ trách theo dõi "
                f"KH&CN huyện (theo {dec} của UBND huyện).")
    else:
        sent = (f"Hội đồng KH&CN huyện được kiện toàn theo {dec} của Chủ tịch UBND huyện; thường trực "
                f"Hội đồng là phòng Kinh tế và Hạ tầng.")
    doc.add(sent)
    doc.fact("decision", dec, sent)


def _earlier_figure(doc: _Doc, p: _Plan, rng: random.Random, ey: int, compare: bool = True) -> str:
    """A sentence with the district's achieved figure for an earlier year ``ey`` (recorded
    as a figure of year ``ey``), or a negation for that year (recorded as a mention only)."""
    level = 4 if rng.random() < 0.45 else 3
    value = p.history[ey][0 if level == 3 else 1]
    doc.mentions.add((p.district, ey))
    if value == 0:
        return _pick(rng, f"Năm {ey}, huyện chưa có sản phẩm nào đạt 4 sao.",
                     f"Tính đến hết năm {ey}, huyện chưa có sản phẩm OCOP 4 sao.")
    style = rng.choice(("plain", "padded", "padded", "word", "paren"))
    num = _num(value, style)
    star = _star(level, rng.choice(("plain", "plain", "hang")))
    forms = ["year", "cumulative"]
    if ey - 2 >= YEARS[0]:
        forms.append("period")
    now = p.n3 if level == 3 else p.n4
    if compare and now > value:
        forms.append("compare")
    form = rng.choice(forms)
    if form == "year":
        ev = f"Năm {ey}, huyện có {num} sản phẩm OCOP {star}"
        sent = ev + "."
    elif form == "cumulative":
        ev = f"lũy kế đến hết năm {ey}, huyện có {num} sản phẩm đạt {star}"
        sent = _pick(rng, f"Để so sánh, {ev}.", f"Theo báo cáo năm trước, {ev}.")
    elif form == "period":
        dash = rng.choice(("–", "-"))
        ev = f"Kết thúc giai đoạn {ey - 2}{dash}{ey}, huyện có {num} sản phẩm OCOP {star}"
        sent = ev + "."
    else:
        sent = (f"Số sản phẩm {star} tăng {_num(now - value, 'padded')} sản phẩm so với năm {ey} "
                f"({num} sản phẩm).")
        ev = sent[:-1]
    doc.figure(Figure(p.district, "huyện", p.district, ey, OCOP, f"{level} sao", value), ev, sent)
    return sent


def _commune_sentence(doc: _Doc, p: _Plan, rng: random.Random) -> str | None:
    """'Trong đó, xã A có 02 sản phẩm OCOP 3 sao; thị trấn B có 01 sản phẩm OCOP 3 sao.' (one
    star level): parts of the district's own figure (recorded as commune-level figures)."""
    y = p.year
    cands = [(lvl, name, per[y][i], q) for q, i in ((3, 0), (4, 1))
             for lvl, name, per in p.communes if per[y][i] > 0]
    if not cands:
        return None
    q = 4 if any(c[3] == 4 for c in cands) and rng.random() < 0.4 else 3
    cands = [c for c in cands if c[3] == q]
    chosen = cands if len(cands) <= 3 else sorted(rng.sample(cands, 2), key=cands.index)
    clauses = []
    for lvl, name, value, _ in chosen:
        star = _star(q, rng.choice(("plain", "plain", "hang")))
        noun = _pick(rng, f"sản phẩm OCOP {star}", f"sản phẩm được công nhận OCOP {star}")
        clause = f"{lvl} {doc.name(name)} có {_num(value, rng.choice(('padded', 'plain', 'paren')))} {noun}"
        clauses.append(clause)
        doc.figure(Figure(name, lvl, p.district, y, OCOP, f"{q} sao", value), clause)
    lead = _pick(rng, "Trong đó, ", "Trong đó: ", "Trong tổng số trên, ")
    sent = lead + "; ".join(clauses) + "."
    for _, cands_ in doc.figs[-len(chosen):]:
        cands_.append(sent)
    return sent


def _near_targets(p: _Plan, rng: random.Random) -> str:
    """Targets and negations written next to the achieved figures (never figures)."""
    y = p.year
    k = rng.randint(1, 3)
    return _pick(rng,
                 f"Phấn đấu năm {y + 1} có thêm {_num(k, 'padded')} sản phẩm đạt 4 sao.",
                 "Đến nay, huyện chưa có sản phẩm đạt 5 sao.",
                 f"Mục tiêu đến năm 2025 có {_num(p.n4 + k, 'padded')} sản phẩm OCOP 4 sao; "
                 f"chưa có sản phẩm đạt 5 sao.",
                 f"Phấn đấu có thêm {_num(k, 'padded')} sản phẩm đạt 3 sao trong năm {y + 1}.",
                 f"Dự kiến năm {y + 1} có {_num(k, 'padded')} sản phẩm được đánh giá, phân hạng 4 sao.")


def _ocop_section(doc: _Doc, p: _Plan, rng: random.Random) -> None:
    n3, n4, y = p.n3, p.n4, p.year
    num_style = rng.choice(("plain", "padded", "padded", "word", "paren"))
    star_style = rng.choice(("plain", "plain", "hang", "hang_word", "paren"))
    N3, N4 = _num(n3, num_style), _num(n4, num_style)
    S3, S4 = _star(3, star_style), _star(4, star_style)
    verb = rng.choice(("đạt ", "đạt ", ""))
    total = n3 + n4
    style = rng.randrange(4)
    phrase4 = None
    d = p.district
    if total == 0:
        sent = _pick(rng, "Đến nay, trên địa bàn huyện chưa có sản phẩm nào được công nhận đạt chuẩn OCOP.",
                     "Huyện chưa có sản phẩm OCOP được đánh giá, phân hạng; các chủ thể đang hoàn thiện hồ sơ.")
        doc.add(sent)
        doc.fact("ocop4", sent)
        return
    is_sentence = True
    if style == 0 and n4 > 0 and n3 > 0:
        p3 = f"{N3} sản phẩm {verb}{S3}"
        phrase4 = f"{N4} sản phẩm {verb}{S4}"
        sent = (f"{_pick(rng, 'Đến nay, huyện', 'Lũy kế đến nay, huyện', 'Huyện')} có {_num(total, num_style)} "
                f"sản phẩm OCOP, trong đó {p3} và {phrase4}.")
        doc.fact("ocop_total", sent)
        doc.fact("ocop3", sent)
        doc.figure(Figure(d, "huyện", d, y, OCOP, "3 sao", n3), p3, sent)
    elif style == 1:
        is_sentence = False
        noun = "" if rng.random() < 0.5 else " sản phẩm"  # "- Hạng 3 sao: 05" (no noun)
        head = f"Kết quả đánh giá, phân hạng sản phẩm OCOP lũy kế {doc.until(y)}:"
        lines = []
        if n3:
            l3 = f"- Hạng 3 sao: {_num(n3, 'padded')}{noun}"
            lines.append(l3)
        if n4:
            phrase4 = f"- Hạng 4 sao: {_num(n4, 'padded')}{noun}"
            lines.append(phrase4)
        sent = ";\n".join(lines) + "."
        doc.add(head)
        if n3:
            doc.fact("ocop3", l3, sent)
            doc.figure(Figure(d, "huyện", d, y, OCOP, "3 sao", n3), l3, sent)
    else:
        parts = []
        if n4:
            phrase4 = f"{N4} sản phẩm {verb}{S4}"
            parts.append(phrase4)
        if n3:
            p3 = f"{N3} sản phẩm {verb}{S3}"
            parts.append(p3)
        lead = _pick(rng, f"Lũy kế {doc.until(y)}, toàn huyện có ", "Trên địa bàn huyện hiện có ",
                     "Đến nay, huyện đã có ", "Huyện có ")
        sent = lead + " và ".join(parts) + "."
        if n3:
            doc.fact("ocop3", p3, sent)
            doc.figure(Figure(d, "huyện", d, y, OCOP, "3 sao", n3), p3, sent)
    # parts of the figure by commune, targets and an earlier year's figure, in the same
    # paragraph or the next ones
    extra: list[str] = []
    if p.communes and rng.random() < 0.35:
        cs = _commune_sentence(doc, p, rng)
        if cs:
            extra.append(cs)
    if rng.random() < 0.45:
        extra.append(_near_targets(p, rng))
    earlier = [e for e in YEARS if e < y]
    if earlier and rng.random() < 0.4:
        extra.append(_earlier_figure(doc, p, rng, rng.choice(earlier)))
    if is_sentence and extra and rng.random() < 0.5:
        sent = " ".join([sent] + extra)
        extra = []
    doc.add(sent, *extra)
    if phrase4:
        sent4 = next(b for b in reversed(doc.blocks) if phrase4 in b)
        doc.fact("ocop4", phrase4, sent4)
        doc.figure(Figure(d, "huyện", d, y, OCOP, "4 sao", n4), phrase4, sent4)
        if rng.random() < 0.4:
            k = min(n4, 3)
            prods = rng.sample(_PRODUCTS, k)
            communes = rng.sample(_COMMUNES, k)
            items = ", ".join(f"{pr} (HTX {c})" for pr, c in zip(prods, communes))
            doc.add(f"Các sản phẩm đạt 4 sao tiêu biểu gồm: {items}.")
    else:
        neg = _pick(rng, "Huyện chưa có sản phẩm nào đạt hạng 4 sao.",
                    "Tuy nhiên, chưa có sản phẩm nào đạt hạng 4 sao.",
                    f"Đến nay chưa có sản phẩm OCOP {_star(4, star_style)}.")
        doc.add(neg)
        doc.fact("ocop4", neg)
    # distractors: pending applications
    if rng.random() < 0.35:
        k = rng.randint(1, 3)
        doc.add(_pick(rng,
                      f"Hiện có {_num(k, 'padded')} sản phẩm đang hoàn thiện hồ sơ đề nghị đánh giá, "
                      f"phân hạng 4 sao cấp tỉnh.",
                      f"Dự kiến nâng hạng {_num(k, 'padded')} sản phẩm lên 4 sao trong thời gian tới.",
                      f"Có {_num(k, num_style)} sản phẩm 3 sao đang được hỗ trợ nâng cấp bao bì, "
                      f"hoàn thiện tiêu chí để đề nghị xét nâng hạng."))


def _write_bc_body(doc: _Doc, p: _Plan, meta: dict[str, object], rng: random.Random,
                   dist: str, prov: str) -> None:
    y = p.year
    sec = 1
    doc.heading(f"{_roman(sec)}. " + _pick(rng, f"KẾT QUẢ HOẠT ĐỘNG KH&CN {'6 THÁNG ĐẦU ' if doc.half else ''}NĂM {y}",
                                          "Tình hình hoạt động và kết quả hoạt động KH&CN",
                                          "KẾT QUẢ ĐẠT ĐƯỢC"), 1)
    # 1. organisation
    doc.heading("1. " + _pick(rng, "Công tác lãnh đạo, chỉ đạo và tổ chức bộ máy",
                              "Về tổ chức bộ máy và hoạt động của Hội đồng KH&CN huyện",
                              "Đổi mới tổ chức, cơ chế quản lý hoạt động KH&CN"), 2)
    doc.add("1.1. " + _pick(rng, "Kiện toàn Hội đồng Khoa học và Công nghệ huyện.",
                            "Về tổ chức bộ máy quản lý."))
    _decision(doc, p, meta, rng, dist)
    doc.add("1.2. " + _pick(rng, "Công tác tuyên truyền, nâng cao nhận thức.",
                            "Công tác thông tin, tuyên truyền về KH&CN."))
    doc.add(_pick(rng,
                  "Các cấp ủy, chính quyền từ huyện đến cơ sở thường xuyên quan tâm tuyên truyền về vai trò "
                  "của khoa học, công nghệ và đổi mới sáng tạo trong phát triển kinh tế - xã hội; nội dung "
                  "tuyên truyền được lồng ghép trong các hội nghị, trên hệ thống truyền thanh cơ sở.",
                  "Phòng Kinh tế và Hạ tầng phối hợp với Trung tâm Văn hóa - Truyền thông huyện đăng tải "
                  "các tin, bài về hoạt động KH&CN; phổ biến các cơ chế, chính sách hỗ trợ doanh nghiệp "
                  "đổi mới công nghệ, khởi nghiệp đổi mới sáng tạo."))
    # 2. budget
    doc.heading("2. " + _pick(rng, "Kinh phí cho hoạt động KH&CN", "Đầu tư tài chính cho KH&CN",
                              "Về nguồn lực thực hiện"), 2)
    b = _money(p.budget)
    phrase = _pick(rng, f"bố trí {b} triệu đồng cho hoạt động KH&CN",
                   f"bố trí {b} triệu đồng từ nguồn sự nghiệp khoa học cho hoạt động KH&CN",
                   f"phân bổ {b} triệu đồng kinh phí sự nghiệp KH&CN")
    sent = _pick(rng, f"Năm {y}, UBND huyện đã {phrase}, tập trung cho các mô hình ứng dụng tiến bộ kỹ thuật.",
                 f"{doc.during()}, ngân sách huyện {phrase}; nguồn vốn được sử dụng đúng mục đích.",
                 f"Huyện đã {phrase}, đạt {rng.randint(85, 100)}% kế hoạch.")
    doc.add(sent)
    doc.fact("budget", phrase, sent)
    if rng.random() < 0.5:
        doc.add(f"- Hỗ trợ xây dựng mô hình: {_money(p.budget * rng.randint(40, 70) // 100)} triệu đồng;\n"
                f"- Tập huấn, chuyển giao kỹ thuật: {_money(p.budget * rng.randint(10, 25) // 100)} triệu đồng.")
    # 3. application
    doc.heading("3. " + _pick(rng, "Ứng dụng tiến bộ khoa học kỹ thuật vào sản xuất và đời sống",
                              "Hoạt động ứng dụng, chuyển giao công nghệ"), 2)
    doc.add("a) " + _pick(rng, "Lĩnh vực nông nghiệp", "Trong sản xuất nông, lâm nghiệp"))
    m = _num(p.models, rng.choice(("plain", "padded")))
    phrase = _pick(rng, f"{m} mô hình ứng dụng tiến bộ khoa học kỹ thuật vào sản xuất với tổng diện tích {p.area} ha",
                   f"{m} mô hình trình diễn giống cây trồng mới, tổng diện tích {p.area} ha",
                   f"{m} mô hình sản xuất theo hướng hữu cơ, tổng diện tích {p.area} ha")
    sent = _pick(rng, f"{doc.during()}, huyện đã triển khai {phrase}.",
                 f"Đã xây dựng và nhân rộng {phrase}, năng suất tăng 10-15% so với sản xuất đại trà.",
                 f"Toàn huyện thực hiện {phrase}.")
    doc.add(sent)
    doc.fact("models", phrase, sent)
    crops = rng.sample(_CROPS, 2)
    c1, c2 = rng.sample(_COMMUNES, 2)
    doc.add(f"+ Mô hình trồng {crops[0]} tại xã {c1}, diện tích {rng.randint(5, 60)} ha;\n"
            f"+ Mô hình {crops[1]} tại xã {c2}, diện tích {rng.randint(2, 30)},{rng.randint(1, 9)} ha;\n"
            f"+ Mô hình {rng.choice(_ANIMALS)} với {rng.randint(3, 25)} hộ tham gia.")
    doc.add("b) " + _pick(rng, "Công tác tập huấn, chuyển giao", "Đào tạo, tập huấn kỹ thuật"))
    phrase = _pick(rng, f"tổ chức {p.classes} lớp tập huấn chuyển giao tiến bộ khoa học kỹ thuật cho "
                        f"{_money(p.trainees)} lượt người",
                   f"mở {p.classes} lớp tập huấn kỹ thuật với {_money(p.trainees)} lượt nông dân tham gia")
    sent = _pick(rng, f"Phối hợp với Trung tâm Dịch vụ nông nghiệp {phrase}.",
                 f"Các phòng, ban chuyên môn đã {phrase}.")
    doc.add(sent)
    doc.fact("training", phrase, sent)
    # 4. OCOP / IP
    doc.heading("4. " + _pick(rng, "Sở hữu trí tuệ, tiêu chuẩn đo lường chất lượng và Chương trình OCOP",
                              "Thực hiện Chương trình Mỗi xã một sản phẩm (OCOP)",
                              "Phát triển sản phẩm OCOP, xây dựng nhãn hiệu"), 2)
    if rng.random() < 0.5:
        doc.add("4.1. Chương trình OCOP")
    doc.add(_pick(rng,
                  "Chương trình OCOP tiếp tục được quan tâm triển khai; các chủ thể được hỗ trợ hoàn thiện "
                  "bao bì, nhãn mác, truy xuất nguồn gốc sản phẩm.",
                  "Công tác đánh giá, phân hạng sản phẩm được thực hiện đúng quy trình, các sản phẩm đạt "
                  "chuẩn được hỗ trợ quảng bá, kết nối tiêu thụ."))
    _ocop_section(doc, p, rng)
    mark_product = rng.choice(_PRODUCTS)
    if rng.random() < 0.2:  # a fact without a count: a collective trademark built this year
        q1, q2 = ("“", "”") if rng.random() < 0.75 else ('"', '"')
        name = f"{q1}{mark_product} {dist}{q2}"
        ev = f"nhãn hiệu tập thể {name}"
        sent = _pick(rng, f"{doc.during()} {y}, huyện đã xây dựng {ev} cho sản phẩm chủ lực của địa phương.",
                     f"{doc.during()} {y}, UBND huyện đã phối hợp xây dựng thành công {ev}, "
                     f"được Cục Sở hữu trí tuệ cấp văn bằng bảo hộ.")
        doc.add(sent)
        doc.flag("collective_mark", ev, sent)
    elif rng.random() < 0.1:
        doc.add(f"Đang hoàn thiện hồ sơ đăng ký nhãn hiệu tập thể “{mark_product} {dist}”, "
                f"dự kiến được cấp văn bằng bảo hộ trong năm {y + 1}.")
    doc.add(_pick(rng,
                  f"Hướng dẫn {rng.randint(1, 6)} tổ chức, cá nhân đăng ký nhãn hiệu; hỗ trợ xây dựng nhãn hiệu "
                  f"chứng nhận cho sản phẩm đặc sản của địa phương.",
                  "Thực hiện kiểm tra đo lường, chất lượng hàng đóng gói sẵn tại các cơ sở kinh doanh xăng dầu, "
                  "chợ trung tâm; không phát hiện vi phạm."))
    # 5. firms
    doc.heading("5. " + _pick(rng, "Phát triển doanh nghiệp KH&CN, khởi nghiệp đổi mới sáng tạo",
                              "Hoạt động đổi mới sáng tạo trong doanh nghiệp"), 2)
    if p.firms == 0:
        sent = _pick(rng, "Trên địa bàn huyện chưa có doanh nghiệp khoa học và công nghệ.",
                     "Hiện nay huyện chưa có doanh nghiệp khoa học và công nghệ được cấp giấy chứng nhận.")
        doc.add(sent)
    else:
        phrase = f"{_num(p.firms, rng.choice(('padded', 'paren', 'plain')))} doanh nghiệp khoa học và công nghệ"
        sent = _pick(rng, f"Trên địa bàn huyện hiện có {phrase} được Sở KH&CN cấp giấy chứng nhận.",
                     f"Đến nay, huyện có {phrase}; các doanh nghiệp từng bước đầu tư đổi mới thiết bị.")
        doc.add(sent)
        doc.figure(Figure(p.district, "huyện", p.district, y, FIRMS, "", p.firms), phrase, sent)
    doc.fact("firms", sent)
    sub = 5
    plan_draw = rng.random()
    digital_plan = plan_draw < 0.3
    no_plan = 0.3 <= plan_draw < 0.38
    if digital_plan or no_plan or rng.random() < 0.5:
        sub += 1
        doc.heading(f"{sub}. " + _pick(rng, "Ứng dụng công nghệ thông tin, chuyển đổi số",
                                       "Về chuyển đổi số và ứng dụng CNTT"), 2)
        if digital_plan:  # a fact without a count
            sent = _pick(rng, f"UBND huyện đã ban hành Kế hoạch chuyển đổi số năm {y}, xác định các chỉ tiêu "
                              f"cụ thể cho từng cơ quan, đơn vị và UBND các xã, thị trấn.",
                         f"Huyện đã ban hành Kế hoạch số {rng.randint(5, 160)}/KH-UBND ngày "
                         f"{rng.randint(1, 28)}/{rng.randint(1, 3)}/{y} về chuyển đổi số năm {y}.")
            doc.add(sent)
            doc.flag("digital_plan", sent)
        elif no_plan:
            doc.add(f"Huyện chưa ban hành kế hoạch chuyển đổi số năm {y} riêng; các nhiệm vụ chuyển đổi số "
                    f"được lồng ghép trong kế hoạch phát triển kinh tế - xã hội của huyện.")
        doc.add(_pick(rng,
                      f"100% cơ quan, đơn vị và UBND các xã, thị trấn sử dụng phần mềm quản lý văn bản và điều hành; "
                      f"tỷ lệ hồ sơ thủ tục hành chính được xử lý trực tuyến đạt {rng.randint(40, 95)}%.",
                      f"Duy trì hoạt động của {rng.randint(8, 30)} tổ công nghệ số cộng đồng; hướng dẫn người dân "
                      f"cài đặt, sử dụng ứng dụng định danh điện tử và thanh toán không dùng tiền mặt."))
    if rng.random() < 0.4:
        sub += 1
        doc.heading(f"{sub}. Công tác thanh tra, kiểm tra", 2)
        doc.add(f"Phối hợp với các cơ quan chuyên môn kiểm tra {rng.randint(3, 20)} cơ sở sản xuất, kinh doanh "
                f"về tiêu chuẩn, đo lường, chất lượng và ghi nhãn hàng hóa; nhắc nhở, hướng dẫn các cơ sở "
                f"khắc phục tồn tại.")
    # II difficulties
    sec += 1
    doc.heading(f"{_roman(sec)}. " + _pick(rng, "KHÓ KHĂN, HẠN CHẾ", "Tồn tại, hạn chế và nguyên nhân",
                                          "Đánh giá chung"), 1)
    lim = rng.sample([
        "- Nguồn kinh phí cho hoạt động KH&CN còn hạn chế, chưa đáp ứng nhu cầu thực tế;",
        "- Cán bộ phụ trách KH&CN cấp huyện kiêm nhiệm nhiều việc;",
        "- Việc nhân rộng các mô hình sau khi kết thúc hỗ trợ còn chậm;",
        "- Doanh nghiệp trên địa bàn chủ yếu quy mô nhỏ, ít quan tâm đổi mới công nghệ;",
        "- Sản phẩm OCOP chủ yếu đạt 3 sao, sức cạnh tranh trên thị trường chưa cao;",
        "- Trình độ sản xuất của một bộ phận người dân còn thấp, ngại tiếp cận tiến bộ kỹ thuật mới.",
    ], 3)
    doc.add(_bullets(lim))
    # III directions (targets)
    sec += 1
    nxt = y + 1
    doc.heading(f"{_roman(sec)}. " + _pick(rng, f"PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM {nxt}",
                                          "Phương hướng nhiệm vụ thời gian tới", f"Nhiệm vụ trọng tâm năm {nxt}"), 1)
    tgt_year = rng.choice((nxt, 2025 if y < 2025 else nxt))
    tk = rng.randint(1, 3)
    targets = [
        "- Tiếp tục tuyên truyền, nâng cao nhận thức về vai trò của KH&CN và đổi mới sáng tạo;",
        _pick(rng, f"- Phấn đấu năm {tgt_year} có thêm {_num(tk, 'padded')} sản phẩm đạt 4 sao;",
              f"- Dự kiến nâng hạng {_num(tk, 'padded')} sản phẩm lên 4 sao;",
              f"- Phấn đấu có thêm {_num(tk, rng.choice(('word', 'paren')))} sản phẩm OCOP đạt {_star(4, 'hang_word')};",
              f"- Phấn đấu có ít nhất {_num(tk + 1, 'padded')} sản phẩm được công nhận OCOP 3 sao;"),
        "- Hỗ trợ xây dựng, nhân rộng các mô hình ứng dụng tiến bộ kỹ thuật có hiệu quả;",
        _pick(rng, "- Phấn đấu có 01 doanh nghiệp được công nhận doanh nghiệp khoa học và công nghệ;",
              "- Hỗ trợ doanh nghiệp đăng ký bảo hộ quyền sở hữu trí tuệ, áp dụng hệ thống quản lý chất lượng."),
    ]
    if rng.random() < 0.25:  # plans: never facts
        targets.insert(-1, f"- Tham mưu UBND huyện ban hành Kế hoạch chuyển đổi số năm {nxt};")
    if rng.random() < 0.25:
        targets.insert(-1, f"- Hỗ trợ xây dựng nhãn hiệu tập thể cho sản phẩm {mark_product[:1].lower() + mark_product[1:]};")
    if rng.random() < 0.15:
        targets.insert(-1, "- Phấn đấu có sản phẩm đầu tiên đạt 5 sao cấp quốc gia;")
    doc.add(_bullets(targets))
    if rng.random() < 0.5:
        sec += 1
        doc.heading(f"{_roman(sec)}. " + _pick(rng, "KIẾN NGHỊ, ĐỀ XUẤT", "Đề xuất"), 1)
        doc.add(f"Đề nghị Sở Khoa học và Công nghệ tỉnh {prov} quan tâm hỗ trợ huyện xây dựng nhãn hiệu "
                f"chứng nhận, chuyển giao các tiến bộ kỹ thuật phù hợp với điều kiện của địa phương.")


def _write_kh_body(doc: _Doc, p: _Plan, meta: dict[str, object], rng: random.Random,
                   dist: str, prov: str) -> None:
    y = p.year
    doc.heading("I. " + _pick(rng, "MỤC ĐÍCH, YÊU CẦU", "Mục đích, yêu cầu"), 1)
    doc.add("1. Mục đích")
    doc.add(_pick(rng,
                  "- Nâng cao hiệu quả quản lý nhà nước về khoa học và công nghệ trên địa bàn huyện;\n"
                  "- Đẩy mạnh ứng dụng tiến bộ khoa học kỹ thuật vào sản xuất, nâng cao giá trị sản phẩm.",
                  "- Triển khai đồng bộ các nhiệm vụ KH&CN theo chỉ đạo của tỉnh;\n"
                  "- Gắn hoạt động KH&CN với phát triển sản phẩm chủ lực, sản phẩm OCOP của huyện."))
    doc.add("2. Yêu cầu")
    doc.add("- Các nhiệm vụ phải cụ thể, khả thi, phân công rõ trách nhiệm;\n"
            "- Thường xuyên kiểm tra, đánh giá, báo cáo kết quả thực hiện.")
    doc.heading("II. " + _pick(rng, "NHIỆM VỤ TRỌNG TÂM", "NỘI DUNG THỰC HIỆN"), 1)
    doc.add("1. Về tổ chức bộ máy")
    _decision(doc, p, meta, rng, dist)
    doc.add("2. Ứng dụng tiến bộ khoa học kỹ thuật")
    doc.add(f"- Xây dựng {_num(rng.randint(3, 12), 'padded')} mô hình ứng dụng tiến bộ kỹ thuật trong "
            f"sản xuất {rng.choice(_CROPS)};\n"
            f"- Tổ chức tập huấn chuyển giao kỹ thuật cho nông dân tại các xã {', '.join(rng.sample(_COMMUNES, 2))}.")
    doc.add("3. Chương trình OCOP")
    if y - 1 in p.history and rng.random() < 0.35:  # context: last year's achieved figure
        doc.add(_earlier_figure(doc, p, rng, y - 1, compare=False))
    tk = rng.randint(1, 3)
    doc.add(_pick(rng, f"- Phấn đấu năm {y} có thêm {_num(tk, 'padded')} sản phẩm đạt 4 sao;",
                  f"- Dự kiến nâng hạng {_num(tk, 'padded')} sản phẩm lên 4 sao;",
                  f"- Phấn đấu có thêm {_num(tk, 'paren')} sản phẩm đạt hạng bốn sao;")
            + f"\n- Phấn đấu có thêm {_num(rng.randint(2, 5), 'padded')} sản phẩm đạt 3 sao.")
    doc.heading("III. " + _pick(rng, "KINH PHÍ THỰC HIỆN", "Kinh phí"), 1)
    b = _money(p.budget)
    phrase = f"Tổng kinh phí dự kiến: {b} triệu đồng"
    sent = _pick(rng, f"{phrase} (nguồn sự nghiệp khoa học ngân sách huyện).",
                 f"{phrase}, từ nguồn ngân sách huyện và lồng ghép các chương trình mục tiêu.")
    doc.add(sent)
    doc.fact("budget", phrase, sent)
    doc.heading("IV. TỔ CHỨC THỰC HIỆN", 1)
    doc.add("1. Phòng Kinh tế và Hạ tầng")
    doc.add("Là cơ quan thường trực, chủ trì phối hợp với các phòng, ban, đơn vị triển khai Kế hoạch; "
            "tổng hợp, báo cáo kết quả về UBND huyện theo quy định.")
    doc.add("2. UBND các xã, thị trấn")
    doc.add("Căn cứ Kế hoạch này, xây dựng nội dung thực hiện phù hợp với điều kiện của địa phương.")


# --------------------------------------------------------------------------
# Questions


def _dname(rng: random.Random, district: str) -> str:
    d = tone_variant(district, rng.random() < 0.5)
    if "'" in d and rng.random() < 0.5:
        d = d.replace("'", "’")
    return d if rng.random() < 0.35 else f"huyện {d}"


def _unaccent(q: str) -> str:
    """How a question is typed without Vietnamese keyboard: no marks, lower case, ASCII apostrophe."""
    return fold(q).lower().replace("’", "'")


def _cap_first(s: str) -> str:
    return s[:1].upper() + s[1:]


def _fact_question(rng: random.Random, key: str, f: ReportFacts) -> str:
    d = _dname(rng, f.district)
    y = f.year
    front = rng.random() < 0.4
    if f.doc_type == DOC_KH:
        if key == "budget":
            return _pick(rng, f"Kế hoạch KH&CN năm {y} của {d} dự kiến tổng kinh phí bao nhiêu?",
                         f"Tổng kinh phí dự kiến trong kế hoạch khoa học và công nghệ năm {y} của {d} là bao nhiêu?")
        return f"Kế hoạch KH&CN năm {y} của {d} nêu quyết định kiện toàn Hội đồng KH&CN huyện nào?"
    bodies = {
        "ocop4": ("có bao nhiêu sản phẩm OCOP đạt 4 sao", "có bao nhiêu sản phẩm OCOP 4 sao"),
        "ocop3": ("có bao nhiêu sản phẩm OCOP 3 sao", "có bao nhiêu sản phẩm đạt OCOP 3 sao"),
        "ocop_total": ("có tổng cộng bao nhiêu sản phẩm OCOP",),
        "budget": ("bố trí bao nhiêu kinh phí cho hoạt động KH&CN",
                   "dành bao nhiêu triệu đồng cho hoạt động khoa học và công nghệ"),
        "firms": ("có bao nhiêu doanh nghiệp khoa học và công nghệ",),
        "models": ("triển khai bao nhiêu mô hình ứng dụng KH&CN và tổng diện tích bao nhiêu",
                   "có bao nhiêu mô hình ứng dụng tiến bộ kỹ thuật, diện tích bao nhiêu ha"),
        "training": ("tổ chức bao nhiêu lớp tập huấn chuyển giao kỹ thuật",
                     "mở bao nhiêu lớp tập huấn khoa học kỹ thuật cho bao nhiêu lượt người"),
    }
    if key == "decision":
        return _pick(rng, f"Theo báo cáo năm {y}, Hội đồng Khoa học và Công nghệ {d} được kiện toàn theo quyết định nào?",
                     f"Quyết định kiện toàn Hội đồng KH&CN của {d} được nêu trong báo cáo năm {y} là quyết định số mấy?")
    body = rng.choice(bodies[key])
    if front:
        return f"Trong năm {y}, {d} {body}?"
    return f"{_cap_first(d)} {body} năm {y}?"


def _agg_question(rng: random.Random, province: str, year: int) -> str:
    """The original list question: districts of a province with 4-star products in a year."""
    p = tone_variant(province, rng.random() < 0.5)
    if rng.random() < 0.5:
        return _pick(rng,
                     f"Những huyện nào của tỉnh {p} có sản phẩm OCOP 4 sao năm {year}?",
                     f"Huyện nào ở {p} đạt OCOP 4 sao trong năm {year}?",
                     f"Trong năm {year}, các huyện nào thuộc tỉnh {p} có sản phẩm đạt 4 sao OCOP?",
                     f"Liệt kê các huyện của {p} có sản phẩm OCOP 4 sao năm {year}.")
    return _which_text(rng, province, year, OCOP, "4 sao")


# ---- list questions: wording

def _prov(rng: random.Random, province: str) -> str:
    return tone_variant(province, rng.random() < 0.5)


def _scope(rng: random.Random, province: str | None) -> str:
    if province is None:
        return ""
    p = _prov(rng, province)
    return _pick(rng, f" của tỉnh {p}", f" ở {p}", f" thuộc tỉnh {p}", f" trên địa bàn tỉnh {p}")


def _noun(rng: random.Random, thing: str, qual: str) -> str:
    if thing == OCOP:
        n = qual.split()[0]
        return _pick(rng, f"sản phẩm OCOP {n} sao", f"sản phẩm đạt OCOP {n} sao", f"sản phẩm OCOP đạt {n} sao")
    return _pick(rng, "doanh nghiệp khoa học và công nghệ", "doanh nghiệp KH&CN")


def _noun_en(thing: str, qual: str) -> str:
    if thing == OCOP:
        return f"{qual.split()[0]}-star OCOP products"
    return "science and technology enterprises"


def _yr(rng: random.Random, year: int) -> str:
    return _pick(rng, f" năm {year}", f" trong năm {year}")


def _which_text(rng: random.Random, province: str | None, year: int, thing: str, qual: str) -> str:
    sc, nn, yr = _scope(rng, province), _noun(rng, thing, qual), _yr(rng, year)
    return _pick(rng,
                 f"Những huyện nào{sc} có {nn}{yr}?",
                 f"Các huyện nào{sc} có {nn}{yr}?",
                 f"Các huyện{sc} có {nn}{yr} là những huyện nào?",
                 f"Kể tên các huyện{sc} có {nn}{yr}.",
                 f"Liệt kê các huyện{sc} có {nn}{yr}.",
                 f"Địa phương nào{sc} có {nn}{yr}?")


_THRESHOLD_TEXTS = (
    ("ge", "Huyện nào{sc} có từ {n} {nn} trở lên{yr}?"),
    ("ge", "Những huyện nào{sc} có ít nhất {n} {nn}{yr}?"),
    ("ge", "Liệt kê các huyện{sc} có tối thiểu {n} {nn}{yr}."),
    ("gt", "Những huyện nào{sc} có hơn {n} {nn}{yr}?"),
    ("gt", "Các huyện nào{sc} có trên {n} {nn}{yr}?"),
    ("lt", "Huyện nào{sc} có dưới {n} {nn}{yr}?"),
)
_SUPERLATIVE_TEXTS = (
    ("max", "Huyện nào{sc} có nhiều {nn} nhất{yr}?"),
    ("max", "Địa phương nào{sc} có nhiều {nn} nhất{yr}?"),
    ("max", "Trong năm {y}, huyện nào{sc} có số {nn} nhiều nhất?"),
    ("min", "Huyện nào{sc} có ít {nn} nhất{yr}?"),
    ("min", "Trong năm {y}, huyện nào{sc} có số {nn} ít nhất?"),
)
_TOTAL_TEXTS = (
    "Tổng số {nn} của tỉnh {p} năm {y} là bao nhiêu?",
    "Cả tỉnh {p} có bao nhiêu {nn} năm {y}?",
    "Toàn tỉnh {p} có tổng cộng bao nhiêu {nn} trong năm {y}?",
    "Năm {y}, tổng số {nn} của các huyện thuộc tỉnh {p} là bao nhiêu?",
)
_HOW_MANY_TEXTS = (
    "Bao nhiêu huyện của tỉnh {p} có {nn} năm {y}?",
    "Tỉnh {p} có bao nhiêu huyện có {nn} trong năm {y}?",
    "Có bao nhiêu huyện thuộc tỉnh {p} có {nn} năm {y}?",
    "Năm {y}, bao nhiêu huyện ở {p} có {nn}?",
)
_COMMUNE_TEXTS = (
    (("xã",), "Xã nào của huyện {d} có {nn}{yr}?"),
    (("xã",), "Những xã nào thuộc huyện {d} có {nn}{yr}?"),
    (("xã", "thị trấn"), "Những xã, thị trấn nào của huyện {d} có {nn}{yr}?"),
    (("xã", "thị trấn"), "Kể tên các xã, thị trấn thuộc huyện {d} có {nn}{yr}."),
    (("xã", "thị trấn"), "Xã, thị trấn nào ở huyện {d} có {nn}{yr}?"),
)
_RANGE_TEXTS = (
    "Những huyện nào của tỉnh {p} có {nn} từ năm {y1} đến {y2}?",
    "Trong giai đoạn {y1}–{y2}, các huyện nào thuộc tỉnh {p} có {nn}?",
    "Liệt kê các huyện của {p} có {nn} trong các năm {y1}-{y2}.",
    "Từ năm {y1} đến năm {y2}, huyện nào ở {p} có {nn}?",
)
_FLAG_TEXTS = {
    "digital_plan": ("Huyện nào{sc} đã ban hành kế hoạch chuyển đổi số năm {y}?",
                     "Những huyện nào{sc} ban hành Kế hoạch chuyển đổi số năm {y}?",
                     "Liệt kê các huyện{sc} đã ban hành kế hoạch chuyển đổi số năm {y}."),
    "collective_mark": ("Các huyện nào{sc} đã xây dựng nhãn hiệu tập thể trong năm {y}?",
                        "Địa phương nào{sc} xây dựng được nhãn hiệu tập thể năm {y}?"),
}
_ENGLISH_TEXTS = (
    ("has", "Which districts of {p} had {ne} in {y}?"),
    ("has", "List the districts in {p} with {ne} in {y}."),
    ("has", "Which districts in {p} had {ne} in {y}?"),
    ("ge", "Which districts of {p} had at least {n} {ne} in {y}?"),
    ("gt", "Which districts of {p} had more than {n} {ne} in {y}?"),
    ("max", "Which district of {p} had the most {ne} in {y}?"),
)


# ---- list questions: ground truth


class _Truth:
    """The archive's ground truth (figures and flags of every report) with evidence, indexed
    for list questions. Answers are computed only from here."""

    def __init__(self, reports: list[ReportFacts], docs: dict[str, _Doc]) -> None:
        self.province_of = {d: p for p, ds in PROVINCES.items() for d in ds}
        # (level, unit, district, thing, qualifier, year) -> value
        self.value: dict[tuple[str, str, str, str, str, int], int] = {}
        # same key -> [(rank, stem, evidence)]; rank 0: the report's own year
        self.ev: dict[tuple[str, str, str, str, str, int], list[tuple[int, str, str]]] = {}
        # flag -> (district, year) -> (stem, evidence)
        self.flags: dict[str, dict[tuple[str, int], tuple[str, str]]] = {}
        for f in reports:
            doc = docs[f.stem]
            for (fig, _), ev in zip(doc.figs, doc.fig_evidence, strict=True):
                key = (fig.level, fig.unit, fig.district, fig.thing, fig.qualifier, fig.year)
                old = self.value.setdefault(key, fig.value)
                assert old == fig.value, (key, old, fig.value)  # one trajectory per unit
                self.ev.setdefault(key, []).append((0 if fig.year == f.year else 1, f.stem, ev))
            for name, (ev,) in doc.flags.items():
                self.flags.setdefault(name, {})[(f.district, f.year)] = (f.stem, ev)
        self.years_with: dict[tuple[str, str], set[int]] = {}
        for level, _, _, thing, qual, year in self.value:
            if level == "huyện":
                self.years_with.setdefault((thing, qual), set()).add(year)

    def values(self, spec: dict[str, object], year: int) -> dict[str, int]:
        """unit -> figure (> 0) for ``year`` within the spec's scope."""
        levels = spec["levels"]
        out = {}
        for (level, unit, district, thing, qual, yr), v in self.value.items():
            if (yr != year or level not in levels or thing != spec["thing"] or qual != spec["qualifier"]
                    or v <= 0):
                continue
            if spec.get("province") and self.province_of[district] != spec["province"]:
                continue
            if spec.get("district") and district != spec["district"]:
                continue
            out[unit] = v
        return out

    def answer(self, spec: dict[str, object]) -> tuple[list[str], int | None]:
        """The expected units (sorted) and, for op sum, the total."""
        op, years = spec["op"], list(spec["years"])  # type: ignore[call-overload]
        if op == "flag":
            units = {d for (d, y) in self.flags.get(str(spec["flag"]), {}) if y in years
                     and (not spec.get("province") or self.province_of[d] == spec["province"])}
            return sorted(units), None
        if op in ("has", "count"):
            units = set()
            for y in years:
                units |= set(self.values(spec, y))
            return sorted(units), None
        (y,) = years
        vals = self.values(spec, y)
        n = spec.get("n")
        if op == "ge":
            units = {u for u, v in vals.items() if v >= n}  # type: ignore[operator]
        elif op == "gt":
            units = {u for u, v in vals.items() if v > n}  # type: ignore[operator]
        elif op == "lt":
            units = {u for u, v in vals.items() if v < n}  # type: ignore[operator]
        elif op in ("max", "min"):
            best = (max if op == "max" else min)(vals.values()) if vals else None
            units = {u for u, v in vals.items() if v == best}
        elif op == "sum":
            return sorted(vals), sum(vals.values())
        else:
            raise ValueError(op)
        return sorted(units), None

    def evidence(self, spec: dict[str, object], units: list[str]) -> tuple[list[str], list[str]]:
        """One (evidence, source) per answer unit: the figure of the unit's own report of that
        year when there is one, else a figure about that year in a later report."""
        evs, srcs = [], []
        years = list(spec["years"])  # type: ignore[call-overload]
        for unit in units:
            if spec["op"] == "flag":
                y = max(y for (d, y) in self.flags[str(spec["flag"])] if d == unit and y in years)
                stem, ev = self.flags[str(spec["flag"])][(unit, y)]
            else:
                cands = []
                for (level, u, district, thing, qual, yr), v in self.value.items():
                    if (u == unit and yr in years and level in spec["levels"] and thing == spec["thing"]
                            and qual == spec["qualifier"] and v > 0
                            and (not spec.get("district") or district == spec["district"])):
                        cands += [(rank, -yr, st, e) for rank, st, e in
                                  self.ev[(level, u, district, thing, qual, yr)]]
                _, _, stem, ev = min(cands)
            evs.append(ev)
            srcs.append(stem)
        return evs, srcs


def _spec(op: str, thing: str | None, qual: str | None, years: list[int], province: str | None,
          levels: tuple[str, ...] = ("huyện",), district: str | None = None, n: int | None = None,
          flag: str | None = None) -> dict[str, object]:
    return {"op": op, "thing": thing, "qualifier": qual, "years": years, "province": province,
            "levels": list(levels), "district": district, "n": n, "flag": flag}


def _threshold_n(rng: random.Random, op: str, vals: dict[str, int], small: bool) -> int | None:
    """A threshold that selects some but not all units (and at most 10 when ``small``)."""
    distinct = sorted(set(vals.values()))
    if op == "ge":
        options = distinct[1:]
        size = lambda n: sum(v >= n for v in vals.values())  # noqa: E731
    elif op == "gt":
        options = distinct[:-1]
        size = lambda n: sum(v > n for v in vals.values())  # noqa: E731
    else:
        options = distinct[1:]
        size = lambda n: sum(v < n for v in vals.values())  # noqa: E731
    options = [n for n in options if n >= 1 and (not small or size(n) <= 10)]
    return rng.choice(options) if options else None
# --------------------------------------------------------------------------
# Generation


def _allocate(rng: random.Random, n_reports: int) -> list[tuple[str, str, int, str]]:
    pairs = [(p, d, y) for p, ds in PROVINCES.items() for d in ds for y in YEARS]
    if n_reports < 1:
        raise ValueError("n_reports must be >= 1")
    if n_reports > 2 * len(pairs):
        raise ValueError(f"n_reports must be <= {2 * len(pairs)}")
    order = pairs[:]
    rng.shuffle(order)
    if n_reports <= len(pairs):
        chosen = [(p, d, y, DOC_BC) for p, d, y in order[:n_reports]]
    else:
        chosen = [(p, d, y, DOC_BC) for p, d, y in pairs]
        chosen += [(p, d, y, DOC_KH) for p, d, y in order[: n_reports - len(pairs)]]
    pindex = {p: i for i, p in enumerate(PROVINCES)}
    dindex = {(p, d): i for p, ds in PROVINCES.items() for i, d in enumerate(ds)}
    chosen.sort(key=lambda t: (pindex[t[0]], dindex[(t[0], t[1])], t[2], t[3] != DOC_BC))
    return chosen


def generate_archive(out_dir: Path, n_reports: int, seed: int = 0,
                     n_questions: int | None = None) -> SynthArchive:
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    states = _district_states(rng)
    chosen = _allocate(rng, n_reports)
    commune_states = _commune_states(seed, states)

    used_decisions: set[str] = set()
    reports: list[ReportFacts] = []
    texts: dict[str, str] = {}
    docs: dict[str, _Doc] = {}
    for idx, (province, district, year, doc_type) in enumerate(chosen, start=1):
        st = states[(province, district, year)]
        is_kh = doc_type == DOC_KH
        r = random.Random(f"{seed}:{idx}:{district}:{year}:{doc_type}")
        plan = _Plan(province, district, year, doc_type,
                     n3=int(st["n3"]), n4=int(st["n4"]),
                     budget=int(st["budget"]) if not is_kh else (int(st["budget"]) * r.randint(105, 130) // 100 // 5 * 5),
                     firms=int(st["firms"]), models=int(st["models"]), area=str(st["area"]),
                     classes=int(st["classes"]), trainees=int(st["trainees"]),
                     signers=tuple(st["signers"]),  # type: ignore[arg-type]
                     history={yr: (int(states[(province, district, yr)]["n3"]),  # type: ignore[call-overload]
                                   int(states[(province, district, yr)]["n4"]))  # type: ignore[call-overload]
                              for yr in YEARS},
                     communes=commune_states[(province, district)])
        # document number / date
        kind = "year"
        if is_kh:
            month = r.randint(1, 3)
            date_year = year
            code = "KH-UBND"
        else:
            kind = r.choice(("year", "year", "year", "6m", "dean"))
            month = 6 if kind == "6m" else r.choice((11, 12, 12))
            date_year = year
            code = "BC-UBND"
        blank = r.random()
        if blank < 0.3:
            doc_number = f"/{code}"
        else:
            doc_number = f"{r.randint(12, 480)}/{code}"
        if not is_kh and r.random() < 0.18:
            doc_number = "/UBND-KTHT" if r.random() < 0.5 else f"{r.randint(100, 2000)}/UBND-KTHT"
        day = r.randint(1, 28)
        dstyle = r.random()
        if dstyle < 0.55:
            date_text = f"ngày {day} tháng {month} năm {date_year}"
            date_iso = f"{date_year}-{month:02d}-{day:02d}"
        elif dstyle < 0.85:
            date_text = f"ngày    tháng {month} năm {date_year}"
            date_iso = f"{date_year}-{month:02d}"
        else:
            date_text = f"ngày    tháng    năm {date_year}"
            date_iso = f"{date_year}"
        while True:
            dec_year = year if r.random() < 0.6 else year - 1
            dec = f"{r.randint(100, 4999)}/QĐ-UBND"
            if (dec, dec_year) not in used_decisions and dec not in used_decisions:
                used_decisions.add(dec)
                break
        dec_date = (f"{r.randint(1, 28)}/{r.randint(1, 12)}/{dec_year}" if r.random() < 0.5
                    else f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}/{dec_year}")
        signer = r.choice(plan.signers)
        meta = {
            "doc_number": doc_number, "date_text": date_text, "signer": signer,
            "sign_kt": r.random() < 0.6, "decision_number": dec, "decision_date": dec_date,
            "report_kind": kind,
        }
        doc = _write_report(plan, meta, r)
        stem = f"{_slug(district)}-{_slug(province)}-{year}-{'kh' if is_kh else 'bc'}-{idx:04d}"
        ocop = {} if is_kh else {k: v for k, v in ((3, plan.n3), (4, plan.n4)) if v}
        text = doc.text()
        doc.choose_evidence(text)
        facts = ReportFacts(stem=stem, province=province, district=district, year=year,
                            doc_type=doc_type, doc_number=doc_number, date=date_iso, signer=signer,
                            ocop_stars=ocop, budget_million=plan.budget,
                            science_firms=0 if is_kh else plan.firms, decision_number=dec,
                            figures=tuple(f for f, _ in doc.figs),
                            digital_plan="digital_plan" in doc.flags,
                            collective_mark="collective_mark" in doc.flags)
        reports.append(facts)
        texts[stem] = text
        docs[stem] = doc

    questions = _make_questions(rng, reports, texts, docs, n_questions)

    corpus_dir = out_dir / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for stem, text in texts.items():
        (corpus_dir / f"{stem}.txt").write_bytes(text.encode("utf-8"))
    gold_path = out_dir / "gold.jsonl"
    facts_path = out_dir / "facts.jsonl"
    with gold_path.open("w", encoding="utf-8", newline="\n") as fh:
        for q in questions:
            row: dict[str, object] = {"id": q.id, "question": q.question, "evidence": q.evidence,
                                      "sources": q.sources, "kind": q.kind}
            if q.answer is not None:
                row["answer"] = q.answer
            if q.shape is not None:
                row["shape"] = q.shape
                for key in ("total", "count"):
                    if getattr(q, key) is not None:
                        row[key] = getattr(q, key)
                row["spec"] = q.spec
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with facts_path.open("w", encoding="utf-8", newline="\n") as fh:
        for f in reports:
            row = asdict(f)
            row["ocop_stars"] = {str(k): v for k, v in sorted(f.ocop_stars.items())}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return SynthArchive(corpus_dir=corpus_dir, gold_path=gold_path, facts_path=facts_path,
                        reports=reports, questions=questions)


class _Uniq:
    """Counts occurrences of a string across all texts quickly."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.big = "\x00".join(texts.values())

    def unique(self, s: str) -> bool:
        i = self.big.find(s)
        return i >= 0 and self.big.find(s, i + 1) < 0


# kind, question, evidence, sources, answer, list-question fields
_Raw = tuple[str, str, list[str], list[str], "list[str] | None", dict[str, object]]


def _make_questions(rng: random.Random, reports: list[ReportFacts], texts: dict[str, str],
                    docs: dict[str, _Doc], n_questions: int | None) -> list[SynthQuestion]:
    qrng = random.Random(rng.random())
    cap = min(200, len(reports)) if n_questions is None else max(0, n_questions)
    uniq = _Uniq(texts)
    order = reports[:]
    qrng.shuffle(order)
    raw: list[_Raw] = []
    n_fact = 0
    for f in order:
        if n_fact >= cap:
            break
        doc = docs[f.stem]
        keys = sorted(doc.evidence)
        qrng.shuffle(keys)
        # prefer OCOP questions a bit (the hard, year-dependent case)
        keys.sort(key=lambda k: 0 if k.startswith("ocop") and qrng.random() < 0.5 else 1)
        for key in keys:
            ev = next((c for c in doc.evidence[key] if c in texts[f.stem] and uniq.unique(c)), None)
            if ev is None:
                continue
            q = _fact_question(qrng, key, f)
            kind = "fact"
            if qrng.random() < 0.2:
                q = _unaccent(q)
                kind = "unaccented"
            raw.append((kind, q, [ev], [f.stem], None, {}))
            n_fact += 1
            break

    raw += _list_questions(qrng, reports, docs, cap)

    # unanswerable (no report states anything about that district and year, nor 5 stars)
    present = {(f.district, f.year) for f in reports}
    present |= {m for doc in docs.values() for m in doc.mentions}
    present |= {(fig.district, fig.year) for f in reports for fig in f.figures}
    missing = [(d, p, y) for p, ds in PROVINCES.items() for d in ds for y in YEARS if (d, y) not in present]
    five = {f.district for f in reports if "5 sao" in texts[f.stem] or "năm sao" in texts[f.stem]}
    no_five = [f for f in reports if f.district not in five] or reports
    n_un = min(10, max(3, n_fact // 20))
    for i in range(n_un):
        mode = i % 3
        if mode == 0 and missing:
            d, p, y = qrng.choice(missing)
            q = _fact_question(qrng, qrng.choice(("ocop4", "budget", "firms")),
                               ReportFacts("", p, d, y, DOC_BC, "", "", "", {}, 0, 0, ""))
        elif mode == 1 or (mode == 0 and not missing):
            d, p = qrng.choice(ABSENT_DISTRICTS)
            y = qrng.choice(YEARS)
            q = _fact_question(qrng, qrng.choice(("ocop4", "budget", "models")),
                               ReportFacts("", p, d, y, DOC_BC, "", "", "", {}, 0, 0, ""))
        else:
            f = qrng.choice(no_five)
            d = _dname(qrng, f.district)
            q = _pick(qrng, f"{_cap_first(d)} có sản phẩm OCOP 5 sao nào năm {f.year}?",
                      f"Trong năm {f.year}, {d} có bao nhiêu sản phẩm OCOP đạt 5 sao?")
        raw.append(("unanswerable", q, [], [], None, {}))

    return [SynthQuestion(id=f"s{i:04d}", question=unicodedata.normalize("NFC", q), evidence=ev,
                          sources=src, kind=kind, answer=ans, **extra)
            for i, (kind, q, ev, src, ans, extra) in enumerate(raw, start=1)]


def _list_questions(qrng: random.Random, reports: list[ReportFacts], docs: dict[str, _Doc],
                    cap: int) -> list[_Raw]:
    """List ("aggregate") questions of every shape, answers from the ground truth."""
    truth = _Truth(reports, docs)
    out: list[_Raw] = []
    seen: set[str] = set()

    def emit(shape: str, q: str, spec: dict[str, object], min_units: int = 1, max_units: int = 99) -> bool:
        units, total = truth.answer(spec)
        key = json.dumps([shape, spec], sort_keys=True)
        if not min_units <= len(units) <= max_units or q in seen or key in seen:
            return False
        seen.update((q, key))
        ev, src = truth.evidence(spec, units)
        extra: dict[str, object] = {"shape": shape, "spec": spec}
        if spec["op"] == "sum":
            extra["total"] = total
        if spec["op"] == "count":
            extra["count"] = len(units)
        out.append(("aggregate", q, ev, src, units, extra))
        return True

    pindex = {p: i for i, p in enumerate(PROVINCES)}
    # (province, year) pairs with a 4-star district, the original questions, as before
    keys4 = sorted({(truth.province_of[u], y) for (lvl, u, _, t, q, y), v in truth.value.items()
                    if lvl == "huyện" and t == OCOP and q == "4 sao" and v > 0},
                   key=lambda k: (pindex[k[0]], k[1]))
    qrng.shuffle(keys4)
    legacy_cap = max(3, min(24, cap // 8))
    for province, year in sorted(keys4[:legacy_cap], key=lambda k: (pindex[k[0]], k[1])):
        emit("which", _agg_question(qrng, province, year), _spec("has", OCOP, "4 sao", [year], province))

    per_shape = max(1, min(5, cap // 45))

    def cycle(options):
        """Each call: the next of ``options`` in an order drawn once (every form gets used)."""
        order = qrng.sample(list(options), len(options))
        count = [0]

        def nxt():
            count[0] += 1
            return order[(count[0] - 1) % len(order)]
        return nxt
    things = ((OCOP, "4 sao"), (OCOP, "3 sao"), (FIRMS, ""))
    weights = (5, 3, 2)
    pairs = {t: sorted({(truth.province_of[u], y) for (lvl, u, _, th, q, y), v in truth.value.items()
                        if lvl == "huyện" and (th, q) == t and v > 0}, key=lambda k: (pindex[k[0]], k[1]))
             for t in things}

    def draw(n: int, make, unscoped: float = 0.0) -> None:
        """Call ``make(province|None, year, thing, qual)`` on random keys until n succeed."""
        pools = {t: qrng.sample(pairs[t], len(pairs[t])) for t in things}
        done = tries = 0
        while done < n and tries < 200 and any(pools.values()):
            tries += 1
            t = qrng.choices(things, weights)[0]
            if not pools[t]:
                continue
            province, year = pools[t].pop()
            if qrng.random() < unscoped:
                province = None
            if make(province, year, *t):
                done += 1

    # which: other things, some without a province
    def make_which(province, year, thing, qual):
        spec = _spec("has", thing, qual, [year], province)
        if province is None and len(truth.answer(spec)[0]) > 12:
            return False
        return emit("which", _which_text(qrng, province, year, thing, qual), spec)
    draw(per_shape, make_which, unscoped=0.3)

    threshold_form = cycle(_THRESHOLD_TEXTS)

    def make_threshold(province, year, thing, qual, *, shape="threshold", text=None):
        op, tmpl = threshold_form()
        vals = truth.values(_spec("has", thing, qual, [year], province), year)
        if len(vals) < 2:
            return False
        n = _threshold_n(qrng, op, vals, small=province is None)
        if n is None:
            return False
        q = tmpl.format(sc=_scope(qrng, province), n=n, nn=_noun(qrng, thing, qual), yr=_yr(qrng, year))
        return emit(shape, text(q) if text else q, _spec(op, thing, qual, [year], province, n=n))
    draw(per_shape, make_threshold, unscoped=0.25)

    superlative_form = cycle(_SUPERLATIVE_TEXTS)

    def make_superlative(province, year, thing, qual, *, shape="superlative", text=None):
        op, tmpl = superlative_form()
        if len(truth.values(_spec("has", thing, qual, [year], province), year)) < 2:
            return False
        q = tmpl.format(sc=_scope(qrng, province), nn=_noun(qrng, thing, qual), yr=_yr(qrng, year), y=year)
        return emit(shape, text(q) if text else q, _spec(op, thing, qual, [year], province), max_units=3)
    draw(per_shape, make_superlative, unscoped=0.25)

    def make_total(province, year, thing, qual, *, shape="total", text=None):
        if province is None:
            return False
        q = qrng.choice(_TOTAL_TEXTS).format(nn=_noun(qrng, thing, qual), p=_prov(qrng, province), y=year)
        return emit(shape, text(q) if text else q, _spec("sum", thing, qual, [year], province), min_units=2)
    draw(per_shape, make_total)

    def make_how_many(province, year, thing, qual, *, shape="how_many_units", text=None):
        if province is None:
            return False
        q = qrng.choice(_HOW_MANY_TEXTS).format(nn=_noun(qrng, thing, qual), p=_prov(qrng, province), y=year)
        return emit(shape, text(q) if text else q, _spec("count", thing, qual, [year], province))
    draw(per_shape, make_how_many)

    # commune: the communes of one district (in one year, or in any year)
    commune_keys = sorted({(district, q, y) for (lvl, _, district, t, q, y) in truth.value
                           if lvl != "huyện" and t == OCOP})
    qrng.shuffle(commune_keys)
    commune_form = cycle(_COMMUNE_TEXTS)
    done = 0
    for district, qual, year in commune_keys:
        if done >= per_shape:
            break
        levels, tmpl = commune_form()
        years = [year] if qrng.random() < 0.6 else list(YEARS)
        yr = _yr(qrng, year) if len(years) == 1 else ""
        spec = _spec("has", OCOP, qual, years, None, levels=levels, district=district)
        q = tmpl.format(d=_dname(qrng, district).removeprefix("huyện "), nn=_noun(qrng, OCOP, qual), yr=yr)
        done += emit("commune", q, spec)

    def make_range(province, year, thing, qual):
        if province is None:
            return False
        span = qrng.choice((1, 2, 2, 3))
        y1 = max(YEARS[0], year - qrng.randint(0, span))
        y2 = min(YEARS[-1], y1 + span)
        if y2 <= y1:
            return False
        q = qrng.choice(_RANGE_TEXTS).format(nn=_noun(qrng, thing, qual), p=_prov(qrng, province), y1=y1, y2=y2)
        return emit("year_range", q, _spec("has", thing, qual, list(range(y1, y2 + 1)), province))
    draw(per_shape, make_range)

    # no_count: facts without a number
    flag_keys = sorted({(name, truth.province_of[d], y) for name, m in truth.flags.items() for (d, y) in m},
                       key=lambda k: (k[0], pindex[k[1]], k[2]))
    qrng.shuffle(flag_keys)
    done = 0
    for name, province, year in flag_keys:
        if done >= per_shape:
            break
        scope = None if qrng.random() < 0.25 else province
        spec = _spec("flag", None, None, [year], scope, flag=name)
        if scope is None and len(truth.answer(spec)[0]) > 12:
            continue
        q = qrng.choice(_FLAG_TEXTS[name]).format(sc=_scope(qrng, scope), y=year)
        done += emit("no_count", q, spec)

    english_form = cycle(_ENGLISH_TEXTS)

    def make_english(province, year, thing, qual):
        if province is None:
            return False
        op, tmpl = english_form()
        vals = truth.values(_spec("has", thing, qual, [year], province), year)
        n = None
        if op in ("ge", "gt"):
            n = _threshold_n(qrng, op, vals, small=False)
            if n is None:
                return False
        elif op == "max" and len(vals) < 2:
            return False
        folded = fold(province)
        p = qrng.choice((province, folded, f"{folded} province", f"{province} province"))
        q = tmpl.format(p=p, ne=_noun_en(thing, qual), y=year, n=n)
        return emit("english", q, _spec(op, thing, qual, [year], province, n=n), max_units=3 if op == "max" else 99)
    draw(per_shape, make_english)

    # unaccented: folded, lower-case variants of the other shapes
    unaccent = _unaccent
    makers = (
        lambda *a: emit("unaccented", unaccent(_which_text(qrng, *a)), _spec("has", a[2], a[3], [a[1]], a[0])),
        lambda *a: make_threshold(*a, shape="unaccented", text=unaccent),
        lambda *a: make_superlative(*a, shape="unaccented", text=unaccent),
        lambda *a: make_total(*a, shape="unaccented", text=unaccent),
        lambda *a: make_how_many(*a, shape="unaccented", text=unaccent),
    )
    unaccented_form = cycle(makers)
    draw(per_shape, lambda *a: unaccented_form()(*a))
    return out


# --------------------------------------------------------------------------
# CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.synth", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--reports", type=int, required=True, help="number of reports")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--questions", type=int, default=None,
                    help="cap on fact+unaccented questions (default min(200, reports))")
    args = ap.parse_args(argv)
    try:
        arc = generate_archive(args.out, args.reports, seed=args.seed, n_questions=args.questions)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for q in arc.questions:
        counts[q.kind] = counts.get(q.kind, 0) + 1
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"synth: {len(arc.reports)} reports in {arc.corpus_dir}; {len(arc.questions)} questions ({summary})",
          file=sys.stderr)
    print(arc.gold_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
