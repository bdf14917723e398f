"""Answer composition: cited passages and an extractive answer that quotes them.

The answer never says anything the archive does not: it quotes the sentences of
the returned passages that best match the question, each with its ``[n]`` marker.
``found`` is false when no passage covers enough of the question's informative
words, or when the question names a place no returned passage is about.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .vntext import fold, quantity_phrases, split_sentences, syllables

STOPWORDS = set("""
nhung nao co bao nhieu cua va cac la duoc cho ve trong voi gi khong da den tu nay do thi tai theo nhu
mot hay hoac the nhu_the ra sao vay a o nhe ai khi nam bang tren duoi
what which how many much does do did is are was were the a an of in on for to and or by with who whom
whose where when why there their its it this that these those from at as be has have had
""".split())


@dataclass(frozen=True)
class Passage:
    """One returned passage with everything a citation needs."""

    rank: int
    source: str
    page: int | None
    page_end: int | None
    section: str
    text: str
    score: float
    citation: str
    chunk_id: int
    doc_id: int
    start: int
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)  # sentence spans within ``text``
    issuer: str = ""
    number: str = ""
    date: str = ""
    doc_type: str = ""
    province: str = ""
    districts: list[str] = field(default_factory=list)
    year: int | None = None
    also_in: list[str] = field(default_factory=list)  # the same report in other formats
    ocr_confidence: float | None = None  # set when the passage was read from a scan by OCR

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["highlights"] = [list(h) for h in self.highlights]
        return data


@dataclass(frozen=True)
class AnswerRow:
    """One administrative unit of a list answer, with the passage that says so."""

    unit: str
    province: str
    value: int | None  # None: the condition has no count ("đã ban hành kế hoạch …"); the passage states it
    year: int | None   # the year the figure refers to
    passage: int  # 1-based rank of the supporting passage in ``Answer.passages``
    source: str
    level: str = "huyện"  # the unit's level: "tỉnh", "huyện", "xã", "phường" or "thị trấn"
    note: str = ""        # e.g. "Hà Nam cũ, nay thuộc Ninh Bình" (rag.provinces)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    found: bool
    passages: list[Passage]
    filters: dict[str, object] = field(default_factory=dict)
    rows: list[AnswerRow] | None = None  # list questions only

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"question": self.question, "answer": self.answer, "found": self.found,
                                   "filters": self.filters, "passages": [p.to_json() for p in self.passages]}
        if self.rows is not None:
            data["rows"] = [asdict(r) for r in self.rows]
        return data


_LEVEL_NAMES = {"huyện": "huyện", "tỉnh": "tỉnh", "xã": "xã", "phường": "phường", "thị trấn": "thị trấn",
                "": "địa phương"}


def compose_list_answer(rows: list[AnswerRow], what: str, count_units: bool, level: str = "huyện") -> str:
    """``2 huyện có …: - Bình Liêu (Quảng Ninh, 2023): 1 [1]; …`` (``what`` is the condition with its
    verb). Rows without a count (a condition that counts nothing) cite the passage that states it,
    and the heading says so."""
    noun = _LEVEL_NAMES.get(level, level)
    if not rows:
        return f"Không tìm thấy {noun} nào trong kho báo cáo thỏa mãn điều kiện này."
    units = {fold(r.unit) for r in rows}
    heading = f"{len(units)} {noun} {what}:" if not count_units else f"Có {len(units)} {noun} {what}:"
    if all(r.value is None for r in rows):
        heading = heading[:-1] + " (theo các đoạn báo cáo nêu việc này; không có số liệu):"
    lines = [heading]
    for r in rows:
        where = ", ".join(str(x) for x in (r.province, r.year) if x)
        note = f"; {r.note}" if r.note else ""
        value = f": {r.value}" if r.value is not None else ""
        lines.append(f"- {r.unit}{' (' + where + note + ')' if where or note else ''}{value} [{r.passage}]")
    return "\n".join(lines)


def compose_total_answer(rows: list[AnswerRow], what: str) -> str:
    """``Tổng số sản phẩm OCOP 3 sao: 19, cộng từ 2 huyện: …`` — the sum, then every part with its citation."""
    units = {fold(r.unit) for r in rows}
    provinces = sorted({r.province for r in rows if r.province})
    where = f" ({', '.join(provinces)})" if provinces else ""
    noun = _LEVEL_NAMES.get(rows[0].level, "huyện") if rows else "huyện"
    lines = [f"Tổng số {what}{where}: {sum(r.value or 0 for r in rows)}, cộng từ {len(units)} {noun}:"]
    for r in rows:
        note = f"; {r.note}" if r.note else ""
        lines.append(f"- {r.unit} ({', '.join(str(x) for x in (r.province, r.year) if x)}{note}): {r.value} [{r.passage}]")
    lines.append(f"(Chỉ cộng các {noun} có báo cáo trong kho nêu số liệu này; mỗi {noun} lấy năm gần nhất.)")
    return "\n".join(lines)


def informative_terms(question: str) -> list[str]:
    """Folded syllables of the question that carry meaning (stopwords dropped, order kept)."""
    return [t for t in dict.fromkeys(fold(s) for s in syllables(question)) if t not in STOPWORDS]


def _terms(text: str) -> set[str]:
    return {fold(s) for s in syllables(text)}


def coverage(terms: list[str], weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of ``terms`` present in ``text``."""
    if not terms:
        return 0.0
    present = _terms(text)
    total = sum(weights.get(t, 1.0) for t in terms)
    return sum(weights.get(t, 1.0) for t in terms if t in present) / total if total else 0.0


def best_sentences(text: str, terms: list[str], weights: dict[str, float], limit: int = 2,
                   quantities: set[str] | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` that best match the question, best first.

    A sentence scores the IDF weight of the question terms it holds, plus the weight of
    each question bigram it holds in order, plus a large bonus per quantity the question
    names (``4 sao``) that the sentence states.
    """
    scored = []
    bigrams = list(zip(terms, terms[1:]))
    top_weight = max(weights.values(), default=1.0)
    for start, end in split_sentences(text):
        sentence = text[start:end]
        present = _terms(sentence)
        folded = " " + " ".join(fold(s) for s in syllables(sentence)) + " "
        score = sum(weights.get(t, 1.0) for t in terms if t in present)
        score += sum(min(weights.get(a, 1.0), weights.get(b, 1.0)) for a, b in bigrams if f" {a} {b} " in folded)
        if quantities:
            score += 2 * top_weight * len(quantities & quantity_phrases(sentence))
        if score > 0:
            scored.append((score, start, end))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [(s, e) for _, s, e in scored[:limit]]


def compose_answer(question: str, passages: list[Passage], found: bool, quotes: int = 3) -> str:
    """An extractive answer: the best sentence of each of the first passages, with ``[n]``."""
    if not found or not passages:
        return "Không tìm thấy thông tin trả lời câu hỏi này trong kho báo cáo đã lập chỉ mục."
    wanted = quantity_phrases(question)
    lines = []
    for p in passages[:quotes]:
        if not p.highlights:
            continue
        s, e = p.highlights[0]
        if wanted and not wanted <= quantity_phrases(p.text[s:e]):
            continue  # the question asks about "4 sao": quote only sentences that state it
        quote = " ".join(p.text[s:e].split())
        who = p.issuer or p.source
        lines.append(f"- Theo {who}{' (' + p.date + ')' if p.date else ''}: “{quote}” [{p.rank}]")
    if not lines:
        return "Các đoạn liên quan nhất: " + ", ".join(f"[{p.rank}]" for p in passages[:quotes])
    return "\n".join(lines)


