"""The library's front door: ``ingest`` and ``Searcher`` (open once, ask many times)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

from .backend import SearchBackend
from .answer import (Answer, AnswerRow, Passage, best_sentences, compose_answer, compose_list_answer,
                     compose_total_answer, coverage)
from .citation import format_citation, format_date
from .config import Settings, load_settings
from .embedding import Embedder, ModelSpec
from .errors import RagError
from .index_dir import Manifest, OpenIndex, current_generation, open_index
from .indexer import IngestReport, Ingestor
from .listing import PASSAGE_DEPTH, ListAnswerer
from .ocr import confidence_for_pages
from .provinces import MERGER_YEAR, former_names
from .question import ParsedQuestion, total_text
from .retrieval import Filters, HybridRetriever
from .vntext import fold, quantity_phrases


def ingest(paths: list[str | Path], index_dir: str | Path = "index", settings: Settings | None = None,
           rebuild: bool = False, embedder: Embedder | None = None,
           progress: Callable[[str, int, int], None] | None = None, wait: float | None = 0.0,
           on_wait: Callable[[str], None] | None = None) -> IngestReport:
    """Index ``paths`` (files or folders) into ``index_dir``, incrementally unless ``rebuild``.

    One ingest writes an index at a time: while another holds it, wait up to ``wait`` seconds
    (None: as long as it takes; ``on_wait`` is told once), then raise ``IndexBusyError``."""
    ingestor = Ingestor(Path(index_dir), settings or load_settings(), embedder=embedder, progress=progress,
                        wait=wait, on_wait=on_wait)
    return ingestor.run([Path(p) for p in paths], rebuild=rebuild)


class Searcher:
    """An open index plus its model: ``ask`` returns cited passages and an answer."""

    def __init__(self, index: OpenIndex, embedder: Embedder, settings: Settings,
                 backend: SearchBackend | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        if getattr(embedder, "backend", "torch") == "torch":
            # one question is a tiny batch: more PyTorch threads than this only wait on a busy machine
            # (applied around query embedding only; an onnxruntime session gets it when it is made, in open)
            embedder.query_threads = settings.query_threads
        self.retriever = HybridRetriever(index, embedder, settings, backend)
        self.backend = self.retriever.backend
        self.lister = ListAnswerer(self.retriever)
        # one SQLite connection and one query-embedding cache: questions from several threads take turns
        self._lock = threading.RLock()
        self._alternates = self._format_alternates()

    @classmethod
    def open(cls, index_dir: str | Path = "index", settings: Settings | None = None,
             embedder: Embedder | None = None) -> "Searcher":
        """Open the index and load its model. The two overlap (checksums and reading the ONNX file
        release the GIL): at 94k passages the ONNX server is ready 1.1 s sooner (docs/benchmarks.md)."""
        settings = settings or load_settings()
        model = _manifest_model(Path(index_dir))
        if model is not None and ((embedder is not None and embedder.spec.name == model["name"])
                                  or (settings.model and settings.model != model["name"])):
            model = None  # the caller's embedder fits, or open_index is about to refuse the index
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-model") as pool:
            loading = pool.submit(_load_embedder, model, settings) if model is not None else None
            try:
                index = open_index(Path(index_dir), expected_model=settings.model)
            except BaseException:
                if loading is not None:
                    loading.cancel()
                raise
            backend = None
            try:
                backend = _open_backend(index, settings)
                if loading is not None:
                    embedder = loading.result()
                elif embedder is None or embedder.spec.name != index.manifest.model["name"]:
                    embedder = _load_embedder(index.manifest.model, settings)
                return cls(index, embedder, settings, backend)
            except BaseException:
                if backend is not None:
                    backend.close()
                index.close()  # e.g. the model or the ONNX backend's packages are missing, the store is behind
                raise

    def close(self) -> None:
        self.backend.close()
        self.index.close()

    def parse(self, question: str) -> ParsedQuestion:
        """What the pipeline reads from ``question`` (rag.question): intent, condition, places, years …"""
        return self.retriever.read(" ".join(question.split()))

    def _format_alternates(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for doc in self.retriever.documents.values():
            if doc.canonical_id is not None and doc.canonical_id != doc.id:
                out.setdefault(doc.canonical_id, []).append(doc.path)
        return out

    def ask(self, question: str, top_k: int = 5, filters: Filters | None = None, mode: str = "hybrid",
            list_questions: bool = True) -> Answer:
        """Answer ``question``: top-k cited passages, or for a list question ("Những huyện nào có ...?")
        one row per district over the whole (filtered) archive."""
        # a lone surrogate (invalid UTF-8 in argv, "\ud800" in JSON) would stop the tokenizer: replace it
        question = " ".join(question.encode("utf-8", "replace").decode("utf-8").split())
        if not question:
            raise RagError("empty question", 'type a question, e.g. "Những huyện nào có sản phẩm OCOP 4 sao?"')
        with self._lock:
            return self._ask(question, top_k, filters or Filters(), mode, list_questions)

    def _ask(self, question: str, top_k: int, filters: Filters, mode: str, list_questions: bool) -> Answer:
        parsed = self.retriever.read(question)
        if list_questions and parsed.listing is not None:
            answer = self._list_answer(parsed, filters, mode, top_k)
            if answer.found or (parsed.intent == "list" and parsed.listing.counted):
                return answer
            # a total no unit's figure supports, a condition no passage states for any unit: the
            # archive may still answer it in prose (ordinary retrieval below)
        hits = self.retriever.search(parsed, k=top_k, filters=filters, mode=mode)
        weights = self._weights(parsed.terms)
        passages, best_coverage = self._passages([(h.chunk_id, h.score) for h in hits], parsed, weights)
        found = (bool(passages) and best_coverage >= self.settings.found_coverage and self._scope_covered(parsed, passages)
                 and _quantities_covered(parsed, passages))
        text = compose_answer(question, passages, found)
        if not found and (missing := self._missing_scope(parsed)):
            text = f"{missing} {text}"
        return Answer(question, text, found, passages, {k: v for k, v in asdict(filters).items() if v})

    def _missing_scope(self, parsed: ParsedQuestion) -> str:
        """"Kho chưa có báo cáo nào về Lào Cai." when no report of the archive is about a place (or of a
        year) the question names: why nothing answers, said plainly."""
        places = [p for p in parsed.scope.places if not self.retriever.has_reports_about(p)]
        years = [y for y in parsed.scope.years if not self.retriever.has_reports_of(y)]
        parts = [f"về {', '.join(_as_written(parsed.text, p) for p in places)}"] if places else []
        parts += [f"năm {', '.join(str(y) for y in years)}"] if years else []
        return f"Kho chưa có báo cáo nào {' và '.join(parts)}." if parts else ""

    def _weights(self, terms) -> dict[str, float]:
        return {t: max(self.index.lexical.idf(t), 0.1) for t in terms}

    def _list_answer(self, parsed: ParsedQuestion, filters: Filters, mode: str, top_k: int) -> Answer:
        """One row per unit (rag.listing), each citing the passage that states it; nothing found:
        the closest passages, for reading."""
        query = parsed.listing
        rows, related = self._list_rows(parsed, filters, mode, top_k)
        order = _passage_order(rows, related)
        scored = ([(cid, 1.0) for cid in order] if rows
                  else [(h.chunk_id, h.score) for h in self.retriever.search(parsed, k=5, filters=filters)])
        stating = {r.chunk_id: r.sentence_span for r in reversed(rows)}
        passages = self._passages(scored, parsed, self._weights(parsed.terms), stating)[0]
        answer_rows = [AnswerRow(r.unit, r.province, r.value, r.year, order[r.chunk_id], r.source, r.level, r.note)
                       for r in rows]
        if query.total and answer_rows:
            text = compose_total_answer(answer_rows, total_text(parsed.understood))
        else:
            text = compose_list_answer(answer_rows, parsed.condition, query.count_units, query.level)
        return Answer(parsed.text, text, bool(rows), passages, {k: v for k, v in asdict(filters).items() if v},
                      rows=answer_rows)

    def _list_rows(self, parsed: ParsedQuestion, filters: Filters, mode: str, top_k: int) -> tuple[list, list[int]]:
        """The rows, and the passages shown after theirs (a condition read from passages: the top
        ones, since a report may say it in other words than the question's)."""
        query = parsed.listing
        allowed = self.retriever.allowed_docs(filters)
        rows = self.lister.rows(query, allowed) if query.counted else []
        if rows or query.total or query.comparison is not None or (query.counted and query.qualifier is not None):
            # a total, a comparison or a qualifier ("5 sao") needs a count, which a passage cannot state without one
            return (list({fold(r.unit): r for r in reversed(rows)}.values())[::-1] if query.total else rows), []
        # nothing counted, or no figure read: the units whose passages state it ("đã xây dựng nhãn hiệu tập thể “…”")
        hits = self.retriever.search(parsed, k=PASSAGE_DEPTH, filters=_scoped(filters, query), mode=mode)
        rows = self.lister.passage_rows(query, hits, allowed)
        return rows, [h.chunk_id for h in hits[:top_k]] if rows else []

    def _passages(self, scored: list[tuple[int, float]], parsed: ParsedQuestion, weights: dict[str, float],
                  stating: dict[int, tuple[int, int]] | None = None) -> tuple[list[Passage], float]:
        """The passages with their citations and highlighted sentences, and the best coverage of the
        question's terms. A passage cited by list rows (``stating``) highlights the sentence that
        states them, and is not scored (thousands of rows: 7 s at 105k reports when it was)."""
        chunks = self.index.store.chunks_by_id([cid for cid, _ in scored])
        terms, quantities = list(parsed.terms), set(parsed.quantities)
        stating = stating or {}
        passages: list[Passage] = []
        best_coverage = 0.0
        for rank, (cid, score) in enumerate(scored, start=1):
            chunk = chunks[cid]
            doc = self.retriever.documents[chunk.doc_id]
            if cid not in stating:
                best_coverage = max(best_coverage, coverage(terms, weights, chunk.context + " " + chunk.text))
            highlights = ([stating[cid]] if cid in stating
                          else best_sentences(chunk.text, terms, weights, quantities=quantities))
            ocr_confidence = confidence_for_pages(doc.ocr, chunk.page, chunk.page_end)
            passages.append(Passage(
                rank=rank, source=doc.path, page=chunk.page, page_end=chunk.page_end,
                section=" › ".join(chunk.section_path), text=chunk.text, score=round(score, 6),
                citation=format_citation(doc.meta, chunk.section_path, chunk.page, chunk.page_end, ocr_confidence),
                chunk_id=chunk.id, doc_id=doc.id, start=chunk.start, end=chunk.end,
                highlights=highlights, issuer=doc.meta.issuer,
                number=doc.meta.number, date=format_date(doc.meta), doc_type=doc.meta.doc_type,
                province=self.retriever.province_of[doc.id], districts=list(doc.meta.districts), year=doc.meta.year,
                also_in=self._alternates.get(doc.id, []), ocr_confidence=ocr_confidence))
        return passages, best_coverage

    @staticmethod
    def _scope_covered(parsed: ParsedQuestion, passages: list[Passage]) -> bool:
        """A question naming a place or a year is answered only by a passage about that place and year
        (a current province is about the provinces merged into it)."""
        scope = parsed.scope
        if scope.is_empty():
            return True
        for p in passages:
            about = fold(" ".join([*p.districts, p.province, p.issuer, p.text]))
            merged = not scope.years or max(scope.years) > MERGER_YEAR  # rag.provinces.covers
            places_ok = all(any(fold(n) in about for n in (name, *(former_names(name) if merged else ())))
                            for name in scope.places)
            years_ok = not scope.years or p.year in scope.years or any(str(y) in p.text for y in scope.years)
            if places_ok and years_ok:
                return True
        return False


def _manifest_model(index_dir: Path) -> dict | None:
    """The model the live generation names, read ahead of opening it (None when there is none to read:
    ``open_index`` then says what is wrong)."""
    try:
        generation = current_generation(index_dir)
        return Manifest.read(generation).model if generation is not None else None
    except (RagError, OSError, ValueError, KeyError):
        return None


def _open_backend(index: OpenIndex, settings: Settings) -> SearchBackend | None:
    """The Qdrant backend ``settings.store`` names (None: the index directory's own arrays)."""
    if not settings.store:
        return None
    from .qdrant_backend import StoreSpec, open_backend

    spec = StoreSpec.parse(settings.store)
    return None if spec.is_local else open_backend(spec, index)


def _load_embedder(model: dict, settings: Settings) -> Embedder:
    return Embedder(ModelSpec(model["name"], model.get("query_prompt", ""), model.get("passage_prompt", "")),
                    batch_size=settings.batch_size, backend=settings.backend, query_threads=settings.query_threads)


def _as_written(question: str, place: str) -> str:
    """``place`` (folded) as the question writes it: "lao cai" -> "Lào Cai" from "… tỉnh Lào Cai …"."""
    words = re.findall(r"[\w']+", question)
    size = len(place.split())
    for i in range(len(words) - size + 1):
        if fold(" ".join(words[i:i + size])) == place:
            return " ".join(words[i:i + size])
    return place.title()


def _passage_order(rows: list, related: list[int]) -> dict[int, int]:
    """Rank of each cited passage: the rows' in their order, then the related ones."""
    order: dict[int, int] = {}
    for chunk_id in [r.chunk_id for r in rows] + related:
        order.setdefault(chunk_id, len(order) + 1)
    return order


def _scoped(filters: Filters, query) -> Filters:
    """The filters narrowed to the province and year a list question names (its passages are looked
    for there, not among the whole archive's)."""
    return replace(filters, province=filters.province or query.province,
                   year=filters.year or (query.years[0] if len(query.years) == 1 else None))


def _quantities_covered(parsed: ParsedQuestion, passages: list[Passage]) -> bool:
    """A question about "5 sao" is answered only by a passage that states "5 sao"."""
    wanted = set(parsed.quantities)
    return not wanted or any(wanted <= quantity_phrases(p.text) for p in passages)
