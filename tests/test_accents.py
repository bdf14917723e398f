"""Diacritics restored from the archive's words (rag.accents), counted at ingest and kept up to date."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rag.accents import AccentModel
from rag.vntext import canonical_tones, fold, has_diacritics

ROOT = Path(__file__).resolve().parent.parent
REPORTS = sorted((ROOT / "corpus" / "txt").glob("*.txt"))


def _texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in REPORTS]


def _words(text: str) -> list[str]:
    return canonical_tones(text.lower()).replace("?", " ").split()


def test_unaccented_dev_questions_get_their_diacritics_back():
    model = AccentModel.build(_texts())
    total = right = 0
    for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        question = json.loads(line)["question"]
        if not has_diacritics(question):
            continue  # typed unaccented already (and the English one: never restored, rag.language decides)
        restored = model.restore(fold(question))
        assert fold(restored) == fold(question)  # only diacritics change
        pairs = list(zip(_words(question), _words(restored)))
        total += len(pairs)
        right += sum(a == b for a, b in pairs)
    assert right / total >= 0.95, right / total  # 1.0 measured (2026-12-01); 0.98 on alqac2023's questions over its articles


def test_question_words_the_reports_never_use():
    model = AccentModel.build(_texts())
    assert model.restore("ba che co bao nhieu san pham") == "ba chẽ có bao nhiêu sản phẩm"
    assert model.restore("Quan Hoa co nhung san pham OCOP nao?") == "Quan Hoá có những sản phẩm OCOP nào?"
    # what the reports write in capitals comes back in capitals
    assert model.restore("quan hoa co bao nhieu san pham ocop") == "quan hoá có bao nhiêu sản phẩm OCOP"


def test_a_question_with_diacritics_and_unknown_words_stay_as_typed():
    model = AccentModel.build(_texts())
    assert model.restore("Quan Hóa có gì") == "Quan Hóa có gì"
    assert model.restore("zzyzx 2024 qwerty") == "zzyzx 2024 qwerty"


def _as_dict(model: AccentModel) -> tuple[dict, dict]:
    c = model.counts
    forms = {f: (int(n), int(u)) for f, n, u in zip(c.forms, c.form_counts, c.capital_counts) if n}
    pairs = {(c.forms[int(k) >> 32], c.forms[int(k) & 0xFFFFFFFF]): int(n) for k, n in zip(c.pairs, c.pair_counts)}
    return forms, pairs


def test_incremental_counts_equal_a_fresh_count():
    texts = _texts()
    whole = AccentModel.build(texts)
    grown = AccentModel.build(texts[:2]).updated(texts[2:], [])
    shrunk = whole.updated([], texts[3:])
    assert _as_dict(grown) == _as_dict(whole)
    assert _as_dict(shrunk) == _as_dict(AccentModel.build(texts[:3]))


def test_saved_and_loaded(tmp_path):
    model = AccentModel.build(_texts())
    model.save(tmp_path / "accents")
    again = AccentModel.load(tmp_path / "accents")
    assert _as_dict(again) == _as_dict(model)
    assert AccentModel.load(tmp_path / "nothing") is None
    (tmp_path / "accents" / "capital_counts.npy").unlink()  # an older layout: counted again, not a crash
    assert AccentModel.load(tmp_path / "accents") is None
    assert np.all(np.diff(again.counts.pairs) > 0)


def test_ingest_keeps_the_counts_of_what_is_indexed(tmp_path, embedder, settings):
    """An incremental ingest that removes a report gives the counts of a fresh build of the rest."""
    from rag import ingest
    from rag.index_dir import open_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    for p in REPORTS:
        (corpus / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    ingest([corpus], tmp_path / "i", settings=settings, embedder=embedder)
    (corpus / REPORTS[0].name).unlink()
    ingest([corpus], tmp_path / "i", settings=settings, embedder=embedder)
    ingest([corpus], tmp_path / "fresh", settings=settings, embedder=embedder)
    updated, fresh = open_index(tmp_path / "i"), open_index(tmp_path / "fresh")
    try:
        assert updated.accents is not None and "accents/forms.json" in updated.manifest.files
        assert _as_dict(updated.accents) == _as_dict(fresh.accents)
    finally:
        updated.close()
        fresh.close()


def test_an_index_from_before_the_counts_gets_them_at_its_next_ingest(tmp_path, embedder, settings):
    """A generation written before rag.accents (no accents/ folder, none in its manifest) opens
    without restoring, and the next ingest counts what it keeps plus what it adds."""
    import shutil

    from rag import ingest
    from rag.index_dir import Manifest, current_generation, open_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    for p in REPORTS[:3]:
        shutil.copy(p, corpus / p.name)
    ingest([corpus], tmp_path / "i", settings=settings, embedder=embedder)
    generation = current_generation(tmp_path / "i")
    shutil.rmtree(generation / "accents")
    manifest = Manifest.read(generation)
    files = {k: v for k, v in manifest.files.items() if not k.startswith("accents/")}
    Manifest(**{**manifest.__dict__, "files": files}).write(generation)
    old = open_index(tmp_path / "i")
    assert old.accents is None
    old.close()
    shutil.copy(REPORTS[3], corpus / REPORTS[3].name)
    ingest([corpus], tmp_path / "i", settings=settings, embedder=embedder)
    grown = open_index(tmp_path / "i")
    try:
        assert _as_dict(grown.accents) == _as_dict(AccentModel.build(
            [f"{c.context}\n{c.text}" for c in grown.store.canonical_chunks()]))
    finally:
        grown.close()


def test_the_dense_half_embeds_the_restored_question(txt_searcher):
    retriever = txt_searcher.retriever
    assert retriever.dense_query("so luong nhan hieu tap the") == "số lượng nhãn hiệu tập thể"
    # the list answer's heading states the condition restored, not as typed
    answer = txt_searcher.ask("nhung huyen nao co san pham ocop 4 sao")
    assert answer.answer.startswith("2 huyện có sản phẩm OCOP 4 sao"), answer.answer[:80]
    english = "How many collective trademarks does Quang Tri have?"
    assert retriever.dense_query(english) == english
