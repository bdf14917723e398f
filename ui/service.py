"""What the interface does, without Gradio: ask, list the corpus, resolve sources, add reports.

One ``SearchService`` per server. It holds the open ``Searcher`` and swaps it for a new one
after an upload is indexed, or when another process (``rag ingest``) has published a new
generation (the index switches generations atomically; the loaded embedding model is reused).
Searches are serialised by a lock: the library's SQLite connection and query cache are shared,
and a search takes milliseconds.

Uploads are taken only from the web server's upload folder (Gradio's): a path that names any other
file on the server, directly, through ``..`` or through a symbolic link, is refused.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rag.answer import Answer
from rag.api import Searcher, ingest
from rag.citation import document_reference
from rag.config import Settings
from rag.filehash import file_sha256
from rag.errors import (ConfigError, DiskFullError, IndexBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError,
                        ModelUnavailableError, RagError, StoreUnreachableError)
from rag.index_dir import CURRENT, current_generation
from rag.loading import SUPPORTED_SUFFIXES, decode_text
from rag.retrieval import Filters

from .render import CorpusRow, csv_url, source_url

log = logging.getLogger("ui")

MAX_QUESTION_CHARS = 1000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_LABEL = "50 MB"
UPLOAD_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))
UPLOAD_FOLDER = "uploads"
REMOVED_FOLDER = "da-xoa"  # inside the index directory: out of the corpus (not indexed again), not deleted
ALL = ""   # the "no filter" choice of a dropdown
_RETIRE_SECONDS = 120.0  # an old Searcher is closed this long after it was replaced
OUTSIDE_UPLOADS = "tệp không nằm trong thư mục tải lên của máy chủ; chỉ nhận tệp vừa tải lên qua trang"


def default_upload_root() -> Path:
    """Where the web server keeps uploaded files: Gradio's rule (``gradio.utils.get_upload_folder``),
    repeated here so that this module needs no Gradio; a test checks that the two agree."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when ``CURRENT`` is replaced (``os.replace`` gives it a new inode), or None if absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def explain(exc: BaseException) -> str:
    """A Vietnamese message for a library error. The library's English message (what went wrong, in
    detail) goes to the server log, not to the page."""
    if isinstance(exc, RagError):
        log.warning("%s: %s", type(exc).__name__, exc)
    if isinstance(exc, IndexMissingError):
        return ("Chưa có chỉ mục. Hãy thêm báo cáo ở thẻ “Kho báo cáo”, hoặc chạy "
                "`rag ingest corpus/ --index index/` rồi tải lại trang.")
    if isinstance(exc, ModelUnavailableError):
        return ("Không nạp được mô hình nhúng. Kiểm tra cài đặt mô hình rồi khởi động lại "
                "(chi tiết trong nhật ký máy chủ).")
    if isinstance(exc, IndexCorruptError):
        return "Chỉ mục bị hỏng. Chạy `rag ingest --rebuild` để dựng lại (chi tiết trong nhật ký máy chủ)."
    if isinstance(exc, IndexMismatchError):
        return ("Chỉ mục được dựng với mô hình hoặc cấu hình khác cấu hình hiện tại. Chạy "
                "`rag ingest --rebuild` để dựng lại, hoặc dùng lại cấu hình cũ.")
    if isinstance(exc, IndexBusyError):
        return "Chỉ mục đang được một tiến trình khác cập nhật; vui lòng thử lại sau ít phút."
    if isinstance(exc, StoreUnreachableError):
        return (f"Không kết nối được máy chủ tìm kiếm Qdrant tại {exc.url}. Kiểm tra máy chủ (hoặc --store, "
                "RAG_STORE) rồi tải lại trang.")
    if isinstance(exc, ConfigError):
        return "Cấu hình không hợp lệ (rag.toml hoặc biến môi trường RAG_*); chi tiết ghi trong nhật ký máy chủ."
    if isinstance(exc, DiskFullError):
        return ("Đĩa đầy: chưa ghi được chỉ mục mới; chỉ mục cũ vẫn tra cứu được. Hãy giải phóng dung lượng "
                "đĩa rồi thử lại.")
    return "Đã xảy ra lỗi nội bộ; chi tiết ghi trong nhật ký máy chủ."


@dataclass
class AskResult:
    """An answer (or None) and a message to show above it (empty when all went well)."""

    answer: Answer | None
    message: str = ""
    kind: str = "info"
    question: str = ""

    def to_json(self) -> dict[str, object]:
        if self.answer is None:
            data: dict[str, object] = {"question": self.question, "answer": "", "found": False, "filters": {},
                                       "passages": []}
        else:
            data = self.answer.to_json()
            for p, jp in zip(self.answer.passages, data["passages"]):  # type: ignore[arg-type]
                jp["url"] = source_url(p.doc_id, p.source, p.page)
            if self.answer.rows:  # a list answer: "rows" come from Answer.to_json(); the CSV link is ours
                data["csv_url"] = csv_url(self.answer.question, self.answer.filters)
        data["message"] = self.message
        data["ok"] = self.answer is not None
        return data


# Why a file could not be indexed, in the words staff read (the library's English reason goes to the log).
SKIP_REASONS_VI = {
    "unsupported": "loại tệp không được hỗ trợ (chỉ nhận " + ", ".join(UPLOAD_SUFFIXES) + ")",
    "unreadable": "không mở được tệp",
    "empty": "tệp rỗng",
    "too_large": "tệp quá lớn hoặc quá phức tạp để đọc an toàn",
    "corrupt": "tệp bị hỏng, không mở được",
    "encrypted": "tệp PDF có mật khẩu; hãy xin bản không đặt mật khẩu",
    "not_text": "nội dung không phải văn bản đọc được (cần UTF-8, UTF-16 hoặc Windows-1258)",
    "no_text": "không tìm thấy chữ nào trong tệp",
    "needs_ocr": "PDF chỉ có ảnh quét và máy chủ chưa cài nhận dạng chữ (tesseract-ocr-vie)",
    "hidden": "tệp ẩn, không đọc",
    "outside": "liên kết tới tệp nằm ngoài thư mục kho, không đọc",
    "missing": "không còn tệp này",
    "error": "lỗi khi đọc tệp; chi tiết ghi trong nhật ký máy chủ",
}


def reason_vi(code: str) -> str:
    return SKIP_REASONS_VI.get(code, SKIP_REASONS_VI["unreadable"])


@dataclass(frozen=True)
class Copy:
    """An upload that is a copy of a report already in the archive: ``same_file`` when byte for byte
    (not kept), otherwise the same report in another format or version (kept, listed with it)."""

    name: str
    existing: str      # the existing report's official reference and file name
    same_file: bool


@dataclass
class UploadOutcome:
    added: list[str] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, skip code)
    error: str = ""

    def messages(self) -> list[tuple[str, str]]:
        """(kind, text) lines for the page: ``ok``, ``info``, ``warn`` or ``error``."""
        lines = []
        if self.added:
            lines.append(("ok", "Đã thêm và lập chỉ mục: " + ", ".join(self.added)))
        for c in self.copies:
            lines.append(("warn", f"{c.name} là bản sao của báo cáo đã có trong kho: {c.existing}; không thêm lại."
                          if c.same_file else
                          f"{c.name} là một bản khác của báo cáo đã có trong kho: {c.existing}; đã thêm, "
                          "xếp cùng báo cáo đó."))
        if self.unchanged:
            lines.append(("info", "Đã có sẵn trong kho (không đổi): " + ", ".join(self.unchanged)))
        for name, reason in self.rejected:
            lines.append(("error", f"Từ chối {name}: {reason}"))
        for name, code in self.skipped:
            lines.append(("error", f"Không đọc được {name}: {reason_vi(code)}. Tệp không được thêm vào kho."))
        if self.error:
            lines.append(("error", self.error))
        return lines or [("warn", "Chưa chọn tệp nào.")]


@dataclass(frozen=True)
class RemoveOutcome:
    """What removing a report did: its reference, the files moved out of the corpus, or why not."""

    removed: tuple[str, ...] = ()
    reference: str = ""
    error: str = ""

    def message(self) -> tuple[str, str]:
        if self.error:
            return "error", self.error
        return "ok", (f"Đã xoá khỏi kho: {self.reference} ({', '.join(Path(p).name for p in self.removed)}). "
                      f"Tệp được chuyển vào thư mục {REMOVED_FOLDER}/ của chỉ mục, có thể khôi phục.")


class SearchService:
    def __init__(self, index_dir: str | Path, settings: Settings, corpus_dir: str | Path | None = None,
                 searcher: Searcher | None = None, upload_root: str | Path | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self._searcher = searcher
        self.load_error = ""
        self.load_detail = ""  # the library's English message behind load_error (what `rag serve` prints)
        self._embedder = searcher.embedder if searcher else None
        self._swap_lock = threading.Lock()
        self._search_lock = threading.Lock()
        self._ingest_lock = threading.Lock()
        self._follow_lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None  # of CURRENT when the open generation was checked
        self.corpus_dir = Path(corpus_dir) if corpus_dir else self._guess_corpus()
        self.upload_root = Path(upload_root) if upload_root else default_upload_root()
        self._sources: dict[int, Path] = {}
        self._roots: frozenset[Path] = frozenset()
        if searcher is None:
            self.reload()
        else:
            self._index_sources()

    # ------------------------------------------------------------ the open index
    @property
    def searcher(self) -> Searcher | None:
        return self._searcher

    def reload(self) -> None:
        """Open the index's live generation (again) and swap it in; keep the old one answering on failure."""
        self._stamp = _stamp(self.index_dir / CURRENT)  # taken first: a later switch is noticed next time
        try:
            fresh = Searcher.open(self.index_dir, settings=self.settings, embedder=self._embedder)
        except RagError as exc:
            if self._searcher is None:
                self.load_error, self.load_detail = explain(exc), str(exc)
                log.warning("cannot open index %s: %s", self.index_dir, exc)
            else:
                log.error("cannot reopen index %s: %s", self.index_dir, exc)
            return
        with self._swap_lock:
            old, self._searcher = self._searcher, fresh
            self._embedder = fresh.embedder
            self.load_error = ""
            self._index_sources()
        if old is not None:  # requests in flight may still read it: close it later
            timer = threading.Timer(_RETIRE_SECONDS, old.close)
            timer.daemon = True
            timer.start()

    def follow_index(self) -> None:
        """Reopen the index if another process has published a new generation since it was opened.

        Called before each question and corpus listing: a stat of ``CURRENT`` (about a microsecond),
        and only when it changed, a read of it; a failed reopen is not retried until it changes again."""
        stamp = _stamp(self.index_dir / CURRENT)
        if stamp == self._stamp or not self._follow_lock.acquire(blocking=False):
            return  # unchanged, or another request is already reopening it: answer from the open one
        try:
            if stamp == self._stamp:
                return
            if self._searcher is not None and self._live_generation() == self._searcher.index.directory.name:
                self._stamp = stamp  # CURRENT rewritten, same generation (or the service was given a Searcher)
                return
            log.info("index %s has a new generation; reopening it", self.index_dir)
            self.reload()
        finally:
            self._follow_lock.release()

    def _live_generation(self) -> str | None:
        """The name of the generation ``CURRENT`` names now (None if there is none or it is unreadable)."""
        try:
            live = current_generation(self.index_dir)
        except RagError:
            return None
        return live.name if live is not None else None

    def _guess_corpus(self) -> Path:
        """Where uploads go: ``corpus/`` of the working folder, else the folder next to the index."""
        if Path("corpus").is_dir():
            return Path("corpus")
        return self.index_dir.resolve().parent / "corpus"

    def _resolve(self, stored: str) -> Path | None:
        p = Path(stored)
        candidates = [p] if p.is_absolute() else [Path.cwd() / p, self.index_dir.resolve().parent / p]
        for c in candidates:
            if c.is_file():
                return c.absolute()
        return None

    def _index_sources(self) -> None:
        """Map document ids to files on disk, and remember the folders they live in."""
        sources: dict[int, Path] = {}
        roots: set[Path] = set()
        if self._searcher is not None:
            for doc in self._searcher.retriever.documents.values():
                path = self._resolve(doc.path)
                if path is not None:
                    sources[doc.id] = path
                    roots.add(path.parent.resolve())
        self._sources, self._roots = sources, frozenset(roots)

    # ------------------------------------------------------------ asking
    def ask(self, question: str | None, province: str | None = None, district: str | None = None,
            year: str | int | None = None, doc_type: str | None = None, top_k: int | float | None = 5) -> AskResult:
        question = " ".join((question or "").split())
        if not question:
            return AskResult(None, "Vui lòng nhập câu hỏi.", "warn")
        notice, kind = "", "info"
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
            notice, kind = (f"Câu hỏi dài hơn {MAX_QUESTION_CHARS} ký tự; chỉ dùng {MAX_QUESTION_CHARS} ký tự "
                            "đầu.", "warn")
        self.follow_index()
        searcher = self._searcher
        if searcher is None:
            return AskResult(None, self.load_error or "Chưa có chỉ mục.", "error", question)
        try:
            k = max(1, min(50, int(top_k or 5)))
            filters = Filters(province=province or None, district=district or None,
                              year=int(year) if str(year or "").strip() else None, doc_type=doc_type or None)
        except (TypeError, ValueError):
            return AskResult(None, "Bộ lọc không hợp lệ (năm phải là số).", "warn", question)
        try:
            with self._search_lock:
                answer = searcher.ask(question, top_k=k, filters=filters)
        except RagError as exc:
            return AskResult(None, explain(exc), "error", question)
        except Exception:  # noqa: BLE001 - the page shows a message, the log keeps the trace
            log.exception("search failed for %r", question)
            return AskResult(None, explain(RuntimeError()), "error", question)
        return AskResult(answer, notice, kind, question)

    # ------------------------------------------------------------ corpus
    def filter_choices(self) -> dict[str, list[str]]:
        provinces, districts, years, types = set(), set(), set(), set()
        by_province: dict[str, set[str]] = {}
        self.follow_index()
        if self._searcher is not None:
            for doc in self._searcher.retriever.documents.values():
                m = doc.meta
                if m.province:
                    provinces.add(m.province)
                    by_province.setdefault(m.province, set()).update(d for d in m.districts if d)
                districts.update(d for d in m.districts if d)
                if m.year:
                    years.add(str(m.year))
                if m.doc_type:
                    types.add(m.doc_type)
        return {"province": sorted(provinces), "district": sorted(districts),
                "year": sorted(years, reverse=True), "doc_type": sorted(types),
                "district_by_province": {k: sorted(v) for k, v in by_province.items()}}

    def stats(self) -> tuple[int, int]:
        self.follow_index()
        s = self._searcher
        if s is None:
            return 0, 0
        canonical = [d for d in s.retriever.documents.values() if d.canonical_id in (None, d.id)]
        return len(canonical), len(s.index.chunk_ids)

    def corpus(self) -> tuple[list[CorpusRow], list[tuple[str, str]], str]:
        self.follow_index()
        s = self._searcher
        if s is None:
            return [], [], self.load_error or "Chưa có chỉ mục."
        with self._search_lock:
            counts = s.index.store.chunk_counts()
            # a file that was never kept (an unreadable upload is deleted) is not listed under its path
            skipped = sorted((p, reason_vi(skip.code)) for p, skip in s.index.store.skipped_by_path().items()
                             if self._resolve(p) is not None)
        docs = s.retriever.documents
        copies: dict[int, list[str]] = {}
        for d in docs.values():
            copies.setdefault(d.canonical_id or d.id, []).append(d.format.upper())
        rows = []
        for d in sorted(docs.values(), key=lambda d: (d.meta.province, d.meta.year or 0, d.path)):
            if d.canonical_id not in (None, d.id):
                continue
            m = d.meta
            place = ", ".join(x for x in ("; ".join(m.districts), m.province) if x)
            date = "/".join(reversed(m.date.split("-"))) if m.date else ""
            rows.append(CorpusRow(d.id, d.path, m.doc_type, m.number, m.issuer, date, m.title, place,
                                  counts.get(d.id, 0), sorted(set(copies.get(d.id, [d.format.upper()]))),
                                  document_reference(m)))
        manifest = s.index.manifest
        summary = (f"{len(rows)} báo cáo ({len(docs)} tệp), {len(s.index.chunk_ids)} đoạn được tìm kiếm · "
                   f"mô hình {manifest.model.get('name')} · chỉ mục {manifest.generation}")
        return rows, skipped, summary

    def source_file(self, doc_id: int) -> Path | None:
        """The file of an indexed document, if it still lies inside the folders of the indexed corpus."""
        path = self._sources.get(doc_id)
        if path is None or not path.is_file():
            return None
        real = path.resolve()
        if real.parent not in self._roots:  # e.g. a symbolic link pointing out of the corpus
            return None
        if real.suffix.lower() not in SUPPORTED_SUFFIXES:
            return None
        return real

    # ------------------------------------------------------------ the passage in its source
    def _passage(self, doc_id: int, chunk_id: int):
        """The stored passage ``chunk_id`` of document ``doc_id`` (None when either is unknown)."""
        searcher = self._searcher
        if searcher is None or doc_id not in searcher.retriever.documents:
            return None
        with self._search_lock:
            chunk = searcher.index.store.chunks_by_id([chunk_id]).get(chunk_id)
        return chunk if chunk is not None and chunk.doc_id == doc_id else None

    def page_image(self, doc_id: int, page: int, chunk_id: int) -> bytes | None:
        """PNG of page ``page`` of an indexed PDF with passage ``chunk_id`` highlighted; None when the
        document, passage or page does not go together (only the passage's own pages are shown)."""
        from .source_view import PageRefused, render_passage_page

        path = self.source_file(doc_id)
        chunk = self._passage(doc_id, chunk_id)
        if path is None or chunk is None or path.suffix.lower() != ".pdf" or not chunk.page:
            return None
        if not chunk.page <= page <= (chunk.page_end or chunk.page):
            return None
        try:
            return render_passage_page(path, page, chunk.text).png
        except PageRefused as exc:
            log.warning("page %d of %s not shown: %s", page, path, exc)
            return None

    def text_view(self, doc_id: int, chunk_id: int) -> tuple[str, str] | None:
        """(title, HTML of the document's indexed text with the passage marked) for a DOCX/TXT source."""
        from .source_view import highlight_text_html

        chunk = self._passage(doc_id, chunk_id)
        if chunk is None:
            return None
        with self._search_lock:
            doc = self._searcher.index.store.document(doc_id)
        return document_reference(doc.meta), highlight_text_html(doc.text, chunk.text)

    # ------------------------------------------------------------ uploads
    def _uploaded_file(self, tmp: str | Path) -> Path | None:
        """The real path of an uploaded file, or None (logged) when it is not inside the upload folder."""
        real = os.path.realpath(tmp)
        if _inside(real, os.path.realpath(self.upload_root)):
            return Path(real)
        log.warning("upload refused: %r resolves to %r, outside the upload folder %s", str(tmp), real,
                    self.upload_root)
        return None

    def add_reports(self, files: list[tuple[str, str]],
                    progress: Callable[[str, int, int], None] | None = None) -> UploadOutcome:
        """Copy uploaded files (temp path, original name) into ``corpus/uploads/`` and index them.

        A temp path must lie in the upload folder once links and ``..`` are resolved: the path comes from
        the browser, and anything else would let a page visitor have a server file indexed and shown."""
        outcome = UploadOutcome()
        if not files:
            return outcome
        if not self._ingest_lock.acquire(blocking=False):
            outcome.error = "Đang lập chỉ mục một tệp khác; vui lòng thử lại sau ít phút."
            return outcome
        try:
            targets: dict[Path, str] = {}
            folder = self.corpus_dir / UPLOAD_FOLDER
            by_hash = self._documents_by_hash()
            for tmp, name in files:
                display = safe_name(name)
                real = self._uploaded_file(tmp)
                reason = OUTSIDE_UPLOADS if real is None else check_upload(real, name)
                if reason:
                    outcome.rejected.append((display, reason))
                    continue
                same = by_hash.get(file_sha256(real))
                if same is not None and self._resolve(same.path) is not None:  # byte for byte a report we hold
                    outcome.copies.append(Copy(display, _describe(same), same_file=True))
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                dest = _place(folder, display, real)
                if not dest.exists():
                    shutil.copyfile(real, dest)  # the path that was checked, not the one that was sent
                targets[dest] = dest.name
            if not targets:
                return outcome
            try:
                report = ingest(list(targets), self.index_dir, settings=self.settings, embedder=self._embedder,
                                progress=progress)
            except RagError as exc:
                outcome.error = explain(exc)
                return outcome
            except Exception:  # noqa: BLE001
                log.exception("ingest of uploads failed")
                outcome.error = explain(RuntimeError())
                return outcome
            skipped = {Path(s.path).name: s.code for s in report.skipped}
            indexed = {Path(p).name for p in report.indexed}
            self.reload()
            copies = self._copies_of(set(report.indexed))
            for dest, name in targets.items():
                if name in skipped:
                    outcome.skipped.append((name, skipped[name]))
                    dest.unlink(missing_ok=True)  # nothing searchable: do not keep it in the corpus
                elif name in copies:
                    outcome.copies.append(Copy(name, copies[name], same_file=False))
                elif name in indexed:
                    outcome.added.append(name)
                else:
                    outcome.unchanged.append(name)
            return outcome
        finally:
            self._ingest_lock.release()


    def _documents_by_hash(self) -> dict:
        searcher = self._searcher
        return {} if searcher is None else {d.content_hash: d for d in searcher.retriever.documents.values()}

    def _copies_of(self, paths: set[str]) -> dict[str, str]:
        """Of the files just indexed (their index keys), those the index groups with a report it already
        held: file name -> that report."""
        searcher = self._searcher
        if searcher is None:
            return {}
        groups: dict[int, list] = {}
        for d in searcher.retriever.documents.values():
            groups.setdefault(d.canonical_id or d.id, []).append(d)
        out = {}
        for group in groups.values():
            earlier = [d for d in group if d.path not in paths]
            for d in group:
                if earlier and d.path in paths:
                    out[Path(d.path).name] = _describe(earlier[0])
        return out

    # ------------------------------------------------------------ removing a report
    def remove_report(self, doc_id: int) -> RemoveOutcome:
        """Take a report (and its copies in other formats) out of the archive: its files are moved out of the
        corpus into the index's ``da-xoa/`` folder and the index is updated, then reopened."""
        searcher = self._searcher
        if searcher is None or doc_id not in searcher.retriever.documents:
            return RemoveOutcome(error="Không có báo cáo này trong kho (có thể đã được xoá).")
        if not self._ingest_lock.acquire(blocking=False):
            return RemoveOutcome(error="Đang lập chỉ mục; vui lòng thử lại sau ít phút.")
        try:
            docs = searcher.retriever.documents
            group = [d for d in docs.values() if (d.canonical_id or d.id) == (docs[doc_id].canonical_id or doc_id)]
            files = [(d, self.source_file(d.id)) for d in group]
            if any(path is None for _, path in files):
                return RemoveOutcome(error="Không tìm thấy tệp của báo cáo trong thư mục kho; không xoá được.")
            trash = self.index_dir / REMOVED_FOLDER
            trash.mkdir(parents=True, exist_ok=True)
            for _, path in files:
                shutil.move(str(path), str(_place(trash, path.name, path)))
            try:
                ingest([path for _, path in files], self.index_dir, settings=self.settings, embedder=self._embedder)
            except RagError as exc:
                return RemoveOutcome(error=explain(exc))
            self.reload()
            return RemoveOutcome(tuple(d.path for d, _ in files), _describe(docs[doc_id]))
        finally:
            self._ingest_lock.release()


def _describe(doc) -> str:
    """A report as staff know it: its official reference, then its file name."""
    return f"{document_reference(doc.meta)} (tệp {Path(doc.path).name})"


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` lies strictly below ``folder`` (both real, absolute paths)."""
    return path != folder and os.path.commonpath([path, folder]) == folder


def safe_name(name: str) -> str:
    """A plain file name for the upload folder: no folders, no odd characters, not hidden."""
    base = unicodedata.normalize("NFC", Path(str(name).replace("\\", "/")).name)
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w\-. ]+", "_", stem).strip(" ._") or "bao-cao"
    return stem[:100] + re.sub(r"[^\w.]", "", suffix)


def check_upload(path: Path, name: str) -> str:
    """Why an uploaded file is refused (empty string when it is acceptable)."""
    suffix = Path(str(name)).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return (f"loại tệp {suffix or '(không có đuôi)'} không được hỗ trợ; chỉ nhận "
                + ", ".join(UPLOAD_SUFFIXES))
    try:
        st = path.stat()
    except OSError:
        return "không đọc được tệp tải lên"
    if not stat.S_ISREG(st.st_mode):  # a folder, or a pipe that would block the read below
        return "không đọc được tệp tải lên"
    size = st.st_size
    if size == 0:
        return "tệp rỗng"
    if size > MAX_UPLOAD_BYTES:
        return f"tệp lớn hơn {MAX_UPLOAD_LABEL}"
    with open(path, "rb") as fh:
        head = fh.read(65536)
    fmt = SUPPORTED_SUFFIXES[suffix]
    if fmt == "pdf" and not head.lstrip()[:5] == b"%PDF-":
        return "nội dung không phải PDF"
    if fmt == "docx":
        try:
            with zipfile.ZipFile(path) as z:
                if "word/document.xml" not in z.namelist():
                    return "nội dung không phải DOCX"
        except (zipfile.BadZipFile, OSError):
            return "nội dung không phải DOCX"
    if fmt in ("txt", "md", "html"):
        if head.lstrip()[:5] == b"%PDF-" or head[:4] == b"PK\x03\x04":
            return "nội dung không phải văn bản"
        try:
            decode_text(path.read_bytes(), path)
        except (RagError, UnicodeDecodeError):
            return "nội dung không phải văn bản (cần UTF-8, UTF-16 hoặc Windows-1258)"
    return ""


def _place(folder: Path, name: str, tmp: Path) -> Path:
    """``folder/name``, or ``name-2``… when another file of that name is there (the same content reuses it)."""
    digest = file_sha256(tmp)
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while True:
        candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if not candidate.exists() or file_sha256(candidate) == digest:
            return candidate
        n += 1


