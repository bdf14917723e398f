"""Embedder: loads a model once (on the chosen backend) and embeds queries and passages."""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

from ..config import BACKENDS
from ..errors import ModelUnavailableError
from ..vntext import fold
from .spec import ModelSpec
from .tokenizer import strips_accents


class Embedder:
    """Loads a sentence-transformers model once and embeds queries and passages.

    ``query_threads`` (0: the library default) caps the threads that embed a query: with PyTorch
    only around ``embed_query`` (passages keep every core); with onnxruntime it is the session's
    intra-op thread count and with OpenVINO its ``INFERENCE_NUM_THREADS`` (``RAG_ONNX_THREADS``
    when 0), for passages too.
    """

    def __init__(self, spec: ModelSpec, device: str = "cpu", batch_size: int = 32, backend: str = "torch",
                 query_threads: int = 0) -> None:
        if backend not in BACKENDS:
            raise ModelUnavailableError(f"unknown embedding backend {backend!r}", f"use one of {', '.join(BACKENDS)}")
        self.spec = spec
        self.batch_size = batch_size
        self.backend = backend
        self.query_threads = query_threads
        self.model = load_model(spec, backend, device=device, threads=query_threads)
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.folds_accents = strips_accents(self.model.tokenizer)
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.spec.name, "dimension": self.dimension,
                                  "query_prompt": self.spec.query_prompt, "passage_prompt": self.spec.passage_prompt,
                                  "fold_accents": self.folds_accents, "max_tokens": self.max_tokens}
        if self.backend != "torch":
            out["backend"] = self.backend
        return out

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
        with _torch_threads(self.query_threads if self.backend == "torch" else 0):
            vec = self.model.encode([self.spec.query_prompt + self._prepare(text)], normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)[0].astype(np.float32)
        self._query_cache[text] = vec
        if len(self._query_cache) > 1024:
            self._query_cache.popitem(last=False)
        return vec


def load_model(spec: ModelSpec, backend: str, device: str = "cpu", threads: int = 0):
    """The model on ``backend``: a SentenceTransformer, or an encoder with its ``encode`` surface."""
    if backend == "torch":
        from .torch_backend import load_torch

        return load_torch(spec.name, device)
    from .deps import require
    from .spec import local_model_folder

    if backend.startswith("openvino"):
        require("openvino", backend, "it runs the model")
        from .openvino_backend import OpenVinoSentenceEncoder

        return OpenVinoSentenceEncoder(local_model_folder(spec.name), quantized=backend == "openvino-int8",
                                       threads=threads, backend=backend, passage_prompt=spec.passage_prompt)
    require("onnxruntime", backend, "it runs the model")
    from .onnx_backend import OnnxSentenceEncoder

    return OnnxSentenceEncoder(local_model_folder(spec.name), quantized=backend == "onnx-int8", threads=threads,
                               backend=backend)


@contextmanager
def _torch_threads(n: int):
    """PyTorch intra-op threads set to ``n`` (when > 0) in this block, restored after (torch imported only then)."""
    if n <= 0:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
