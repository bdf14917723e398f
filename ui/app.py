"""The Gradio interface for staff: ask, read cited passages, open the source, copy for drafting.

Vietnamese labels throughout. It answers through the same library as the CLI (``rag.Searcher``,
wrapped by ``ui.service.SearchService``). ``serve`` is what ``rag serve`` and ``make run`` start:
a FastAPI app holding the Gradio Blocks at ``/`` and one route of our own, ``/nguon/<id>/<file>``,
that serves the original file of an indexed document (nothing else on disk is reachable: no
``allowed_paths`` are given to Gradio, whose file route then serves only its own uploads/cache).

Safe by default: binds 127.0.0.1, optional login (``--auth user:pass`` or ``RAG_AUTH``) with failed
attempts rate limited per client address, all report text escaped, no flagging, a queue with a
concurrency limit, questions cut at 1000 characters, uploads taken only from Gradio's upload folder.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, HTTPException, Request  # noqa: E402
from fastapi.responses import FileResponse, JSONResponse, Response  # noqa: E402

from rag.config import load_settings  # noqa: E402
from rag.errors import ConfigError, RagError  # noqa: E402
from rag.loading import SUPPORTED_SUFFIXES, decode_text  # noqa: E402
from rag.progress import ProgressMeter  # noqa: E402

from . import render  # noqa: E402
from .export import export_file, rows_csv  # noqa: E402
from .service import ALL, MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL, UPLOAD_SUFFIXES, SearchService  # noqa: E402

log = logging.getLogger("ui")

EXAMPLES = [
    "Những huyện nào có sản phẩm OCOP 4 sao?",
    "quan hoa co bao nhieu san pham ocop",
    "Tỉnh Quảng Trị có bao nhiêu nhãn hiệu tập thể?",
    "Kế hoạch hoạt động khoa học và công nghệ huyện Thanh Liêm năm 2022",
]
QUEUE_CONCURRENCY = 4
QUEUE_MAX_SIZE = 64
# Failed logins allowed per client address in any sliding window of LOGIN_WINDOW_SECONDS. Five covers a
# person's typos (two or three retries); then a guesser gets five tries a minute instead of hundreds a
# second, and a member of staff who mistyped waits at most a minute. Behind a reverse proxy every client
# shares the proxy's address (X-Forwarded-For is not trusted: anyone can send it).
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_SECONDS = 60
LOGIN_TRACKED_CLIENTS = 10_000  # past this many addresses, those with no recent attempt are forgotten
LOGIN_PATHS = ("/login", "/login/")  # Gradio's login form posts here
# said on the login page up front: Gradio's form shows nothing for a 429 (only 400 "wrong password")
LOGIN_MESSAGE = (f"Đăng nhập để tra cứu kho báo cáo. Nhập sai {LOGIN_MAX_FAILURES} lần trong {LOGIN_WINDOW_SECONDS} "
                 f"giây thì phải chờ (tối đa {LOGIN_WINDOW_SECONDS} giây) rồi mới thử lại được.")

HEADER = """
<div class='rag-header'>
  <div class='rag-header-title'>Tra cứu báo cáo</div>
  <div class='rag-header-sub'>Tìm trong kho báo cáo của cơ quan nhà nước — mỗi câu trả lời trích nguyên văn,
  kèm nguồn để mở và trích dẫn để dán vào văn bản.</div>
</div>
"""
EXTRA_CSS = """
.rag-header { padding: 6px 2px 2px; }
.rag-header-title { font-size: 26px; font-weight: 700; color: #1e3a8a; }
.rag-header-sub { color: #4b5563; font-size: 15px; }
#rag-results { min-height: 120px; }
#rag-export-row { align-items: center; gap: 8px; }
#rag-export-help { flex: 1 1 16em; font-size: 14px; }
#rag-exported .file-name, #rag-exported td { white-space: normal !important; word-break: break-word; }
/* phone width: the filters (folded) come above the question and the results, nothing wider than the screen */
@media (max-width: 700px) {
  #rag-main-row { flex-direction: column-reverse; }
  #rag-question textarea, #rag-question input { min-width: 0; }
  .rag-header-title { font-size: 22px; }
}
footer { font-size: 12px; }
"""
# Gradio ships no Vietnamese strings: the visible built-in ones are given here (for "vi" and the "en" fallback)
UI_STRINGS = {
    "upload_text.drop_file": "Thả tệp vào đây",
    "upload_text.click_to_upload": "Bấm để chọn tệp",
    "common.or": "hoặc",
    "common.clear": "Xoá",
    "common.upload": "Tải lên",
    "common.download": "Tải về",
    "common.remove": "Bỏ",
    "common.error": "Lỗi",
    "common.empty": "Trống",
    "common.loading": "Đang tải",
    "errors.use_via_api": "Dùng qua API",
    "login.login": "Đăng nhập",
    "login.username": "tên đăng nhập",
    "login.password": "mật khẩu",
    "login.incorrect_credentials": "Sai tên đăng nhập hoặc mật khẩu",
    "file.uploading": "Đang tải lên…",
    "blocks.waiting_for_inputs": "Đang chờ tải tệp xong, vui lòng thử lại.",
    "blocks.lost_connection": "Mất kết nối, đang kết nối lại…",
}
THEME_FONT = ["system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Noto Sans", "sans-serif"]
THEME_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def _theme() -> gr.themes.Base:
    # local fonts only: the page must not wait for a font server the office network may not reach
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=THEME_FONT, font_mono=THEME_MONO)


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [("Tất cả", ALL)] + [(v, v) for v in values]


# notices are titled in Vietnamese (Gradio's default titles are "Warning" and "Info"); the page says
# it is Vietnamese (screen readers, spell-checkers and translators read <html lang>)
WARNING_TITLE = "Lưu ý"
INFO_TITLE = "Thông báo"
# Gradio 6 titles a toast by its type ("Warning", "Info") whatever ``title`` says: the page renames them
HEAD = """<script>
document.documentElement.lang = 'vi';
// on a phone the filters start folded: close the accordion once, when it first appears
const RAG_FOLD = new MutationObserver(() => {
  const toggle = document.querySelector('#rag-filters .label-wrap');
  if (!toggle || !document.querySelector('#rag-filters #rag-province')) return;  // not rendered yet
  RAG_FOLD.disconnect();
  if (window.innerWidth <= 700 && toggle.classList.contains('open')) toggle.click();
});
RAG_FOLD.observe(document.documentElement, {childList: true, subtree: true});
const RAG_TOAST_TITLES = {Warning: '%s', Info: '%s', Error: 'Lỗi', Success: 'Xong'};
new MutationObserver(() => document.querySelectorAll('.toast-title, .toast-title *').forEach(el => {
  for (const node of el.childNodes) {
    const name = node.nodeType === 3 && node.textContent.trim();
    if (name && RAG_TOAST_TITLES[name]) node.textContent = node.textContent.replace(name, RAG_TOAST_TITLES[name]);
  }
})).observe(document.documentElement, {childList: true, subtree: true});
</script>""" % (WARNING_TITLE, INFO_TITLE)


# the ranks of the cards whose "Chọn để xuất" box is ticked, as "1,3"
PICKED_RANKS = "() => [...document.querySelectorAll('#rag-results .rag-pick-box:checked')].map(b => b.value).join(',')"
# the browser asks before a report leaves the archive; the answer goes to on_remove with the choice
REMOVE_CONFIRM = """(choice, _) => [choice, !!choice && window.confirm(
  'Xoá báo cáo này khỏi kho? Báo cáo sẽ không còn được tìm kiếm; tệp được chuyển vào thư mục da-xoa/ của chỉ mục.')]"""


def build_blocks(service: SearchService) -> gr.Blocks:
    """The Blocks app: a question tab and a corpus tab."""

    def on_ask(question: str, province: str, district: str, year: str, doc_type: str, top_k: float):
        result = service.ask(question, province, district, year, doc_type, top_k)
        if result.answer is None:
            return (render.message_html(result.message, result.kind), None, gr.update(value=None, visible=False))
        notice = render.message_html(result.message, result.kind) if result.message else ""
        # each card carries its own "Chọn để xuất" box, none ticked
        return (render.render_answer(result.answer, notice), result.to_json(), gr.update(value=None, visible=False))

    def api_ask(question: str, province: str = "", district: str = "", year: str = "", doc_type: str = "",
                top_k: int = 5) -> dict:
        """Ask the archive. Returns {question, answer, found, filters, passages: [{rank, source, url, page,
        section, text, score, citation, highlights, issuer, number, date, ...}], message, ok}; for a list
        question also rows: [{unit, province, value, year, passage, source}] and csv_url."""
        return service.ask(question, province, district, year, doc_type, top_k).to_json()

    def on_export(answer: dict | None, picked: str, fmt: str):
        if not answer or not answer.get("passages"):
            gr.Warning("Chưa có đoạn trích nào để xuất. Hãy đặt câu hỏi trước.", title=WARNING_TITLE)
            return gr.update(value=None, visible=False)
        ranks = [int(r) for r in (picked or "").split(",") if r.strip().isdigit()]
        if not ranks:
            gr.Info("Chưa đánh dấu “Chọn để xuất” trên đoạn trích nào: tệp gồm câu hỏi và câu trả lời.",
                    title=INFO_TITLE)
        return gr.update(value=str(export_file(answer, ranks, fmt)), visible=True)

    def on_province(province: str):
        choices = service.filter_choices()
        districts = choices["district_by_province"].get(province, choices["district"]) if province else \
            choices["district"]
        return gr.update(choices=_choices(districts), value=ALL)

    def refresh():
        choices = service.filter_choices()
        rows, skipped, summary = service.corpus()
        docs, chunks = service.stats()
        welcome = (render.welcome_html(docs, chunks) if service.searcher is not None
                   else render.message_html(service.load_error or "Chưa có chỉ mục.", "error"))
        return (render.render_corpus(rows, skipped, summary),
                gr.update(choices=_choices(choices["province"])),
                gr.update(choices=_choices(choices["district"])),
                gr.update(choices=_choices(choices["year"])),
                gr.update(choices=_choices(choices["doc_type"])),
                gr.update(choices=[(f"{r.reference} — {Path(r.path).name}", str(r.doc_id)) for r in rows], value=None),
                welcome)

    def on_remove(choice: str | None, confirmed: bool):
        if not choice:
            return (render.message_html("Hãy chọn báo cáo cần xoá.", "warn"), *refresh()[:-1])
        if not confirmed:  # the browser's confirmation was declined
            return (render.message_html("Đã huỷ, không xoá gì.", "info"), *refresh()[:-1])
        kind, text = service.remove_report(int(choice)).message()
        if kind == "ok":
            gr.Info("Đã xoá báo cáo khỏi kho.", title=INFO_TITLE)
        return (render.message_html(text, kind), *refresh()[:-1])

    def on_upload(files: list[str] | None, progress=gr.Progress()):
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in (files or [])]
        if not paths:
            gr.Warning("Hãy chọn tệp báo cáo để tải lên.", title=WARNING_TITLE)
            return (render.message_html("Chưa chọn tệp nào.", "warn"), *refresh()[:-1], None)
        progress(0, desc="Kiểm tra tệp")
        meter = ProgressMeter()

        def report(stage: str, done: int, total: int) -> None:
            line = meter.update(stage, done, total)  # "Tạo vector: 64/150 đoạn · 12,3 đoạn/giây · còn khoảng 7 giây"
            progress(line.fraction, desc=line.vietnamese())

        outcome = service.add_reports([(p, Path(p).name) for p in paths], progress=report)
        progress(1.0, desc="Mở lại chỉ mục")
        if outcome.added:  # a copy of a report already there is not counted as added
            gr.Info(f"Đã thêm {len(outcome.added)} báo cáo vào kho.", title=INFO_TITLE)
        status = "".join(render.message_html(text, kind) for kind, text in outcome.messages())
        return (status, *refresh()[:-1], None)

    with gr.Blocks(title="Tra cứu báo cáo", analytics_enabled=False) as blocks:
        gr.HTML(HEADER, js_on_load=None)
        answer_state = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Hỏi đáp", id="hoi-dap"):
                with gr.Row(equal_height=False, elem_id="rag-main-row"):
                    with gr.Column(scale=3, min_width=320, elem_id="rag-main-col"):
                        with gr.Row():
                            question = gr.Textbox(
                                label="Câu hỏi", placeholder="Ví dụ: Những huyện nào có sản phẩm OCOP 4 sao?",
                                lines=1, max_lines=4, autofocus=True, scale=5, elem_id="rag-question",
                                info="Nhấn Enter để tìm. Có thể gõ không dấu.")
                            ask_btn = gr.Button("Tìm", variant="primary", scale=1, min_width=90,
                                                elem_id="rag-ask")
                        examples = gr.Examples([[q] for q in EXAMPLES], inputs=[question], label="Câu hỏi mẫu")
                        with gr.Row(elem_id="rag-export-row"):
                            gr.Markdown("Đánh dấu **Chọn để xuất** trên các đoạn trích, rồi xuất câu trả lời kèm "
                                        "các đoạn đó:", elem_id="rag-export-help")
                            docx_btn = gr.Button("Xuất DOCX", size="sm", elem_id="rag-export-docx", min_width=100)
                            md_btn = gr.Button("Xuất Markdown", size="sm", elem_id="rag-export-md", min_width=100)
                        exported = gr.File(label="Tệp đã xuất", interactive=False, visible=False, height=80,
                                           elem_id="rag-exported")
                        picked = gr.Textbox("", visible=False, elem_id="rag-picked")
                        results = gr.HTML(render.message_html("Đang tải…"), js_on_load=render.JS_ON_LOAD,
                                          elem_id="rag-results", apply_default_css=True)
                    with gr.Column(scale=1, min_width=260, elem_id="rag-side-col"), \
                            gr.Accordion("Bộ lọc", open=True, elem_id="rag-filters"):
                        province = gr.Dropdown(_choices([]), value=ALL, label="Tỉnh / thành phố",
                                               elem_id="rag-province")
                        district = gr.Dropdown(_choices([]), value=ALL, label="Huyện", elem_id="rag-district")
                        year = gr.Dropdown(_choices([]), value=ALL, label="Năm", elem_id="rag-year")
                        doc_type = gr.Dropdown(_choices([]), value=ALL, label="Loại văn bản",
                                               elem_id="rag-doctype")
                        top_k = gr.Slider(1, 20, value=5, step=1, label="Số đoạn trích")
            with gr.Tab("Kho báo cáo", id="kho"):
                corpus_html = gr.HTML(render.message_html("Đang tải…"), elem_id="rag-corpus")
                gr.Markdown(f"### Thêm báo cáo\nPDF (có lớp chữ), DOCX, TXT, Markdown hoặc HTML; tối đa "
                            f"{MAX_UPLOAD_LABEL} mỗi tệp. Tệp được lưu vào thư mục `uploads/` của kho "
                            "và được lập chỉ mục ngay, không cần khởi động lại.")
                uploads = gr.File(label="Tệp báo cáo", file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                                  type="filepath", elem_id="rag-upload")
                upload_btn = gr.Button("Thêm vào kho và lập chỉ mục", variant="primary", elem_id="rag-upload-btn")
                upload_status = gr.HTML("", elem_id="rag-upload-status")
                gr.Markdown("### Xoá báo cáo khỏi kho\nBáo cáo (cùng các bản khác định dạng của nó) không còn được "
                            "tìm kiếm; tệp được chuyển vào thư mục `da-xoa/` của chỉ mục, không bị xoá hẳn.")
                with gr.Row():
                    remove_choice = gr.Dropdown([], value=None, label="Báo cáo", scale=4, elem_id="rag-remove-choice")
                    remove_btn = gr.Button("Xoá khỏi kho", variant="stop", scale=1, min_width=120,
                                           elem_id="rag-remove-btn")
                remove_status = gr.HTML("", elem_id="rag-remove-status")
                remove_confirmed = gr.Checkbox(False, visible=False)

        filter_inputs = [question, province, district, year, doc_type, top_k]
        gr.on([question.submit, ask_btn.click], on_ask, filter_inputs, [results, answer_state, exported],
              api_visibility="private", concurrency_id="search")
        examples.load_input_event.then(on_ask, filter_inputs, [results, answer_state, exported],
                                       api_visibility="private", concurrency_id="search")
        gr.api(api_ask, api_name="ask", concurrency_id="search")
        province.change(on_province, [province], [district], api_visibility="private", queue=False)
        for button, fmt in ((docx_btn, "docx"), (md_btn, "md")):  # the page reads the ticked cards, then exports
            button.click(None, None, [picked], js=PICKED_RANKS, api_visibility="private").then(
                lambda a, p, fmt=fmt: on_export(a, p, fmt), [answer_state, picked], [exported],
                api_visibility="private")
        corpus_outputs = [corpus_html, province, district, year, doc_type, remove_choice]
        remove_btn.click(on_remove, [remove_choice, remove_confirmed], [remove_status, *corpus_outputs],
                         js=REMOVE_CONFIRM, api_visibility="private", concurrency_limit=1, concurrency_id="ingest",
                         show_progress_on=[remove_status])
        upload_btn.click(on_upload, [uploads], [upload_status, *corpus_outputs,
                                                uploads], api_visibility="private", concurrency_limit=1,
                         concurrency_id="ingest", show_progress_on=[upload_status])  # one bar, where the outcome goes
        blocks.load(refresh, None, [*corpus_outputs, results],
                    api_visibility="private")
    return blocks


# ---------------------------------------------------------------- the web app

def _gradio_app(app: FastAPI) -> Any:
    for route in app.routes:
        sub = getattr(route, "app", None)
        if sub is not None and hasattr(sub, "get_blocks"):
            return sub
    return None


def _logged_in(gradio_app: Any, request: Request, auth_required: bool) -> bool:
    """Whether the request carries Gradio's login cookie (always true when no login is configured)."""
    if not auth_required:
        return True
    tokens = getattr(gradio_app, "tokens", None)
    cookie_id = getattr(gradio_app, "cookie_id", None)
    if tokens is None or cookie_id is None:  # unknown Gradio internals: fail closed
        return False
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and tokens.get(token) is not None


def _source_response(path: Path) -> Response:
    fmt = SUPPORTED_SUFFIXES[path.suffix.lower()]
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=60",
               "Referrer-Policy": "no-referrer"}
    if fmt == "pdf":
        return FileResponse(path, media_type="application/pdf", headers=headers, filename=path.name,
                            content_disposition_type="inline")
    if fmt == "docx":
        return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                            headers=headers, filename=path.name, content_disposition_type="attachment")
    # text, Markdown and HTML reports are shown as plain UTF-8 text, never rendered as a page
    try:
        body = decode_text(path.read_bytes(), path).encode("utf-8")
    except (RagError, UnicodeDecodeError, OSError):
        body = path.read_bytes()
    headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return Response(body, media_type="text/plain; charset=utf-8", headers=headers)


class LoginLimiter:
    """Failed logins per client address in a sliding window.

    An attempt counts as a failure from the moment it arrives and is struck off if it succeeds, so a burst
    sent all at once is capped like a sequence. Used from the event loop only (no lock needed)."""

    def __init__(self, max_failures: int = LOGIN_MAX_FAILURES, window: float = LOGIN_WINDOW_SECONDS,
                 clock=time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def admit(self, client: str) -> tuple[bool, float]:
        """(True, when) for an attempt that may go on; (False, seconds to wait) for one refused."""
        now = self.clock()
        if client not in self._attempts and len(self._attempts) >= LOGIN_TRACKED_CLIENTS:
            self._forget_idle(now)
        recent = self._attempts.setdefault(client, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.max_failures:
            return False, recent[0] + self.window - now
        recent.append(now)
        return True, now

    def succeeded(self, client: str, when: float) -> None:
        recent = self._attempts.get(client)
        if recent is not None and when in recent:
            recent.remove(when)

    def at_limit(self, client: str) -> bool:
        return len(self._attempts.get(client, ())) >= self.max_failures

    def _forget_idle(self, now: float) -> None:
        for client in [c for c, q in self._attempts.items() if not q or q[-1] <= now - self.window]:
            del self._attempts[client]


class LoginRateLimit:
    """ASGI middleware: answers a login attempt 429 (with Retry-After) while its address is over the limit."""

    def __init__(self, app: Any, limiter: LoginLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        admitted, when = self.limiter.admit(client)
        if not admitted:
            wait = max(1, math.ceil(when))
            response = JSONResponse({"detail": f"Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {wait} giây."},
                                    status_code=429, headers={"Retry-After": str(wait)})
            await response(scope, receive, send)
            return
        status = 500  # if the app fails before answering, the attempt stays counted

        async def watch(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if status < 400:
                self.limiter.succeeded(client, when)
            elif self.limiter.at_limit(client):  # logged as the address reaches the limit, not for each refusal
                log.warning("%d failed logins from %s: further attempts refused for up to %d s",
                            self.limiter.max_failures, client, self.limiter.window)


def create_app(service: SearchService, auth: tuple[str, str] | None = None,
               login_limiter: LoginLimiter | None = None) -> FastAPI:
    """The ASGI app: the source route, then the Gradio Blocks mounted at ``/``, behind the login limit."""
    blocks = build_blocks(service)
    blocks.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    limiter = login_limiter or LoginLimiter()
    app.add_middleware(LoginRateLimit, limiter=limiter)
    state: dict[str, Any] = {}

    @app.get(render.SOURCE_ROUTE + "/{doc_id}/{name}")
    def source(doc_id: int, name: str, request: Request) -> Response:
        if not _logged_in(state.get("gradio"), request, auth is not None):
            raise HTTPException(status_code=401, detail="Cần đăng nhập.")
        path = service.source_file(doc_id)
        if path is None or path.name != name:
            raise HTTPException(status_code=404, detail="Không có tệp này trong kho đã lập chỉ mục.")
        return _source_response(path)

    @app.get(render.PAGE_ROUTE + "/{doc_id}/{page}.png")
    def page_image(doc_id: int, page: int, request: Request, c: int = 0) -> Response:
        """A PDF page as an image with the cited passage highlighted (ui.source_view)."""
        if not _logged_in(state.get("gradio"), request, auth is not None):
            raise HTTPException(status_code=401, detail="Cần đăng nhập.")
        png = service.page_image(doc_id, page, c)
        if png is None:
            raise HTTPException(status_code=404, detail="Không có trang này cho đoạn trích này.")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300",
                                                             "X-Content-Type-Options": "nosniff"})

    @app.get(render.TEXT_ROUTE + "/{doc_id}")
    def text_view(doc_id: int, request: Request, c: int = 0) -> Response:
        """A DOCX/TXT source's text with the cited passage marked; the link's #passage scrolls to it."""
        if not _logged_in(state.get("gradio"), request, auth is not None):
            raise HTTPException(status_code=401, detail="Cần đăng nhập.")
        view = service.text_view(doc_id, c)
        if view is None:
            raise HTTPException(status_code=404, detail="Không có đoạn trích này trong kho.")
        title, body = view
        page = (f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{render.esc(title)}</title>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
                "body{font:16px/1.6 system-ui,sans-serif;max-width:52em;margin:1em auto;padding:0 1em;color:#111}"
                "h1{font-size:18px;color:#1e3a8a} mark{background:#fde68a;padding:2px 0}</style></head>"
                f"<body><h1>{render.esc(title)}</h1>{body}</body></html>")
        headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                   "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    @app.get(render.CSV_ROUTE)
    def rows_as_csv(request: Request, q: str = "", province: str = "", district: str = "", year: str = "",
                    doc_type: str = "") -> Response:
        """The rows of a list answer as CSV: the question is asked again with the same filters."""
        if not _logged_in(state.get("gradio"), request, auth is not None):
            raise HTTPException(status_code=401, detail="Cần đăng nhập.")
        result = service.ask(q, province, district, year, doc_type)
        if result.answer is None:
            raise HTTPException(status_code=400, detail=result.message)
        if result.answer.rows is None:
            raise HTTPException(status_code=404, detail="Câu hỏi này không có câu trả lời dạng bảng.")
        name = render.csv_filename(result.answer.question)
        headers = {"Content-Disposition": f"attachment; filename=\"{name}\"", "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "no-store"}
        return Response(rows_csv(result.answer.to_json()), media_type="text/csv; charset=utf-8", headers=headers)

    gr.mount_gradio_app(app, blocks, path="/", auth=auth, auth_message=LOGIN_MESSAGE,
                        show_error=False, ssr_mode=False, max_file_size=MAX_UPLOAD_BYTES, footer_links=["api"],
                        theme=_theme(), css=render.CSS + EXTRA_CSS, allowed_paths=[], blocked_paths=[],
                        mcp_server=False, i18n=gr.I18n(en=UI_STRINGS, vi=UI_STRINGS), head=HEAD)
    # Gradio checks that a file named in an event was really uploaded (in its upload folder, links resolved)
    # only once the Blocks count as launched, which launch() marks and mount_gradio_app does not: without it
    # an event could name any server file as an "upload" (processing_utils._check_allowed). Nothing else in
    # Gradio reads the flag; the service checks the folder again on its side (SearchService.add_reports).
    blocks.has_launched = True
    state["gradio"] = _gradio_app(app)
    app.state.rag_service = service
    app.state.blocks = blocks
    app.state.login_limiter = limiter
    return app


class BackgroundServer:
    """Run an app with uvicorn in a daemon thread (tests, embedding); ``port=0`` picks a free port."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                    lifespan="on", ws="none",
                                                    timeout_graceful_shutdown=3))
        self.thread = threading.Thread(target=self.server.run, name="rag-ui", daemon=True)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.05)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``user:password`` -> (user, password); None or empty -> no login."""
    if value is None or not value.strip():
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ConfigError("--auth / RAG_AUTH must look like user:password", "e.g. --auth canbo:mat-khau")
    return user.strip(), password


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(index_dir: Path, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          config: Path | None = None, backend: str | None = None, store: str | None = None) -> None:
    """Start the interface (blocking). Called by ``rag serve`` and ``make run``."""
    settings = load_settings(config, backend=backend, store=store)
    credentials = parse_auth(auth if auth is not None else os.environ.get("RAG_AUTH"))
    service = SearchService(index_dir, settings)
    if service.load_error:  # the page says it in Vietnamese; the terminal gets the library's detail
        print(f"rag serve: {service.load_detail or service.load_error}", file=sys.stderr)
    app = create_app(service, auth=credentials)
    if not _is_loopback(host) and credentials is None:
        print(f"rag serve: warning: listening on {host} without a login; anyone on the network can search and "
              "upload. Use --auth user:password (or RAG_AUTH).", file=sys.stderr)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"rag serve: open http://{shown}:{port}/  (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
