"""Reading ``.npy`` files from several threads.

CPython 3.11.7 (this project's Python) can fail with ``SystemError: AST constructor
recursion depth mismatch`` when two threads run the parser at once, and NumPy parses
every ``.npy`` header with ``ast.literal_eval`` (bm25s loads its arrays with ``np.load``
too). So every load of an index array, ours or bm25s's, holds ``LOAD_LOCK``: the headers
are parsed one thread at a time (a load is memory-mapped or a sequential read; the lock
is held for milliseconds).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

LOAD_LOCK = threading.RLock()


def load(path: Path, mmap_mode: str | None = None) -> np.ndarray:
    """``np.load`` without pickles, one thread at a time."""
    with LOAD_LOCK:
        return np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
