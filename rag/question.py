"""The one question parser: what a question asks, read once into a ``ParsedQuestion``.

Retrieval (scope and count bonuses, the dense query), the list path (which units, which
condition, which comparison) and the "found" verdict (places, years, quantities, informative
terms) all read the same record; none of them parses the question text again.

Intents: ``fact`` (top-k passages answer), ``list`` ("Những huyện nào có …", "Kể tên các xã …",
"Which districts …"), ``total`` ("Tổng số … của tỉnh P", "Cả tỉnh có bao nhiêu …"). A list
condition either names something counted ("sản phẩm OCOP 4 sao": answered from the facts read at
ingest, rag.facts) or not ("đã ban hành kế hoạch chuyển đổi số": answered from passages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answer import informative_terms
from .facts import COUNTED_NOUNS, IMPLIED_NOUN, expand, has_phrase, syllables_with_values
from .gazetteer import PROVINCES
from .language import is_vietnamese
from .provinces import all_provinces, current_province
from .vntext import PLACE_NAME, fold, has_diacritics, quantity_phrases

# which units a list question asks for, by its cue (folded); "địa phương" is any level
_UNIT_CUES = (
    ("huyện", ("nhung huyen nao", "cac huyen nao", "huyen nao", "la nhung huyen", "bao nhieu huyen",
               "which districts", "which district", "what districts", "how many districts", "list the districts",
               "list districts", "cac huyen", "nhung huyen")),
    ("tỉnh", ("nhung tinh nao", "cac tinh nao", "tinh nao", "bao nhieu tinh", "which provinces", "which province",
              "tinh thanh nao", "cac tinh", "nhung tinh")),
    ("xã", ("nhung xa nao", "cac xa nao", "xa nao", "phuong nao", "thi tran nao", "bao nhieu xa",
            "which communes", "which commune", "cac xa", "nhung xa")),
    ("", ("dia phuong nao", "nhung dia phuong", "cac dia phuong", "which localities", "what localities",
          "don vi nao", "nhung don vi nao")),
)
# "liệt kê"/"kể tên" make a list question of "các huyện …" ("Liệt kê các huyện có …")
_LIST_VERBS = ("liet ke", "ke ten", "list", "name the")
# "đơn vị" is also an agency ("Đơn vị nào có thẩm quyền cấp giấy phép?"): only a counted condition
# makes it a list question
_WEAK_CUES = ("don vi nao", "nhung don vi nao")
# a total over the units of a province ("tổng số … của tỉnh P", "cả tỉnh có bao nhiêu …")
TOTAL_CUES = ("tong so", "tong cong", "ca tinh co bao nhieu", "toan tinh co bao nhieu", "in total", "total number")
_QUANTITY_CUES = ("bao nhieu", "so luong", "how many", "number of", "tong so", "may san pham")
# English superlatives wrap the thing as Vietnamese does ("the most X" -> "nhiều X nhất")
_ENGLISH_SUPERLATIVES = (
    (re.compile(r"\bthe most (.+?)(\s+in\s+(?:19|20)[0-9]{2})?\s*([?.!]*)$", re.IGNORECASE), r"nhiều \1 nhất\2\3"),
    (re.compile(r"\bthe (?:fewest|least) (.+?)(\s+in\s+(?:19|20)[0-9]{2})?\s*([?.!]*)$", re.IGNORECASE), r"ít \1 nhất\2\3"))
_ENGLISH = (("at least", "ít nhất"), ("more than", "hơn"), ("over", "hơn"), ("fewer than", "dưới"),
            ("less than", "dưới"), ("4-star", "4 sao"), ("3-star", "3 sao"), ("5-star", "5 sao"), ("four-star", "4 sao"),
            ("three-star", "3 sao"), ("five-star", "5 sao"), ("star", "sao"), ("products", "sản phẩm"),
            ("product", "sản phẩm"), ("science and technology enterprises", "doanh nghiệp khoa học và công nghệ"),
            ("science and technology enterprise", "doanh nghiệp khoa học và công nghệ"),
            ("geographical indications", "chỉ dẫn địa lý"), ("geographical indication", "chỉ dẫn địa lý"),
            ("collective trademarks", "nhãn hiệu tập thể"), ("collective trademark", "nhãn hiệu tập thể"),
            ("enterprises", "doanh nghiệp"), ("models", "mô hình"), ("tasks", "nhiệm vụ"), ("projects", "dự án"))
_TOPIC_STOP = {"va", "cac", "nhung", "duoc", "cua", "the", "and", "of", "tren", "dia", "ban", "dat", "xep", "hang",
               "co", "la", "da", "hien", "a", "an", "any", "with", "thuoc", "o", "tai", "trong", "tu", "vao", "so",
               "in", "from", "to"}
# words of a list question that say which units, not what they must have
_CUE_WORDS = {"nhung", "cac", "huyen", "tinh", "xa", "phuong", "thi", "tran", "nao", "dia", "phuong", "don", "vi",
              "which", "what", "districts", "district", "provinces", "province", "communes",
              "localities", "list", "la", "co", "have", "has", "had", "did", "do", "nam", "trong", "in", "cua", "thuoc",
              "o", "tai", "of", "thanh", "da", "duoc", "khong", "ko", "gi", "the", "bao", "nhieu", "how", "many"}
_YEAR = re.compile(r"\b(19[5-9][0-9]|20[0-9][0-9])\b")
_YEAR_RANGE = re.compile(r"\b(?:tu (?:nam )?|giai doan |from |between )?((?:19|20)[0-9]{2})\s*(?:den|toi|[-–—]|to|and)\s*"
                         r"(?:nam )?((?:19|20)[0-9]{2})\b")
_UNIT_WORD = re.compile(r"\b(huyen|tinh|thi xa|district|province)\s+([a-z]+(?:'[a-z]+)?(?:\s+[a-z]+(?:'[a-z]+)?)?)")
_STOP_AFTER_UNIT = {"co", "nao", "cua", "o", "tai", "nhung", "cac", "da", "duoc", "la", "va", "trong", "nam", "bo", "dat",
                    "thuc", "has", "have", "had", "in", "of", "did", "do", "does", "the"}
_UNIT_WORD_ACCENTED = re.compile(r"\b(?:huyện|Huyện|tỉnh|Tỉnh|thị xã|Thị xã)\s+" + PLACE_NAME)

# comparisons a list question may put on the count (folded; N is the number): the phrase is taken out
# of the condition before the counted thing is read ("từ 5 sản phẩm OCOP 3 sao trở lên")
_AT_LEAST = re.compile(r"\b(?:tu ([0-9]+) (.+?) tro len|it nhat ([0-9]+)|toi thieu ([0-9]+))\b")
_MORE = re.compile(r"\b(?:nhieu hon|hon|tren|vuot) ([0-9]+)\b")
_FEWER = re.compile(r"\b(?:it hon|duoi|khong qua|chua toi) ([0-9]+)\b")
_MOST = re.compile(r"^(?:nhieu )?(.+?) nhieu nhat$|^nhieu (.+?) nhat$")
_FEWEST = re.compile(r"^(?:it )?(.+?) it nhat$|^it (.+?) nhat$")


@dataclass(frozen=True)
class Comparison:
    """What a unit's count must satisfy: ``op`` one of ">=", ">", "<", "max", "min"."""

    op: str
    value: int | None = None

    def keep(self, rows: list) -> list:
        """The rows (anything with ``.value``) whose value satisfies the comparison."""
        if self.op == "max" or self.op == "min":
            if not rows:
                return rows
            best = (max if self.op == "max" else min)(r.value for r in rows)
            return [r for r in rows if r.value == best]
        test = {">=": lambda v: v >= self.value, ">": lambda v: v > self.value, "<": lambda v: v < self.value}[self.op]
        return [r for r in rows if test(r.value)]


def split_comparison(tail: str) -> tuple[str, Comparison | None]:
    """The condition without its comparison, and the comparison (folded text in, e.g.
    ``tu 5 san pham ocop 3 sao tro len`` -> ``san pham ocop 3 sao``, ``>= 5``)."""
    m = _AT_LEAST.search(tail)
    if m:
        value = int(m.group(1) or m.group(3) or m.group(4))
        rest = m.group(2) if m.group(1) else ""
        return " ".join((tail[:m.start()] + " " + rest + " " + tail[m.end():]).split()), Comparison(">=", value)
    for pattern, op in ((_MORE, ">"), (_FEWER, "<")):
        m = pattern.search(tail)
        if m:
            return " ".join((tail[:m.start()] + " " + tail[m.end():]).split()), Comparison(op, int(m.group(1)))
    for pattern, op in ((_MOST, "max"), (_FEWEST, "min")):
        m = pattern.match(tail)
        if m:
            return (m.group(1) or m.group(2)).strip(), Comparison(op)
    return tail, None


@dataclass(frozen=True)
class ListQuery:
    """What a list (or total) question asks: which units of ``level`` have ``thing``.

    A counted condition has a ``head`` noun ("sản phẩm") and maybe a ``qualifier`` ((4, "sao")); a
    condition without a count has ``head == ()`` and its informative words in ``thing``."""

    thing: tuple[str, ...]            # folded syllables of the condition, e.g. ("san", "pham", "ocop")
    head: tuple[str, ...]             # the counted noun, e.g. ("san", "pham"); () when nothing is counted
    topic: tuple[str, ...]            # the thing's other words, e.g. ("ocop",): must be near the count
    qualifier: tuple[int, str] | None  # e.g. (4, "sao")
    year: int | None                   # the first year named (see ``years`` for a range)
    province: str | None               # folded province name, if the question names one
    count_units: bool                  # "bao nhiêu huyện": the answer is also a number
    comparison: Comparison | None = None  # "từ 5 … trở lên", "hơn 10", "nhiều nhất": a condition on the count
    total: bool = False                # "tổng số … của tỉnh P": the answer is the sum over the rows
    level: str = "huyện"               # "huyện", "tỉnh", "xã", or "" for any ("địa phương nào")
    years: tuple[int, ...] = ()        # every year asked ("từ 2021 đến 2023": 2021, 2022, 2023)
    district: str | None = None        # folded district named ("Xã nào của huyện Vân Đồn …")
    kinds: tuple[str, ...] = ("huyện",)  # the unit levels of rag.facts a row may be ("xã", "thị trấn", …)

    @property
    def counted(self) -> bool:
        return bool(self.head)

    @property
    def statement_words(self) -> tuple[str, ...]:
        """The words a sentence must hold to state the condition without a count."""
        return tuple(w for w in self.thing if w not in _CUE_WORDS and not w.isdigit())


@dataclass(frozen=True)
class QueryScope:
    """Places (folded names) and years a question is about."""

    places: tuple[str, ...]
    years: tuple[int, ...]

    def is_empty(self) -> bool:
        return not self.places and not self.years


@dataclass(frozen=True)
class ParsedQuestion:
    """Everything the pipeline reads from a question (see the module docstring)."""

    text: str                      # as typed (whitespace collapsed)
    understood: str                # with diacritics restored when typed without (rag.accents)
    vietnamese: bool               # rag.language: decides the dense weight
    intent: str                    # "fact", "list" or "total"
    listing: ListQuery | None      # the list or total question's condition
    scope: QueryScope              # places and years named
    asks_quantity: bool            # "bao nhiêu", "how many": passages stating a count first
    quantities: frozenset[str] = field(default_factory=frozenset)  # "4 sao": the answer must state it
    terms: tuple[str, ...] = ()    # informative folded syllables, for coverage and highlights

    condition: str = ""            # the list condition in Vietnamese, with its verb: "có sản phẩm OCOP 4 sao"


def _english_to_vietnamese(question: str) -> str:
    q = question
    for pattern, vi in _ENGLISH_SUPERLATIVES:
        q = pattern.sub(vi, q)
    for en, vi in _ENGLISH:
        q = re.sub(rf"\b{re.escape(en)}\b", vi, q, flags=re.IGNORECASE)
    return q


def _folded(text: str) -> str:
    return " " + " ".join(re.sub(r"[^\w\s']", " ", fold(text)).split()) + " "


_CUES = sorted(((cue, level) for level, cues in _UNIT_CUES for cue in cues), key=lambda c: -len(c[0]))
_PLURAL_ONLY = ("cac huyen", "nhung huyen", "cac tinh", "nhung tinh", "cac xa", "nhung xa")


def _level(folded: str) -> tuple[str, bool, str] | None:
    """The unit level a list question asks for, whether its cue is a weak one, and the cue; or None.
    The longest cue decides ("địa phương nào" is any level, not "phường nào")."""
    for cue, level in _CUES:
        if f" {cue} " not in folded:
            continue
        if cue in _PLURAL_ONLY and not any(f" {v} " in folded for v in _LIST_VERBS) and " la " not in folded:
            continue  # "các huyện đã …" without "nào"/"liệt kê" is not a list question
        return level, cue in _WEAK_CUES, cue
    return None


def _years(text: str) -> tuple[int, ...]:
    """Every year a question asks about: a range ("từ 2021 đến 2023", "giai đoạn 2020–2022") in full."""
    folded = " ".join(fold(text).split())
    m = _YEAR_RANGE.search(folded)
    if m and int(m.group(1)) < int(m.group(2)) <= int(m.group(1)) + 30:
        return tuple(range(int(m.group(1)), int(m.group(2)) + 1))
    return tuple(dict.fromkeys(int(y) for y in _YEAR.findall(folded)))


def _province_named(folded: str, known: set[str]) -> str | None:
    for name in sorted(known, key=len, reverse=True):
        if f" {name} " in folded:
            return name
    return None


def _condition_tail(folded: str, province: str | None, cue: str | None) -> str:
    """The words of the condition: what follows "có"/"đạt"/"have" after the unit cue (else what
    follows the cue), without the province, the years and the comparison's frame."""
    if province:  # "của tỉnh Nghệ An", "trên địa bàn tỉnh Đắk Lắk", "ở Lạng Sơn", "in Phu Tho province"
        folded = re.sub(rf"(?:\b(?:cua|o|tai|thuoc|tren dia ban|of|in)\s+)?(?:\btinh\s+|\bthanh pho\s+)?"
                        rf"\b{re.escape(province)}\b(?:\s+province)?", " ", folded)
    after = folded.find(f" {cue} ") + len(cue) + 1 if cue and f" {cue} " in folded else 0
    m = re.search(r" (?:co|dat|have|had|has|with) (.+)$", folded[after:]) or re.search(
        r" (?:co|dat|have|had|has|with) (.+)$", folded)
    tail = m.group(1) if m else folded
    if not m:
        by_cue = re.search(r" (?:nao|which \w+|what \w+|liet ke(?: cac \w+)?|ke ten(?: cac \w+)?) (.+)$", folded)
        tail = by_cue.group(1) if by_cue else folded
    tail = re.sub(r"\b(?:tu nam|tu|giai doan|from|between)?\s*(?:nam\s+)?(19|20)[0-9][0-9]\b.*$", "", tail)
    tail = re.sub(r"\b(?:nam|in|trong nam|trong)\s*$", "", tail.strip())
    tail = re.sub(r"\b(?:cua|o|tai|thuoc|of|in)\s+tinh\b.*$|\btinh\s+\w+(\s+\w+)?", "", tail)
    tail = re.sub(r"\s+la (?:nhung|cac) \w+.*$", "", tail)
    tail = re.sub(r"\b(nao|khong|ko|gi)\b.*$", "", tail).strip()
    tail = re.sub(r"^(?:tong so|tong cong|bao nhieu|the total number of|total number of)\s+|\s+(?:la bao nhieu|bao nhieu|in total)$",
                  "", re.sub(r"\s+la bao nhieu.*$", "", tail)).strip()
    return tail


def parse_list_question(question: str, known_provinces: set[str] | None = None) -> ListQuery | None:
    """The list query in ``question``, or None when it is not a list (or total) question."""
    q = expand(_english_to_vietnamese(question))  # "KH&CN" as the facts read it: "khoa học và công nghệ"
    folded = _folded(q)
    # a total is over a province's units: "tổng cộng" about one district is a fact question
    total = (any(f" {cue} " in folded for cue in TOTAL_CUES) and (" tinh " in folded or " province " in folded)
             and " huyen " not in folded) or re.search(r" (?:ca|toan) tinh .*bao nhieu ", folded) is not None
    cue = _level(folded)
    if not total and cue is None:
        return None
    level, weak, cue_text = cue if cue is not None else ("huyện", False, None)
    province = _province_named(folded, known_provinces if known_provinces is not None else _province_keys())
    tail, comparison = split_comparison(_condition_tail(folded, province, cue_text))
    syls = syllables_with_values(tail)
    qualifier = None
    thing = [s for s, _ in syls]
    for i in range(len(syls) - 1):
        value = syls[i][1]
        if value is not None and syls[i + 1][1] is None:
            qualifier = (value, syls[i + 1][0])
            thing = [s for s, _ in syls[:i]] + [s for s, _ in syls[i + 2:]]
            break
    head = next((noun for noun in COUNTED_NOUNS if has_phrase(thing, noun) >= 0), ())
    if not head and qualifier is not None:
        head = IMPLIED_NOUN.get(qualifier[1], ())
    years = _years(q)
    count_units = any(f" {c} " in folded for c in ("bao nhieu huyen", "how many districts", "bao nhieu tinh",
                                                     "bao nhieu xa"))
    district = _district_named(q) if level != "huyện" else None
    kinds = _kinds(folded, level)
    if not head:
        words = tuple(w for w in thing if w not in _CUE_WORDS and not w.isdigit())
        if total or weak or len(words) < 2:
            return None  # nothing counted and nothing to look for: ordinary retrieval answers it
        return ListQuery(words, (), words, None, years[0] if years else None, province, count_units, None, False,
                         level, years, district, kinds)
    # the words that qualify the counted noun follow it ("sản phẩm OCOP", "nhãn hiệu tập thể"); words
    # before it are verbs ("xây dựng nhãn hiệu …"), which a figure's sentence need not repeat; English
    # puts them before it ("4-star OCOP products")
    at = has_phrase(thing, head)
    after = thing if at < 0 or not is_vietnamese(question) else thing[at + len(head):]
    topic = tuple(t for t in after if t not in head and t not in _TOPIC_STOP)
    return ListQuery(tuple(thing), head, topic, qualifier, years[0] if years else None, province, count_units,
                     comparison, total, level, years, district, kinds)


_COMMUNE_WORDS = (("xa", "xã"), ("thi tran", "thị trấn"), ("phuong", "phường"))


def _kinds(folded: str, level: str) -> tuple[str, ...]:
    """The unit levels a row may have: a commune question names its kinds ("xã, thị trấn nào"); a
    question about "địa phương" is about districts and provinces (communes only when named)."""
    if level != "xã":
        return (level,) if level else ("huyện", "tỉnh")
    plain = folded.replace(" hop tac xa ", " ").replace(" dia phuong ", " ")
    return tuple(kind for word, kind in _COMMUNE_WORDS if f" {word} " in plain) or ("xã",)


def _district_named(question: str) -> str | None:
    """The district a question about communes names ("Xã nào của huyện Vân Đồn …"), folded."""
    names = [n for n in _unit_phrases(question) if n]
    m = re.search(r"\b(?:huyện|huyen|district)\s", question, re.IGNORECASE)
    return names[0] if names and m else None


def _province_keys() -> set[str]:
    """Folded names of every province, former and current (a question may name either)."""
    names = set(PROVINCES) | {p.current for p in all_provinces()}
    return {" ".join(_folded(n).split()) for n in names} - {""}


def province_display(folded_name: str) -> str:
    """The current name of a province named in a question (folded in), else the name as given."""
    return current_province(folded_name) or folded_name


def asks_quantity(question: str) -> bool:
    """Whether the question asks for a count ("bao nhiêu", "số lượng", "how many")."""
    folded = " " + " ".join(fold(question).split()) + " "
    return any(f" {cue} " in folded for cue in _QUANTITY_CUES)


def query_scope(question: str, known_places: set[str]) -> QueryScope:
    """Places named in ``question``: archive places found in it, and any ``huyện X Y``/``tỉnh X`` phrase."""
    folded = _folded(question)
    places: list[str] = [p for p in sorted(known_places, key=len, reverse=True) if f" {p} " in folded]
    for name in _unit_phrases(question):
        if name and not any(name in p or p in name for p in places) and name not in _STOP_AFTER_UNIT:
            places.append(name)
    years = tuple(sorted({int(y) for y in _YEAR.findall(folded)}))
    return QueryScope(tuple(dict.fromkeys(places)), years)


def _unit_phrases(question: str) -> list[str]:
    """Folded names after ``huyện``/``tỉnh``/``thị xã``: capitalised words when the question is accented
    (``huyện Bảo Thắng có`` -> ``bao thang``), else up to two words that are not function words."""
    if has_diacritics(question):
        out = []
        for m in _UNIT_WORD_ACCENTED.finditer(question):
            words = []
            for w in m.group(1).split():
                if not w[:1].isupper():
                    break
                words.append(w)
            if words:
                out.append(fold(" ".join(words)))
        return out
    folded = " ".join(re.sub(r"[^\w\s']", " ", fold(question)).split())
    out = []
    for m in _UNIT_WORD.finditer(folded):
        words = m.group(2).split()
        while words and words[-1] in _STOP_AFTER_UNIT:
            words.pop()
        if words and words[0] not in _STOP_AFTER_UNIT:
            out.append(" ".join(words))
    return out


def condition_text(question: str) -> str:
    """The condition of a list question as the user wrote it, with its verb: "có sản phẩm OCOP 4 sao",
    "đã ban hành kế hoạch chuyển đổi số" (what follows the unit cue)."""
    m = re.search(r"\b(có|đạt)\s+(.+?)(?:\s+là (?:những|các) \w+(?: nào)?)?[?.!]*$", question, re.IGNORECASE)
    if m:
        return f"{m.group(1).lower()} {m.group(2)}"
    m = re.search(r"\bnào\s+(.+?)[?.!]*$", question, re.IGNORECASE)
    return m.group(1) if m else question.rstrip("?")


def total_text(question: str) -> str:
    """What a total question sums, as the user wrote it: "sản phẩm OCOP 3 sao"."""
    m = re.search(r"(?:tổng số|bao nhiêu)\s+(.+?)(?:\s+(?:của|ở|tại|trên địa bàn)\s+tỉnh\b.*?)?(?:\s+là bao nhiêu)?[?.!]*$",
                  question, re.IGNORECASE)
    return m.group(1) if m else question.rstrip("?")


class QuestionReader:
    """Parses questions against one archive: its place names and its accent model."""

    def __init__(self, known_places: set[str], accents=None, restore_accents: bool = True) -> None:
        self.known_places = known_places
        self.provinces = _province_keys()
        self.accents = accents if restore_accents else None

    def read(self, question: str) -> ParsedQuestion:
        vietnamese = is_vietnamese(question)
        understood = self.accents.restore(question) if self.accents is not None and vietnamese else question
        listing = parse_list_question(question, self.provinces)
        intent = "fact" if listing is None else "total" if listing.total else "list"
        return ParsedQuestion(question, understood, vietnamese, intent, listing,
                              query_scope(question, self.known_places), asks_quantity(question),
                              frozenset(quantity_phrases(question)), tuple(informative_terms(question)),
                              self._condition(understood, vietnamese, listing))

    def _condition(self, understood: str, vietnamese: bool, listing: ListQuery | None) -> str:
        """The condition in Vietnamese: as written, or for another language (or a total) rebuilt from
        what was parsed, with diacritics restored from the archive ("có sản phẩm OCOP 4 sao")."""
        if listing is None:
            return ""
        if (vietnamese and not listing.total) or not listing.counted:
            return condition_text(understood)
        qualifier = [str(listing.qualifier[0]), listing.qualifier[1]] if listing.qualifier else []
        phrase = " ".join([*listing.head, *listing.topic, *qualifier])
        return "có " + (self.accents.restore(phrase) if self.accents is not None else phrase)
