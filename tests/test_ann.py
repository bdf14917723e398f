"""Approximate vector search (rag/vectors.py): same top passages as the exact search, filters
still apply, and ``kind="auto"`` picks the exact index for small archives and HNSW above the
threshold."""

from __future__ import annotations

import numpy as np
import pytest

from rag import vectors as vmod
from rag.vectors import VectorIndex, choose_kind

DIM = 48
N = 4000


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around 60 centres (embeddings of a report archive are clustered, not uniform)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((60, dim)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.45 * rng.standard_normal((n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    x = _clustered(N, DIM, 0)
    rng = np.random.default_rng(1)
    q = x[rng.choice(N, 60, replace=False)] + 0.2 * rng.standard_normal((60, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x, q


@pytest.fixture(scope="module")
def exact(data):
    return VectorIndex.build(data[0], DIM, kind="flat")


def _recall(approx: list[np.ndarray], truth: list[np.ndarray], k: int = 10) -> float:
    return float(np.mean([len(set(a[:k].tolist()) & set(t[:k].tolist())) / min(k, len(t)) for a, t in zip(approx, truth)]))


@pytest.mark.parametrize("kind,storage", [("hnsw", "float32"), ("ivf", "float32"), ("hnsw", "sq8"), ("ivf", "fp16")])
def test_ann_matches_exact_top10(data, exact, kind, storage):
    x, q = data
    ann = VectorIndex.build(x, DIM, kind=kind, storage=storage)
    assert ann.kind == kind and ann.size == N
    _, truth = exact.search_many(q, 10)
    scores, rows = ann.search_many(q, 10)
    assert _recall(rows, truth) >= 0.95
    for s in scores:  # best first
        assert np.all(np.diff(s) <= 1e-6)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
@pytest.mark.parametrize("subset_path", [True, False])
def test_filters_apply(data, exact, kind, subset_path, monkeypatch):
    """Rows outside ``allowed_rows`` never come back, and the allowed top-10 is found; both the
    exact-over-subset path (small filters) and the IDSelector path (large filters) are used."""
    x, q = data
    monkeypatch.setattr(vmod, "EXACT_SUBSET_MAX", 10_000 if subset_path else 0)
    ann = VectorIndex.build(x, DIM, kind=kind)
    for allowed in (np.arange(0, N, 3), np.arange(0, N, 12), np.arange(0, N, 97), np.array([5, 17, 2048])):
        allowed_set = set(allowed.tolist())
        _, truth = exact.search_many(q, 10, allowed)
        _, rows = ann.search_many(q, 10, allowed)
        for r in rows:
            assert set(r.tolist()) <= allowed_set
        if subset_path or len(allowed) * vmod.MAX_WIDEN >= N:
            # a graph/cell search under a very selective filter can come back short: that is
            # why such filters take the exact path (EXACT_SUBSET_MAX) in normal use
            assert _recall(rows, truth) >= 0.95
    if subset_path:
        scores, rows = ann.search(q[0], 10, np.array([5, 17, 2048]))
        assert sorted(rows.tolist()) == [5, 17, 2048] and len(scores) == 3
    assert len(ann.search(q[0], 10, np.array([], dtype=np.int64))[1]) == 0


def test_single_query_search_matches_batch(data):
    x, q = data
    ann = VectorIndex.build(x, DIM, kind="hnsw")
    s1, r1 = ann.search(q[3], 10)
    s2, r2 = ann.search_many(q[3:4], 10)
    assert r1.tolist() == r2[0].tolist() and np.allclose(s1, s2[0])


def test_auto_switch_by_size(data, monkeypatch):
    x, _ = data
    assert choose_kind(0) == "flat"
    assert choose_kind(vmod.AUTO_FLAT_MAX) == "flat"
    assert choose_kind(vmod.AUTO_FLAT_MAX + 1) == "ivf"
    monkeypatch.setattr(vmod, "AUTO_FLAT_MAX", 1000)
    assert VectorIndex.build(x[:1000], DIM).kind == "flat"
    big = VectorIndex.build(x[:1001], DIM)
    assert big.kind == "ivf" and big.describe()["nlist"] == vmod.ivf_nlist(1001)
    assert big.describe()["nprobe"] == vmod.IVF_NPROBE
    assert VectorIndex.build(x[:1001], DIM, kind="flat").kind == "flat"  # explicit beats auto
    assert VectorIndex.build(np.zeros((0, DIM), np.float32), DIM, kind="hnsw").size == 0


def test_ivf_reuses_trained_cells_of_the_previous_generation(data, exact):
    x, q = data
    previous = VectorIndex.build(x[:3000], DIM, kind="ivf")
    updated = VectorIndex.build(x, DIM, kind="ivf", trained=previous)  # 1,000 more vectors, same cells
    assert updated.size == N and updated.describe()["nlist"] == previous.describe()["nlist"]
    cells = lambda v: v.index.quantizer.reconstruct_n(0, v.index.nlist)  # noqa: E731
    np.testing.assert_array_equal(cells(updated), cells(previous))
    _, truth = exact.search_many(q, 10)
    assert _recall(updated.search_many(q, 10)[1], truth) >= 0.95
    # far outside the size the cells were trained for: trained afresh
    small = VectorIndex.build(x[:200], DIM, kind="ivf", trained=previous)
    assert small.describe()["nlist"] == vmod.ivf_nlist(200)
    # an exact index has nothing to reuse
    assert VectorIndex.build(x, DIM, kind="flat", trained=previous).kind == "flat"


def test_save_load_keeps_kind_and_results(data, tmp_path):
    x, q = data
    for kind in ("flat", "hnsw", "ivf"):
        ann = VectorIndex.build(x, DIM, kind=kind)
        ann.save(tmp_path / f"{kind}.faiss")
        again = VectorIndex.load(tmp_path / f"{kind}.faiss")
        assert again.kind == kind and again.size == N and again.dimension == DIM
        assert again.search(q[0], 10)[1].tolist() == ann.search(q[0], 10)[1].tolist()
        assert again.search(q[0], 5, np.arange(0, N, 11))[1].tolist() == ann.search(q[0], 5, np.arange(0, N, 11))[1].tolist()


def test_unknown_kind_is_an_error(data):
    with pytest.raises(ValueError, match="kind"):
        VectorIndex.build(data[0][:10], DIM, kind="lsh")
    with pytest.raises(ValueError, match="storage"):
        VectorIndex.build(data[0][:10], DIM, storage="int4")


def test_hnsw_in_the_retriever_gives_the_exact_top_passages(txt_index, embedder, settings):
    """The dense ranking of the real pipeline is unchanged when the index is HNSW, with and
    without a filter."""
    from rag.index_dir import current_generation, load_arrays, open_index
    from rag.retrieval import Filters, HybridRetriever

    index = open_index(txt_index[1])
    try:
        _, vecs = load_arrays(current_generation(txt_index[1]))
        retriever = HybridRetriever(index, embedder, settings)
        questions = ["Huyện Quan Hóa có bao nhiêu sản phẩm OCOP?", "kinh phí sự nghiệp khoa học",
                     "chế phẩm vi sinh", "Ba Chẽ năm 2023 sáng kiến"]
        filters = [Filters(), Filters(province="Thanh Hóa")]
        exact_hits = {(qq, f): [h.chunk_id for h in retriever.search(qq, 5, f, mode="dense")]
                      for qq in questions for f in filters}
        index.vectors = VectorIndex.build(np.asarray(vecs), vecs.shape[1], kind="hnsw")
        assert index.vectors.kind == "hnsw"
        for (qq, f), hits in exact_hits.items():
            assert [h.chunk_id for h in retriever.search(qq, 5, f, mode="dense")] == hits
    finally:
        index.close()


def test_onnx_backend_matches_torch(embedder, tmp_path, monkeypatch):
    """The optional ONNX embedding backend (rag.embedding, opt-in) gives the PyTorch vectors."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from rag.embedding import Embedder, ModelSpec

    monkeypatch.setenv("RAG_ONNX_CACHE", str(tmp_path))
    onnx = Embedder(ModelSpec.from_name(None), backend="onnx")
    texts = ["Huyện Quan Hóa có 5 sản phẩm OCOP đạt 4 sao", "kinh phí sự nghiệp khoa học năm 2023 " * 30]
    assert np.all((onnx.embed_passages(texts) * embedder.embed_passages(texts)).sum(axis=1) > 0.999)
    assert onnx.describe()["backend"] == "onnx" and "backend" not in embedder.describe()


def test_unknown_embedding_backend_is_a_clear_error():
    from rag.embedding import Embedder, ModelSpec
    from rag.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="backend"):
        Embedder(ModelSpec.from_name(None), backend="tensorflow")
