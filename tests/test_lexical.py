"""The BM25 arrays we write equal bm25s's own, and an updated generation equals a rebuilt one."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rag.errors import IndexCorruptError
from rag.lexical import LexicalIndex, _bm25s
from rag.vntext import lexical_tokens

SCHEME = "syllable+bigram"

WORDS = ("huyện Quan Hoá có 03 sản phẩm OCOP đạt ba sao; huyện Ba Chẽ có 05 sản phẩm bốn sao; "
         "Bình Liêu thuỷ lợi thủy sản kế hoạch báo cáo năm 2024 tỉnh Thanh Hóa Quảng Ninh xã đạt chuẩn "
         "nông thôn mới khoa học công nghệ đề tài nhiệm vụ cấp cơ sở doanh nghiệp").split()
QUERIES = ["sản phẩm OCOP 4 sao", "quan hoa", "Thủy lợi", "khoa hoc cong nghe nam 2024", "Bình Liêu xã", "không có"]


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40))) for _ in range(n)]


def scores(index: LexicalIndex) -> np.ndarray:
    return np.stack([index.scores(q) for q in QUERIES])


def test_build_matches_bm25s():
    texts = random_texts(120, seed=1) + [""]
    ours = LexicalIndex.build(texts, SCHEME)
    theirs = _bm25s().BM25(k1=1.2, b=0.75)
    theirs.index([lexical_tokens(t, SCHEME) or [""] for t in texts], show_progress=False)
    for q in QUERIES:
        tokens = [t for t in dict.fromkeys(lexical_tokens(q, SCHEME)) if t in theirs.vocab_dict]
        expected = theirs.get_scores(tokens) if tokens else np.zeros(len(texts))
        np.testing.assert_allclose(ours.scores(q), expected, rtol=1e-5, atol=1e-6)
    assert scores(ours).max() > 0  # the queries do hit something


@pytest.mark.parametrize("removed_share", [0.0, 0.3, 1.0])
def test_update_equals_rebuild(tmp_path, removed_share):
    old = random_texts(200, seed=2)
    LexicalIndex.build(old, SCHEME).save(tmp_path / "prev")
    rng = random.Random(3)
    keep = sorted(rng.sample(range(len(old)), round(len(old) * (1 - removed_share))))
    new = random_texts(7, seed=4) + ["từ mới chưa từng thấy Mường Lát"]
    updated = LexicalIndex.update(tmp_path / "prev", SCHEME, np.array(keep), new)
    rebuilt = LexicalIndex.build([old[i] for i in keep] + new, SCHEME)
    np.testing.assert_allclose(scores(updated), scores(rebuilt), rtol=1e-5, atol=1e-6)
    assert updated.bm25.scores["num_docs"] == len(keep) + len(new)
    assert set(updated.rows_with("muong")) == {len(keep) + len(new) - 1}  # a token only the new row has
    # the saved update loads, memory-mapped, with the same scores, and can be updated again
    updated.save(tmp_path / "next")
    reloaded = LexicalIndex.load(tmp_path / "next", SCHEME)
    np.testing.assert_allclose(scores(reloaded), scores(updated), rtol=1e-6)
    again = LexicalIndex.update(tmp_path / "next", SCHEME, np.arange(len(keep) + len(new)), ["Quan Hoá"])
    np.testing.assert_allclose(scores(again), scores(LexicalIndex.build([old[i] for i in keep] + new + ["Quan Hoá"], SCHEME)),
                               rtol=1e-5, atol=1e-6)


def test_large_term_frequencies_survive_an_update(tmp_path):
    """Term frequencies are stored as uint16 when they fit; a text with a token 70,000 times still scores right."""
    old = random_texts(20, seed=7)
    LexicalIndex.build(old, SCHEME).save(tmp_path / "prev")
    assert np.load(tmp_path / "prev" / "tf.csc.npy").dtype == np.uint16
    huge = " ".join(["sao"] * 70_000)
    updated = LexicalIndex.update(tmp_path / "prev", SCHEME, np.arange(20), [huge])
    np.testing.assert_allclose(updated.scores("sao"), LexicalIndex.build(old + [huge], SCHEME).scores("sao"), rtol=1e-5)
    updated.save(tmp_path / "next")
    assert np.load(tmp_path / "next" / "tf.csc.npy").dtype == np.int32


def test_update_needs_term_frequencies(tmp_path):
    LexicalIndex.build(random_texts(5, seed=5), SCHEME).save(tmp_path / "prev")
    (tmp_path / "prev" / "tf.csc.npy").unlink()  # as an index written before they were kept
    assert not LexicalIndex.updatable(tmp_path / "prev")
    with pytest.raises(IndexCorruptError, match="rebuild"):
        LexicalIndex.update(tmp_path / "prev", SCHEME, np.arange(5), ["x"])


def test_update_rejects_unordered_rows(tmp_path):
    LexicalIndex.build(random_texts(5, seed=6), SCHEME).save(tmp_path / "prev")
    with pytest.raises(ValueError, match="ascending"):
        LexicalIndex.update(tmp_path / "prev", SCHEME, np.array([3, 1]), [])
