"""The optional OpenVINO embedding backends (``openvino``, ``openvino-int8``): vectors close to
PyTorch's, the thread setting, lazy imports and the missing-package errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import ModelUnavailableError

ROOT = Path(__file__).resolve().parent.parent
PASSAGES = [
    "Huyện Quan Hóa có 5 sản phẩm OCOP đạt 4 sao và 11 sản phẩm đạt 3 sao trong năm 2023.",
    "Kinh phí sự nghiệp khoa học và công nghệ năm 2024 là 1.250 triệu đồng, giải ngân đạt 92%. " * 12,
    "Ủy ban nhân dân tỉnh Quảng Ninh báo cáo kết quả thực hiện đề án ứng dụng tiến bộ kỹ thuật "
    "vào sản xuất chè hoa vàng tại huyện Ba Chẽ.",
    "Phương hướng nhiệm vụ năm 2025: đẩy mạnh chuyển đổi số, hỗ trợ doanh nghiệp khoa học và công nghệ.",
]
QUESTION = "Huyện Quan Hóa có bao nhiêu sản phẩm OCOP?"
CALIBRATION_PASSAGES = 64  # fewer than the shipped 300: the same code path, a quicker test


@pytest.fixture(scope="session")
def ov_cache(tmp_path_factory):
    """The bundled model exported to ONNX and quantised by NNCF once for this test session."""
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    pytest.importorskip("onnx")
    from rag.embedding import Embedder, ModelSpec, OpenVinoSentenceEncoder

    cache = tmp_path_factory.mktemp("ov-cache")
    before = os.environ.get("RAG_ONNX_CACHE"), OpenVinoSentenceEncoder.CALIBRATION_PASSAGES
    os.environ["RAG_ONNX_CACHE"] = str(cache)
    OpenVinoSentenceEncoder.CALIBRATION_PASSAGES = CALIBRATION_PASSAGES
    try:
        Embedder(ModelSpec.from_name(None), backend="openvino-int8")
    finally:
        OpenVinoSentenceEncoder.CALIBRATION_PASSAGES = before[1]
        if before[0] is None:
            del os.environ["RAG_ONNX_CACHE"]
        else:
            os.environ["RAG_ONNX_CACHE"] = before[0]
    return cache


@pytest.fixture
def use_ov_cache(ov_cache, monkeypatch):
    from rag.embedding import OpenVinoSentenceEncoder

    monkeypatch.setenv("RAG_ONNX_CACHE", str(ov_cache))
    monkeypatch.setattr(OpenVinoSentenceEncoder, "CALIBRATION_PASSAGES", CALIBRATION_PASSAGES)
    return ov_cache


@pytest.mark.parametrize("backend, floor", [("openvino", 0.99), ("openvino-int8", 0.97)])
def test_openvino_backend_matches_torch(embedder, use_ov_cache, backend, floor):
    from rag.embedding import Embedder, ModelSpec

    ov = Embedder(ModelSpec.from_name(None), backend=backend)
    got, want = ov.embed_passages(PASSAGES), embedder.embed_passages(PASSAGES)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert np.all((got * want).sum(axis=1) >= floor), (got * want).sum(axis=1)
    assert float(ov.embed_query(QUESTION) @ embedder.embed_query(QUESTION)) >= floor
    assert ov.dimension == embedder.dimension and ov.folds_accents == embedder.folds_accents
    assert ov.describe()["backend"] == backend
    assert ov.embed_passages([]).shape == (0, embedder.dimension)


def test_int8_model_is_cached_and_needs_no_nncf_after(use_ov_cache, monkeypatch):
    from rag.embedding import Embedder, ModelSpec

    made = sorted(p.name for p in Path(use_ov_cache).rglob("openvino-int8-*"))
    assert [n.rsplit(".", 1)[1] for n in made] == ["bin", "json", "xml"]
    monkeypatch.setitem(sys.modules, "nncf", None)  # import nncf -> ImportError
    Embedder(ModelSpec.from_name(None), backend="openvino-int8").embed_passages(PASSAGES[:1])
    assert sorted(p.name for p in Path(use_ov_cache).rglob("openvino-int8-*")) == made


def test_searcher_with_openvino_uses_query_threads(use_ov_cache, txt_index, txt_searcher):
    from rag.api import Searcher

    searcher = Searcher.open(txt_index[1], settings=Settings(backend="openvino"))  # query_threads: 1
    try:
        assert searcher.embedder.backend == "openvino"
        assert searcher.embedder.model.compiled.get_property("INFERENCE_NUM_THREADS") == 1
        got, want = searcher.ask(QUESTION), txt_searcher.ask(QUESTION)
        assert [p.chunk_id for p in got.passages] == [p.chunk_id for p in want.passages]
    finally:
        searcher.close()


def test_missing_openvino_says_what_to_install(monkeypatch):
    from rag.embedding import Embedder, ModelSpec

    monkeypatch.setitem(sys.modules, "openvino", None)
    for backend in ("openvino", "openvino-int8"):
        with pytest.raises(ModelUnavailableError) as caught:
            Embedder(ModelSpec.from_name(None), backend=backend)
        message = str(caught.value)
        assert "'openvino'" in message and "pip install -e '.[openvino]'" in message and backend in message


def test_missing_nncf_for_the_quantisation_says_what_to_install(use_ov_cache, monkeypatch):
    from rag.embedding import Embedder, ModelSpec, OpenVinoSentenceEncoder

    monkeypatch.setattr(OpenVinoSentenceEncoder, "CALIBRATION_SEED", 7)  # another key: not in the cache
    monkeypatch.setitem(sys.modules, "nncf", None)
    with pytest.raises(ModelUnavailableError, match=r"needs the Python package 'nncf' \(it quantises.*\.\[openvino\]"):
        Embedder(ModelSpec.from_name(None), backend="openvino-int8")


def test_openvino_is_imported_only_when_chosen():
    script = ("import sys; import rag.cli, rag.api, rag.embedding, rag.config; "
              "print(sorted(m for m in ('openvino', 'nncf') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
