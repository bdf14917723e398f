"""The embedding backend as a setting: ``RAG_BACKEND`` / ``rag.toml`` / ``--backend``, the ONNX extra's
missing-package errors, and the thread count a query is embedded with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import BACKENDS, Settings, load_settings
from rag.errors import ConfigError, ModelUnavailableError, RagError

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Huyện Quan Hóa có bao nhiêu sản phẩm OCOP?"


@pytest.fixture
def no_rag_env(monkeypatch, tmp_path):
    """No RAG_* variables and no ./rag.toml around."""
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# ----------------------------------------------------------------------------------- settings
def test_backend_and_query_threads_from_environment(no_rag_env, monkeypatch):
    assert load_settings().backend == "torch" and load_settings().query_threads == 1
    monkeypatch.setenv("RAG_BACKEND", "onnx-int8")
    monkeypatch.setenv("RAG_QUERY_THREADS", "2")
    settings = load_settings()
    assert settings.backend == "onnx-int8" and settings.query_threads == 2
    assert load_settings(backend="onnx").backend == "onnx"  # a flag beats the environment
    assert load_settings(backend=None).backend == "onnx-int8"  # an absent flag does not


def test_backend_from_config_file(no_rag_env, tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text('[rag]\nbackend = "onnx"\nquery_threads = 0\n', encoding="utf-8")
    settings = load_settings()
    assert settings.backend == "onnx" and settings.query_threads == 0


def test_bad_backend_is_a_clear_error(no_rag_env, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_BACKEND", "tensorflow")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "'tensorflow'" in message and "environment" in message
    assert "torch, onnx, onnx-int8" in message and ".[onnx]" in message

    monkeypatch.delenv("RAG_BACKEND")
    config = tmp_path / "other.toml"
    config.write_text('[rag]\nbackend = "gpu"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'gpu' in .*other\.toml.*torch, onnx, onnx-int8"):
        load_settings(config)
    with pytest.raises(ConfigError, match="torch, onnx, onnx-int8"):
        Settings(backend="ONNX")
    with pytest.raises(ConfigError, match="query_threads"):
        Settings(query_threads=-1)
    assert set(BACKENDS) == {"torch", "onnx", "onnx-int8", "openvino", "openvino-int8"}


def test_bad_backend_on_the_command_line(no_rag_env, monkeypatch, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["ask", "OCOP", "--backend", "gpu"])
    assert caught.value.code == 2 and "invalid choice: 'gpu'" in capsys.readouterr().err
    monkeypatch.setenv("RAG_BACKEND", "gpu")
    assert main(["ask", "OCOP"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: unknown embedding backend 'gpu'") and "torch, onnx, onnx-int8" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------- --backend reaches Embedder
class _Reached(RagError):
    pass


def _recording_embedder(seen: list[dict]):
    def fake(spec, *args, **kwargs):
        seen.append({"model": spec.name, **kwargs})
        raise _Reached("stop here", "")

    return fake


def test_ingest_backend_reaches_the_embedder(no_rag_env, monkeypatch, tmp_path):
    """Needs rag/indexer.py's Ingestor.embedder to pass ``backend=self.settings.backend``."""
    import rag.indexer

    seen: list[dict] = []
    monkeypatch.setattr(rag.indexer, "Embedder", _recording_embedder(seen))
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Huyện Quan Hóa có 11 sản phẩm OCOP đạt 3 sao.", encoding="utf-8")
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "idx"), "--backend", "onnx-int8"]) == 2
    assert seen and seen[0]["backend"] == "onnx-int8"


def test_eval_and_serve_take_the_backend(no_rag_env, monkeypatch, tmp_path):
    from rag.cli import _eval_specs, build_parser

    args = build_parser().parse_args(["eval", "gold.jsonl", "--backend", "onnx", "--mode", "dense"])
    assert [s.settings.backend for s in _eval_specs(args)] == ["onnx"]

    import ui.app

    made: list = []

    class FakeService:
        load_error = ""

        def __init__(self, index_dir, settings):
            made.append(settings)

    monkeypatch.setattr(ui.app, "SearchService", FakeService)
    monkeypatch.setattr(ui.app, "create_app", lambda service, auth=None: None)
    monkeypatch.setattr(ui.app.uvicorn, "run", lambda *a, **k: None)
    assert main(["serve", "--index", str(tmp_path), "--backend", "onnx-int8"]) == 0
    assert made[0].backend == "onnx-int8"


# ------------------------------------------------------------------------- missing ONNX packages
def test_missing_onnxruntime_says_what_to_install(no_rag_env, monkeypatch, txt_index, capsys):
    from rag.embedding import Embedder, ModelSpec

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    for backend in ("onnx", "onnx-int8"):
        with pytest.raises(ModelUnavailableError) as caught:
            Embedder(ModelSpec.from_name(None), backend=backend)
        message = str(caught.value)
        assert "'onnxruntime'" in message and "pip install -e '.[onnx]'" in message and backend in message

    assert main(["ask", QUESTION, "--index", str(txt_index[1]), "--backend", "onnx"]) == 2
    err = capsys.readouterr().err
    assert "'onnxruntime'" in err and ".[onnx]" in err and "Traceback" not in err


def test_missing_onnx_for_the_export_says_what_to_install(no_rag_env, monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    from rag.embedding import Embedder, ModelSpec

    monkeypatch.setenv("RAG_ONNX_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModelUnavailableError, match=r"needs the Python package 'onnx' \(it exports.*\.\[onnx\]"):
        Embedder(ModelSpec.from_name(None), backend="onnx")


# ------------------------------------------------------------------------------ the real thing
@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    """The bundled model exported to ONNX once for this test session."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from rag.embedding import Embedder, ModelSpec

    cache = tmp_path_factory.mktemp("onnx-cache")
    before = os.environ.get("RAG_ONNX_CACHE")
    os.environ["RAG_ONNX_CACHE"] = str(cache)
    try:
        Embedder(ModelSpec.from_name(None), backend="onnx")
    finally:
        if before is None:
            del os.environ["RAG_ONNX_CACHE"]
        else:
            os.environ["RAG_ONNX_CACHE"] = before
    return cache


def test_ask_with_onnx_backend(no_rag_env, monkeypatch, onnx_cache, txt_index, txt_searcher, capsys):
    import rag.api
    from rag.embedding import Embedder

    made: list[Embedder] = []

    class Recording(Embedder):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setenv("RAG_ONNX_CACHE", str(onnx_cache))
    monkeypatch.setattr(rag.api, "Embedder", Recording)
    assert main(["ask", QUESTION, "--index", str(txt_index[1]), "--backend", "onnx", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert len(made) == 1 and made[0].backend == "onnx"
    # the onnxruntime session embeds a query on query_threads (default 1) intra-op threads
    assert made[0].model.session.get_session_options().intra_op_num_threads == 1
    expected = txt_searcher.ask(QUESTION)
    assert answer["found"] == expected.found
    assert [p["chunk_id"] for p in answer["passages"]] == [p.chunk_id for p in expected.passages]


def test_ask_with_onnx_backend_does_not_import_torch(onnx_cache, txt_index):
    """The point of ONNX: once exported, a cold ``rag ask`` loads neither PyTorch nor sentence-transformers."""
    script = ("import sys; from rag.cli import main; rc = main(sys.argv[1:]); "
              "print(rc, sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules), file=sys.stderr)")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), RAG_ONNX_CACHE=str(onnx_cache),
               RAG_BACKEND="onnx")
    out = subprocess.run([sys.executable, "-c", script, "ask", QUESTION, "--index", str(txt_index[1]), "--json"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-1] == "0 []"
    assert json.loads(out.stdout)["passages"]


# ------------------------------------------------------------------------------ query threads
def test_query_embedded_on_query_threads_then_restored(monkeypatch, embedder, txt_index):
    import torch

    from rag.api import Searcher

    inside: list[int] = []
    encode = embedder.model.encode

    def counting(*args, **kwargs):
        inside.append(torch.get_num_threads())
        return encode(*args, **kwargs)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setattr(embedder, "query_threads", embedder.query_threads)  # restored after the test
    monkeypatch.setattr(embedder.model, "encode", counting)
    try:
        searcher = Searcher.open(txt_index[1], settings=Settings(query_threads=1), embedder=embedder)
        searcher.ask("ngân sách sự nghiệp khoa học (luồng 1)", mode="dense")
        assert inside == [1] and torch.get_num_threads() == 2
        embedder.embed_passages(["passages keep every thread"])
        assert inside[-1] == 2
        searcher.close()

        searcher = Searcher.open(txt_index[1], settings=Settings(query_threads=0), embedder=embedder)
        searcher.ask("ngân sách sự nghiệp khoa học (luồng 0)", mode="dense")
        assert inside[-1] == 2
        searcher.close()
    finally:
        torch.set_num_threads(before)


def test_ranking_settings_are_checked_once(no_rag_env, monkeypatch, tmp_path):
    """Shares lie in [0, 1], bonuses are not negative, the fusion is a known one, booleans read as such."""
    with pytest.raises(ConfigError, match="dense_weight must lie between 0 and 1"):
        Settings(dense_weight=1.5)
    with pytest.raises(ConfigError, match="dense_weight_foreign"):
        Settings(dense_weight_foreign=-0.1)
    with pytest.raises(ConfigError, match="scope_bonus must be 0 or more"):
        Settings(scope_bonus=-1)
    with pytest.raises(ConfigError, match="unknown fusion 'max'.*weighted"):
        Settings(fusion="max")
    monkeypatch.setenv("RAG_RESTORE_ACCENTS", "false")
    assert load_settings().restore_accents is False
    monkeypatch.setenv("RAG_RESTORE_ACCENTS", "maybe")
    with pytest.raises(ConfigError, match="bad value 'maybe' for restore_accents in environment"):
        load_settings()
    monkeypatch.delenv("RAG_RESTORE_ACCENTS")
    (tmp_path / "rag.toml").write_text("[rag]\nrestore_accents = false\ndense_weight = 0.3\n", encoding="utf-8")
    settings = load_settings()
    assert settings.restore_accents is False and settings.dense_weight == 0.3
