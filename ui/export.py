"""Export chosen excerpts with their citations, for drafting: DOCX (python-docx) or Markdown; and the
rows of a list answer as CSV."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import time
from pathlib import Path

from rag.vntext import fold

from .render import clean_excerpt

FORMATS = ("docx", "md")
CSV_HEADER = ("Huyện", "Tỉnh", "Số lượng", "Năm", "Trích dẫn", "Tệp nguồn", "Cấp", "Ghi chú")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula (``=…``, ``+…``) is prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows_csv(answer: dict) -> bytes:
    """The rows of a list answer (``Answer.to_json()``) as CSV: UTF-8 with a BOM so that Excel reads
    Vietnamese correctly, CRLF line ends, one line per row: district, province, count, year, the
    citation of the passage that states it, the source file."""
    passages = answer.get("passages") or []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in answer.get("rows") or []:
        n = int(row.get("passage") or 0)
        citation = passages[n - 1].get("citation", "") if 1 <= n <= len(passages) else ""
        writer.writerow([_cell(row.get("unit")), _cell(row.get("province")), _cell(row.get("value")),
                         _cell(row.get("year")), _cell(citation), _cell(row.get("source")),
                         _cell(row.get("level")), _cell(row.get("note"))])
    return out.getvalue().encode("utf-8-sig")


def _selected(answer: dict, ranks: list[int] | None) -> list[dict]:
    passages = answer.get("passages", []) if answer else []
    if ranks is None:
        return list(passages)
    wanted = {int(r) for r in ranks}
    return [p for p in passages if int(p["rank"]) in wanted]


ROW_HEADER = ("Đơn vị", "Tỉnh", "Số lượng", "Năm", "Nguồn")


def _answer_lines(answer: dict) -> list[str]:
    """The answer's text; a list answer's heading only (its rows go in the table)."""
    lines = (answer.get("answer") or "").splitlines()
    return [line for line in lines if not line.lstrip().startswith("- ")] if answer.get("rows") else lines


def _row_cells(row: dict) -> list[str]:
    unit = row.get("unit", "") + (f" ({row['note']})" if row.get("note") else "")
    value = row.get("value")
    return [unit, row.get("province") or "", "–" if value is None else str(value), str(row.get("year") or ""),
            f"[{row.get('passage')}]"]


def to_markdown(answer: dict, ranks: list[int] | None = None) -> str:
    """The whole answer for drafting: the question, the answer (a list answer's rows as a table),
    then the chosen excerpts, each with its citation."""
    lines = [f"# {answer.get('question', '')}", ""]
    lines.append(f"_Xuất ngày {time.strftime('%d/%m/%Y %H:%M')} từ kho báo cáo._")
    lines += ["", "## Trả lời" if answer.get("found") else "## Chưa tìm thấy câu trả lời chắc chắn", ""]
    lines += [line.replace("|", "\\|") for line in _answer_lines(answer)] + [""]
    if answer.get("rows"):
        lines += ["| " + " | ".join(ROW_HEADER) + " |", "|" + "---|" * len(ROW_HEADER)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _row_cells(r)) + " |" for r in answer["rows"]]
        lines.append("")
    chosen = _selected(answer, ranks)
    if chosen:
        lines += ["## Trích dẫn", ""]
    for p in chosen:
        lines.append(f"### [{p['rank']}] {p.get('section') or 'Đoạn trích'}")
        lines.append("")
        for para in clean_excerpt(p["text"]).split("\n"):
            lines.append(f"> {para}")
            lines.append(">")
        lines.append(f"> — {p['citation']}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_docx(answer: dict, ranks: list[int] | None, path: Path) -> Path:
    """The same as ``to_markdown`` as a Word document (Times New Roman 13, as administrative texts)."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    doc.add_heading(answer.get("question", ""), level=1)
    note = doc.add_paragraph(f"Xuất ngày {time.strftime('%d/%m/%Y %H:%M')} từ kho báo cáo.")
    note.runs[0].italic = True
    doc.add_heading("Trả lời" if answer.get("found") else "Chưa tìm thấy câu trả lời chắc chắn", level=2)
    for line in _answer_lines(answer):
        doc.add_paragraph(line)
    if answer.get("rows"):
        table = doc.add_table(rows=1, cols=len(ROW_HEADER))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ROW_HEADER):
            cell.text = text
        for row in answer["rows"]:
            for cell, text in zip(table.add_row().cells, _row_cells(row)):
                cell.text = text
    chosen = _selected(answer, ranks)
    if chosen:
        doc.add_heading("Trích dẫn", level=2)
    for p in chosen:
        doc.add_heading(f"[{p['rank']}] {p.get('section') or 'Đoạn trích'}", level=3)
        for para in clean_excerpt(p["text"]).split("\n"):
            doc.add_paragraph(para, style="Quote")
        cite = doc.add_paragraph()
        run = cite.add_run(f"Nguồn: {p['citation']}")
        run.bold = True
        run.font.color.rgb = RGBColor(0x1F, 0x3A, 0x8A)
    doc.save(str(path))
    return path


EXPORT_NAME_WORDS = 10  # enough words to tell one draft from another, short enough to show whole


def export_name(question: str, fmt: str, today: str | None = None) -> str:
    """``trich-dan-nhung-huyen-nao-co-san-pham-ocop-4-sao-01-12-2026.docx``: the question's first words,
    accents folded (any system opens it), and the day. A fresh folder per export keeps names apart."""
    words = re.findall(r"[a-z0-9]+", fold(question))[:EXPORT_NAME_WORDS]
    day = today or time.strftime("%d-%m-%Y")
    return "-".join(["trich-dan", *words, day]) + f".{fmt}"


def export_file(answer: dict, ranks: list[int] | None, fmt: str, directory: Path | None = None) -> Path:
    """Write the chosen excerpts to a new file in ``directory`` (a fresh temp folder by default)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    directory = Path(directory or tempfile.mkdtemp(prefix="rag-export-"))
    path = directory / export_name(str(answer.get("question") or ""), fmt)
    if fmt == "md":
        path.write_text(to_markdown(answer, ranks), encoding="utf-8")
        return path
    return to_docx(answer, ranks, path)
