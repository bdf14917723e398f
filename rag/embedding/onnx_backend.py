"""The ``onnx`` / ``onnx-int8`` backends: the transformer exported once to ONNX (cached), run by
onnxruntime, with the model's own pooling and normalisation. Same ``encode`` surface as
SentenceTransformer for what :class:`~rag.embedding.Embedder` uses."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .deps import require
from .onnx_export import INPUTS, export_onnx
from .tokenizer import FastTokenizer


def onnx_cache_dir() -> Path:
    return Path(os.environ.get("RAG_ONNX_CACHE") or Path.home() / ".cache" / "vn-report-rag" / "onnx")


class OnnxSentenceEncoder:
    """A sentence-transformers folder run through onnxruntime (mean or CLS pooling, normalised).

    Subclasses run the same exported file on another runtime: they override ``_open`` (make the
    runtime's model, return its input names) and ``_run`` (one padded batch -> last hidden state);
    tokenisation, pooling and normalisation stay here."""

    INPUTS = INPUTS

    def __init__(self, folder: Path, quantized: bool = False, threads: int = 0, backend: str = "onnx") -> None:
        self.folder = folder
        self.tokenizer = _tokenizer(folder)
        config = _read_json(folder / "sentence_bert_config.json")
        self.max_seq_length = int(config.get("max_seq_length") or min(512, self.tokenizer.model_max_length))
        self.do_lower_case = bool(config.get("do_lower_case", False))
        pooling, self.normalize = _pooling_and_normalize(folder)
        self.cls_pooling = bool(pooling.get("pooling_mode_cls_token")) and not pooling.get("pooling_mode_mean_tokens")
        self.backend = backend
        threads = threads or int(os.environ.get("RAG_ONNX_THREADS") or 0)
        self.input_names, dimension = self._open(quantized, threads)
        self._dimension = int(pooling.get("word_embedding_dimension") or dimension)

    def _open(self, quantized: bool, threads: int) -> tuple[list[str], int]:
        """Make the onnxruntime session; its input names and output width."""
        import onnxruntime as ort

        model_file = self._model_file(quantized)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        return [i.name for i in self.session.get_inputs()], self.session.get_outputs()[0].shape[-1]

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """Last hidden state (batch, tokens, width) of one tokenised batch."""
        return self.session.run(None, feed)[0]

    def get_embedding_dimension(self) -> int:
        return self._dimension

    def _cache(self) -> Path:
        """This model's folder in the export cache (keyed by the model folder and its config's mtime)."""
        import hashlib

        stat = (self.folder / "config.json").stat() if (self.folder / "config.json").exists() else None
        key = hashlib.sha1(f"{self.folder.resolve()}|{stat.st_mtime_ns if stat else 0}".encode()).hexdigest()[:16]
        return onnx_cache_dir() / f"{self.folder.name}-{key}"

    def _model_file(self, quantized: bool) -> Path:
        """The ONNX file: shipped with the model (``onnx/model*.onnx``) or exported once into the cache."""
        shipped = self.folder / "onnx" / ("model_qint8_avx512_vnni.onnx" if quantized else "model.onnx")
        if shipped.is_file():
            return shipped
        fp32 = self._cache() / "model.onnx"
        if not fp32.is_file():
            require("onnx", self.backend, f"it exports the model to ONNX once, into {onnx_cache_dir()}")
            fp32.parent.mkdir(parents=True, exist_ok=True)
            export_onnx(self.folder, self.tokenizer, fp32)
        return self._int8_file(fp32) if quantized else fp32

    def _int8_file(self, fp32: Path) -> Path:
        """onnxruntime's dynamic int8 quantisation of the MatMuls, made once next to ``fp32``."""
        int8 = fp32.with_name("model-int8.onnx")
        if not int8.is_file():
            require("onnx", self.backend, "onnxruntime's quantiser reads the model with it")
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = int8.with_suffix(".tmp.onnx")
            quantize_dynamic(str(fp32), str(tmp), per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul"])
            os.replace(tmp, int8)
        return int8

    def encode(self, sentences: list[str], batch_size: int = 32, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        out = [self._encode_batch(sentences[start:start + batch_size], normalize_embeddings)
               for start in range(0, len(sentences), batch_size)]
        if not out:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return np.concatenate(out)

    def _encode_batch(self, batch: list[str], normalize: bool) -> np.ndarray:
        if self.do_lower_case:
            batch = [t.lower() for t in batch]
        feed, attention_mask = self._tokenize(batch, self.input_names)
        hidden = self._run(feed)
        if self.cls_pooling:
            emb = hidden[:, 0]
        else:
            mask = attention_mask[..., None].astype(np.float32)
            emb = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        if normalize or self.normalize:
            emb = emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)
        return emb.astype(np.float32)

    def _tokenize(self, batch: list[str], input_names) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The model's int64 inputs (``input_names``) for ``batch``, padded, and the attention mask."""
        if isinstance(self.tokenizer, FastTokenizer):
            enc = self.tokenizer.batch(batch, self.max_seq_length)
        else:
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_seq_length,
                                 return_tensors="np")
        feed = {k: np.asarray(enc[k]).astype(np.int64) for k in input_names if k in enc}
        if "token_type_ids" in input_names and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        return feed, np.asarray(enc["attention_mask"])


def _tokenizer(folder: Path):
    """The Rust tokenizer directly when the model ships tokenizer.json, else transformers'."""
    if (folder / "tokenizer.json").is_file():
        return FastTokenizer(folder)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


def _read_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _pooling_and_normalize(folder: Path) -> tuple[dict, bool]:
    """The Pooling module's config (default: mean) and whether a Normalize module follows."""
    import json

    pooling: dict = {"pooling_mode_mean_tokens": True}
    modules = []
    if (folder / "modules.json").is_file():
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        for m in modules:
            if m.get("type", "").endswith("Pooling") and (folder / m["path"] / "config.json").is_file():
                pooling = _read_json(folder / m["path"] / "config.json")
    return pooling, any(m.get("type", "").endswith("Normalize") for m in modules)
