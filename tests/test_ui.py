"""The web interface: started in a thread on a free loopback port over a small index of corpus/txt,
queried with gradio_client and plain HTTP."""

from __future__ import annotations

import csv
import http.client
import io
import os
import shutil
import urllib.parse
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
TXT = sorted((ROOT / "corpus" / "txt").glob("*.txt"))
OCOP = "Những huyện nào có sản phẩm OCOP 4 sao?"

NEW_REPORT = """UỶ BAN NHÂN DÂN HUYỆN MƯỜNG LÁT
Số: 77/BC-UBND
Mường Lát, ngày 05 tháng 6 năm 2024

BÁO CÁO
Kết quả nuôi ong lấy mật năm 2024

1. Kết quả
Năm 2024 huyện Mường Lát có 12 hợp tác xã nuôi ong lấy mật, sản lượng mật ong đạt 38 tấn.
Người dân được tập huấn kỹ thuật nuôi ong <script>alert("xss")</script> theo hướng hữu cơ.

2. Nhiệm vụ
Mở rộng vùng nuôi ong và xây dựng nhãn hiệu mật ong Mường Lát.
"""


# ---------------------------------------------------------------- helpers shared with test_ui_browser.py

class Site:
    """A served UI over a copy of the session's corpus/txt index (built by conftest with ``rag.ingest``),
    so that uploads stay local to this site."""

    def __init__(self, root: Path, txt_index, embedder, settings, auth: tuple[str, str] | None = None) -> None:
        from rag import Searcher
        from ui.app import BackgroundServer, create_app
        from ui.service import SearchService

        self.sources = txt_index[0]
        self.corpus = root / "corpus"
        self.corpus.mkdir(parents=True)
        self.index = root / "index"
        shutil.copytree(txt_index[1], self.index)
        searcher = Searcher.open(self.index, settings=settings, embedder=embedder)
        self.service = SearchService(self.index, settings, corpus_dir=self.corpus, searcher=searcher)
        self.app = create_app(self.service, auth=auth)
        self.server = BackgroundServer(self.app, "127.0.0.1", 0).start()
        self.url = self.server.url

    def close(self) -> None:
        self.server.stop()


def make_site(tmp_path_factory, name: str, txt_index, embedder, settings, auth=None) -> Site:
    return Site(tmp_path_factory.mktemp(name), txt_index, embedder, settings, auth)


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def site(tmp_path_factory, txt_index, embedder, settings):
    s = make_site(tmp_path_factory, "ui-site", txt_index, embedder, settings)
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(site):
    from gradio_client import Client

    return Client(site.url, verbose=False)


@pytest.fixture()
def upload_dir(site):
    """A fresh folder inside the upload folder (Gradio's, where uploads land): the service takes files from
    nowhere else."""
    folder = Path(os.path.realpath(site.service.upload_root)) / f"rag-test-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def ask(client, question, **kw):
    return client.predict(question, kw.get("province", ""), kw.get("district", ""), kw.get("year", ""),
                          kw.get("doc_type", ""), kw.get("top_k", 5), api_name="/ask")


# ---------------------------------------------------------------- asking through the API

def test_ocop_question_returns_binh_lieu_and_ba_che_with_citations(client):
    result = ask(client, OCOP)
    assert result["ok"] and result["found"], result
    assert result["passages"], result
    texts = " ".join(p["text"] for p in result["passages"])
    assert "Bình Liêu" in texts and "Ba Chẽ" in texts
    assert "[1]" in result["answer"]
    first = result["passages"][0]
    assert "Bình Liêu" in first["districts"] or "Ba Chẽ" in first["districts"]
    for p in result["passages"][:2]:
        assert p["citation"] and "Quảng Ninh" in p["citation"]
        assert p["url"].startswith("/nguon/")
        assert p["highlights"], p


def read_csv(data: bytes) -> list[list[str]]:
    """A downloaded CSV: it must start with the UTF-8 BOM (Excel then reads Vietnamese correctly)."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_list_question_rows_in_the_api_and_as_csv(site, client):
    result = ask(client, OCOP)
    rows = result["rows"]
    assert sorted((r["unit"], r["value"]) for r in rows) == [("Ba Chẽ", 5), ("Bình Liêu", 1)], rows
    for r in rows:
        assert r["province"] == "Quảng Ninh" and r["year"] == 2023
        cited = result["passages"][r["passage"] - 1]
        assert r["unit"] in cited["text"] and r["source"] == cited["source"]
    assert result["csv_url"].startswith("/tai-csv?q=")

    response = httpx.get(site.url + result["csv_url"], timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment")
    assert ".csv" in response.headers["content-disposition"]
    table = read_csv(response.content)
    assert table[0] == ["Huyện", "Tỉnh", "Số lượng", "Năm", "Trích dẫn", "Tệp nguồn", "Cấp", "Ghi chú"]
    assert sorted((line[0], line[2]) for line in table[1:]) == [("Ba Chẽ", "5"), ("Bình Liêu", "1")]
    by_unit = {r["unit"]: r for r in rows}
    for unit, province, value, year, citation, source, level, note in table[1:]:
        r = by_unit[unit]
        assert (province, year, source, level, note) == ("Quảng Ninh", "2023", r["source"], "huyện", "")
        assert citation == result["passages"][r["passage"] - 1]["citation"]

    # the filters travel with the link; a question that is not a list, or no question, gets no CSV
    filtered = ask(client, OCOP, province="Quảng Ninh")
    assert "province=Qu" in filtered["csv_url"]
    assert read_csv(httpx.get(site.url + filtered["csv_url"], timeout=30).content) == table
    plain = ask(client, "quan hoa co bao nhieu san pham ocop")
    assert "rows" not in plain and "csv_url" not in plain
    assert httpx.get(site.url + "/tai-csv", params={"q": plain["question"]}, timeout=30).status_code == 404
    assert httpx.get(site.url + "/tai-csv", params={"q": " "}, timeout=30).status_code == 400


def test_list_question_rows_shown_as_a_table(site):
    from ui.render import render_answer

    page = render_answer(site.service.ask(OCOP).answer)
    table = page.split("<table class='rag-table rag-rows'>")[1].split("</table>")[0]
    assert "<th>Huyện</th><th>Tỉnh</th><th class='num'>Số lượng</th><th>Năm</th><th>Nguồn</th>" in table
    assert table.count("<tr>") == 4  # header, two districts, total
    assert "<td class='rag-unit'>Ba Chẽ</td><td>Quảng Ninh</td><td class='num'>5</td><td>2023</td>" in table
    assert "<td class='rag-unit'>Bình Liêu</td><td>Quảng Ninh</td><td class='num'>1</td><td>2023</td>" in table
    assert "href='#rag-p-1'" in table and "href='#rag-p-2'" in table
    assert "Tổng cộng: 2 huyện" in table
    assert "2 huyện có sản phẩm OCOP 4 sao" in page
    assert "class='rag-btn rag-csv'" in page and ">Tải CSV</a>" in page and "href='/tai-csv?q=" in page
    assert "<li>" not in page.split("rag-answer")[1].split("</section>")[0]  # the table replaces the list lines
    # the bar chart beside the table: one bar per district, as long as its count against the largest
    chart = page.split("<figure class='rag-chart'")[1].split("</figure>")[0]
    assert chart.count("class='rag-bar-row'") == 2 and "width:100%" in chart and "width:20%" in chart
    assert "<span class='rag-bar-label'>Ba Chẽ</span>" in chart and "(2023)" not in chart  # one year: no year labels


def test_chart_labels_years_and_skips_rows_without_a_count():
    from rag.answer import AnswerRow
    from ui.render import render_chart

    rows = [AnswerRow("Ba Chẽ", "Quảng Ninh", 5, 2023, 1, "a.txt"), AnswerRow("Ba Chẽ", "Quảng Ninh", 2, 2021, 2, "b.txt"),
            AnswerRow("Thanh Liêm", "Hà Nam", None, 2022, 3, "c.txt", note="Hà Nam cũ, nay thuộc Ninh Bình")]
    chart = render_chart(rows)
    assert chart.count("class='rag-bar-row'") == 2 and "Ba Chẽ (2021)" in chart and "Thanh Liêm" not in chart
    assert "width:40%" in chart and "theo từng đơn vị và năm" in chart
    assert render_chart(rows[2:]) == ""  # nothing counted: no chart


def test_list_question_with_no_match_says_so_plainly(client, site):
    from ui.render import render_answer

    question = "Những huyện nào có sản phẩm OCOP 5 sao?"
    result = ask(client, question)
    assert result["rows"] == [] and result["found"] is False and "csv_url" not in result
    assert result["answer"].startswith("Không tìm thấy huyện nào")
    page = render_answer(site.service.ask(question).answer)
    assert "Không tìm thấy huyện nào" in page and "rag-notfound" in page
    assert "rag-rows" not in page and "Tải CSV" not in page


def test_list_rows_are_escaped_and_csv_cells_are_not_formulas():
    from rag.answer import Answer, AnswerRow
    from ui.export import rows_csv
    from ui.render import render_answer

    evil = "<script>alert(1)</script>"
    rows = [AnswerRow(f"=HYPERLINK(\"x\") {evil}", f"{evil}'\"&", 3, None, 1, f"corpus/{evil}.txt", note=f"+{evil}")]
    answer = Answer(f"Huyện nào {evil}?", "1 huyện có X:\n- y: 3 [1]", True,
                    [_passage("Đoạn.", citation=f"@cite {evil}")], {"province": "A&B"}, rows=rows)
    page = render_answer(answer)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#x27;&quot;&amp;" in page
    assert "/tai-csv?q=Huy%E1%BB%87n%20n%C3%A0o%20%3Cscript%3E" in page and "&amp;province=A%26B" in page
    assert "download='huyen-nao-script-alert-1-script.csv'" in page
    table = read_csv(rows_csv(answer.to_json()))
    assert table[1] == ["'=HYPERLINK(\"x\") " + evil, evil + "'\"&", "3", "", "'@cite " + evil,
                        f"corpus/{evil}.txt", "huyện", "'+" + evil]


def test_empty_question_gets_a_message(client):
    for q in ("", "   "):
        result = ask(client, q)
        assert result["ok"] is False
        assert result["passages"] == []
        assert "Vui lòng nhập câu hỏi" in result["message"]


def test_long_question_is_cut_with_a_message(client):
    result = ask(client, "sản phẩm OCOP " * 200)
    assert result["ok"]
    assert "1000" in result["message"]
    assert len(result["question"]) <= 1000


def test_filters_narrow_results(client):
    question = "hoạt động khoa học và công nghệ"
    unfiltered = ask(client, question, top_k=10)
    provinces = {p["province"] for p in unfiltered["passages"]}
    assert len(provinces) > 1, provinces
    narrowed = ask(client, question, province="Thanh Hóa", top_k=10)
    assert narrowed["passages"]
    assert {p["province"] for p in narrowed["passages"]} == {"Thanh Hóa"}
    assert narrowed["filters"] == {"province": "Thanh Hóa"}
    by_year = ask(client, question, year="2022", doc_type="Kế hoạch", top_k=10)
    assert by_year["passages"]
    assert all(p["year"] == 2022 and p["doc_type"] == "Kế hoạch" for p in by_year["passages"])
    nothing = ask(client, OCOP, province="Quảng Ninh", year="2022")
    assert nothing["passages"] == [] and nothing["found"] is False


def test_bad_year_filter_is_a_message_not_an_error(client):
    result = ask(client, OCOP, year="hai nghìn")
    assert result["ok"] is False and "năm" in result["message"]


# ---------------------------------------------------------------- opening sources

def test_source_link_returns_the_indexed_file(site, client):
    result = ask(client, OCOP)
    url = result["passages"][0]["url"]
    response = httpx.get(site.url + url.split("#")[0], timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    source = Path(result["passages"][0]["source"])
    assert source.is_absolute() and source.parent == Path(site.sources)
    assert response.content == source.read_bytes()


def test_paths_outside_the_corpus_cannot_be_fetched(site, client):
    secret = site.corpus.parent / "secret.txt"
    secret.write_text("mật khẩu: 1234", encoding="utf-8")
    unindexed = site.corpus / "chua-lap-chi-muc.txt"
    unindexed.write_text("chưa lập chỉ mục", encoding="utf-8")
    doc_id = ask(client, OCOP)["passages"][0]["doc_id"]
    attempts = [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=" + str(secret),
        "/gradio_api/file=" + str(unindexed),
        "/gradio_api/file=" + str(TXT[0]),
        "/gradio_api/file=" + str(Path(site.sources) / TXT[0].name),
        "/file=/etc/passwd",
        f"/nguon/{doc_id}/../../../../../../etc/passwd",
        f"/nguon/{doc_id}/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        f"/nguon/{doc_id}/%2e%2e%2f%2e%2e%2fsecret.txt",
        f"/nguon/{doc_id}/secret.txt",
        f"/nguon/{doc_id}/chua-lap-chi-muc.txt",
        "/nguon/99999/passwd",
        "/nguon/..%2F..%2Fetc/passwd",
        "/nguon/-1/x.txt",
    ]
    for path in attempts:
        status, body = raw_get(site.url, path)
        assert status in (400, 403, 404, 405, 422), (path, status)
        assert b"root:" not in body and "mật khẩu".encode() not in body and "chưa lập".encode() not in body, path


def test_source_route_requires_login_when_auth_is_on(tmp_path_factory, txt_index, embedder, settings):
    from gradio_client import Client

    s = make_site(tmp_path_factory, "ui-auth", txt_index, embedder, settings, auth=("canbo", "mat-khau"))
    try:
        doc_id = next(iter(s.service.searcher.retriever.documents))
        name = Path(s.service.searcher.retriever.documents[doc_id].path).name
        assert httpx.get(f"{s.url}/nguon/{doc_id}/{name}", timeout=30).status_code == 401
        assert httpx.get(f"{s.url}/config", timeout=30).status_code == 401
        assert httpx.get(f"{s.url}/tai-csv", params={"q": OCOP}, timeout=30).status_code == 401
        with httpx.Client(base_url=s.url, timeout=30) as http:
            bad = http.post("/login", data={"username": "canbo", "password": "sai"})
            assert bad.status_code >= 400
            ok = http.post("/login", data={"username": "canbo", "password": "mat-khau"})
            assert ok.status_code == 200, ok.text
            assert http.get(f"/nguon/{doc_id}/{name}").status_code == 200
            assert http.get("/tai-csv", params={"q": OCOP}).status_code == 200
        result = Client(s.url, auth=("canbo", "mat-khau"), verbose=False).predict(OCOP, "", "", "", "", 3,
                                                                                  api_name="/ask")
        assert result["passages"]
    finally:
        s.close()


# ---------------------------------------------------------------- adding reports

def test_upload_is_indexed_without_restart(site, client, upload_dir):
    upload = upload_dir / "muong-lat-2024-nuoi-ong.txt"
    upload.write_text(NEW_REPORT, encoding="utf-8")
    before = ask(client, "Mường Lát có bao nhiêu hợp tác xã nuôi ong?")
    assert not any("Mường Lát" in p["text"] for p in before["passages"])
    stages = []
    outcome = site.service.add_reports([(str(upload), upload.name)], progress=lambda s, d, t: stages.append(s))
    assert outcome.added == [upload.name], outcome
    assert (site.corpus / "uploads" / upload.name).is_file()
    assert "read" in stages
    after = ask(client, "Mường Lát có bao nhiêu hợp tác xã nuôi ong?")
    assert "Mường Lát" in after["passages"][0]["text"]
    # the same file again: not kept twice, said to be a copy of the report already there
    again = site.service.add_reports([(str(upload), upload.name)])
    assert not again.added and [(c.name, c.same_file) for c in again.copies] == [(upload.name, True)], again
    kind, text = again.messages()[0]
    assert kind == "warn" and "bản sao của báo cáo đã có" in text and upload.name in text
    rows, _, _ = site.service.corpus()
    assert any(r.path.endswith(upload.name) for r in rows)
    assert "Mường Lát" in site.service.filter_choices()["district"]


def test_upload_checks_type_and_size(site, upload_dir, monkeypatch):
    import ui.service as service

    tmp_path = upload_dir
    exe = tmp_path / "virus.exe"
    exe.write_bytes(b"MZ" + b"\0" * 100)
    fake_pdf = tmp_path / "gia.pdf"
    fake_pdf.write_text("không phải PDF", encoding="utf-8")
    fake_docx = tmp_path / "gia.docx"
    fake_docx.write_text("không phải DOCX", encoding="utf-8")
    empty = tmp_path / "rong.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "nhi-phan.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    big = tmp_path / "lon.txt"
    big.write_text("a" * 2048, encoding="utf-8")
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", 1024)
    files = [exe, fake_pdf, fake_docx, empty, binary, big]
    outcome = site.service.add_reports([(str(f), f.name) for f in files])
    assert [name for name, _ in outcome.rejected] == [f.name for f in files], outcome
    assert not any(reason == service.OUTSIDE_UPLOADS for _, reason in outcome.rejected), outcome
    assert not outcome.added
    assert not any((site.corpus / "uploads" / f.name).exists() for f in files)


def test_upload_names_are_made_safe():
    from ui.service import safe_name

    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\x.PDF") == "x.pdf"
    assert safe_name(".hidden.txt") == "hidden.txt"
    assert safe_name("Báo cáo <b>2024.docx") == "Báo cáo _b_2024.docx"
    assert safe_name("a/b/<i>.txt") == "i.txt"


def test_unreadable_upload_is_reported_and_not_kept(site, upload_dir):
    short = upload_dir / "qua-ngan.txt"
    short.write_text("abc", encoding="utf-8")
    outcome = site.service.add_reports([(str(short), short.name)])
    assert outcome.skipped == [(short.name, "no_text")], outcome
    assert outcome.messages() == [("error", "Không đọc được qua-ngan.txt: không tìm thấy chữ nào trong tệp. "
                                            "Tệp không được thêm vào kho.")]
    assert not (site.corpus / "uploads" / short.name).exists()
    _, skipped, _ = site.service.corpus()
    assert not any(short.name in path for path, _ in skipped), skipped  # never kept: not listed under its path


# ---------------------------------------------------------------- rendering, export, errors

def _passage(text: str, **kw):
    from rag.answer import Passage

    base = dict(rank=1, source="corpus/pdf/a.pdf", page=3, page_end=3, section="1. Kết quả", text=text, score=0.5,
                citation="Báo cáo số 1/BC-UBND ngày 01/02/2024 của UBND huyện X, tr. 3", chunk_id=1, doc_id=7, start=0,
                end=len(text), highlights=[(0, 10)], issuer="UBND huyện X", number="1/BC-UBND",
                date="ngày 01/02/2024", doc_type="Báo cáo", province="Thanh Hóa", districts=["X"], year=2024)
    base.update(kw)
    return Passage(**base)


def test_report_html_is_escaped():
    from rag.answer import Answer
    from ui.render import render_answer

    evil = "<script>alert(1)</script> và <img src=x onerror=alert(2)> ' \" &"
    answer = Answer(f"hỏi {evil}", f"- Theo X: “{evil}” [1]", True,
                    [_passage(evil, section=evil, citation=evil, issuer=evil, source=f"corpus/{evil}.pdf")])
    page = render_answer(answer)
    assert "<script>" not in page and "<img src=x" not in page
    assert page.count("<img") == page.count("<img loading='lazy' src='/trang/7/3.png?c=1'")  # only our page image
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror=alert(2)&gt;" in page  # shown as text, inside an escaped tag
    assert "href='#rag-p-1'" in page       # our own markup survives


def test_cards_grouped_by_report_with_page_links_and_copy_text():
    from rag.answer import Answer
    from ui.render import copy_text, render_answer

    a = _passage("Câu một. Câu hai.", rank=1, page=2, doc_id=7, highlights=[(0, 8)])
    b = _passage("Câu ba.", rank=2, page=5, doc_id=7, chunk_id=2)
    c = _passage("Câu bốn.", rank=3, doc_id=9, source="corpus/txt/b.txt", page=None, page_end=None, chunk_id=3)
    page = render_answer(Answer("q", "- Theo X: “Câu một.” [1]", True, [a, b, c]))
    assert page.count("class='rag-doc'") == 2
    assert "/nguon/7/a.pdf#page=2" in page and "/nguon/7/a.pdf#page=5" in page
    assert "/nguon/9/b.txt'" in page and "#page" not in page.split("/nguon/9/b.txt")[1][:5]
    assert "<mark>Câu một.</mark> Câu hai." in page
    assert "3 đoạn trích từ 2 báo cáo" in page
    assert copy_text(a) == "“Câu một. Câu hai.”\n(Nguồn: Báo cáo số 1/BC-UBND ngày 01/02/2024 của UBND huyện X, tr. 3)"


def test_export_docx_and_markdown(tmp_path):
    from docx import Document

    from rag.answer import Answer
    from ui.export import export_file

    answer = Answer("Câu hỏi?", "", True, [_passage("Đoạn một.", rank=1), _passage("Đoạn hai.", rank=2)]).to_json()
    md = export_file(answer, [2], "md", tmp_path).read_text(encoding="utf-8")
    assert "> Đoạn hai." in md and "Đoạn một." not in md and "— Báo cáo số 1/BC-UBND ngày 01/02/2024 của UBND huyện X" in md
    doc = Document(str(export_file(answer, [1, 2], "docx", tmp_path)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Đoạn một." in text and "Đoạn hai." in text and "Nguồn: Báo cáo số 1/BC-UBND" in text


def test_exports_hold_the_whole_answer(tmp_path):
    """Question, answer, the list table, then the chosen excerpts (issue 15 item 2); read back."""
    from docx import Document

    from rag.answer import Answer, AnswerRow
    from ui.export import export_file

    rows = [AnswerRow("Ba Chẽ", "Quảng Ninh", 5, 2023, 1, "a.pdf"),
            AnswerRow("Thanh Liêm", "Hà Nam", None, 2022, 2, "b.pdf", note="Hà Nam cũ, nay thuộc Ninh Bình")]
    answer = Answer("Những huyện nào có sản phẩm OCOP 4 sao?", "2 huyện có sản phẩm OCOP 4 sao:\n- Ba Chẽ …: 5 [1]",
                    True, [_passage("Đoạn một.", rank=1), _passage("Đoạn hai.", rank=2)], rows=rows).to_json()
    doc = Document(str(export_file(answer, [2], "docx", tmp_path)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.index("Những huyện nào có sản phẩm OCOP 4 sao?") < text.index("2 huyện có sản phẩm OCOP 4 sao:") \
        < text.index("Đoạn hai.") and "Đoạn một." not in text and "- Ba Chẽ" not in text
    [table] = doc.tables
    cells = [[c.text for c in r.cells] for r in table.rows]
    assert cells == [["Đơn vị", "Tỉnh", "Số lượng", "Năm", "Nguồn"], ["Ba Chẽ", "Quảng Ninh", "5", "2023", "[1]"],
                     ["Thanh Liêm (Hà Nam cũ, nay thuộc Ninh Bình)", "Hà Nam", "–", "2022", "[2]"]]
    md = export_file(answer, [], "md", tmp_path).read_text(encoding="utf-8")
    assert md.startswith("# Những huyện nào có sản phẩm OCOP 4 sao?") and "| Ba Chẽ | Quảng Ninh | 5 | 2023 | [1] |" in md
    assert "## Trích dẫn" not in md  # nothing chosen: the answer alone


def test_no_index_shows_a_message(tmp_path, settings):
    from ui.app import create_app
    from ui.service import SearchService

    service = SearchService(tmp_path / "no-index", settings, corpus_dir=tmp_path / "corpus")
    result = service.ask(OCOP)
    assert result.answer is None and "Chưa có chỉ mục" in result.message
    assert service.corpus()[0] == [] and service.filter_choices()["province"] == []
    create_app(service)  # the page still builds


def test_library_errors_become_vietnamese_messages():
    from rag.errors import IndexCorruptError, ModelUnavailableError
    from ui.service import explain

    assert "mô hình" in explain(ModelUnavailableError("cannot load the model at x"))
    assert "rebuild" in explain(IndexCorruptError("damaged")) and "damaged" not in explain(IndexCorruptError("damaged"))
    assert "cannot load" not in explain(ModelUnavailableError("cannot load the model at x"))
    assert "Traceback" not in explain(ValueError("boom")) and "boom" not in explain(ValueError("boom"))


def test_search_failure_is_a_message_not_a_trace(site, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(site.service.searcher, "ask", broken)
    result = site.service.ask(OCOP)
    assert result.answer is None and "lỗi nội bộ" in result.message and "secret" not in result.message


def test_safe_defaults():
    import inspect

    from ui.app import parse_auth, serve
    from rag.errors import ConfigError

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert list(inspect.signature(serve).parameters) == ["index_dir", "host", "port", "auth", "config", "backend", "store"]
    assert parse_auth(None) is None and parse_auth("") is None
    assert parse_auth("canbo:mat:khau") == ("canbo", "mat:khau")
    for bad in ("canbo", ":x", "canbo:"):
        with pytest.raises(ConfigError):
            parse_auth(bad)


def test_queue_has_a_concurrency_limit(site):
    blocks = site.app.state.blocks
    assert blocks._queue.default_concurrency_limit == 4
    assert not any("flag" in (fn.name or "") for fn in blocks.fns.values())


def test_source_responses_by_format(tmp_path):
    from ui.app import _source_response

    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    response = _source_response(pdf)
    assert response.media_type == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    page = tmp_path / "b.html"
    page.write_text("<html><script>alert(1)</script>Báo cáo</html>", encoding="utf-8")
    response = _source_response(page)
    assert response.media_type.startswith("text/plain")  # an HTML report is shown as text, never run
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.body.decode("utf-8") == page.read_text(encoding="utf-8")
    legacy = tmp_path / "c.txt"
    legacy.write_bytes("Báo cáo năm".encode("cp1258"))  # Windows-1258 on disk, UTF-8 in the browser
    assert _source_response(legacy).body.decode("utf-8") == "Báo cáo năm"


def test_symlink_out_of_the_corpus_is_not_served(site, tmp_path):
    service = site.service
    doc_id, path = next(iter(service._sources.items()))
    outside = tmp_path / "outside.txt"
    outside.write_text("bí mật", encoding="utf-8")
    link = site.corpus / "link.txt"
    link.symlink_to(outside)
    original = dict(service._sources)
    try:
        service._sources = {**original, doc_id: link}
        assert service.source_file(doc_id) is None
    finally:
        service._sources = original
        link.unlink()
    assert service.source_file(doc_id) == path.resolve()
    assert service.source_file(10**9) is None
