"""The library's front door: ``ingest`` and ``Searcher`` (open once, ask many times)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .answer import Answer, Passage, best_sentences, compose_answer, coverage, informative_terms
from .citation import format_citation, format_date
from .config import Settings, load_settings
from .embedding import Embedder, ModelSpec
from .index_dir import OpenIndex, open_index
from .indexer import IngestReport, Ingestor
from .retrieval import Filters, HybridRetriever
from .vntext import fold, quantity_phrases

FOUND_COVERAGE = 0.5


def ingest(paths: list[str | Path], index_dir: str | Path = "index", settings: Settings | None = None,
           rebuild: bool = False, embedder: Embedder | None = None,
           progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    """Index ``paths`` (files or folders) into ``index_dir``, incrementally unless ``rebuild``."""
    ingestor = Ingestor(Path(index_dir), settings or load_settings(), embedder=embedder, progress=progress)
    return ingestor.run([Path(p) for p in paths], rebuild=rebuild)


class Searcher:
    """An open index plus its model: ``ask`` returns cited passages and an answer."""

    def __init__(self, index: OpenIndex, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.retriever = HybridRetriever(index, embedder, settings)
        self._alternates = self._format_alternates()

    @classmethod
    def open(cls, index_dir: str | Path = "index", settings: Settings | None = None,
             embedder: Embedder | None = None) -> "Searcher":
        settings = settings or load_settings()
        index = open_index(Path(index_dir), expected_model=settings.model)
        if embedder is None or embedder.spec.name != index.manifest.model["name"]:
            model = index.manifest.model
            embedder = Embedder(ModelSpec(model["name"], model.get("query_prompt", ""), model.get("passage_prompt", "")),
                                batch_size=settings.batch_size)
        return cls(index, embedder, settings)

    def close(self) -> None:
        self.index.close()

    def _format_alternates(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for doc in self.retriever.documents.values():
            if doc.canonical_id is not None and doc.canonical_id != doc.id:
                out.setdefault(doc.canonical_id, []).append(doc.path)
        return out

    def ask(self, question: str, top_k: int = 5, filters: Filters | None = None, mode: str = "hybrid") -> Answer:
        question = " ".join(question.split())
        filters = filters or Filters()
        hits = self.retriever.search(question, k=top_k, filters=filters, mode=mode)
        chunks = self.index.store.chunks_by_id([h.chunk_id for h in hits])
        terms = informative_terms(question)
        weights = {t: max(self.index.lexical.idf(t), 0.1) for t in terms}
        passages: list[Passage] = []
        best_coverage = 0.0
        for rank, hit in enumerate(hits, start=1):
            chunk = chunks[hit.chunk_id]
            doc = self.retriever.documents[hit.doc_id]
            best_coverage = max(best_coverage, coverage(terms, weights, chunk.context + " " + chunk.text))
            passages.append(Passage(
                rank=rank, source=doc.path, page=chunk.page, page_end=chunk.page_end,
                section=" › ".join(chunk.section_path), text=chunk.text, score=round(hit.score, 6),
                citation=format_citation(doc.meta, chunk.section_path, chunk.page, chunk.page_end, doc.path),
                chunk_id=chunk.id, doc_id=doc.id, start=chunk.start, end=chunk.end,
                highlights=best_sentences(chunk.text, terms, weights, quantities=quantity_phrases(question)), issuer=doc.meta.issuer,
                number=doc.meta.number, date=format_date(doc.meta), doc_type=doc.meta.doc_type,
                province=doc.meta.province, districts=list(doc.meta.districts), year=doc.meta.year,
                also_in=self._alternates.get(doc.id, [])))
        found = (bool(passages) and best_coverage >= FOUND_COVERAGE and self._scope_covered(question, passages)
                 and _quantities_covered(question, passages))
        return Answer(question, compose_answer(question, passages, found), found, passages,
                      {k: v for k, v in asdict(filters).items() if v})

    def _scope_covered(self, question: str, passages: list[Passage]) -> bool:
        """A question naming a place or a year is answered only by a passage about that place and year."""
        scope = self.retriever.scope(question)
        if scope.is_empty():
            return True
        for p in passages:
            about = fold(" ".join([*p.districts, p.province, p.issuer, p.text]))
            places_ok = all(name in about for name in scope.places)
            years_ok = not scope.years or p.year in scope.years or any(str(y) in p.text for y in scope.years)
            if places_ok and years_ok:
                return True
        return False


def _quantities_covered(question: str, passages: list[Passage]) -> bool:
    """A question about "5 sao" is answered only by a passage that states "5 sao"."""
    wanted = quantity_phrases(question)
    return not wanted or any(wanted <= quantity_phrases(p.text) for p in passages)
