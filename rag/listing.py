"""List questions over the whole archive: "Những huyện nào có sản phẩm OCOP 4 sao?".

Top-k retrieval cannot answer a question whose answer is spread over hundreds of reports,
one district per passage. ``parse_list_question`` recognises the question and its
condition (a counted thing, optionally qualified: ``sản phẩm OCOP`` + ``4 sao``);
``ListAnswerer`` scans *every* passage of the (filtered) archive that holds the
condition's words, reads in each sentence the count attached to the thing, rejects
negations (``chưa có ... 4 sao``), targets and plans (``phấn đấu``, ``dự kiến``) and
counts of another qualifier (``3 sao`` when 4 was asked), and attributes each match to
the district the sentence is about (named in the sentence, else earlier in the
passage, else the document's own district).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .metadata import capitalised_prefix
from .vntext import (PLACE_NAME, canonical_tones, fold, fold_word, is_number, match_key, read_number_words,
                     split_sentences)

LIST_CUES = ("nhung huyen nao", "huyen nao", "cac huyen nao", "dia phuong nao", "nhung dia phuong",
             "which districts", "which district", "what districts", "which localities", "liet ke",
             "bao nhieu huyen", "nhung don vi nao", "don vi nao", "list the districts", "list districts")
# a total over the districts of a province ("tổng số … của tỉnh P", "cả tỉnh có bao nhiêu …")
TOTAL_CUES = ("tong so", "tong cong", "ca tinh co bao nhieu", "toan tinh co bao nhieu", "in total", "total number")
# phrases that say the count is not (yet) achieved
NEGATIONS = ("khong co", "chua co", "khong", "chua", "no ", "none", "not ")
TARGETS = ("phan dau", "du kien", "ke hoach", "muc tieu", "nang hang", "de xuat", "se ", "dang ky", "tiep tuc ho tro",
           "huong toi", "chi tieu", "plan", "target")
_ABBREVIATIONS = (("KH&CN", "khoa học và công nghệ"), ("KHCN", "khoa học công nghệ"), ("DN ", "doanh nghiệp "))
# English superlatives wrap the thing as Vietnamese does ("the most X" -> "nhiều X nhất")
_ENGLISH_SUPERLATIVES = ((re.compile(r"\bthe most (.+?)\s*([?.!]*)$", re.IGNORECASE), r"nhiều \1 nhất\2"),
                         (re.compile(r"\bthe (?:fewest|least) (.+?)\s*([?.!]*)$", re.IGNORECASE), r"ít \1 nhất\2"))
_ENGLISH = (("at least", "ít nhất"), ("more than", "hơn"), ("over", "hơn"), ("fewer than", "dưới"),
            ("less than", "dưới"), ("4-star", "4 sao"), ("3-star", "3 sao"), ("5-star", "5 sao"), ("four-star", "4 sao"),
            ("three-star", "3 sao"), ("five-star", "5 sao"), ("star", "sao"), ("products", "sản phẩm"),
            ("product", "sản phẩm"), ("science and technology enterprises", "doanh nghiệp khoa học và công nghệ"),
            ("science and technology enterprise", "doanh nghiệp khoa học và công nghệ"))
_CLAUSE_SPLIT = re.compile(r"[;,]|\s(?:và|trong đó|gồm|including|and)\s", re.IGNORECASE)
_UNIT_MENTION = re.compile(r"\b(?:huyện|Huyện|HUYỆN|thị xã|Thị xã)\s+" + PLACE_NAME)
_YEAR = re.compile(r"\b(19[5-9][0-9]|20[0-9][0-9])\b")


# nouns that things are counted in; a qualifier's unit can imply one ("4 sao" rates products)
COUNTED_NOUNS = (("san", "pham"), ("doanh", "nghiep"), ("nhiem", "vu"), ("mo", "hinh"), ("de", "tai"),
                 ("du", "an"), ("sang", "kien"), ("hop", "tac", "xa"), ("nhan", "hieu"), ("chi", "dan", "dia", "ly"),
                 ("co", "so"), ("lop",), ("hoi", "thao"), ("tai", "san", "tri", "tue"), ("giai", "phap"))
IMPLIED_NOUN = {"sao": ("san", "pham")}
_TOPIC_STOP = {"va", "cac", "nhung", "duoc", "cua", "the", "and", "of", "tren", "dia", "ban", "dat", "xep", "hang",
               "co", "la", "da", "hien", "a", "an", "any", "with"}


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

    def keep(self, rows: list["ListRow"]) -> list["ListRow"]:
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
    """A recognised list question: which units have ``count > 0`` of ``thing`` (with ``qualifier``)."""

    thing: tuple[str, ...]            # folded syllables of the counted thing, e.g. ("san", "pham", "ocop")
    head: tuple[str, ...]             # the counted noun, e.g. ("san", "pham")
    topic: tuple[str, ...]            # the thing's other words, e.g. ("ocop",): must be near the count
    qualifier: tuple[int, str] | None  # e.g. (4, "sao")
    year: int | None
    province: str | None               # folded province name, if the question names one
    count_units: bool                  # "bao nhiêu huyện": the answer is also a number
    comparison: Comparison | None = None  # "từ 5 … trở lên", "hơn 10", "nhiều nhất": a condition on the count
    total: bool = False                # "tổng số … của tỉnh P": the answer is the sum over the rows


@dataclass(frozen=True)
class ListRow:
    unit: str
    province: str
    value: int
    year: int | None
    doc_id: int
    chunk_id: int
    source: str
    sentence: str
    sentence_span: tuple[int, int]    # within the chunk text


def _english_to_vietnamese(question: str) -> str:
    q = question
    for pattern, vi in _ENGLISH_SUPERLATIVES:
        q = pattern.sub(vi, q)
    for en, vi in _ENGLISH:
        q = re.sub(rf"\b{re.escape(en)}\b", vi, q, flags=re.IGNORECASE)
    return q


def _syllables_with_values(text: str) -> list[tuple[str, int | None]]:
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
            out.append((fold_word(tok), None))
            i += 1
            continue
        value, used = spelled
        i += used
        if i < len(raw) and is_number(raw[i]) and int(raw[i]) == value:
            i += 1  # "ba (03)": the words and their digits are one number
        out.append((str(value), value))
    return out


def parse_list_question(question: str, known_provinces: set[str] | None = None) -> ListQuery | None:
    """The list query in ``question``, or None when it is not a list question."""
    q = _english_to_vietnamese(question)
    folded = " " + " ".join(re.sub(r"[^\w\s]", " ", fold(q)).split()) + " "
    # a total is over a province's districts: "tổng cộng" about one district is a fact question
    total = (any(f" {cue} " in folded for cue in TOTAL_CUES) and (" tinh " in folded or " province " in folded)
             and " huyen " not in folded) or re.search(r" (?:ca|toan) tinh .*bao nhieu ", folded) is not None
    if not total and not any(f" {cue} " in folded for cue in LIST_CUES):
        return None
    # the condition: what follows "có"/"đạt"/"have"/"had" (else what follows the cue)
    m = re.search(r" (?:co|dat|have|had|has|with) (.+)$", folded)
    tail = m.group(1) if m else folded
    tail = re.sub(r"\b(?:nam|in|trong nam)\s+(19|20)[0-9][0-9]\b.*$", "", tail)
    tail = re.sub(r"\b(?:cua|o|tai|thuoc|of|in)\s+tinh\b.*$|\btinh\s+\w+(\s+\w+)?", "", tail)
    tail = re.sub(r"\b(nao|khong|ko|gi)\b.*$", "", tail).strip()
    tail = re.sub(r"^(?:tong so|tong cong|bao nhieu|the total number of|total number of)\s+|\s+(?:la bao nhieu|bao nhieu|in total)$",
                  "", re.sub(r"\s+la bao nhieu.*$", "", tail)).strip()
    tail, comparison = split_comparison(tail)
    syls = _syllables_with_values(tail)
    qualifier = None
    thing = [s for s, _ in syls]
    for i in range(len(syls) - 1):
        value = syls[i][1]
        if value is not None and syls[i + 1][1] is None:
            qualifier = (value, syls[i + 1][0])
            thing = [s for s, _ in syls[:i]] + [s for s, _ in syls[i + 2:]]
            break
    if not thing:
        return None
    years = [int(y) for y in _YEAR.findall(folded)]
    province = None
    for name in sorted(known_provinces or (), key=len, reverse=True):
        if f" {name} " in folded:
            province = name
            break
    count_units = " bao nhieu huyen " in folded or " how many districts " in folded
    head: tuple[str, ...] = ()
    for noun in COUNTED_NOUNS:
        if _has_phrase(thing, noun) >= 0:
            head = noun
            break
    if not head and qualifier is not None:
        head = IMPLIED_NOUN.get(qualifier[1], ())
    if not head:
        return None  # not a countable condition ("gặp khó khăn ..."): ordinary retrieval answers it
    topic = tuple(t for t in thing if t not in head and t not in _TOPIC_STOP)
    return ListQuery(tuple(thing), head, topic, qualifier, years[0] if years else None, province, count_units,
                     comparison, total)


def _expand(text: str) -> str:
    for short, long in _ABBREVIATIONS:
        text = text.replace(short, long)
    return text


def _has_phrase(seq: list[str], phrase: tuple[str, ...], start: int = 0) -> int:
    n = len(phrase)
    for i in range(start, len(seq) - n + 1):
        if tuple(seq[i:i + n]) == phrase:
            return i
    return -1


def clause_count(clause: str, query: ListQuery) -> int | None:
    """The achieved count of ``query.thing`` stated by ``clause``, or None.

    ``05 sản phẩm được xếp hạng 4 sao`` -> 5 for (sản phẩm, 4 sao); ``hạng 4 sao: 02`` -> 2;
    a clause that also states the qualifier with another number only is not a match.
    """
    syls = _syllables_with_values(_expand(clause))
    words = [s for s, _ in syls]
    head = query.head
    if query.qualifier is not None:
        qnum, qunit = query.qualifier
        levels = [syls[i][1] for i in range(len(syls) - 1) if syls[i + 1][0] == qunit and syls[i][1] is not None]
        if qnum not in levels:
            return None
    count = None
    pos = _has_phrase(words, head)
    while pos >= 0:
        if pos >= 1 and syls[pos - 1][1] is not None:  # number right before the thing: "05 sản phẩm"
            count = syls[pos - 1][1]
            break
        pos = _has_phrase(words, head, pos + 1)
    if count is None and query.qualifier is not None:
        # table form: "hạng 4 sao: 02 (sản phẩm)"
        qnum, qunit = query.qualifier
        for i in range(len(syls) - 2):
            if syls[i][1] == qnum and syls[i + 1][0] == qunit and syls[i + 2][1] is not None:
                count = syls[i + 2][1]
                break
    if count is None or count <= 0 or count >= 10_000:
        return None
    return count


def _negated_or_planned(sentence_prefix: str, clause: str) -> bool:
    text = " " + " ".join(fold(clause).split()) + " "
    before = " " + " ".join(fold(sentence_prefix).split()) + " "
    if any(f" {n.strip()} " in text for n in NEGATIONS):
        return True
    return any(f" {t.strip()} " in before + text for t in TARGETS)


# the folded words ``read_number_words`` reads as 1..10 (folding only widens the match)
_FOLDED_NUMBER_WORDS = {1: ("mot",), 2: ("hai",), 3: ("ba",), 4: ("bon",), 5: ("nam",), 6: ("sau",),
                        7: ("bay",), 8: ("tam",), 9: ("chin",), 10: ("muoi",)}


def _may_state(folded: str, qualifier: tuple[int, str]) -> bool:
    """Whether a folded sentence may state the qualifier ("4 sao", "04 sao", "bốn sao", "ba (03) sao").

    A cheap superset of what ``clause_count`` accepts: the unit right after the number, as digits
    or as a number word; larger numbers (spelled in several words) only need the unit."""
    qnum, qunit = qualifier
    if qunit not in folded:
        return False
    forms = _FOLDED_NUMBER_WORDS.get(qnum)
    if forms is None:
        return True
    words = re.findall(r"\w+", folded)
    return any(words[i + 1] == qunit and (words[i] in forms or (is_number(words[i]) and int(words[i]) == qnum))
               for i in range(len(words) - 1))


def sentence_counts(sentence: str, query: ListQuery) -> int | None:
    """The largest achieved count of the query's thing stated in ``sentence`` (None when none)."""
    if query.qualifier is not None and not _may_state(fold(_expand(sentence)), query.qualifier):
        return None  # no clause states the qualifier ("4 sao"): skip the parsing
    best = None
    offset = 0
    for clause in _CLAUSE_SPLIT.split(sentence):
        if clause is None:
            continue
        start = sentence.find(clause, offset)
        offset = max(offset, start + len(clause)) if start >= 0 else offset
        count = clause_count(clause, query)
        if count is None:
            continue
        if _negated_or_planned(sentence[:max(start, 0)], clause):
            continue
        best = count if best is None else max(best, count)
    return best


def _unit_in(text: str) -> str | None:
    """The last district named in ``text`` ("huyện Ba Chẽ"), title-cased."""
    last = None
    for m in _UNIT_MENTION.finditer(text):
        name = capitalised_prefix(m.group(1))
        if name:
            last = " ".join(w[:1].upper() + w[1:].lower() for w in name.split()) if name.isupper() else name
    return last


class ListAnswerer:
    """Answers list questions over every passage of an open index."""

    def __init__(self, retriever) -> None:
        self.retriever = retriever
        self.index = retriever.index
        self.known_provinces = {fold_word(p) for p in retriever.province_of.values() if p}

    def parse(self, question: str) -> ListQuery | None:
        return parse_list_question(question, self.known_provinces)

    def candidate_rows(self, query: ListQuery, allowed_rows: np.ndarray | None) -> np.ndarray:
        """Index rows whose passage holds all of the thing's words (and the qualifier's unit)."""
        words = " ".join(query.head + query.topic + ((query.qualifier[1],) if query.qualifier else ()))
        lexical = self.index.lexical
        tokens = lexical.query_tokens(words)
        if not tokens:
            return np.zeros(0, dtype=np.int64)
        rows: np.ndarray | None = None
        for tok in tokens:
            if "_" in tok or not tok.isascii():
                continue  # folded syllables are enough; bigrams and accented forms repeat them
            postings = lexical.rows_with(tok)
            rows = postings if rows is None else np.intersect1d(rows, postings, assume_unique=True)
        if rows is not None and query.qualifier is not None and query.qualifier[0] in _FOLDED_NUMBER_WORDS:
            # "4 sao", "04 sao", "bốn sao", "ba (03) sao" all index the token "4" (vntext.lexical_tokens)
            rows = np.intersect1d(rows, lexical.rows_with(str(query.qualifier[0])), assume_unique=True)
        if rows is None:
            return np.zeros(0, dtype=np.int64)
        if allowed_rows is not None:
            rows = np.intersect1d(rows, allowed_rows)
        return rows

    def _unit_before(self, doc, offset: int, cache: dict[int, str]) -> str | None:
        """The district named last before ``offset`` in the same paragraph, else within 1,500 characters."""
        if doc.id not in cache:
            cache[doc.id] = self.index.store.document(doc.id).text
        text = cache[doc.id]
        paragraph_start = text.rfind("\n\n", 0, offset)
        return _unit_in(text[max(paragraph_start, 0):offset]) or _unit_in(text[max(0, offset - 1500):offset])

    def rows(self, query: ListQuery, allowed_rows: np.ndarray | None) -> list[ListRow]:
        docs = self.retriever.documents
        keep_docs = {d.id for d in docs.values()
                     if (query.year is None or d.meta.year == query.year)
                     and (query.province is None or fold(self.retriever.province_of[d.id]) == query.province)}
        rows = [r for r in self.candidate_rows(query, allowed_rows) if int(self.retriever.row_doc[r]) in keep_docs]
        chunk_ids = [int(self.index.chunk_ids[r]) for r in rows]
        chunks = self.index.store.chunks_by_id(chunk_ids)
        found: dict[tuple[str, int | None], ListRow] = {}
        doc_texts: dict[int, str] = {}
        for cid in chunk_ids:
            chunk = chunks[cid]
            doc = docs[chunk.doc_id]
            for s, e in split_sentences(chunk.text):
                sentence = chunk.text[s:e]
                count = sentence_counts(sentence, query)
                if count is None:
                    continue
                near = set(re.findall(r"\w+", fold(_expand(chunk.text[max(0, s - 300):e]))))
                if not all(t in near for t in query.topic):
                    continue
                # the district named in the sentence; else the report's own district; else the one
                # named last before it (a news item about two districts)
                unit = _unit_in(sentence)
                if unit is None:
                    unit = doc.meta.districts[0] if len(doc.meta.districts) == 1 else \
                        self._unit_before(doc, chunk.start + s, doc_texts)
                if unit is None:
                    continue
                display = next((d for d in doc.meta.districts if match_key(d) == match_key(unit)), unit)
                key = (match_key(display), doc.meta.year)
                row = ListRow(display, self.retriever.province_of[doc.id], count, doc.meta.year, doc.id, cid, doc.path, " ".join(sentence.split()),
                              (s, e))
                if key not in found or count > found[key].value:
                    found[key] = row
        rows = sorted(found.values(), key=lambda r: (-(r.year or 0), fold(r.province), -r.value, fold(r.unit)))
        return query.comparison.keep(rows) if query.comparison is not None else rows
