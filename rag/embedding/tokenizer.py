"""Tokenizer helpers shared by the backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def strips_accents(tokenizer) -> bool:
    """Whether the tokenizer drops diacritics (then we feed it folded text, ``đ`` -> ``d`` too)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.normalizer is not None:
        return backend.normalizer.normalize_str("Hoá").lower() == "hoa"
    plain = tokenizer.tokenize("hoa")
    return tokenizer.tokenize("Hoá") == plain and tokenizer.unk_token not in plain


class FastTokenizer:
    """The parts of a transformers fast tokenizer the ONNX / OpenVINO backends use, on ``tokenizers``
    alone: no transformers (or torch) import on the query path, which is most of the PyTorch
    backend's cold start."""

    def __init__(self, folder: Path) -> None:
        import json

        from tokenizers import Tokenizer

        self.backend_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.backend_tokenizer.no_truncation()
        self.backend_tokenizer.no_padding()
        config = {}
        if (folder / "tokenizer_config.json").is_file():
            config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))

        def token(key: str, default: str) -> str:
            value = config.get(key, default)
            return value.get("content", default) if isinstance(value, dict) else (value or default)

        self.unk_token = token("unk_token", "[UNK]")
        self.pad_token = token("pad_token", "[PAD]")
        self.model_max_length = int(config.get("model_max_length") or 512)
        self._batch = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._batch.enable_padding(pad_id=self._batch.token_to_id(self.pad_token) or 0, pad_token=self.pad_token)
        self._max = None

    def tokenize(self, text: str) -> list[str]:
        return self.backend_tokenizer.encode(text, add_special_tokens=False).tokens

    def batch(self, texts: list[str], max_length: int) -> dict[str, np.ndarray]:
        if self._max != max_length:
            self._batch.enable_truncation(max_length=max_length)
            self._max = max_length
        encodings = self._batch.encode_batch(texts)
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}

    def __call__(self, texts, padding=True, truncation=True, max_length=None, return_tensors="pt"):
        """For the ONNX export: the transformers call signature, PyTorch tensors out."""
        import torch

        out = self.batch(list(texts), max_length or self.model_max_length)
        return {k: torch.tensor(v) for k, v in out.items()}
