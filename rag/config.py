"""Settings: defaults, overridden by ``rag.toml`` (``[rag]`` table), then ``RAG_*`` env vars, then flags."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .budget import (DEFAULT_MAX_DOCX_XML_BYTES, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_HTML_DEPTH, DEFAULT_MAX_PARAGRAPHS,
                     DEFAULT_MAX_PDF_PAGES, DEFAULT_MAX_SECONDS, DEFAULT_MAX_TEXT_CHARS, LIMITS, check_limit)
from .errors import ConfigError

DEFAULT_INDEX = Path("index")
DEFAULT_CORPUS = Path("corpus")
# embedding backends: "torch" (sentence-transformers on PyTorch), "onnx" / "onnx-int8" (the same weights
# exported to ONNX, fp32 or int8-quantised, run by onnxruntime: pip install -e '.[onnx]'),
# "openvino" / "openvino-int8" (that ONNX file run by OpenVINO, int8: NNCF static quantisation:
# pip install -e '.[openvino]')
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class Settings:
    model: str | None = None          # None: the index's model when querying, multilingual-e5-small when building
    query_prompt: str | None = None   # None: the known prompt for the model family
    passage_prompt: str | None = None
    chunk_tokens: int = 0             # 0: the index's own size, else 384 (rag.indexer.DEFAULT_CHUNK_TOKENS) capped by the model
    overlap_tokens: int = 24
    context_tokens: int = 48          # budget for the document context embedded with each chunk
    lexical_scheme: str = "syllable+bigram"
    # The ranking below was chosen by measurement with multilingual-e5-small on alqac2023 (181 real
    # questions), the generated archive (250) and the dev set with its English and unaccented copies
    # (eval/tune_retrieval.py; tables in docs/evaluation.md, "How the ranking was chosen"):
    # weighted beats RRF on alqac2023 at every weight (R@5 96.7 vs 95.0 at best); at dense weight 0.4
    # hybrid is at least as good as lexical and dense on every set (alqac2023: R@5 96.7 vs 95.6 / 90.1,
    # MRR 90.6 vs 91.1 / 80.8, within noise), 0.5 loses alqac2023 MRR (-0.7), 0.3 generated MRR (-2.2);
    # English questions: 0.8 (R@5 100, MRR 83.6; at 0.4: 91.7, 70.8).
    fusion: str = "weighted"          # "weighted" (min-max normalised scores) or "rrf" (reciprocal rank)
    dense_weight: float = 0.4         # weight of the dense ranking in the fusion (lexical gets 1 - w)
    dense_weight_foreign: float = 0.8  # the same for a question that is not Vietnamese (rag.language)
    # unaccented questions: generated archive hybrid MRR 91.9 with, 90.7 without; dense alone 71.5 vs 65.2
    restore_accents: bool = True      # an unaccented Vietnamese question gets its diacritics back before embedding
    # "found" needs a passage holding this share of the question's terms (idf-weighted); 0.4 answers
    # one more alqac2023 question and one more English question than 0.5, and abstains as often
    found_coverage: float = 0.4
    # rerank bonuses (generated archive, hybrid MRR 91.9 with both; 81.6 without the scope bonus,
    # 87.8 without the count bonus; no change on alqac2023 and dev, which name few places)
    scope_bonus: float = 0.3          # per place / year the question names that the document is about
    count_bonus: float = 0.2          # a "how many" question: passages stating a count of the asked thing
    rrf_k: int = 60
    candidates: int = 100             # per-retriever candidates before fusion
    batch_size: int = 32
    backend: str = "torch"            # embedding backend, one of BACKENDS
    query_threads: int = 1            # PyTorch / onnxruntime threads for embedding a query (0: library default)
    # the budget of one source file (rag.budget.FileBudget.from_settings; the measurements behind the
    # defaults are there): a file over any of these is skipped with a reason naming the limit
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES          # size on disk (and a DOCX unzipped)
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS          # characters of text a file gives
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    max_docx_xml_bytes: int = DEFAULT_MAX_DOCX_XML_BYTES  # XML a DOCX unzips to
    max_paragraphs: int = DEFAULT_MAX_PARAGRAPHS          # DOCX paragraphs and table rows; TXT/MD/HTML text blocks
    max_html_depth: int = DEFAULT_MAX_HTML_DEPTH          # nesting of HTML tags
    max_seconds: float = DEFAULT_MAX_SECONDS              # wall clock to load one file (OCR included)
    # where passages are searched (rag.backend): "" or "local" (the index directory's arrays), "edge" /
    # "edge:PATH" (a Qdrant Edge shard), "qdrant://host:6333[/collection]" (a Qdrant server or cluster)
    store: str = ""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown embedding backend {self.backend!r}",
                              f"use one of {', '.join(BACKENDS)} (the onnx ones need pip install -e '.[onnx]', "
                              "the openvino ones pip install -e '.[openvino]')")
        if self.query_threads < 0:
            raise ConfigError(f"query_threads must be 0 or more, not {self.query_threads}",
                              "1 (the default) suits a busy machine; 0 leaves the library default")
        for name in ("dense_weight", "dense_weight_foreign", "found_coverage"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must lie between 0 and 1, not {getattr(self, name)}",
                                  "a share: 0.0 to 1.0")
        for name in ("scope_bonus", "count_bonus"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 or more, not {getattr(self, name)}", "0 turns the bonus off")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"unknown fusion {self.fusion!r}", f"use one of {', '.join(FUSIONS)}")
        for name in LIMITS:
            check_limit(name, getattr(self, name))
        if self.store:
            from .qdrant_backend import StoreSpec

            StoreSpec.parse(self.store)  # a ConfigError naming the forms understood

    def with_overrides(self, **values: object) -> "Settings":
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def load_settings(config_path: Path | None = None, **overrides: object) -> Settings:
    """Defaults < config file < environment (``RAG_MODEL``, ``RAG_DENSE_WEIGHT``, ...) < ``overrides``."""
    settings = Settings()
    path = config_path or (Path("rag.toml") if Path("rag.toml").is_file() else None)
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("rag", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}", "the file must be TOML with a [rag] table") from exc
        settings = _apply(settings, data, str(path))
    env = {f.name: os.environ[f"RAG_{f.name.upper()}"] for f in fields(Settings) if f"RAG_{f.name.upper()}" in os.environ}
    settings = _apply(settings, env, "environment")
    return settings.with_overrides(**overrides)


def _apply(settings: Settings, data: dict[str, object], origin: str) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, object] = {}
    for key, raw in data.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} in {origin}", "known: " + ", ".join(sorted(known)))
        default = getattr(Settings(), key)
        try:
            values[key] = (_boolean(raw) if isinstance(default, bool) else
                           type(default)(raw) if default is not None and not isinstance(default, str) else str(raw))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad value {raw!r} for {key} in {origin}", f"expected {type(default).__name__}") from exc
    try:
        return replace(settings, **values)
    except ConfigError as exc:
        raise ConfigError(f"{exc.message} in {origin}", exc.hint) from None


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {raw!r}")
