"""Shared helpers of the benchmarks: machine description, timing statistics, Markdown tables,
JSON results in ``bench/out/``, generated archives (cached under ``$RAG_BENCH_WORK``,
default ``/tmp/rag-bench``) and the random-vector stand-in for the embedding model."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
WORK = Path(os.environ.get("RAG_BENCH_WORK", "/tmp/rag-bench"))
DATE = time.strftime("%Y-%m-%d")  # the day the run was made

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def wait_for_quiet(max_load: float = 1.5, timeout: float = 0.0, poll: float = 30.0) -> float:
    """Wait (up to ``timeout`` seconds) for the 1-minute load to fall below ``max_load``; return it."""
    deadline = time.time() + timeout
    load = os.getloadavg()[0]
    while load >= max_load and time.time() < deadline:
        log(f"load {load:.2f} >= {max_load}: waiting")
        time.sleep(poll)
        load = os.getloadavg()[0]
    return load


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import faiss

    versions = {"python": platform.python_version(), "faiss": faiss.__version__, "numpy": np.__version__}
    for name in ("torch", "sentence_transformers", "bm25s", "onnxruntime"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - optional
            pass
    return {"date": DATE, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gb": mem_gb, "load_at_start": [round(x, 2) for x in os.getloadavg()], "versions": versions,
            "platform": platform.platform()}


def percentiles(seconds: list[float], skip_first: bool = True) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds (the first value dropped: model warm-up, caches)."""
    xs = seconds[1:] if skip_first and len(seconds) > 1 else seconds
    if not xs:
        return {"n": 0}
    ms = np.asarray(xs) * 1000
    return {"n": len(xs), "p50": round(float(np.percentile(ms, 50)), 1), "p95": round(float(np.percentile(ms, 95)), 1),
            "p99": round(float(np.percentile(ms, 99)), 1), "mean": round(float(ms.mean()), 1),
            "max": round(float(ms.max()), 1)}


def md_table(headers: list[str], rows: list[list[object]]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return "–" if v is None else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    data = dict(data)
    data.setdefault("machine", machine())
    data["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    log(f"wrote {path}")
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")


def dir_size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1024 / 1024, 2)


@contextmanager
def timed(store: dict, key: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        store[key] = store.get(key, 0.0) + time.perf_counter() - started


# ---------------------------------------------------------------------------------------
# Archives


def synth_archive(n_reports: int, seed: int = 1) -> Path:
    """``rag.synth`` archive of ``n_reports`` (<= 1,260) reports, cached; returns its folder
    (``corpus/``, ``gold.jsonl``, ``facts.jsonl``)."""
    from rag.synth import generate_archive

    out = WORK / f"synth-{n_reports}-s{seed}"
    if not (out / "gold.jsonl").exists():
        shutil.rmtree(out, ignore_errors=True)
        generate_archive(out, n_reports, seed=seed)
    return out


def replicated_archive(n_reports: int, per_seed: int = 1260) -> tuple[Path, list[dict]]:
    """An archive of ``n_reports`` > 1,260 reports: ``rag.synth`` archives of the same 105
    districts x 6 years under successive seeds (different numbers, wording, signers, dates),
    each file prefixed ``sNN-``. Like an archive that keeps several reports per district and
    year (6-month, yearly, plans, re-issues). Returns the folder and the facts of every report."""
    seeds = -(-n_reports // per_seed)
    out = WORK / f"replicated-{n_reports}"
    corpus = out / "corpus"
    facts: list[dict] = []
    done = (out / "facts.jsonl").exists()
    if not done:
        shutil.rmtree(out, ignore_errors=True)
        corpus.mkdir(parents=True)
    left = n_reports
    for seed in range(1, seeds + 1):
        take = min(per_seed, left)
        left -= take
        src = synth_archive(take, seed=seed)
        for line in (src / "facts.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            row["stem"] = f"s{seed:02d}-{row['stem']}"
            facts.append(row)
            if not done:
                shutil.copy(src / "corpus" / f"{row['stem'][4:]}.txt", corpus / f"{row['stem']}.txt")
    if not done:
        (out / "facts.jsonl").write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts),
                                         encoding="utf-8")
    return out, facts


def list_truth(facts: list[dict], province: str, year: int) -> set[str]:
    """Districts of ``province`` with at least one 4-star OCOP product in ``year``: the figures the
    generator says refer to that year (a later report's "Năm 2021, huyện có …" included), or for an
    archive generated before figures were kept, those of the Báo cáo of that year."""
    if any("figures" in f for f in facts):
        return {g["unit"] for f in facts if f["province"] == province for g in f.get("figures", [])
                if g["level"] == "huyện" and g["year"] == year and g["qualifier"] == "4 sao" and g["value"] >= 1}
    return {f["district"] for f in facts
            if f["province"] == province and f["year"] == year and int(f["ocop_stars"].get("4", 0)) >= 1}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------
# Vectors


def unit_vector_for(text: str, dim: int, base: np.ndarray | None = None) -> np.ndarray:
    """A unit vector determined by ``text``: uniform on the sphere, or (``base`` given) one of
    the real ``base`` vectors plus noise, as in ``realistic_vectors``."""
    seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(dim).astype(np.float32)
    if base is not None:
        v = base[int(rng.integers(0, len(base)))] + float(rng.uniform(0.25, 0.85)) * v / np.sqrt(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


class RandomPassageEmbedder:
    """Wraps a real ``Embedder``: the real model for queries and token counts, a stand-in
    vector per passage (seeded by its text; perturbed real embeddings when ``base`` is given)
    while ``fake`` is true. Lets a 10k-report archive be ingested on 2 cores (embedding 100k
    chunks for real would take hours); the dense side's *quality* is then meaningless, its
    *cost* (FAISS size, build and search time) is not."""

    def __init__(self, real, base: np.ndarray | None = None) -> None:
        self.__dict__["_real"] = real
        self.__dict__["_base"] = base
        self.__dict__["fake"] = True

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __setattr__(self, name, value):
        if name == "fake":
            self.__dict__["fake"] = value
        else:
            setattr(self._real, name, value)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not self.fake:
            return self._real.embed_passages(texts, show_progress)
        if not texts:
            return np.zeros((0, self._real.dimension), dtype=np.float32)
        return np.stack([unit_vector_for(t, self._real.dimension, self._base) for t in texts])


def real_base_vectors() -> np.ndarray | None:
    """The real MiniLM passage embeddings of the index ``bench/ingest.py`` built, if any."""
    from rag.index_dir import current_generation, load_arrays

    for name in ("index-1000", "index-300", "index-20"):
        d = WORK / name
        if d.exists() and current_generation(d):
            return np.asarray(load_arrays(current_generation(d))[1], dtype=np.float32)
    return None


def realistic_vectors(base: np.ndarray, n: int, seed: int = 0, chunk: int = 200_000) -> np.ndarray:
    """``n`` unit vectors shaped like ``base`` (real embeddings): each is a base vector plus
    Gaussian noise of a random strength (cosine to its base 0.75-0.97), so the set keeps the
    clusters and the neighbourhood structure of real passages instead of the uniform sphere
    (where every ANN method does much worse than on real data)."""
    rng = np.random.default_rng(seed)
    dim = base.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        idx = rng.integers(0, len(base), m)
        sigma = rng.uniform(0.25, 0.85, size=(m, 1)).astype(np.float32)
        x = base[idx] + sigma * rng.standard_normal((m, dim)).astype(np.float32) / np.sqrt(dim)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:start + m] = x
    return out


def random_unit_vectors(n: int, dim: int, seed: int = 0, chunk: int = 200_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        x = rng.standard_normal((m, dim)).astype(np.float32)
        out[start:start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out

