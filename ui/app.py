"""The Gradio interface: ask a question, read cited passages (Vietnamese labels).

It answers through the same library as the CLI (``rag.Searcher``).
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

import gradio as gr

from rag.api import Searcher
from rag.answer import Answer
from rag.config import load_settings
from rag.errors import RagError
from rag.retrieval import Filters

MAX_QUESTION_CHARS = 1000
EXAMPLES = [
    "Những huyện nào có sản phẩm OCOP 4 sao?",
    "quan hoa co bao nhieu san pham ocop",
    "Tỉnh Quảng Trị có bao nhiêu nhãn hiệu tập thể?",
]


def render_answer(answer: Answer) -> str:
    """HTML for an answer: the composed text, then one card per passage (all text escaped)."""
    parts = [f"<div class='answer'><pre style='white-space:pre-wrap'>{html.escape(answer.answer)}</pre></div>"]
    for p in answer.passages:
        text = p.text
        marked, last = [], 0
        for s, e in sorted(p.highlights):
            marked.append(html.escape(text[last:s]))
            marked.append(f"<mark>{html.escape(text[s:e])}</mark>")
            last = e
        marked.append(html.escape(text[last:]))
        parts.append(
            "<div class='card' style='border:1px solid #ccc;border-radius:8px;padding:10px;margin:8px 0'>"
            f"<div><b>[{p.rank}]</b> {html.escape(p.citation)}</div>"
            f"<div style='color:#666;font-size:90%'>Mục: {html.escape(p.section)} · điểm {p.score:.4f}</div>"
            f"<div style='margin-top:6px'>{''.join(marked)}</div></div>")
    return "\n".join(parts)


def build_app(searcher: Searcher | None, load_error: str = "") -> gr.Blocks:
    def ask(question: str, top_k: float) -> str:
        question = (question or "").strip()
        if not question:
            return "<p>Vui lòng nhập câu hỏi. (Please type a question.)</p>"
        if searcher is None:
            return f"<p>Chưa có chỉ mục: {html.escape(load_error)}</p>"
        note = ""
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
            note = f"<p>Câu hỏi quá dài, chỉ dùng {MAX_QUESTION_CHARS} ký tự đầu.</p>"
        try:
            return note + render_answer(searcher.ask(question, top_k=int(top_k), filters=Filters()))
        except RagError as exc:
            return f"<p>Lỗi: {html.escape(str(exc))}</p>"

    with gr.Blocks(title="Tra cứu báo cáo KH&CN") as app:
        gr.Markdown("# Tra cứu báo cáo\nĐặt câu hỏi bằng tiếng Việt (có hoặc không dấu) hoặc tiếng Anh; "
                    "kết quả là các đoạn trích kèm trích dẫn nguồn.")
        question = gr.Textbox(label="Câu hỏi", placeholder="Ví dụ: Những huyện nào có sản phẩm OCOP 4 sao?")
        top_k = gr.Slider(1, 20, value=5, step=1, label="Số đoạn trích")
        button = gr.Button("Tìm", variant="primary")
        output = gr.HTML()
        gr.Examples(EXAMPLES, inputs=question)
        question.submit(ask, [question, top_k], output, api_name="ask")
        button.click(ask, [question, top_k], output, api_name=False)
    return app


def serve(index_dir: Path, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          config: Path | None = None) -> None:
    searcher, error = None, ""
    try:
        searcher = Searcher.open(index_dir, settings=load_settings(config))
    except RagError as exc:
        error = str(exc)
        print(f"rag serve: {error}", file=sys.stderr)
    app = build_app(searcher, error)
    credentials = tuple(auth.split(":", 1)) if auth and ":" in auth else None
    app.queue(default_concurrency_limit=4).launch(server_name=host, server_port=port, auth=credentials,
                                                  show_error=False)
