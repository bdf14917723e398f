"""The Qdrant backend (rag.qdrant_backend) against Qdrant's own engine, in process (qdrant-edge-py):
the same questions give the same passages and answers as the index directory's arrays, with
filters, through incremental ingests, and from the command line. The server path (qdrant-client)
runs on qdrant-client's local mode here; no test reaches the network."""

from __future__ import annotations

import json
import shutil
import socket
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CORPUS, dev_questions
from tests.test_cli import rag

pytest.importorskip("qdrant_edge")

FILTERS = [dict(province="Thanh Hóa"), dict(province="Quảng Ninh", year=2023), dict(district="Triệu Sơn"),
           dict(year=2024), dict(doc_type="Kế hoạch"), dict(province="Lào Cai")]


def _copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.lock"))
    return dst


@pytest.fixture(scope="module")
def edge_index(txt_index, tmp_path_factory, settings):
    """The five reports' index (tests/conftest.py), copied, and mirrored into an Edge shard."""
    from rag.qdrant_backend import StoreSpec, sync_store

    index = _copy_index(txt_index[1], tmp_path_factory.mktemp("edge") / "index")
    report = sync_store(StoreSpec.parse("edge"), index)
    assert report.upserted > 0 and report.deleted == 0
    return index


@contextmanager
def _searchers(index: Path, embedder, settings, store: str = "edge"):
    """The same index searched by the local backend and by ``store``, both closed afterwards."""
    from rag import Searcher

    local = Searcher.open(index, settings=settings, embedder=embedder)
    remote = Searcher.open(index, settings=replace(settings, store=store), embedder=embedder)
    try:
        yield local, remote
    finally:
        local.close()
        remote.close()


def _assert_same(local, remote, questions=None, filters=(None,)):
    from rag.retrieval import Filters

    assert remote.backend.name == "qdrant" and local.backend.name == "local"
    for q in questions or [d["question"] for d in dev_questions()]:
        for f in filters:
            flt = Filters(**f) if f else None
            ours = local.retriever.search(q, k=10, filters=flt)
            theirs = remote.retriever.search(q, k=10, filters=flt)
            assert _same_top5(ours, theirs), (q, f, [(h.chunk_id, h.score) for h in ours],
                                              [(h.chunk_id, h.score) for h in theirs])


# Qdrant's lexical scores equal bm25s's up to float32 rounding, and up to AVGDL_DRIFT (2 %) of the length
# term after incremental ingests (rag.qdrant_backend): passages whose fused scores are that close may
# trade places (seen: 0.94148 / 0.94096 after adding a report), any other difference fails.
SCORE_TOLERANCE = 0.02


def _same_top5(ours, theirs) -> bool:
    """The same top 5 passages, in the same order except where two fused scores are within the tolerance."""
    if not ours or not theirs:
        return not ours and not theirs
    tol = SCORE_TOLERANCE * max(1.0, ours[0].score)
    a = {h.chunk_id: h.score for h in ours}
    b = {h.chunk_id: h.score for h in theirs}
    for top, other in ((ours[:5], b), (theirs[:5], a)):
        for h in top:
            if h.chunk_id not in other or abs(other[h.chunk_id] - h.score) > tol:
                return False
    return all(x.chunk_id == y.chunk_id or abs(x.score - y.score) <= 2 * tol for x, y in zip(ours[:5], theirs[:5]))


def test_lexical_scores_are_bm25s_scores(edge_index, embedder, settings):
    """Our tokens as a sparse vector with Qdrant's IDF modifier score every passage as bm25s does."""
    with _searchers(edge_index, embedder, settings) as (local, remote):
        for d in dev_questions():
            tokens = local.index.lexical.query_tokens(d["question"])
            ours = local.backend.rankings(tokens, None, 1000, None)[0]
            theirs = remote.backend.rankings(tokens, None, 1000, None)[0]
            a = dict(zip(ours.chunk_ids.tolist(), ours.scores.tolist()))
            b = dict(zip(theirs.chunk_ids.tolist(), theirs.scores.tolist()))
            assert set(a) == set(b), d["question"]
            np.testing.assert_allclose([b[c] for c in a], list(a.values()), rtol=1e-4)
            qvec = local.embedder.embed_query(d["question"])
            dense_ours = local.backend.rankings(None, qvec, 10, None)[1]
            dense_theirs = remote.backend.rankings(None, qvec, 10, None)[1]
            assert dense_ours.chunk_ids.tolist() == dense_theirs.chunk_ids.tolist()
            np.testing.assert_allclose(dense_theirs.scores, dense_ours.scores, atol=1e-5)


def test_dev_questions_same_top5_and_answers(edge_index, embedder, settings):
    with _searchers(edge_index, embedder, settings) as (local, remote):
        _assert_same(local, remote)
        for d in dev_questions():  # list questions included: the same rows and text
            a, b = local.ask(d["question"]), remote.ask(d["question"])
            assert a.answer == b.answer and a.found == b.found, d["question"]
            assert [p.chunk_id for p in a.passages] == [p.chunk_id for p in b.passages]
            assert (a.rows is None) == (b.rows is None) and (a.rows or []) == (b.rows or [])


def test_filters_same(edge_index, embedder, settings):
    from rag.retrieval import Filters

    with _searchers(edge_index, embedder, settings) as (local, remote):
        questions = ["sản phẩm OCOP 4 sao", "kinh phí khoa học công nghệ", "quan hoa co bao nhieu san pham ocop"]
        _assert_same(local, remote, questions, FILTERS)
        keep = remote.retriever.allowed_docs(Filters(province="Quảng Ninh"))
        hits = remote.retriever.search("sản phẩm OCOP", k=10, filters=Filters(province="Quảng Ninh"))
        assert hits and {h.doc_id for h in hits} <= keep
        assert remote.retriever.search("OCOP", filters=Filters(province="Lào Cai")) == []


def test_incremental_add_change_remove(tmp_path, embedder, settings):
    from rag import ingest
    from rag.index_dir import current_generation, load_arrays
    from rag.qdrant_backend import EdgeEngine

    corpus, index, shard = tmp_path / "corpus", tmp_path / "index", tmp_path / "shard"
    corpus.mkdir()
    files = sorted((CORPUS / "txt").glob("*.txt"))
    for src in files[:4]:
        shutil.copy(src, corpus / src.name)
    store = f"edge:{shard}"
    with_store = replace(settings, store=store)
    questions = [d["question"] for d in dev_questions()]

    def check(expect_upserted=None, expect_deleted=None, report=None):
        if report is not None and expect_upserted is not None:
            assert (report.store.upserted, report.store.deleted) == (expect_upserted, expect_deleted)
        ids, _ = load_arrays(current_generation(index))
        engine = EdgeEngine(shard)
        try:
            assert sorted(engine.keys()) == sorted(int(c) for c in ids)
        finally:
            engine.close()
        with _searchers(index, embedder, settings, store) as (local, remote):
            _assert_same(local, remote, questions)

    first = ingest([corpus], index, settings=with_store, embedder=embedder)
    check(first.n_chunks, 0, first)

    shutil.copy(files[4], corpus / files[4].name)  # add a report
    added = ingest([corpus], index, settings=with_store, embedder=embedder)
    check(added.n_chunks - first.n_chunks, 0, added)

    changed = corpus / files[0].name  # change one: its passages are replaced
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nPhụ lục: huyện đã có thêm 02 sản phẩm OCOP 4 sao.\n",
                       encoding="utf-8")
    report = ingest([corpus], index, settings=with_store, embedder=embedder)
    assert report.store.upserted > 0 and report.store.deleted > 0
    check()

    (corpus / files[1].name).unlink()  # remove one: its points go
    before = report.n_chunks
    removed = ingest([corpus], index, settings=with_store, embedder=embedder)
    assert removed.removed and removed.store.upserted == 0 and removed.store.deleted == before - removed.n_chunks
    check()

    again = ingest([corpus], index, settings=with_store, embedder=embedder)  # nothing changed: nothing written
    assert (again.store.upserted, again.store.deleted) == (0, 0)


def test_interrupted_sync_resumes_and_store_behind_is_refused(txt_index, tmp_path, embedder, settings, monkeypatch):
    from rag import Searcher
    from rag.errors import IndexMismatchError
    from rag.qdrant_backend import EdgeEngine, StoreSpec, sync_store
    import rag.qdrant_backend as qb

    index = _copy_index(txt_index[1], tmp_path / "index")
    spec = StoreSpec.parse("edge")
    monkeypatch.setattr(qb, "BATCH", 16)
    calls = {"n": 0}
    upsert = EdgeEngine.upsert

    def failing(self, points):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("killed")
        upsert(self, points)

    monkeypatch.setattr(EdgeEngine, "upsert", failing)
    with pytest.raises(OSError):
        sync_store(spec, index)
    with pytest.raises(IndexMismatchError, match="rag ingest"):  # the marker is behind: refused
        Searcher.open(index, settings=replace(settings, store="edge"), embedder=embedder)
    monkeypatch.setattr(EdgeEngine, "upsert", upsert)
    report = sync_store(spec, index)
    n = len(np.load(next(index.glob("gen-*")) / "chunk_ids.npy"))
    assert report.upserted == n - 16 and report.deleted == 0
    with _searchers(index, embedder, settings) as (local, remote):
        _assert_same(local, remote, ["sản phẩm OCOP 4 sao"])


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect", "ignore:Local mode performs exact")
def test_server_path_through_qdrant_client(edge_index, tmp_path, embedder, settings):
    """The qdrant:// code path (ServerEngine: the same points, sync and queries above the client call)
    on qdrant-client's local mode. That mode is qdrant-client's Python re-implementation, not the
    server: the server itself is tested by docs/scale-out.md's compose file and bench/qdrant_scale.py."""
    from qdrant_client import QdrantClient

    from rag import Searcher
    from rag.qdrant_backend import ServerEngine, StoreSpec, open_backend, sync_store

    index = _copy_index(edge_index, tmp_path / "index")
    spec = StoreSpec.parse("qdrant://localhost:6333/reports")
    engine = ServerEngine(spec, client=QdrantClient(location=":memory:"))
    report = sync_store(spec, index, engine=engine)
    assert report.upserted > 0 and engine.count() == report.upserted
    local = Searcher.open(index, settings=settings, embedder=embedder)
    remote = Searcher(local.index, embedder, settings, open_backend(spec, local.index, engine=engine))
    try:
        _assert_same(local, remote, [d["question"] for d in dev_questions()][:6], [None, *FILTERS[:3]])
    finally:
        local.close()


def test_rag_ask_with_store(txt_index, tmp_path):
    corpus, built, _ = txt_index
    index = _copy_index(built, tmp_path / "index")
    out = rag("ingest", str(corpus), "--index", str(index), "--store", "edge", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["embedded"] == 0 and summary["store"]["upserted"] == summary["chunks"]
    local = rag("ask", "Những huyện nào có sản phẩm OCOP 4 sao?", "--index", str(index), "--json")
    remote = rag("ask", "Những huyện nào có sản phẩm OCOP 4 sao?", "--index", str(index), "--json",
                 "--store", "edge")
    assert remote.returncode == 0, remote.stderr
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    assert a["answer"] == b["answer"] and [p["chunk_id"] for p in a["passages"]] == [p["chunk_id"] for p in b["passages"]]


def test_unreachable_server_is_a_one_line_error_naming_the_url(txt_index, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    index = _copy_index(txt_index[1], tmp_path / "index")
    url = f"qdrant://127.0.0.1:{port}/reports"
    for args in (("ask", "OCOP", "--index", str(index), "--store", url),
                 ("ingest", str(txt_index[0]), "--index", str(index), "--store", url)):
        out = rag(*args)
        assert out.returncode == 2, out.stderr
        assert f"http://127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr, out.stderr
    env_out = rag("ask", "OCOP", "--index", str(index), "--store", "bogus://x")
    assert env_out.returncode == 2 and "unknown store" in env_out.stderr


def test_store_spec_forms():
    from rag.config import Settings
    from rag.errors import ConfigError
    from rag.qdrant_backend import StoreSpec

    assert StoreSpec.parse("").is_local and StoreSpec.parse("local").is_local
    assert StoreSpec.parse("edge").shard_path(Path("idx")) == Path("idx/qdrant-edge")
    assert StoreSpec.parse("edge:/data/shard").shard_path(Path("idx")) == Path("/data/shard")
    spec = StoreSpec.parse("qdrant://q1:6334/national?shards=6&replicas=2")
    assert (spec.url, spec.collection, spec.shards, spec.replicas) == ("http://q1:6334", "national", 6, 2)
    assert StoreSpec.parse("qdrants://q1").url == "https://q1:6333"
    with pytest.raises(ConfigError):
        Settings(store="http://q1:6333")


def test_the_web_interface_searches_the_store(edge_index, embedder, settings, tmp_path):
    """`rag serve --store edge`: the interface's service opens the Qdrant backend and answers from it."""
    from gradio_client import Client

    from ui.app import BackgroundServer, create_app
    from ui.service import SearchService

    service = SearchService(edge_index, replace(settings, store="edge"), corpus_dir=tmp_path / "corpus")
    assert not service.load_error and service.searcher.backend.name == "qdrant"
    server = BackgroundServer(create_app(service)).start()
    try:
        result = Client(server.url, verbose=False).predict("Những huyện nào có sản phẩm OCOP 4 sao?", "", "", "", "",
                                                           5, api_name="/ask")
        assert result["ok"] and {r["unit"] for r in result["rows"]} == {"Bình Liêu", "Ba Chẽ"}
    finally:
        server.stop()
        service.searcher.close()


def test_the_interface_names_an_unreachable_store(txt_index, tmp_path, settings):
    from ui.service import SearchService

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    index = _copy_index(txt_index[1], tmp_path / "index")
    service = SearchService(index, replace(settings, store=f"qdrant://127.0.0.1:{port}/reports"),
                            corpus_dir=tmp_path / "corpus")
    assert service.searcher is None
    assert service.load_error.startswith("Không kết nối được máy chủ tìm kiếm Qdrant tại http://127.0.0.1:")
    assert f"cannot reach the Qdrant server at http://127.0.0.1:{port}" in service.load_detail  # what serve prints
