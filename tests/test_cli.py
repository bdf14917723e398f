"""The ``rag`` command: JSON output, JSON Lines from stdin, exit codes, messages without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rag(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_ask_json_and_stdin_jsonl(txt_index):
    _, index, _ = txt_index
    out = rag("ask", "Những huyện nào có sản phẩm OCOP 4 sao?", "--index", str(index), "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["found"] is True and answer["question"] == "Những huyện nào có sản phẩm OCOP 4 sao?"
    first = answer["passages"][0]
    assert {"source", "page", "section", "text", "score", "citation"} <= set(first)
    assert Path(first["source"]).exists()
    joined = " ".join(p["text"] for p in answer["passages"])
    assert "01 sản phẩm 4 sao" in joined and "05 sản phẩm được xếp hạng 4 sao" in joined
    assert "[1]" in answer["answer"]

    lines = rag("ask", "-", "--index", str(index), stdin="quan hoa co bao nhieu san pham ocop\n\nHuyện Triệu Sơn có sản phẩm OCOP 5 sao nào không?\n")
    assert lines.returncode == 0, lines.stderr
    rows = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["found"] for r in rows] == [True, False]
    assert "11 sản phẩm OCOP đạt ba (03) sao" in rows[0]["passages"][0]["text"]
    assert rows[0]["passages"][0]["citation"].startswith("Công văn số …/UBND-KTHT tháng 12/2024 của UBND huyện Quan Hoá")


def test_missing_index_is_a_one_line_error(tmp_path):
    out = rag("ask", "OCOP", "--index", str(tmp_path / "none"))
    assert out.returncode == 2
    assert out.stderr.strip().startswith("rag: error: no index in") and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_damaged_index_exit_code(tmp_path, txt_index):
    import shutil

    index = tmp_path / "copy"
    shutil.copytree(txt_index[1], index)
    (index / "CURRENT").write_text("gen-999999\n")
    out = rag("ask", "OCOP", "--index", str(index))
    assert out.returncode == 3 and "rag ingest --rebuild" in out.stderr and "Traceback" not in out.stderr


def test_ingest_summary_and_skips(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text((ROOT / "corpus/txt/quan-hoa-2024-de-an-khcn.txt").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    (corpus / "b.pdf").write_bytes(b"%PDF-1.4 broken")
    out = rag("ingest", str(corpus), "--index", str(tmp_path / "i"), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["indexed"] == 1 and summary["skipped"] == 1 and summary["chunks"] > 0
    assert "skipped: " in out.stderr and "b.pdf" in out.stderr
    strict = rag("ingest", str(corpus), "--index", str(tmp_path / "i"), "--strict")
    assert strict.returncode == 1
