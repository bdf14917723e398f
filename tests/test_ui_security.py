"""Security and robustness of the web interface (issue 12): uploads cannot name server files, logins are
rate limited, the server follows an ingest made by another process, lock and disk errors read well.

The upload attack is replayed with raw HTTP, as an attacker would send it, against a real server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.test_ui import NEW_REPORT, make_site

ROOT = Path(__file__).resolve().parent.parent
AUTH = ("canbo", "mat-khau")
EVENT_TIMEOUT = 180.0  # seconds for one queued event, indexing included (a few seconds normally)


# ---------------------------------------------------------------- helpers

def secret_report(marker: str) -> str:
    """A file that reads like a report (long enough to be indexed) holding a unique secret."""
    return NEW_REPORT.replace("nuôi ong lấy mật", f"nuôi ong lấy mật, mã bí mật {marker}")


def gradio_upload_folder() -> Path:
    from gradio.utils import get_upload_folder

    return Path(os.path.realpath(get_upload_folder()))


def upload_event(url: str) -> tuple[int, int]:
    """(fn_index, trigger id) of the "add to the archive" button, read from the page's /config."""
    config = httpx.get(url + "/config", timeout=30).json()
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "rag-upload-btn")
    fn = next(d["id"] for d in config["dependencies"] if [button, "click"] in d["targets"])
    return fn, button


def file_data(path: str | Path, name: str) -> dict:
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def run_upload_event(url: str, files: list[dict]) -> dict:
    """Post the upload button's event to the queue as the browser does, and read the server-sent events
    to the end of that event: the ``process_completed`` message (a read timeout fails the test)."""
    fn_index, trigger = upload_event(url)
    session = uuid.uuid4().hex
    deadline = time.monotonic() + EVENT_TIMEOUT
    with httpx.Client(base_url=url, timeout=EVENT_TIMEOUT) as http:
        joined = http.post("/gradio_api/queue/join", json={"data": [files], "fn_index": fn_index,
                                                            "trigger_id": trigger, "session_hash": session,
                                                            "event_data": None})
        assert joined.status_code == 200, joined.text
        event_id = joined.json()["event_id"]
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                assert time.monotonic() < deadline, "no answer to the upload event in time"
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[len("data:"):])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event stream ended before the upload event completed")


def status_html(message: dict) -> str:
    """The upload status shown on the page (first output of the event), empty when the event failed."""
    output = message.get("output") or {}
    return (output.get("data") or [""])[0] or ""


def refused(message: dict) -> bool:
    """Gradio refused the event (the handler never ran), or the handler refused the file."""
    return message.get("success") is False or "Từ chối" in status_html(message)


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    """Regular files (not links) under ``folder`` whose bytes contain ``needle``. Gradio's folder is shared
    with other servers on the machine: a file that vanishes while it is read is passed over."""
    found = []
    paths = [Path(top) / f for top, _, names in os.walk(folder) for f in names]  # os.walk skips vanished folders
    for p in paths:
        try:
            if p.is_symlink() or not p.is_file() or p.stat().st_size > 5_000_000:
                continue
            if needle in p.read_bytes():
                found.append(p)
        except OSError:
            continue
    return found


def assert_not_leaked(site, marker: str, name: str) -> None:
    """The secret is nowhere the site can show it: the corpus, Gradio's cache, the index, /nguon/."""
    needle = marker.encode("utf-8")
    assert files_containing(site.corpus, needle) == [], "the secret was copied into the corpus"
    assert files_containing(gradio_upload_folder(), needle) == [], "the secret was copied into Gradio's cache"
    searcher = site.service.searcher
    docs = searcher.retriever.documents.values()
    assert not any(Path(d.path).name == name for d in docs), "the secret file was indexed"
    answer = site.service.ask(f"mã bí mật {marker}", top_k=20).answer
    assert not any(marker in p.text for p in answer.passages), "the secret text is in the index"
    for d in docs:
        served = httpx.get(f"{site.url}/nguon/{d.id}/{Path(d.path).name}", timeout=30)
        assert needle not in served.content, f"/nguon/{d.id} serves the secret"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def site(tmp_path_factory, txt_index, embedder, settings):
    s = make_site(tmp_path_factory, "ui-security", txt_index, embedder, settings)
    yield s
    s.close()


class FakeClock:
    """A monotonic clock the test moves by hand: the rate limit is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def auth_site(tmp_path_factory, txt_index, embedder, settings):
    s = make_site(tmp_path_factory, "ui-login", txt_index, embedder, settings, auth=AUTH)
    s.clock = FakeClock()
    s.app.state.login_limiter.clock = s.clock
    yield s
    s.close()


# ---------------------------------------------------------------- 1. an upload event naming a server file

def test_upload_event_naming_a_server_file_is_refused(site, tmp_path):
    marker = f"BIMAT{uuid.uuid4().hex[:12].upper()}"
    secret = tmp_path / "bi-mat.txt"  # outside Gradio's upload folder: never uploaded by anyone
    secret.write_text(secret_report(marker), encoding="utf-8")

    message = run_upload_event(site.url, [file_data(secret, secret.name)])

    assert refused(message), message
    assert "Đã thêm" not in status_html(message)
    assert_not_leaked(site, marker, secret.name)


def test_upload_event_naming_a_link_out_of_the_upload_folder_is_refused(site, tmp_path):
    marker = f"BIMAT{uuid.uuid4().hex[:12].upper()}"
    secret = tmp_path / "bi-mat-lien-ket.txt"
    secret.write_text(secret_report(marker), encoding="utf-8")
    folder = gradio_upload_folder() / f"rag-test-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    link = folder / "lien-ket.txt"  # inside the upload folder, pointing out of it
    link.symlink_to(secret)
    try:
        message = run_upload_event(site.url, [file_data(link, link.name)])
        assert refused(message), message
        assert "Đã thêm" not in status_html(message)
        assert_not_leaked(site, marker, link.name)
        assert_not_leaked(site, marker, secret.name)
    finally:
        shutil.rmtree(folder)


def test_a_real_upload_still_goes_through(site, tmp_path):
    """The control for the two tests above: the same event, with a file sent to /gradio_api/upload first."""
    marker = f"ONG{uuid.uuid4().hex[:12].upper()}"
    name = f"muong-lat-{marker.lower()}.txt"
    with httpx.Client(base_url=site.url, timeout=60) as http:
        sent = http.post("/gradio_api/upload", files=[("files", (name, secret_report(marker).encode("utf-8")))])
    assert sent.status_code == 200, sent.text
    (path,) = sent.json()

    message = run_upload_event(site.url, [file_data(path, name)])

    assert message["success"] is True, message
    assert "Đã thêm" in status_html(message) and name in status_html(message), status_html(message)
    assert (site.corpus / "uploads" / name).is_file()
    answer = site.service.ask(f"mã bí mật {marker}", top_k=5).answer
    assert any(marker in p.text for p in answer.passages)


def test_service_takes_only_files_inside_the_upload_folder(tmp_path, txt_index, embedder, settings):
    """The service's own check, for any caller of ``add_reports``: the real path must lie in the upload
    folder (links and ``..`` are resolved first)."""
    from rag import Searcher
    from ui.service import SearchService

    index = tmp_path / "index"
    shutil.copytree(txt_index[1], index)
    corpus = tmp_path / "corpus"
    service = SearchService(index, settings, corpus_dir=corpus,
                            searcher=Searcher.open(index, settings=settings, embedder=embedder))
    assert Path(os.path.realpath(service.upload_root)) == gradio_upload_folder()  # the same rule as Gradio's

    marker = f"BIMAT{uuid.uuid4().hex[:12].upper()}"
    secret = tmp_path / "bi-mat.txt"
    secret.write_text(secret_report(marker), encoding="utf-8")
    folder = gradio_upload_folder() / f"rag-test-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    try:
        link = folder / "lien-ket.txt"
        link.symlink_to(secret)
        dotdot = f"{folder}/{os.path.relpath(secret, folder)}"  # starts inside, climbs out
        good = folder / "muong-lat.txt"
        good.write_text(NEW_REPORT, encoding="utf-8")
        outcome = service.add_reports([(str(secret), "bi-mat.txt"), (str(link), "lien-ket.txt"),
                                       (dotdot, "leo-ra.txt"), (str(good), "muong-lat.txt")])
    finally:
        shutil.rmtree(folder)

    assert [name for name, _ in outcome.rejected] == ["bi-mat.txt", "lien-ket.txt", "leo-ra.txt"], outcome
    assert all("thư mục tải lên" in reason for _, reason in outcome.rejected), outcome.rejected
    assert outcome.added == ["muong-lat.txt"], outcome
    assert files_containing(corpus, marker.encode()) == []
    answer = service.ask(f"mã bí mật {marker}", top_k=20).answer
    assert not any(marker in p.text for p in answer.passages)


def test_gradio_checks_event_files_although_the_app_is_mounted(site):
    """``mount_gradio_app`` never marks the Blocks as launched, and Gradio skips its upload check until
    then: the app marks it, so Gradio's own check runs as it does under ``launch()``."""
    assert site.app.state.blocks.has_launched is True


# ---------------------------------------------------------------- 2. login attempts are rate limited

def _login(http: httpx.Client, password: str) -> httpx.Response:
    return http.post("/login", data={"username": AUTH[0], "password": password})


def test_wrong_passwords_are_rate_limited(auth_site):
    from ui.app import LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS

    auth_site.clock.advance(LOGIN_WINDOW_SECONDS + 1)  # nothing left from another test
    with httpx.Client(base_url=auth_site.url, timeout=30) as http:
        answers = [_login(http, f"sai-{i}") for i in range(20)]
        assert [a.status_code for a in answers] == [400] * LOGIN_MAX_FAILURES + [429] * (20 - LOGIN_MAX_FAILURES)
        assert answers[0].json()["detail"] == "Incorrect credentials."  # Gradio's own answer while under the limit
        blocked = answers[-1]
        assert "Đăng nhập sai quá nhiều lần" in blocked.json()["detail"]
        assert 1 <= int(blocked.headers["retry-after"]) <= LOGIN_WINDOW_SECONDS

        right = _login(http, AUTH[1])  # the right password during the lockout is not even checked
        assert right.status_code == 429 and "access-token" not in " ".join(right.headers.get_list("set-cookie"))
        assert http.get("/config").status_code == 401

        auth_site.clock.advance(LOGIN_WINDOW_SECONDS)  # the window has passed
        assert _login(http, AUTH[1]).status_code == 200
        assert http.get("/config").status_code == 200


def test_login_under_the_limit_is_not_blocked(auth_site):
    from ui.app import LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS

    auth_site.clock.advance(LOGIN_WINDOW_SECONDS + 1)
    with httpx.Client(base_url=auth_site.url, timeout=30) as http:
        assert [_login(http, "sai").status_code for _ in range(LOGIN_MAX_FAILURES - 1)] == \
            [400] * (LOGIN_MAX_FAILURES - 1)
        assert _login(http, AUTH[1]).status_code == 200
        assert http.get("/config").status_code == 200


def test_concurrent_wrong_passwords_cannot_slip_past_the_limit(auth_site):
    """Every attempt counts from the moment it arrives, so a burst sent at once is capped too."""
    from ui.app import LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS

    auth_site.clock.advance(LOGIN_WINDOW_SECONDS + 1)

    async def burst(n: int) -> list[int]:
        async with httpx.AsyncClient(base_url=auth_site.url, timeout=60) as http:
            answers = await asyncio.gather(*(http.post("/login", data={"username": AUTH[0], "password": f"x{i}"})
                                             for i in range(n)))
        return sorted(a.status_code for a in answers)

    assert asyncio.run(burst(40)) == [400] * LOGIN_MAX_FAILURES + [429] * (40 - LOGIN_MAX_FAILURES)


# ---------------------------------------------------------------- 3. following an ingest by another process

def test_service_follows_an_ingest_made_by_another_process(tmp_path, txt_index, embedder, settings):
    from rag import Searcher
    from rag.index_dir import current_generation
    from ui.service import SearchService

    index = tmp_path / "index"
    shutil.copytree(txt_index[1], index)
    service = SearchService(index, settings, corpus_dir=tmp_path / "corpus",
                            searcher=Searcher.open(index, settings=settings, embedder=embedder))
    question = "Mường Lát có bao nhiêu hợp tác xã nuôi ong?"
    before = service.ask(question)
    assert not any("Mường Lát" in p.text for p in before.answer.passages)
    opened = service.searcher.index.directory

    report = tmp_path / "bao-cao-moi" / "muong-lat-2024-nuoi-ong.txt"
    report.parent.mkdir()
    report.write_text(NEW_REPORT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(report), "--index", str(index)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert current_generation(index) != opened

    after = service.ask(question)  # the same service, not restarted
    assert "Mường Lát" in after.answer.passages[0].text, after.answer.passages[0].text
    assert service.searcher.index.directory == current_generation(index)
    rows, _, summary = service.corpus()
    assert any(r.path.endswith(report.name) for r in rows) and current_generation(index).name in summary


def test_noticing_a_new_generation_costs_microseconds(tmp_path, txt_index, embedder, settings):
    """The check runs before every question and listing: a stat of ``CURRENT``, well under 50 µs."""
    from rag import Searcher
    from ui.service import SearchService

    index = tmp_path / "index"
    shutil.copytree(txt_index[1], index)
    service = SearchService(index, settings, corpus_dir=tmp_path / "corpus",
                            searcher=Searcher.open(index, settings=settings, embedder=embedder))
    service.follow_index()
    rounds = []
    for _ in range(5):  # the best of five rounds, as timeit does: a pause of the machine is not the check's
        start = time.perf_counter()
        for _ in range(1000):
            service.follow_index()
        rounds.append((time.perf_counter() - start) / 1000)
    assert min(rounds) < 50e-6, f"{min(rounds) * 1e6:.1f} µs per check"


# ---------------------------------------------------------------- 4. lock and disk errors

def test_busy_index_and_full_disk_become_vietnamese_messages():
    from rag.errors import DiskFullError, IndexBusyError
    from ui.service import explain

    assert explain(IndexBusyError("index/ is locked by pid 42")) == \
        "Chỉ mục đang được một tiến trình khác cập nhật; vui lòng thử lại sau ít phút."
    full = explain(DiskFullError("no space left on device while writing index/gen-000009.tmp"))
    assert full.startswith("Đĩa đầy: ") and "no space left" not in full  # the English detail goes to the log
