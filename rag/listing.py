"""List questions over the whole archive: "Những huyện nào có sản phẩm OCOP 4 sao?".

Top-k retrieval cannot answer a question whose answer is spread over hundreds of reports, one
unit per passage. The question is parsed once (rag.question: the counted thing, its qualifier,
the unit level, years, province, a comparison); a counted condition is then a query over the
facts read at ingest (rag.facts, the ``facts`` table): achieved figures only (negations, targets
and plans were marked when read), of the counted noun, stating the qualifier ("4 sao", not "3
sao"), with the condition's other words ("OCOP") near the figure, about a unit of the level asked.
A condition without a count ("đã ban hành kế hoạch chuyển đổi số") is answered from passages:
the best passages of the (filtered) archive whose sentence states the condition, one row per
unit they are about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .answer import coverage
from .facts import (ACHIEVED, CLAUSE_SPLIT, DocumentPlaces, PassageText, clause_status, extract_facts, plan_section,
                    unit_mentions)
from .provinces import covers, merge_note
from .question import ListQuery
from .vntext import fold, fold_word, match_key, split_sentences, syllables

# passages a condition without a count is looked for in (retrieval depth, in the province and year
# asked), and the share of the condition's IDF weight one sentence must hold to state it. Measured
# on 2026-12-01 (8 no-count questions of two generated archives, 25 rows; 5 on the five reports):
# 0.4 takes "ban hành Kế hoạch … chuyển giao" for "kế hoạch chuyển đổi số"; 0.5 and 0.6 are equal
# and exact; 0.7 loses Triệu Sơn's "khó khăn do nhân lực ít" (dev d12); 0.8 loses 3 generated rows
PASSAGE_DEPTH = 30
SENTENCE_COVERAGE = 0.6
PHRASE_MIN_DF = 2  # a two-syllable pair the archive writes in fewer passages is no phrase ("hoach_chuyen")


@dataclass(frozen=True)
class ListRow:
    unit: str
    province: str
    value: int | None  # None: the condition has no count
    year: int | None
    doc_id: int
    chunk_id: int
    source: str
    sentence_span: tuple[int, int]    # within the chunk text
    level: str = "huyện"
    note: str = ""                    # "Hà Nam cũ, nay thuộc Ninh Bình"


def _fact_where(query: ListQuery) -> tuple[str, list[object]]:
    """The SQL condition selecting the facts a counted condition matches."""
    head = " ".join(query.head)
    where, params = [f"status = {ACHIEVED}"], []
    if query.qualifier is not None:
        qualifier = f"{query.qualifier[0]} {query.qualifier[1]}"
        where.append("((head = ? AND instr(levels, ?) > 0) OR (head = '' AND qualifier = ?))")
        params += [head, f" {qualifier} ", qualifier]
    else:
        where.append("head = ?")
        params.append(head)
    for word in query.topic:
        where.append("instr(near, ?) > 0")
        params.append(f" {word} ")
    if query.years:
        where.append(f"year IN ({','.join('?' * len(query.years))})")
        params += list(query.years)
    where.append(f"level IN ({','.join('?' * len(query.kinds))})")
    params += list(query.kinds)
    return " AND ".join(where), params


def clause_values(facts: list, query: ListQuery) -> dict[tuple[int, int], object]:
    """Per clause, the fact that answers ``query``: the counted noun's figure, else a table line's
    ("Hạng 4 sao: 02") when the clause names no count of the noun."""
    head = " ".join(query.head)
    best: dict[tuple, object] = {}
    for f in facts:
        key = f.clause_key
        if key not in best or (f.head == head and best[key].head != head):
            best[key] = f
    return best


def sentence_counts(sentence: str, query: ListQuery) -> int | None:
    """The largest achieved count of the query's thing that ``sentence`` states (None when none):
    the rule the facts table is queried with, applied to one sentence."""
    facts = [f for f in extract_facts(DocumentPlaces(sentence, ("X",), "", None), [PassageText(0, 0, sentence)])
             if _matches(f, query)]
    values = [f.value for f in clause_values(facts, query).values()]
    return max(values) if values else None


def _matches(fact, query: ListQuery) -> bool:
    """The facts-table condition of ``_fact_where`` in Python (topic, years and level aside)."""
    if fact.status != ACHIEVED:
        return False
    if query.qualifier is None:
        return fact.head == " ".join(query.head)
    qualifier = f"{query.qualifier[0]} {query.qualifier[1]}"
    return ((fact.head == " ".join(query.head) and f" {qualifier} " in fact.levels)
            or (fact.head == "" and fact.qualifier == qualifier))


@dataclass(frozen=True)
class Statement:
    """What a sentence must hold to state a condition without a count: most of the IDF weight of the
    condition's syllables, and of its two-syllable phrases the archive uses (``doi_so`` in "chuyển
    đổi số": a sentence about "chuyển đổi ISO" or another "kế hoạch" does not state it); and it is
    no plan or negation."""

    words: tuple[str, ...]
    weights: dict[str, float]
    phrases: dict[str, float]

    @classmethod
    def of(cls, words: tuple[str, ...], lexical) -> "Statement":
        weights = {w: max(lexical.idf(w), 0.1) for w in words}
        pairs = (f"{a}_{b}" for a, b in zip(words, words[1:]))
        phrases = {p: lexical.idf(p) for p in pairs if lexical.document_frequency(p) >= PHRASE_MIN_DF}
        return cls(words, weights, phrases)

    def holds(self, sentence: str) -> bool:
        if coverage(list(self.words), self.weights, sentence) < SENTENCE_COVERAGE:
            return False
        if self.phrases:
            folded = [fold_word(w) for w in syllables(sentence)]
            present = {f"{a}_{b}" for a, b in zip(folded, folded[1:])}
            total = sum(self.phrases.values())
            if total and sum(w for p, w in self.phrases.items() if p in present) / total < SENTENCE_COVERAGE:
                return False
        # the clause that says it decides ("đã ban hành Kế hoạch chuyển đổi số năm 2025, xác định các chỉ
        # tiêu …": the plan words of the next clause are about something else)
        clauses = [c for c in CLAUSE_SPLIT.split(sentence) if c]
        best = max(clauses, key=lambda c: coverage(list(self.words), self.weights, c), default=sentence)
        prefix = sentence[:max(sentence.find(best), 0)]
        return clause_status(prefix, best, " ".join(self.words)) == ACHIEVED

    def sentence_in(self, text: str, section: tuple[str, ...] = ()) -> tuple[int, int] | None:
        """The first sentence of ``text`` that states the condition; a heading of the passage
        ("4. Phát triển sản phẩm OCOP, xây dựng nhãn hiệu") names a topic and states nothing."""
        headings = [set(_words(h)) for h in section]
        return next(((s, e) for s, e in split_sentences(text)
                     if not _heading(text[s:e], headings) and self.holds(text[s:e])), None)


_unit_key = lru_cache(maxsize=65_536)(match_key)  # thousands of facts name a few hundred units


def _words(text: str) -> list[str]:
    return [fold_word(w) for w in syllables(text)]


_LINE_END = re.compile(r"[.;:!?…]\W*$")
HEADING_MAX_WORDS = 14  # a line this short with no final stop is a heading ("4. Phát triển sản phẩm OCOP, …")


def _heading(sentence: str, headings: list[set[str]]) -> bool:
    """Whether a sentence is a heading: one of the passage's, or a short line with no final stop."""
    words = _words(sentence)
    return (any(set(words) <= h for h in headings)
            or ("\n" not in sentence.strip() and len(words) <= HEADING_MAX_WORDS and not _LINE_END.search(sentence)))


class ListAnswerer:
    """Answers list questions over the facts and passages of an open index."""

    def __init__(self, retriever) -> None:
        self.retriever = retriever
        self.index = retriever.index

    def rows(self, query: ListQuery, allowed_docs: set[int] | None) -> list[ListRow]:
        """One row per unit (and year) whose facts satisfy a counted condition, newest first."""
        where, params = _fact_where(query)
        filtered = allowed_docs is not None or query.province is not None or query.district is not None
        facts = [f for f in self.index.store.largest_facts(where, params, per_document=filtered)
                 if self._keep(f.doc_id, query, allowed_docs, f)]
        best: dict[tuple[str, int | None], object] = {}
        for f in facts:
            key = (_unit_key(f.unit), f.year)
            if key not in best or f.value > best[key].value:
                best[key] = f
        rows = sorted((self._row(f) for f in best.values()),
                      key=lambda r: (-(r.year or 0), fold(r.province), -r.value, fold(r.unit)))
        return query.comparison.keep(rows) if query.comparison is not None else rows

    def _keep(self, doc_id: int, query: ListQuery, allowed_docs: set[int] | None, fact=None) -> bool:
        if allowed_docs is not None and doc_id not in allowed_docs:  # one copy of each report: Store.largest_facts
            return False
        if query.district is not None:
            doc = self.retriever.documents[doc_id]
            where = [fact.parent] if fact is not None and fact.parent else list(doc.meta.districts)
            if not any(fold(d) == query.district for d in where):
                return False
        if query.province is None:
            return True
        province = fact.unit if fact is not None and fact.level == "tỉnh" else self.retriever.province_of[doc_id]
        return covers(query.province, province, query.years)

    def _row(self, f) -> ListRow:
        doc = self.retriever.documents[f.doc_id]
        province = f.unit if f.level == "tỉnh" else self.retriever.province_of[f.doc_id]
        return ListRow(f.unit, province, f.value, f.year, f.doc_id, f.chunk_id, doc.path, (f.start, f.end),
                       f.level, merge_note(province))

    def passage_rows(self, query: ListQuery, hits, allowed_docs: set[int] | None) -> list[ListRow]:
        """A condition without a count: one row per unit a retrieved passage states it about (the
        unit named in the stating sentence, else the report's own), best passage first."""
        chunks = self.index.store.chunks_by_id([h.chunk_id for h in hits])
        statement = Statement.of(query.statement_words, self.index.lexical)
        found: dict[str, ListRow] = {}
        for hit in hits:
            doc = self.retriever.documents[hit.doc_id]
            if not self._keep(doc.id, query, allowed_docs) or (query.years and doc.meta.year not in query.years):
                continue
            chunk = chunks[hit.chunk_id]
            span = statement.sentence_in(chunk.text, chunk.section_path)
            if span is None:
                continue
            if plan_section(chunk.section_path):
                continue  # "Phương hướng, nhiệm vụ …": a plan, not a statement of what was done
            for unit, level in self._units(chunk.text[span[0]:span[1]], doc, query.kinds):
                province = unit if level == "tỉnh" else self.retriever.province_of[doc.id]
                found.setdefault(match_key(unit), ListRow(unit, province, None, doc.meta.year, doc.id, chunk.id,
                                                          doc.path, span, level, merge_note(province)))
        return list(found.values())

    def _units(self, sentence: str, doc, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
        named = [(u.name, u.level) for u in unit_mentions(sentence) if u.level in kinds]
        if named:
            return named
        if "huyện" in kinds and len(doc.meta.districts) == 1:
            return [(doc.meta.districts[0], "huyện")]
        province = self.retriever.province_of[doc.id]
        if "tỉnh" in kinds and province and not doc.meta.districts:
            return [(province, "tỉnh")]
        return []
