"""Write the unaccented copy of a gold set: every question typed without diacritics, as staff often type.

    python eval/make_unaccented.py eval/dev.jsonl eval/dev-unaccented.jsonl

Evidence and sources stay as they are (they are the archive's text); ids get a ``u`` prefix.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.vntext import fold  # noqa: E402


def main(source: str, target: str) -> int:
    out = []
    for line in Path(source).read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            q["id"], q["question"] = "u" + q["id"], fold(q["question"]).lower()
            out.append(json.dumps(q, ensure_ascii=False))
    Path(target).write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
