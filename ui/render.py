"""HTML for the interface: the answer, passage cards grouped by report, the corpus table.

Every piece of text that comes from a report, a question or a file name goes through
``html.escape`` (a report containing ``<script>`` shows as text). The only markup is ours.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from rag.answer import Answer, AnswerRow, Passage
from rag.vntext import fold

SOURCE_ROUTE = "/nguon"
PAGE_ROUTE = "/trang"      # /trang/<doc>/<page>.png?c=<chunk>: the PDF page with the passage highlighted
TEXT_ROUTE = "/van-ban"    # /van-ban/<doc>?c=<chunk>#passage: a DOCX/TXT source's text, the passage marked
MAX_PAGE_IMAGES = 3        # a passage over more pages shows its first three (a passage is ~1 page of text)
CSV_ROUTE = "/tai-csv"
CSV_PARAMS = ("province", "district", "year", "doc_type")  # the filters a CSV link carries, after ``q``
_REF = re.compile(r"\[(\d{1,3})\]")


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def source_url(doc_id: int, path: str, page: int | None = None) -> str:
    """The link that opens an indexed report (at ``page`` for a PDF) through the app's source route."""
    url = f"{SOURCE_ROUTE}/{int(doc_id)}/{quote(Path(path).name)}"
    if page and Path(path).suffix.lower() == ".pdf":
        url += f"#page={int(page)}"
    return url


def csv_url(question: str, filters: dict[str, object] | None = None) -> str:
    """The link that downloads the rows of a list answer as CSV (the app runs the question again)."""
    params = [("q", question)] + [(k, str(v)) for k, v in (filters or {}).items() if k in CSV_PARAMS and v]
    return f"{CSV_ROUTE}?{urlencode(params, quote_via=quote)}"


def unit_count(rows: list[AnswerRow]) -> int:
    """How many districts the rows name (a district listed for two years counts once, as in the answer)."""
    return len({fold(r.unit) for r in rows})


def page_label(page: int | None, page_end: int | None) -> str:
    if not page:
        return ""
    return f"tr. {page}–{page_end}" if page_end and page_end != page else f"tr. {page}"


def clean_excerpt(text: str) -> str:
    """The passage as one paragraph per blank-line block, inner line breaks and runs of spaces folded."""
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", text)]
    return "\n".join(b for b in blocks if b)


def copy_text(p: Passage) -> str:
    """What the copy button puts on the clipboard: the excerpt in quotes and its citation."""
    return f"“{clean_excerpt(p.text)}”\n(Nguồn: {p.citation})"


def highlighted(text: str, spans: list[tuple[int, int]] | list[list[int]]) -> str:
    """``text`` escaped, with the sentences of ``spans`` wrapped in ``<mark>`` (overlaps merged)."""
    merged: list[list[int]] = []
    for s, e in sorted((max(0, int(s)), min(len(text), int(e))) for s, e in spans):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, last = [], 0
    for s, e in merged:
        out.append(esc(text[last:s]))
        out.append(f"<mark>{esc(text[s:e])}</mark>")
        last = e
    out.append(esc(text[last:]))
    return "".join(out)


def _ref_link(rank: object) -> str:
    n = esc(rank)
    return f"<a class='rag-ref' href='#rag-p-{n}' data-rank='{n}'>[{n}]</a>"


def _answer_lines(text: str) -> str:
    """The composed answer: escaped, ``- `` lines as a list, ``[n]`` as links to card n."""
    def refs(line: str) -> str:
        return _REF.sub(lambda m: _ref_link(m.group(1)), esc(line))

    parts: list[str] = []
    items: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.lstrip().startswith(("- ", "• ")):
            items.append(f"<li>{refs(line.lstrip()[2:])}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        parts.append(f"<p>{refs(line)}</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "".join(parts)


def message_html(text: str, kind: str = "info") -> str:
    """A notice in the page (``info``, ``ok``, ``warn`` or ``error``), escaped."""
    label = {"info": "Thông báo", "ok": "Xong", "warn": "Lưu ý", "error": "Lỗi"}.get(kind, "Thông báo")
    return (f"<div class='rag-msg rag-msg-{esc(kind)}' role='status'><b>{label}:</b> {esc(text)}</div>")


def welcome_html(n_documents: int, n_chunks: int) -> str:
    return ("<div class='rag-welcome'><p>Đặt câu hỏi bằng tiếng Việt (có hoặc không dấu) hoặc tiếng Anh rồi nhấn "
            "<b>Enter</b>. Kết quả gồm câu trả lời trích nguyên văn từ báo cáo, kèm các đoạn trích có trích dẫn "
            "đầy đủ (cơ quan ban hành, số hiệu, ngày, mục, trang).</p>"
            f"<p class='rag-muted'>Kho hiện có {n_documents} báo cáo, {n_chunks} đoạn.</p></div>")


@dataclass(frozen=True)
class _Group:
    doc_id: int
    passages: list[Passage]


def _groups(passages: list[Passage]) -> list[_Group]:
    """Passages grouped by report, reports in the order of their best passage."""
    order: dict[int, list[Passage]] = {}
    for p in passages:
        order.setdefault(p.doc_id, []).append(p)
    return [_Group(doc_id, ps) for doc_id, ps in order.items()]


def _doc_header(p: Passage, n: int) -> str:
    kind = " ".join(x for x in (p.doc_type, _number(p.number)) if x)
    where = ", ".join(x for x in ("; ".join(p.districts), p.province) if x)
    bits = [f"<span class='rag-doc-issuer'>{esc(p.issuer or Path(p.source).name)}</span>"]
    if kind:
        bits.append(f"<span>{esc(kind)}</span>")
    if p.date:
        bits.append(f"<span>{esc(p.date)}</span>")
    if where:
        bits.append(f"<span>{esc(where)}</span>")
    count = f"<span class='rag-badge'>{n} đoạn</span>" if n > 1 else ""
    link = (f"<a class='rag-file' href='{esc(source_url(p.doc_id, p.source))}' target='_blank' rel='noopener'>"
            f"{esc(Path(p.source).name)}</a>")
    also = ""
    if p.also_in:
        also = ("<span class='rag-muted'> · bản khác: "
                + ", ".join(esc(Path(a).suffix.lstrip('.').upper() or Path(a).name) for a in p.also_in) + "</span>")
    return (f"<div class='rag-doc-head'><div class='rag-doc-meta'>{' · '.join(bits)} {count}</div>"
            f"<div class='rag-doc-file'>{link}{also}</div></div>")


def _number(number: str) -> str:
    if not number:
        return ""
    return f"số …{number}" if number.startswith("/") else f"số {number}"


def page_image_url(doc_id: int, page: int, chunk_id: int) -> str:
    return f"{PAGE_ROUTE}/{int(doc_id)}/{int(page)}.png?c={int(chunk_id)}"


def text_view_url(doc_id: int, chunk_id: int) -> str:
    return f"{TEXT_ROUTE}/{int(doc_id)}?c={int(chunk_id)}#passage"


def _source_view(p: Passage) -> str:
    """The passage where it stands: a PDF's page(s) as images with the passage highlighted, folded until
    opened (the image is fetched then); any other source as its text with the passage marked."""
    if Path(p.source).suffix.lower() == ".pdf" and p.page:
        last = min(p.page_end or p.page, p.page + MAX_PAGE_IMAGES - 1)
        images = "".join(
            f"<img loading='lazy' src='{esc(page_image_url(p.doc_id, n, p.chunk_id))}' "
            f"alt='{esc(f'Trang {n}, đoạn trích được tô vàng')}' class='rag-page-img'>" for n in range(p.page, last + 1))
        return (f"<details class='rag-pageview'><summary>Xem {esc(page_label(p.page, last))}, đoạn trích được tô "
                f"vàng</summary>{images}</details>")
    return (f"<a class='rag-btn rag-textview' href='{esc(text_view_url(p.doc_id, p.chunk_id))}' target='_blank' "
            "rel='noopener'>Xem trong văn bản (tô vàng) ↗</a>")


def _card(p: Passage, marked: bool = True) -> str:
    pages = page_label(p.page, p.page_end)
    meta = []
    if p.section:
        meta.append(f"<span class='rag-section'>Mục: {esc(p.section)}</span>")
    if pages:
        meta.append(f"<span class='rag-page'>{esc(pages)}</span>")
    open_label = f"Mở nguồn ({pages})" if pages else "Mở nguồn"
    return (
        f"<article class='rag-card' id='rag-p-{p.rank}' data-rank='{p.rank}'>"
        f"<div class='rag-card-head'><span class='rag-rank'>[{p.rank}]</span>{''.join(meta)}</div>"
        f"<div class='rag-text'>{highlighted(p.text, p.highlights if marked else [])}</div>"
        f"<div class='rag-cite'><b>Trích dẫn:</b> {esc(p.citation)}</div>"
        f"{_source_view(p) if Path(p.source).suffix.lower() == '.pdf' else ''}"
        "<div class='rag-actions'>"
        f"<a class='rag-btn rag-open' href='{esc(source_url(p.doc_id, p.source, p.page))}' target='_blank' "
        f"rel='noopener'>{esc(open_label)} ↗</a>"
        f"<button type='button' class='rag-btn rag-copy' data-copy='{esc(copy_text(p))}'>Sao chép kèm trích dẫn"
        "</button>"
        f"{'' if Path(p.source).suffix.lower() == '.pdf' else _source_view(p)}"
        f"<label class='rag-btn rag-pick'><input type='checkbox' class='rag-pick-box' value='{p.rank}'> "
        "Chọn để xuất</label></div></article>")  # nothing ticked: staff choose what goes into their draft


def render_rows(answer: Answer) -> str:
    """A list answer's rows as a table (one row per district, ``[n]`` linking to card n), the total,
    and the "Tải CSV" link. Empty when the answer has no rows."""
    rows = answer.rows or []
    if not rows:
        return ""
    units = unit_count(rows)
    level = _LEVEL_HEADINGS.get(rows[0].level, "Đơn vị")
    total = f"Tổng cộng: {units} {level.lower()}" + (f" ({len(rows)} dòng)" if len(rows) != units else "")
    body = "".join(
        f"<tr><td class='rag-unit'>{esc(r.unit)}{_note(r.note)}</td><td>{esc(r.province)}</td>"
        f"<td class='num'>{esc(r.value if r.value is not None else '–')}</td>"
        f"<td>{esc(r.year if r.year is not None else '')}</td><td>{_ref_link(int(r.passage))}</td></tr>"
        for r in rows)
    href = csv_url(answer.question, answer.filters)
    name = csv_filename(answer.question)
    return (render_chart(rows) + "<div class='rag-table-wrap'><table class='rag-table rag-rows'><thead><tr>"
            f"<th>{level}</th><th>Tỉnh</th><th class='num'>Số lượng</th><th>Năm</th><th>Nguồn</th></tr></thead>"
            f"<tbody>{body}</tbody><tfoot><tr><td colspan='5' class='rag-total'>{esc(total)}</td></tr></tfoot>"
            "</table></div><div class='rag-actions'>"
            f"<a class='rag-btn rag-csv' role='button' href='{esc(href)}' download='{esc(name)}' "
            "title='Tải bảng về dạng CSV (mở được bằng Excel)'>Tải CSV</a></div>")


_LEVEL_HEADINGS = {"huyện": "Huyện", "tỉnh": "Tỉnh", "xã": "Xã", "phường": "Phường", "thị trấn": "Thị trấn",
                   "": "Đơn vị"}
CHART_MAX_BARS = 40  # more bars than this do not read on a phone: the table and the CSV hold them all


def _note(note: str) -> str:
    return f"<div class='rag-note'>{esc(note)}</div>" if note else ""


def render_chart(rows: list[AnswerRow]) -> str:
    """The rows' counts as horizontal bars (HTML and CSS only: it scales to any width and needs no
    script): one bar per unit, labelled with the year when the rows span several years. Empty when
    no row has a count."""
    counted = [r for r in rows if r.value is not None][:CHART_MAX_BARS]
    if not counted:
        return ""
    years = {r.year for r in counted}
    top = max(r.value for r in counted) or 1
    bars = "".join(
        f"<div class='rag-bar-row'><span class='rag-bar-label'>{esc(r.unit)}"
        f"{' (' + esc(r.year) + ')' if len(years) > 1 and r.year is not None else ''}</span>"
        f"<span class='rag-bar-track'><span class='rag-bar' style='width:{max(2, round(100 * r.value / top))}%'></span>"
        f"</span><span class='rag-bar-value'>{esc(r.value)}</span></div>"
        for r in counted)
    caption = "Số lượng theo từng đơn vị" + (" và năm" if len(years) > 1 else "")
    more = f" (hiện {len(counted)} trên {len(rows)} dòng)" if len(rows) > len(counted) else ""
    return (f"<figure class='rag-chart' role='img' aria-label='{esc(caption)}'>"
            f"<figcaption>{esc(caption + more)}</figcaption>{bars}</figure>")


def csv_filename(question: str) -> str:
    """An ASCII file name for the CSV of a list answer, from the question (``nhung-huyen-nao-….csv``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(question))[:80].strip("-")
    return f"{slug or 'danh-sach'}.csv"


def render_answer(answer: Answer, notice: str = "") -> str:
    """The answer box (a list answer's rows as a table), then the passages as cards grouped by report."""
    parts = [notice] if notice else []
    status = "rag-found" if answer.found else "rag-notfound"
    title = "Trả lời" if answer.found else "Chưa tìm thấy câu trả lời chắc chắn"
    if answer.rows:
        # the table replaces the answer's "- unit (province, year): value [n]" lines; its heading stays
        intro = "\n".join(line for line in answer.answer.splitlines()
                          if not line.lstrip().startswith(("- ", "• ")))
        parts.append(f"<section class='rag-answer {status} rag-list'><div class='rag-answer-title'>{title}</div>"
                     f"{_answer_lines(intro)}{render_rows(answer)}</section>")
    else:
        parts.append(f"<section class='rag-answer {status}'><div class='rag-answer-title'>{title}</div>"
                     f"{_answer_lines(answer.answer)}</section>")
    if not answer.passages:
        parts.append(message_html("Không có đoạn trích nào khớp với câu hỏi và bộ lọc đã chọn.", "warn"))
        return f"<div class='rag-result' data-question='{esc(answer.question)}'>" + "".join(parts) + "</div>"
    groups = _groups(answer.passages)
    filters = ", ".join(f"{_FILTER_NAMES.get(k, k)}: {v}" for k, v in answer.filters.items())
    summary = f"{len(answer.passages)} đoạn trích từ {len(groups)} báo cáo"
    if not answer.found:  # shown for reading, not as answers: nothing is marked as if it answered
        summary = (f"Các đoạn gần nhất với câu hỏi (không phải câu trả lời): {len(answer.passages)} đoạn trích "
                   f"từ {len(groups)} báo cáo")
    if filters:
        summary += f" · lọc theo {filters}"
    parts.append(f"<div class='rag-summary'>{esc(summary)}</div>")
    for g in groups:
        parts.append(f"<section class='rag-doc' data-doc='{g.doc_id}'>{_doc_header(g.passages[0], len(g.passages))}"
                     + "".join(_card(p, marked=answer.found) for p in g.passages) + "</section>")
    return f"<div class='rag-result' data-question='{esc(answer.question)}'>" + "".join(parts) + "</div>"


_FILTER_NAMES = {"province": "tỉnh", "district": "huyện", "year": "năm", "doc_type": "loại văn bản"}


@dataclass(frozen=True)
class CorpusRow:
    doc_id: int
    path: str
    doc_type: str
    number: str
    issuer: str
    date: str
    title: str
    place: str
    chunks: int
    formats: list[str]
    reference: str = ""  # the official reference (rag.citation.document_reference)


def render_corpus(rows: list[CorpusRow], skipped: list[tuple[str, str]], summary: str) -> str:
    """The list of indexed reports (one row per report; other formats of the same report listed)."""
    out = [f"<div class='rag-summary'>{esc(summary)}</div>"]
    if not rows:
        out.append(message_html("Kho chưa có báo cáo nào. Tải báo cáo lên ở khung bên dưới để bắt đầu.", "info"))
    else:
        out.append("<div class='rag-table-wrap'><table class='rag-table'><thead><tr>"
                   "<th>Báo cáo</th><th>Loại / số hiệu</th><th>Cơ quan ban hành</th><th>Ngày</th>"
                   "<th>Địa bàn</th><th class='num'>Số đoạn</th><th>Tệp</th></tr></thead><tbody>")
        for r in rows:
            kind = " ".join(x for x in (r.doc_type, _number(r.number)) if x)
            link = (f"<a href='{esc(source_url(r.doc_id, r.path))}' target='_blank' rel='noopener'>"
                    f"{esc(Path(r.path).name)}</a>")
            formats = ", ".join(esc(f) for f in r.formats)
            out.append(f"<tr><td class='rag-title'>{esc(r.title or Path(r.path).stem)}</td><td>{esc(kind)}</td>"
                       f"<td>{esc(r.issuer)}</td><td>{esc(r.date)}</td><td>{esc(r.place)}</td>"
                       f"<td class='num'>{r.chunks}</td><td>{link}<div class='rag-muted'>{formats}</div></td></tr>")
        out.append("</tbody></table></div>")
    if skipped:
        out.append("<details class='rag-skipped'><summary>Tệp không đọc được ("
                   f"{len(skipped)})</summary><ul>"
                   + "".join(f"<li><code>{esc(p)}</code>: {esc(r)}</li>" for p, r in skipped)
                   + "</ul></details>")
    return "".join(out)


CSS = """
.rag-result, .rag-welcome, .rag-msg, .rag-summary { font-size: 15px; line-height: 1.55; }
.rag-msg { padding: 10px 14px; border-radius: 8px; margin: 6px 0 10px; border: 1px solid; }
.rag-msg-info { background: #eff6ff; border-color: #bfdbfe; color: #1e3a8a; }
.rag-msg-ok { background: #f0fdf4; border-color: #bbf7d0; color: #14532d; }
.rag-msg-warn { background: #fffbeb; border-color: #fde68a; color: #78350f; }
.rag-msg-error { background: #fef2f2; border-color: #fecaca; color: #7f1d1d; }
.rag-welcome { color: #374151; padding: 4px 2px; }
.rag-muted { color: #6b7280; font-size: 13px; }
.rag-answer { border-radius: 10px; padding: 12px 16px; margin-bottom: 12px; border: 1px solid #c7d2fe;
  background: #eef2ff; color: #1f2937; }
.rag-answer.rag-notfound { background: #fff7ed; border-color: #fed7aa; }
.rag-answer-title { font-weight: 700; margin-bottom: 4px; color: #1e3a8a; }
.rag-answer.rag-notfound .rag-answer-title { color: #9a3412; }
.rag-answer p { margin: 4px 0; } .rag-answer ul { margin: 4px 0 4px 18px; padding: 0; }
.rag-ref { font-weight: 600; text-decoration: none; color: #1d4ed8; }
.rag-summary { color: #4b5563; margin: 6px 2px 10px; font-size: 14px; }
.rag-doc { border: 1px solid #d1d5db; border-radius: 12px; margin: 0 0 14px; background: #fff; overflow: hidden; }
.rag-doc-head { background: #f3f4f6; padding: 8px 14px; border-bottom: 1px solid #e5e7eb; color: #374151;
  display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 16px; font-size: 14px; }
.rag-doc-issuer { font-weight: 700; color: #111827; }
.rag-badge { background: #dbeafe; color: #1e40af; border-radius: 999px; padding: 0 8px; font-size: 12px; }
.rag-file { color: #1d4ed8; text-decoration: none; font-weight: 600; }
.rag-file::before { content: "Tệp: "; color: #6b7280; font-weight: 400; }
.rag-card { padding: 10px 14px 12px; border-top: 1px solid #f0f0f0; color: #111827; }
.rag-doc .rag-card:first-of-type { border-top: none; }
.rag-card.rag-flash { background: #fefce8; transition: background .6s; }
.rag-card-head { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; font-size: 13px; color: #4b5563; }
.rag-rank { font-weight: 700; color: #1d4ed8; font-size: 15px; }
.rag-text { white-space: pre-line; margin: 6px 0; font-size: 15px; }
.rag-text mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.rag-cite { font-size: 13px; color: #374151; background: #f9fafb; border-left: 3px solid #93c5fd; padding: 4px 8px; }
.rag-actions { margin-top: 8px; display: flex; gap: 8px; flex-wrap: wrap; }
.rag-btn { font-size: 13px; border: 1px solid #cbd5e1; border-radius: 6px; padding: 3px 10px; background: #fff;
  color: #1f2937; cursor: pointer; text-decoration: none; }
.rag-btn:hover { background: #eff6ff; border-color: #93c5fd; }
.rag-table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; }
.rag-pick { display: inline-flex; align-items: center; gap: 4px; }
.rag-pageview { margin-top: 8px; font-size: 13px; }
.rag-pageview summary { cursor: pointer; color: #1d4ed8; }
.rag-page-img { display: block; max-width: 100%; height: auto; margin-top: 6px; border: 1px solid #d1d5db;
  box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.rag-pick input { margin: 0; }
.rag-card:has(.rag-pick-box:checked) { background: #f0f9ff; }
/* phone width (390 px): nothing wider than the screen; the list table scrolls inside its frame */
@media (max-width: 700px) {
  .rag-rows th, .rag-rows td { padding: 5px 6px; font-size: 13px; }
  .rag-table-wrap { max-width: calc(100vw - 40px); }
  .rag-doc-head { padding: 8px 10px; } .rag-card { padding: 10px 10px 12px; }
  .rag-bar-label { flex-basis: 45%; }
}
.rag-chart { margin: 8px 0; padding: 0; font-size: 13px; }
.rag-chart figcaption { color: #4b5563; margin-bottom: 4px; }
.rag-bar-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.rag-bar-label { flex: 0 0 38%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.rag-bar-track { flex: 1 1 auto; background: #f3f4f6; height: 14px; border-radius: 3px; }
.rag-bar { display: block; height: 14px; background: #2563eb; border-radius: 3px; }
.rag-bar-value { flex: 0 0 3em; text-align: right; font-variant-numeric: tabular-nums; }
.rag-note { color: #6b7280; font-size: 12px; }
.rag-table { border-collapse: collapse; width: 100%; font-size: 14px; }
.rag-table, .rag-table th, .rag-table td { border: 0 !important; }
.rag-table th, .rag-table td { border-bottom: 1px solid #e5e7eb !important; }
.rag-table th, .rag-table td { border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; vertical-align: top; }
.rag-table th { background: #f3f4f6; } .rag-table .num { text-align: right; }
.rag-table .rag-title { max-width: 28em; }
.rag-skipped { margin-top: 10px; font-size: 14px; }
.rag-answer .rag-rows { background: #fff; margin: 8px 0 4px; }
.rag-rows, .rag-rows thead, .rag-rows tbody, .rag-rows tfoot, .rag-rows tr { border: 0 !important; }
.rag-answer .rag-table-wrap { border: 1px solid #c7d2fe; border-radius: 8px; margin: 8px 0 4px; }
.rag-answer .rag-table-wrap .rag-rows { margin: 0; }
.rag-rows .rag-unit { font-weight: 600; }
.rag-rows tfoot td { font-weight: 600; color: #1e3a8a; border-bottom: 0 !important; }
.rag-csv { font-weight: 600; }
.dark .rag-welcome, .dark .rag-summary, .dark .rag-muted { color: #d1d5db; }
"""

# Runs once when the results component mounts; the listeners use delegation, so they keep working
# after each new answer replaces the cards.
JS_ON_LOAD = r"""
element.addEventListener('click', async (ev) => {
  const ref = ev.target.closest('.rag-ref');
  if (ref && element.contains(ref)) {
    ev.preventDefault();
    const card = element.querySelector('#rag-p-' + ref.dataset.rank);
    if (card) {
      card.scrollIntoView({behavior: 'smooth', block: 'center'});
      card.classList.add('rag-flash');
      setTimeout(() => card.classList.remove('rag-flash'), 1200);
    }
    return;
  }
  const btn = ev.target.closest('.rag-copy');
  if (!btn || !element.contains(btn)) return;
  ev.preventDefault();
  const text = btn.dataset.copy || '';
  let ok = false;
  try { await navigator.clipboard.writeText(text); ok = true; } catch (e) {
    const ta = document.createElement('textarea');
    ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
    document.body.appendChild(ta); ta.select();
    try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    ta.remove();
  }
  const label = btn.dataset.label || btn.textContent;
  btn.dataset.label = label;
  btn.textContent = ok ? 'Đã sao chép ✓' : 'Không sao chép được';
  setTimeout(() => { btn.textContent = label; }, 1800);
});
"""
