"""Facts read once at ingest: every statement of a count about a place ("huyện Ba Chẽ có 05 sản
phẩm được xếp hạng 4 sao"), kept as rows of the ``facts`` table (rag.store).

What a list question needs was read at question time before (every candidate sentence parsed:
22–30 s for an unscoped question at 113k reports); now each clause is read when its report is
ingested, independently of any question, and a question is a query over the rows
(rag.listing). A row says:

* the counted noun (``head``: folded, e.g. ``san pham``) with the number right before it, or for a
  table line with no noun (``- Hạng 4 sao: 02``) the qualifier it is tied to (``qualifier``);
* the qualifiers the clause states (``levels``: `` 5 san 4 sao ``, numbers as values), so that a
  question about "4 sao" keeps the clause and one about "3 sao" does not;
* whether the figure is achieved, a target/plan, or negated (``status``);
* the unit it is about (named in the clause, else earlier in the sentence, else the report's own
  district, else the one named last before it) and the unit's level (tỉnh / huyện / xã);
* the year the figure refers to ("năm 2021, …" in a 2023 report is 2021; "giai đoạn 2020–2022"
  is 2022 from 2020), else the report's year;
* the words around it (``near``: the folded words of the passage's headings and of the document
  from 300 characters before the sentence to its end), which must hold the question's other words
  ("OCOP"), whatever the passage size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .gazetteer import province_named
from .metadata import capitalised_prefix
from .vntext import PLACE_NAME, canonical_tones, fold, is_number, match_key, read_number_words, split_sentences

# nouns that things are counted in; a qualifier's unit can imply one ("4 sao" rates products)
COUNTED_NOUNS = (("san", "pham"), ("doanh", "nghiep"), ("nhiem", "vu"), ("mo", "hinh"), ("de", "tai"),
                 ("du", "an"), ("sang", "kien"), ("hop", "tac", "xa"), ("nhan", "hieu"), ("chi", "dan", "dia", "ly"),
                 ("co", "so"), ("lop",), ("hoi", "thao"), ("tai", "san", "tri", "tue"), ("giai", "phap"))
IMPLIED_NOUN = {"sao": ("san", "pham")}
# phrases that say the count is not (yet) achieved
NEGATIONS = ("khong co", "chua co", "khong", "chua", "no", "none", "not")
TARGETS = ("phan dau", "du kien", "ke hoach", "muc tieu", "nang hang", "de xuat", "se", "dang ky", "tiep tuc ho tro",
           "huong toi", "chi tieu", "plan", "target")
ABBREVIATIONS = (("KH&CN", "khoa học và công nghệ"), ("KHCN", "khoa học công nghệ"), ("DN ", "doanh nghiệp "))
ACHIEVED, TARGET, NEGATED = 0, 1, 2
NEAR_CHARS = 300  # the question's other words ("OCOP") must stand this close before the figure
MAX_VALUE = 10_000  # a larger "count" is a year, an amount of money or an area
_NOT_A_QUALIFIER = {"thang", "nam", "ngay"}
_CHANGE_WORDS = {"tang", "giam", "them"}  # a number after these is a change, not how many there are  # "12 tháng 5": a date, not "hạng 4 sao: 02"

CLAUSE_SPLIT = re.compile(r"[;,]|\s(?:và|trong đó|gồm|including|and)\s", re.IGNORECASE)
# a unit named with its level word; "Hợp tác xã X" is a cooperative, not a commune (checked below)
_UNIT_MENTION = re.compile(r"\b(huyện|thị xã|quận|thành phố|tỉnh|xã|phường|thị trấn)\s+" + PLACE_NAME, re.IGNORECASE)
# a unit's level; communes keep their kind (a question about "xã" is not about "thị trấn")
LEVELS = {"huyện": "huyện", "thị xã": "huyện", "quận": "huyện", "thành phố": "huyện", "tỉnh": "tỉnh",
          "xã": "xã", "phường": "phường", "thị trấn": "thị trấn"}
COMMUNE_KINDS = ("xã", "phường", "thị trấn")
# headings of the part of a report that plans ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", "Kiến nghị, đề xuất")
PLAN_SECTIONS = ("phuong huong", "nhiem vu trong tam", "nhiem vu nam", "nhiem vu thoi gian toi", "nhiem vu giai phap",
                 "nhiem vu va giai phap", "kien nghi", "de xuat", "du kien", "muc tieu", "ke hoach nam")
_WHOLE_PROVINCE = re.compile(r"\b(?:toàn|cả|trên địa bàn|trên toàn)\s+tỉnh\b(\s+\w+)?", re.IGNORECASE)
# the period a figure refers to, as the sentence states it before the figure
_RANGE = re.compile(r"\bgiai đoạn\s+((?:19|20)[0-9]{2})\s*[-–—]\s*((?:19|20)[0-9]{2})", re.IGNORECASE)
_SINCE = re.compile(r"\btừ(?: năm)?\s+((?:19|20)[0-9]{2})\s+(?:đến|tới)\s+nay", re.IGNORECASE)
_IN_YEAR = re.compile(r"(?<!tháng )(?<!tháng 0)(?<![0-9] )\b(?:năm|đến hết năm|đến năm)\s+((?:19|20)[0-9]{2})\b",
                      re.IGNORECASE)
_STOP = set("""
va cac nhung duoc cua cho ve trong voi den tu nay do thi tai theo nhu mot hay hoac la co da dang se con
the and of in on for to a an by with
""".split())


@dataclass(frozen=True)
class Fact:
    """One count read from one clause of one passage (see the module docstring)."""

    chunk: int          # the passage's ordinal in its document (its id once stored)
    clause: int         # the clause's number within the passage (facts of one clause compete)
    head: str           # folded counted noun, "" for a table line tied to ``qualifier``
    qualifier: str      # "4 sao" for a table line ("- Hạng 4 sao: 02"), else ""
    levels: str         # the clause's "number unit" pairs, folded: " 5 san 4 sao "
    value: int
    status: int         # ACHIEVED, TARGET or NEGATED
    unit: str           # "Ba Chẽ"; "" when no unit could be read
    level: str          # "tỉnh", "huyện" or "xã"
    parent: str         # a commune's district (the report's), a district's province; "" when unknown
    year: int | None    # the year the figure refers to
    year_from: int | None  # the period's first year ("giai đoạn 2020–2022": 2020)
    near: str           # " folded words near the figure "
    start: int          # the sentence's span within the passage text
    end: int

    @property
    def clause_key(self) -> tuple[int, int]:
        """Facts of one clause compete (rag.listing.clause_values)."""
        return self.chunk, self.clause


@dataclass(frozen=True)
class PassageText:
    """What extraction reads of a passage: its ordinal, where it starts in the document, its text."""

    ordinal: int
    start: int
    text: str
    section: tuple[str, ...] = ()  # the passage's headings: figures under a plan section are targets


_ABBREVIATION = re.compile(r"\b(?:KH&CN|KHCN|DN)\b(?=[^\w&]|$)", re.IGNORECASE)
_LONG = {short.strip().lower(): long.strip() for short, long in ABBREVIATIONS}


def expand(text: str) -> str:
    """Abbreviations written out ("KH&CN", "kh&cn" -> "khoa học và công nghệ")."""
    return _ABBREVIATION.sub(lambda m: _LONG[m.group(0).lower()], text)


def syllables_with_values(text: str) -> list[tuple[str, int | None]]:
    """Folded syllables with their integer value: digits, or spelled-out numbers (``mười sáu``,
    ``một``) read as one token; ``ba (03)`` counts once."""
    raw = re.findall(r"\w+", canonical_tones(text).lower())
    out: list[tuple[str, int | None]] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if is_number(tok):
            out.append((tok, int(tok)))
            i += 1
            continue
        spelled = read_number_words(raw, i)
        if spelled is None:
            out.append((fold(tok), None))
            i += 1
            continue
        value, used = spelled
        i += used
        if i < len(raw) and is_number(raw[i]) and int(raw[i]) == value:
            i += 1  # "ba (03)": the words and their digits are one number
        out.append((str(value), value))
    return out


def has_phrase(seq: Sequence[str], phrase: tuple[str, ...], start: int = 0) -> int:
    n = len(phrase)
    for i in range(start, len(seq) - n + 1):
        if tuple(seq[i:i + n]) == phrase:
            return i
    return -1


def clause_counts(clause: str) -> tuple[str, list[tuple[str, str, int]]]:
    """The clause's qualifier pairs and its counts: ``(levels, [(head, qualifier, value), …])``.

    ``05 sản phẩm được xếp hạng 4 sao`` -> `` 5 san 4 sao ``, ``[("san pham", "", 5)]``;
    ``Hạng 4 sao: 02`` -> ``[("", "4 sao", 2)]``. A head counts with the first number right before it.
    """
    syls = syllables_with_values(expand(clause))
    words = [s for s, _ in syls]
    pairs = [f"{syls[i][1]} {syls[i + 1][0]}" for i in range(len(syls) - 1)
             if syls[i][1] is not None and syls[i + 1][1] is None]
    out: list[tuple[str, str, int]] = []
    for head in COUNTED_NOUNS:
        pos = has_phrase(words, head)
        while pos >= 0:
            if pos >= 2 and words[pos - 2] in _CHANGE_WORDS:
                pass  # "tăng 01 sản phẩm so với năm 2023 (02 sản phẩm)": a change; the stock may follow
            elif pos >= 1 and syls[pos - 1][1] is not None:
                out.append((" ".join(head), "", syls[pos - 1][1]))
                break
            pos = has_phrase(words, head, pos + 1)
    for i in range(len(syls) - 2):  # table form: "hạng 4 sao: 02 (sản phẩm)"
        if syls[i][1] is not None and syls[i + 1][1] is None and syls[i + 2][1] is not None \
                and syls[i][1] < 1900 and syls[i + 1][0] not in _NOT_A_QUALIFIER:
            out.append(("", f"{syls[i][1]} {syls[i + 1][0]}", syls[i + 2][1]))
    return " " + " ".join(pairs) + " ", [c for c in out if 0 < c[2] < MAX_VALUE]


def plan_section(section: tuple[str, ...]) -> bool:
    """Whether a passage stands under a heading that plans ("Phương hướng, nhiệm vụ năm 2025")."""
    folded = " " + " ".join(re.sub(r"[^\w\s]", " ", fold(" ".join(section))).split()) + " "
    return any(f" {p} " in folded for p in PLAN_SECTIONS)


def clause_status(sentence_prefix: str, clause: str, condition: str = "") -> int:
    """NEGATED when the clause says "chưa có"/"không", TARGET when it or the sentence before it plans.
    Words of the ``condition`` asked about are not plan words ("ban hành kế hoạch chuyển đổi số")."""
    text = " " + " ".join(fold(clause).split()).replace("dang ky bao ho", "bao ho") + " "
    before = " " + " ".join(fold(sentence_prefix).split()).replace("dang ky bao ho", "bao ho") + " "
    if any(f" {n} " in text for n in NEGATIONS):
        return NEGATED
    asked = f" {condition} "
    return TARGET if any(f" {t} " in before + text and f" {t} " not in asked for t in TARGETS) else ACHIEVED


@dataclass(frozen=True)
class UnitMention:
    name: str
    level: str
    start: int


_RANK = {"xã": 0, "phường": 0, "thị trấn": 0, "huyện": 1, "tỉnh": 2}


def unit_mentions(text: str) -> list[UnitMention]:
    """Units named with their level word ("huyện Ba Chẽ", "xã Đồn Đạc", "tỉnh Quảng Trị"), in order.
    An address ("xã Đồn Đạc, huyện Ba Chẽ, tỉnh Quảng Ninh") is one mention: its first unit."""
    out: list[UnitMention] = []
    last_end = -10
    for m in _UNIT_MENTION.finditer(text):
        word = m.group(1).lower()
        if word == "xã" and text[max(0, m.start() - 4):m.start()].lower().endswith("tác "):
            continue  # "Hợp tác xã Quyết Tiến"
        name = capitalised_prefix(m.group(2))
        if not name:
            continue
        level = "tỉnh" if word == "thành phố" and province_named(name) else LEVELS[word]
        end = m.start(2) + len(name)
        if out and m.start() - last_end <= 3 and _RANK[level] > _RANK[out[-1].level]:
            last_end = end
            continue  # the higher unit of an address
        if name.isupper():
            name = " ".join(w[:1].upper() + w[1:].lower() for w in name.split())
        out.append(UnitMention(name, level, m.start()))
        last_end = end
    return out


def period(sentence_head: str, doc_year: int | None) -> tuple[int | None, int | None]:
    """The year a figure refers to (and the period's first year), read in the sentence before it."""
    found: list[tuple[int, int | None, int | None]] = []
    spans: list[tuple[int, int]] = []
    for m in _RANGE.finditer(sentence_head):
        found.append((m.start(), int(m.group(2)), int(m.group(1))))
        spans.append(m.span())
    for m in _SINCE.finditer(sentence_head):
        found.append((m.start(), doc_year, int(m.group(1))))
        spans.append(m.span())
    for m in _IN_YEAR.finditer(sentence_head):
        if not any(a <= m.start() < b for a, b in spans):
            found.append((m.start(), int(m.group(1)), None))
    if not found:
        return doc_year, None
    _, year, first = max(found, key=lambda f: f[0])
    if year is not None and doc_year is not None and year > doc_year:
        return doc_year, None  # "đến năm 2025" in a 2023 report: a horizon, not the figure's year
    return year, first


@dataclass(frozen=True)
class DocumentPlaces:
    """What a report says about its own place: attribution falls back to it."""

    text: str
    districts: tuple[str, ...]
    province: str
    year: int | None


def _whole_province(sentence: str) -> bool:
    """"toàn tỉnh", "trên địa bàn tỉnh" with no name after it (a name makes it a mention)."""
    return any(not (m.group(1) or " x").strip()[:1].isupper() for m in _WHOLE_PROVINCE.finditer(sentence))


def _unit_before(doc: DocumentPlaces, offset: int) -> UnitMention | None:
    """The district named last before ``offset`` in the same paragraph, else within 1,500 characters."""
    paragraph_start = max(doc.text.rfind("\n\n", 0, offset), 0)
    for start in (paragraph_start, max(0, offset - 1500)):
        found = [u for u in unit_mentions(doc.text[start:offset]) if u.level == "huyện"]
        if found:
            return found[-1]
    return None


def _attribute(sentence: str, clause_start: int, clause_end: int, doc: DocumentPlaces,
               offset: int) -> UnitMention | None:
    """The unit a clause is about: named in the clause; else named earlier in the sentence; else
    the whole province ("toàn tỉnh"); else named later in the sentence; else the report's own
    district; else the district named last before the sentence."""
    mentions = unit_mentions(sentence)
    inside = [u for u in mentions if clause_start <= u.start < clause_end]
    before = [u for u in mentions if u.start < clause_start]
    if inside:  # the smallest unit it names ("huyện Thanh Liêm đăng ký … chương trình OCOP tỉnh Hà Nam …")
        return [u for u in inside if _RANK[u.level] == min(_RANK[v.level] for v in inside)][-1]
    if before:
        return before[-1]
    if _whole_province(sentence) and doc.province:
        return UnitMention(doc.province, "tỉnh", 0)
    if mentions:
        return mentions[-1]
    if len(doc.districts) == 1:
        return UnitMention(doc.districts[0], "huyện", 0)
    if not doc.districts and doc.province:
        return _unit_before(doc, offset) or UnitMention(doc.province, "tỉnh", 0)
    return _unit_before(doc, offset)


def _display(unit: UnitMention, doc: DocumentPlaces) -> str:
    """The name as the report's metadata spells it, when it is the report's district."""
    if unit.level == "huyện":
        return next((d for d in doc.districts if match_key(d) == match_key(unit.name)), unit.name)
    return unit.name


def _window(doc: DocumentPlaces, passage: PassageText, s: int, e: int) -> str:
    """The text from ``NEAR_CHARS`` before the sentence to its end, in the document (a passage may
    start just before the figure: its heading and lead-in are in the previous passage)."""
    start = passage.start + s
    if doc.text and doc.text[start:passage.start + e] == passage.text[s:e]:
        return doc.text[max(0, start - NEAR_CHARS):passage.start + e]
    return passage.text[max(0, s - NEAR_CHARS):e]


def near_words(text: str) -> str:
    words = dict.fromkeys(w for w in re.findall(r"\w+", fold(expand(text))) if not w.isdigit() and w not in _STOP)
    return " " + " ".join(words) + " "


def extract_facts(doc: DocumentPlaces, passages: Iterable[PassageText]) -> list[Fact]:
    """Every count stated in the passages of one document (see the module docstring)."""
    out: list[Fact] = []
    for passage in passages:
        clause_no = 0
        planned = plan_section(passage.section)
        for s, e in split_sentences(passage.text):
            sentence = passage.text[s:e]
            if not any(ch.isdigit() for ch in sentence) and not _may_spell_number(sentence):
                continue
            offset = 0
            for clause in CLAUSE_SPLIT.split(sentence):
                if not clause:
                    continue
                c_start = sentence.find(clause, offset)
                c_start = offset if c_start < 0 else c_start
                offset = c_start + len(clause)
                clause_no += 1
                levels, counts = clause_counts(clause)
                if not counts:
                    continue
                unit = _attribute(sentence, c_start, offset, doc, passage.start + s)
                if unit is None:
                    continue
                status = clause_status(sentence[:c_start], clause)
                if planned and status == ACHIEVED:
                    status = TARGET
                year, first = period(sentence[:offset], doc.year)
                near = near_words(_window(doc, passage, s, e) + " " + " ".join(passage.section))
                parent = (doc.districts[0] if unit.level in COMMUNE_KINDS and len(doc.districts) == 1
                          else doc.province if unit.level == "huyện" else "")
                for head, qualifier, value in counts:
                    out.append(Fact(passage.ordinal, clause_no, head, qualifier, levels, value, status,
                                    _display(unit, doc), unit.level, parent, year, first, near, s, e))
    return out


_NUMBER_WORDS = re.compile(r"\b(?:một|hai|ba|bốn|tư|năm|sáu|bảy|tám|chín|mười)\b", re.IGNORECASE)


def _may_spell_number(sentence: str) -> bool:
    return _NUMBER_WORDS.search(sentence) is not None
