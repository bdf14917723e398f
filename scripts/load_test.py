"""Load test on loopback: N concurrent clients ask questions through `rag serve`'s `ask` API for a
fixed time; prints requests, failures and latency percentiles (Markdown) and exits 1 on any failure.

    python scripts/load_test.py --index index --clients 20 --seconds 60

Starts its own server on a free 127.0.0.1 port and stops it; traffic never leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

QUESTIONS = [
    "Những huyện nào có sản phẩm OCOP 4 sao?",
    "quan hoa co bao nhieu san pham ocop",
    "Tỉnh Quảng Trị có bao nhiêu nhãn hiệu tập thể?",
    "Thanh Liêm duy trì bao nhiêu mô hình cánh đồng mẫu?",
    "Kết quả đánh giá xếp loại nhiệm vụ KH&CN của huyện Triệu Sơn",
    "Ba Chẽ có bao nhiêu sản phẩm đã được xây dựng thương hiệu?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"server at {url} did not start within {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(args.index), "--host",
                               "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_ready(url)
        from gradio_client import Client

        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        stop_at = time.time() + args.seconds

        def client(n: int) -> None:
            c = Client(url, verbose=False)
            i = n
            while time.time() < stop_at:
                question = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                started = time.perf_counter()
                try:
                    result = c.predict(question, "", "", "", "", 5, api_name="/ask")
                    ok = isinstance(result, dict) and result.get("passages")
                    if not ok:
                        raise ValueError(f"empty answer for {question!r}")
                    with lock:
                        latencies.append(time.perf_counter() - started)
                except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = sorted(x * 1000 for x in latencies) or [0.0]
    pct = lambda p: ms[min(len(ms) - 1, int(round(p * (len(ms) - 1))))]  # noqa: E731
    print("| clients | seconds | requests | failed | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.clients} | {args.seconds:.0f} | {len(latencies)} | {len(failures)} | "
          f"{len(latencies) / args.seconds:.1f} | {statistics.median(ms):.0f} | {pct(0.95):.0f} | {pct(0.99):.0f} |")
    for f in failures[:5]:
        print(f"failure: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
