"""The default backend: the model run by sentence-transformers on PyTorch."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ModelUnavailableError
from .spec import not_on_this_machine, resolve_model_path


def load_torch(name: str, device: str):
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
        raise not_on_this_machine(name) from exc
