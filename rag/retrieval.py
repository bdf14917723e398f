"""Hybrid retrieval: BM25 and FAISS rankings fused, with metadata filters.

Fusion is reciprocal-rank fusion (``fusion="rrf"``) or a weighted sum of
min-max normalised scores (``fusion="weighted"``, the default); ``dense_weight`` sets the share
of the dense ranking for a Vietnamese question, ``dense_weight_foreign`` for any other (the model
understands English; BM25 over Vietnamese tokens does not). The defaults were chosen by
measurement on three sets (rag/config.py, docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import LocalBackend, Ranking, SearchBackend
from .config import Settings
from .embedding import Embedder
from .index_dir import OpenIndex, load_chunk_docs
from .provinces import covers, former_names
from .question import ParsedQuestion, QueryScope, QuestionReader
from .vntext import fold, fold_word, match_key, quantity_phrases

RERANK_DEPTH = 30
MODES = ("hybrid", "lexical", "dense")


def infer_provinces(documents) -> dict[int, str]:
    """Each document's province; a report that never names its province gets the one the archive's
    other reports about the same district name (``huyện Đakrông`` -> Quảng Trị)."""
    from collections import Counter
    from functools import lru_cache

    match_key_of = lru_cache(maxsize=None)(match_key)  # a few hundred districts, named by thousands of reports
    by_district: dict[str, Counter] = {}
    for d in documents:
        if d.meta.province:
            for district in d.meta.districts:
                by_district.setdefault(match_key_of(district), Counter())[d.meta.province] += 1
    out: dict[int, str] = {}
    for d in documents:
        province = d.meta.province
        if not province:
            votes = Counter()
            for district in d.meta.districts:
                votes.update(by_district.get(match_key_of(district), Counter()))
            province = votes.most_common(1)[0][0] if votes else ""
        out[d.id] = province
    return out


@dataclass(frozen=True)
class Filters:
    """Restrict a search to documents of a province, district, year or document type."""

    province: str | None = None
    district: str | None = None
    year: int | None = None
    doc_type: str | None = None

    def is_empty(self) -> bool:
        return not (self.province or self.district or self.year or self.doc_type)


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    doc_id: int
    score: float
    lexical_rank: int | None
    dense_rank: int | None


class HybridRetriever:
    """Fuses the lexical and dense rankings a ``SearchBackend`` gives (the index directory's own
    arrays unless ``backend`` says otherwise: rag.backend), then reranks the top."""

    def __init__(self, index: OpenIndex, embedder: Embedder | None, settings: Settings,
                 backend: SearchBackend | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.row_doc = load_chunk_docs(index.directory)
        if self.row_doc is None or len(self.row_doc) != len(index.chunk_ids):  # an index from before chunk_docs.npy
            chunk_doc = dict(index.store.db.execute("SELECT id, doc_id FROM chunks"))
            self.row_doc = np.array([chunk_doc[int(c)] for c in index.chunk_ids], dtype=np.int64)
        self.documents = {d.id: d for d in index.store.documents(with_text=False)}
        self.province_of = infer_provinces(self.documents.values())
        # names repeat across thousands of reports: fold each distinct one once
        self.doc_places = {d.id: " ".join(fold_word(x) for x in (*d.meta.districts, self.province_of[d.id], d.meta.issuer))
                           for d in self.documents.values()}
        self.known_places = {fold_word(name) for d in self.documents.values()
                             for name in (*d.meta.districts, d.meta.province) if name and len(name) > 3}
        self.reader = QuestionReader(self.known_places, index.accents, settings.restore_accents)
        self.backend = backend if backend is not None else LocalBackend(index, self.row_doc)

    def has_reports_about(self, place: str) -> bool:
        """Whether some document is about ``place`` (folded), or about a province merged into it."""
        names = [place] + [fold_word(n) for n in former_names(place)]
        return any(n in about for about in self.doc_places.values() for n in names)

    def has_reports_of(self, year: int) -> bool:
        return any(d.meta.year == year for d in self.documents.values())

    def read(self, query: str | ParsedQuestion) -> ParsedQuestion:
        return query if isinstance(query, ParsedQuestion) else self.reader.read(query)

    def scope(self, query: str | ParsedQuestion) -> QueryScope:
        return self.read(query).scope

    def allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """Rows of the index directory's arrays the filters keep (None: no filter)."""
        keep = self.allowed_docs(filters)
        return None if keep is None else LocalBackend(self.index, self.row_doc).allowed_rows(frozenset(keep))

    def allowed_docs(self, filters: Filters) -> set[int] | None:
        """Ids of the documents the filters keep (None: no filter)."""
        if filters.is_empty():
            return None
        keep = set()
        for doc in self.documents.values():
            m = doc.meta
            if filters.province and not covers(filters.province, self.province_of[doc.id],
                                               [int(filters.year)] if filters.year else ()):
                continue  # a current province covers the provinces merged into it (rag.provinces)
            if filters.district and not any(fold(filters.district).replace("huyen ", "") == fold(d) for d in m.districts):
                continue
            if filters.year and m.year != int(filters.year):
                continue
            if filters.doc_type and fold(filters.doc_type) != fold(m.doc_type):
                continue
            keep.add(doc.id)
        return keep

    def search(self, query: str | ParsedQuestion, k: int = 5, filters: Filters | None = None,
               mode: str = "hybrid") -> list[Hit]:
        parsed = self.read(query)
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        if self.backend.count() == 0:
            return []
        keep = self.allowed_docs(filters or Filters())
        if keep is not None and not keep:
            return []
        depth = max(self.settings.candidates, k)
        tokens = self.index.lexical.query_tokens(parsed.text) if mode in ("hybrid", "lexical") else None
        qvec = (self.embedder.embed_query(parsed.understood)
                if mode in ("hybrid", "dense") and self.embedder is not None else None)
        lexical, dense = self.backend.rankings(tokens, qvec, depth, None if keep is None else frozenset(keep))
        doc_of = {**_docs(lexical), **_docs(dense)}
        lex_rank, lex_score = _ranks(lexical)
        dense_rank, dense_score = _ranks(dense)
        w = self.settings.dense_weight if parsed.vietnamese else self.settings.dense_weight_foreign
        fused = self._fuse(mode, w, lex_rank, lex_score, dense_rank, dense_score)
        if fused and mode == "hybrid":
            self._rerank(parsed, fused, doc_of)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [Hit(cid, doc_of[cid], score, lex_rank.get(cid), dense_rank.get(cid)) for cid, score in best]

    def dense_query(self, query: str) -> str:
        """What the model embeds: an unaccented Vietnamese question with its diacritics put back
        from the archive's words (rag.accents); any other question as typed."""
        return self.read(query).understood

    def _rerank(self, parsed: ParsedQuestion, fused: dict[int, float], doc_of: dict[int, int]) -> None:
        """Adjust the top of the fused ranking with what the question says about itself:
        a named place or year prefers documents about it; "how many" prefers passages stating a count."""
        scope = parsed.scope if self.settings.scope_bonus > 0 else QueryScope((), ())
        counting = parsed.asks_quantity and self.settings.count_bonus > 0
        if scope.is_empty() and not counting:
            return
        top = sorted(fused, key=lambda cid: (-fused[cid], cid))[:RERANK_DEPTH]
        scale = max(fused.values())
        chunks = {}
        if counting:
            units = set(parsed.terms)
            chunks = self.index.store.chunks_by_id(top)
        for cid in top:
            doc_id = doc_of[cid]
            bonus = 0.0
            if scope.places and all(p in self.doc_places[doc_id] for p in scope.places):
                bonus += self.settings.scope_bonus
            if scope.years and self.documents[doc_id].meta.year in scope.years:
                bonus += self.settings.scope_bonus
            if counting:
                chunk = chunks[cid]
                if any(phrase.split(" ", 1)[1] in units for phrase in quantity_phrases(chunk.text)):
                    bonus += self.settings.count_bonus
            fused[cid] += bonus * scale

    def _fuse(self, mode: str, w: float, lex_rank: dict[int, int], lex_score: dict[int, float],
              dense_rank: dict[int, int], dense_score: dict[int, float]) -> dict[int, float]:
        if mode == "lexical":
            return lex_score
        if mode == "dense":
            return dense_score
        fused: dict[int, float] = {}
        if self.settings.fusion == "rrf":
            k = self.settings.rrf_k
            for row, r in lex_rank.items():
                fused[row] = fused.get(row, 0.0) + (1 - w) / (k + r + 1)
            for row, r in dense_rank.items():
                fused[row] = fused.get(row, 0.0) + w / (k + r + 1)
            return fused
        if self.settings.fusion == "weighted":
            for scores, weight in ((lex_score, 1 - w), (dense_score, w)):
                if not scores:
                    continue
                values = np.array(list(scores.values()))
                lo, hi = float(values.min()), float(values.max())
                for row, s in scores.items():
                    fused[row] = fused.get(row, 0.0) + weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
            return fused
        raise ValueError(f"unknown fusion {self.settings.fusion!r}; use 'rrf' or 'weighted'")


def _ranks(ranking: Ranking) -> tuple[dict[int, int], dict[int, float]]:
    """Rank and score of each chunk id of ``ranking``."""
    ids = ranking.chunk_ids.tolist()
    return {cid: r for r, cid in enumerate(ids)}, dict(zip(ids, ranking.scores.tolist()))


def _docs(ranking: Ranking) -> dict[int, int]:
    return dict(zip(ranking.chunk_ids.tolist(), ranking.doc_ids.tolist()))
