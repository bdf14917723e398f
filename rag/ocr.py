"""OCR of scanned PDF pages: Tesseract with its Vietnamese model, through pytesseract.

Pages are rendered by pypdfium2 (no poppler needed) in the calling thread (PDFium is not
thread-safe) and recognised by ``tesseract`` processes running in parallel, at most
``OcrSettings.workers`` at a time. Each page gives its lines (an empty line between
paragraphs) and the mean confidence of its words (0-100).

Results are cached per file content (``<cache>/<sha256>.json``), keyed by the engine
(Tesseract version, language, resolution), so re-ingesting a scanned report costs nothing.

Nothing here raises when Tesseract is missing: ``ocr_unavailable()`` says what to install,
and the loader skips image-only PDFs with that reason.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .filehash import file_sha256

log = logging.getLogger("rag.ocr")

OCR_LANG = "vie"
DEFAULT_WORKERS = 2
DEFAULT_DPI = 0  # 0: the scan's own resolution (AUTO_DPI_RANGE), FALLBACK_DPI when the page has no image
AUTO_DPI_RANGE = (150, 400)
FALLBACK_DPI = 300
MAX_RENDER_PIXELS = 40_000_000  # an oversized page is rendered at a lower resolution (A4 at 400 dpi: 15.5 M)
DEFAULT_MIN_CONFIDENCE = 70.0
DEFAULT_PAGE_TIMEOUT_S = 300
CACHE_VERSION = 2
INSTALL_HINT = "install tesseract-ocr and tesseract-ocr-vie (apt) to read scanned PDFs"
INSTALL_COMMAND = "scripts/install-system-deps.sh (or: sudo apt-get install -y tesseract-ocr tesseract-ocr-vie)"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class OcrPage:
    """One OCRed page: its lines (``""`` between paragraphs) and the mean word confidence (0-100).

    ``confidence`` is None when Tesseract found no words on the page (a blank scan).
    """

    page: int  # 1-based
    lines: tuple[str, ...]
    confidence: float | None
    words: int

    def to_json(self) -> dict[str, object]:
        return {"page": self.page, "lines": list(self.lines), "confidence": self.confidence, "words": self.words}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "OcrPage":
        conf = data.get("confidence")
        return cls(int(data["page"]), tuple(str(x) for x in data.get("lines", ())),  # type: ignore[arg-type]
                   None if conf is None else float(conf), int(data.get("words", 0)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class OcrConfidence:
    """What a loaded document keeps about an OCRed page: its number, mean word confidence, word count."""

    page: int
    confidence: float | None
    words: int

    def percent(self) -> str:
        return "?" if self.confidence is None else f"{self.confidence:.0f}%"


def _env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return max(minimum, int(raw))
    except ValueError:
        log.warning("ignoring %s=%r (not an integer); using %d", name, raw, default)
        return default


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        log.warning("ignoring %s=%r (not a number); using %s", name, raw, default)
        return default


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """``$RAG_OCR_CACHE`` (``off``/``0``/``none`` disables the cache), else ``~/.cache/vn-report-rag/ocr``."""
    env = os.environ if env is None else env
    raw = env.get("RAG_OCR_CACHE")
    if raw is not None:
        if raw.strip().lower() in ("", "0", "off", "none", "false", "no"):
            return None
        return Path(raw).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vn-report-rag" / "ocr"


@dataclass(frozen=True)
class OcrSettings:
    """How scanned pages are read. ``from_env`` reads ``RAG_OCR_*`` variables."""

    workers: int = DEFAULT_WORKERS            # RAG_OCR_WORKERS: tesseract processes at a time
    cache_dir: Path | None = None             # RAG_OCR_CACHE: folder of <sha256>.json; None = no cache
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # RAG_OCR_MIN_CONFIDENCE: below it a page is "low confidence"
    dpi: int = DEFAULT_DPI                    # RAG_OCR_DPI: render resolution; 0 = the scan's own (see docs/ocr.md)
    lang: str = OCR_LANG                      # RAG_OCR_LANG: Tesseract model(s), e.g. "vie" or "vie+eng"
    page_timeout_s: int = DEFAULT_PAGE_TIMEOUT_S
    enabled: bool = True                      # RAG_OCR=0 turns OCR off (image-only PDFs are then skipped)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "OcrSettings":
        env = os.environ if env is None else env
        return cls(workers=_env_int(env, "RAG_OCR_WORKERS", DEFAULT_WORKERS),
                   cache_dir=default_cache_dir(env),
                   min_confidence=_env_float(env, "RAG_OCR_MIN_CONFIDENCE", DEFAULT_MIN_CONFIDENCE),
                   dpi=_env_int(env, "RAG_OCR_DPI", DEFAULT_DPI, minimum=0),
                   lang=(env.get("RAG_OCR_LANG") or OCR_LANG).strip(),
                   enabled=env.get("RAG_OCR", "1").strip().lower() not in ("0", "off", "no", "false"))

    def with_overrides(self, **values: object) -> "OcrSettings":
        return replace(self, **{k: v for k, v in values.items() if v is not None})


# ---------------------------------------------------------------- availability

_status_lock = threading.Lock()
# PDFium is not thread-safe: every call into it (here, and ui.source_view's page images) holds this lock
PDFIUM_LOCK = threading.RLock()
_status_cache: dict[tuple[str, str], tuple[str | None, str]] = {}


def _tesseract_cmd() -> str:
    try:
        import pytesseract
    except ImportError:
        return "tesseract"
    return str(pytesseract.pytesseract.tesseract_cmd)


def _probe(lang: str) -> tuple[str | None, str]:
    """(None, version) when OCR in ``lang`` can run; (reason naming what to install, "") otherwise."""
    try:
        import pypdfium2  # noqa: F401
        import pytesseract
    except ImportError as exc:
        return (f"Python package {exc.name or 'pytesseract/pypdfium2'} is missing (pip install pytesseract pypdfium2); "
                f"{INSTALL_HINT}"), ""
    try:
        version = str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError:
        return f"tesseract is not installed; {INSTALL_HINT}", ""
    except Exception as exc:  # noqa: BLE001 - a broken binary is "not available", not a crash
        return f"tesseract does not run ({type(exc).__name__}); {INSTALL_HINT}", ""
    try:
        languages = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # noqa: BLE001
        return f"tesseract cannot list its language models ({type(exc).__name__}); {INSTALL_HINT}", ""
    missing = [code for code in lang.split("+") if code and code not in languages]
    if missing:
        return (f"Tesseract language model {'+'.join(missing)} is missing (found: {', '.join(sorted(languages)) or 'none'}); "
                f"{INSTALL_HINT}"), ""
    return None, version


def _status(lang: str) -> tuple[str | None, str]:
    key = (_tesseract_cmd(), lang)
    with _status_lock:
        if key not in _status_cache:
            _status_cache[key] = _probe(lang)
        return _status_cache[key]


def ocr_unavailable(lang: str = OCR_LANG) -> str | None:
    """None when Tesseract and its ``lang`` model can be used; else the reason, naming what to install."""
    return _status(lang)[0]


def reset_availability_cache() -> None:
    """Forget the result of the Tesseract probe (after installing it, or in tests)."""
    with _status_lock:
        _status_cache.clear()


def engine_key(settings: OcrSettings) -> str:
    """What OCR output depends on; a cache entry made with another engine key is not reused."""
    return f"v{CACHE_VERSION} tesseract {_status(settings.lang)[1]} lang={settings.lang} dpi={settings.dpi or 'auto'} psm=3"


# ---------------------------------------------------------------- cache

class OcrCache:
    """``<dir>/<sha256>.json``: ``{"engine": ..., "pages": {"3": OcrPage JSON}}``; a disabled cache when dir is None."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _file(self, digest: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{digest}.json"

    def load(self, digest: str, engine: str) -> dict[int, OcrPage]:
        path = self._file(digest)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("engine") != engine:
                return {}
            return {int(k): OcrPage.from_json(v) for k, v in data.get("pages", {}).items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("ignoring unreadable OCR cache %s (%s)", path, exc)
            return {}

    def save(self, digest: str, engine: str, pages: dict[int, OcrPage], source: str = "") -> None:
        path = self._file(digest)
        if path is None or not pages:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            payload = {"engine": engine, "source": source,
                       "pages": {str(n): pages[n].to_json() for n in sorted(pages)}}
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{digest[:16]}-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only home must not stop ingest
            log.warning("cannot write OCR cache %s (%s)", path, exc)


# ---------------------------------------------------------------- recognition

def _limit_tesseract_threads() -> None:
    # Tesseract's own OpenMP threads fight with our page-level parallelism: on 2 cores,
    # 2 pages at once with OMP_THREAD_LIMIT=1 run ~4x faster than without it (docs/ocr.md).
    # pytesseract passes os.environ to the tesseract process; an explicit setting is kept.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


_CONFUSIONS = ((re.compile(r"^V/[wWy]\b"), "V/v"),)  # "V/v" (về việc) of the header, read at 150 dpi as "V/w"


def _fix_confusions(line: str) -> str:
    for pattern, replacement in _CONFUSIONS:
        line = pattern.sub(replacement, line)
    return line


_PARAGRAPH_END = (".", ":", ";", "!", "?", "”", '"', ")", "/.")


def recognise_image(image, lang: str = OCR_LANG, timeout_s: int = DEFAULT_PAGE_TIMEOUT_S, page: int = 1) -> OcrPage:
    """Run Tesseract on a PIL image: lines (``""`` between paragraphs), mean word confidence, word count."""
    import pytesseract

    data = pytesseract.image_to_data(image, lang=lang, config="--psm 3", timeout=timeout_s,
                                     output_type=pytesseract.Output.DICT)
    lines: list[str] = []
    confidences: list[float] = []
    current: list[str] = []
    key: tuple[int, int, int] | None = None
    para: tuple[int, int] | None = None
    for i, word in enumerate(data.get("text", [])):
        word = (word or "").strip()
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        if not word or conf < 0:
            continue
        line_key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        if line_key != key:
            if current:
                lines.append(" ".join(current))
            current = []
            if para is not None and line_key[:2] != para and lines and lines[-1].endswith(_PARAGRAPH_END):
                lines.append("")  # Tesseract's paragraph break, after a finished sentence only
            key, para = line_key, line_key[:2]
        current.append(word)
        confidences.append(conf)
    if current:
        lines.append(" ".join(current))
    lines = [_fix_confusions(line) for line in lines]
    mean = round(sum(confidences) / len(confidences), 2) if confidences else None
    return OcrPage(page, tuple(lines), mean, len(confidences))


def _scan_dpi(pdf_page) -> float | None:
    """The resolution of the page's largest image as placed on the page (its scan), or None."""
    import pypdfium2.raw as pdfium_c

    best: tuple[float, float] | None = None
    try:
        for obj in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
            meta = obj.get_metadata()
            area = float(meta.width) * float(meta.height)
            if meta.horizontal_dpi > 0 and (best is None or area > best[0]):
                best = (area, float(meta.horizontal_dpi))
    except Exception:  # noqa: BLE001 - unusual image objects: fall back to the fixed resolution
        return None
    return None if best is None else best[1]


def render_dpi(pdf_page, dpi: int) -> float:
    """``dpi`` when set; else the scan's own resolution within ``AUTO_DPI_RANGE`` (no resampling of a
    150-300 dpi scan, which measured better than upsampling it, docs/ocr.md), else ``FALLBACK_DPI``."""
    if dpi > 0:
        return float(dpi)
    native = _scan_dpi(pdf_page)
    if native is None:
        return float(FALLBACK_DPI)
    low, high = AUTO_DPI_RANGE
    return min(max(native, low), high)


def _render(pdf, page: int, dpi: int):
    """Page ``page`` (1-based) of an open pypdfium2 document as a grayscale PIL image."""
    pdf_page = pdf[page - 1]
    try:
        scale = render_dpi(pdf_page, dpi) / 72
        width, height = pdf_page.get_size()  # points
        pixels = width * scale * height * scale
        if pixels > MAX_RENDER_PIXELS:  # a huge page (or a PDF built to exhaust memory)
            scale *= math.sqrt(MAX_RENDER_PIXELS / pixels) * 0.999  # pixel counts round up
        bitmap = pdf_page.render(scale=scale, grayscale=True)
        try:
            return bitmap.to_pil().copy()  # to_pil() shares the bitmap's buffer, freed by close()
        finally:
            bitmap.close()
    finally:
        pdf_page.close()


def ocr_pdf(path: Path, pages: Iterable[int], settings: OcrSettings | None = None,
            progress: Progress | None = None, digest: str | None = None) -> dict[int, OcrPage]:
    """OCR the given 1-based ``pages`` of the PDF at ``path``; cached pages are not redone.

    Raises ``OcrUnavailableError`` when Tesseract or its language model is missing. A page
    that Tesseract fails on (crash, timeout) is left out of the result and logged.
    """
    settings = settings or OcrSettings.from_env()
    reason = ocr_unavailable(settings.lang)
    if reason is not None:
        raise OcrUnavailableError(reason)
    wanted = sorted(set(pages))
    progress = progress or (lambda stage, done, total: None)
    cache = OcrCache(settings.cache_dir)
    engine = engine_key(settings)
    digest = digest or (file_sha256(path) if settings.cache_dir is not None else "")
    cached = cache.load(digest, engine) if digest else {}
    results = {n: cached[n] for n in wanted if n in cached}
    todo = [n for n in wanted if n not in results]
    total = len(wanted)
    progress("ocr", len(results), total)
    if not todo:
        return results

    import pypdfium2 as pdfium

    _limit_tesseract_threads()
    workers = max(1, settings.workers)
    fresh: dict[int, OcrPage] = {}
    finished = len(results)  # pages done, failed ones included, so progress reaches the total
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr") as pool:
            pending: dict[Future, int] = {}

            def collect(done: set[Future]) -> None:
                nonlocal finished
                for future in done:
                    number = pending.pop(future)
                    try:
                        fresh[number] = future.result()
                    except Exception as exc:  # noqa: BLE001 - one bad page must not lose the others
                        log.warning("OCR failed on %s p.%d: %s: %s", path, number, type(exc).__name__, exc)
                    finished += 1
                    progress("ocr", finished, total)

            try:
                for number in todo:
                    try:
                        with PDFIUM_LOCK:  # PDFium calls stay on this thread, one at a time in the process
                            image = _render(pdf, number, settings.dpi)
                    except Exception as exc:  # noqa: BLE001 - an unrenderable page is left out, like a failed one
                        log.warning("cannot render %s p.%d for OCR: %s: %s", path, number, type(exc).__name__, exc)
                        finished += 1
                        progress("ocr", finished, total)
                        continue
                    pending[pool.submit(recognise_image, image, settings.lang, settings.page_timeout_s, number)] = number
                    while len(pending) >= workers:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        collect(done)
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    collect(done)
            finally:
                for future in pending:
                    future.cancel()
    finally:
        with PDFIUM_LOCK:
            pdf.close()
        if fresh and digest:  # also after an interruption: finished pages are not redone
            cache.save(digest, engine, {**cached, **fresh}, source=Path(path).name)
    results.update(fresh)
    return results


class OcrUnavailableError(RuntimeError):
    """Tesseract or its language model is missing; ``reason`` says what to install."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- helpers for indexer, citations, CLI

def low_confidence(pages: Iterable[OcrConfidence], threshold: float | None = None) -> tuple[OcrConfidence, ...]:
    """Pages whose mean word confidence is below ``threshold`` (default: ``RAG_OCR_MIN_CONFIDENCE`` or 70)."""
    limit = OcrSettings.from_env().min_confidence if threshold is None else threshold
    return tuple(p for p in pages if p.confidence is not None and p.confidence < limit)


def confidence_for_pages(pages: Iterable[OcrConfidence], first: int | None, last: int | None) -> float | None:
    """The lowest OCR confidence among pages ``first..last`` (a chunk's span); None when none is OCRed."""
    if first is None:
        return None
    last = first if last is None else last
    values = [p.confidence for p in pages if first <= p.page <= last and p.confidence is not None]
    return min(values) if values else None


def ocr_note(confidence: float | None) -> str:
    """``(OCR, 87%)`` for a citation of OCRed text; ``""`` when the text is not OCRed."""
    if confidence is None or (isinstance(confidence, float) and math.isnan(confidence)):
        return ""
    return f"(OCR, {confidence:.0f}%)"


def skip_is_stale(code: str, settings: OcrSettings | None = None) -> bool:
    """True for a skip recorded because a scan could not be OCRed (code ``needs_ocr``: Tesseract missing,
    OCR off, or an index from before OCR) when OCR can run now: the indexer should read the unchanged
    file again instead of repeating the remembered skip."""
    settings = settings or OcrSettings.from_env()
    return settings.enabled and code == "needs_ocr" and ocr_unavailable(settings.lang) is None


def confidences_to_json(pages: Iterable[OcrConfidence]) -> str:
    """For storage (e.g. a ``documents.ocr_json`` column): ``[[page, confidence, words], ...]``."""
    return json.dumps([[p.page, p.confidence, p.words] for p in pages])


def confidences_from_json(text: str | None) -> tuple[OcrConfidence, ...]:
    return tuple(OcrConfidence(int(p), None if c is None else float(c), int(w)) for p, c, w in json.loads(text or "[]"))


__all__ = ["OcrPage", "OcrConfidence", "OcrSettings", "OcrCache", "OcrUnavailableError", "INSTALL_HINT",
           "ocr_unavailable", "ocr_pdf", "skip_is_stale", "recognise_image", "low_confidence", "confidence_for_pages", "ocr_note",
           "confidences_to_json", "confidences_from_json", "reset_availability_cache", "default_cache_dir"]
