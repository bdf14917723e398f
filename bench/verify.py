"""What checking a generation's checksums costs: ``rag.integrity.checksums`` (at ingest) and
``verify`` (on open, and before an ingest derives from it) over files shaped like a real
generation of a given size (the byte split of the 99,205-chunk index in docs/benchmarks.md).

    .venv/bin/python bench/verify.py --mb 654 6540

Prints a Markdown table; writes bench/out/verify.json. The bytes are random: SHA-256 costs the
same whatever they hold, and the page cache is warm (as on a server that just wrote or read them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from rag.integrity import VERIFY_ON_OPEN_BYTES, checksums, verify

# share of each file in the 99,205-chunk generation (654 MB): SQLite, vectors.npy, FAISS, BM25, ids
SPLIT = {"meta.sqlite": 0.40, "vectors.npy": 0.23, "vectors.faiss": 0.23, "lexical/data.csc.index.npy": 0.06,
         "lexical/indices.csc.index.npy": 0.06, "chunk_ids.npy": 0.01, "chunk_docs.npy": 0.01}


def make_generation(root: Path, total_mb: int) -> None:
    block = os.urandom(1 << 20)
    for rel, share in SPLIT.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            for _ in range(max(1, int(total_mb * share))):
                fh.write(block)


def measure(total_mb: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="rag-verify-"))
    try:
        make_generation(root, total_mb)
        t0 = time.perf_counter()
        files = checksums(root)
        t1 = time.perf_counter()
        on_open = verify(root, files)
        t2 = time.perf_counter()
        verify(root, files, max_bytes=None)
        t3 = time.perf_counter()
        return {"mb": total_mb, "checksums_s": round(t1 - t0, 3), "open_s": round(t2 - t1, 3),
                "open_hashed_mb": round(on_open.hashed_bytes / 2**20), "full_s": round(t3 - t2, 3)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, nargs="+", default=[654, 6540])
    rows = [measure(mb) for mb in parser.parse_args().mb]
    print(f"| generation MB | write checksums s | verify on open s (budget {VERIFY_ON_OPEN_BYTES >> 20} MB) "
          "| MB hashed on open | full verify s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mb']} | {r['checksums_s']} | {r['open_s']} | {r['open_hashed_mb']} | {r['full_s']} |")
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/verify.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
