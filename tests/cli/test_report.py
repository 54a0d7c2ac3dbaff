"""``exchange report`` over a real hub: paper, unsigned, signed and altered documents and incoming
ones, counted by hand here, then reported as JSON, CSV, a table, a PNG and the six-monthly
report, from the hub over HTTP and from its database after it stopped."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.cli.app import main
from exchange.cms import sign_detached
from exchange.domain.documents import DocumentMetadata
from exchange.errors import RejectedError
from exchange.node import acknowledge, fetch, node_verifier
from exchange.pki import KeyStore
from tests.cli.conftest import Run
from tests.conftest import TestPKI

from e2e.harness import RunningHub, start_hub

BODIES = 7  # the session PKI's six real bodies and revoked-body

# The traffic below, counted by hand (one register row per document and recipient):
#   1  central-office → ha-noi, nghe-an   signed        2 rows signed_valid (ha-noi verifies it)
#   2  ha-noi → central-office            signed        1 row  signed_valid
#   3  nghe-an → central-office           altered       1 row  signed_invalid (refused)
#   4  da-nang → organization-commission  unsigned      1 row  unsigned
#   5  da-nang → central-office, ha-noi   paper         2 rows paper
#   6  organization-commission → da-nang  signed        1 row  signed_valid
# K1 = 4 of 8 rows; K1 verified = 1 of 8 (only ha-noi checked row 1 itself).
# K2: every signature in one week of a 52/53-week year: no regular user, 0 of 7 bodies.
# K3: ha-noi scanned and entered; nghe-an entered without a scan; central-office scanned, not
# entered: 1 of 3.
EXPECTED = {
    "k1": (4, 8, False),
    "k1_verified": (1, 8, False),
    "k2": (0, BODIES, False),
    "k3": (1, 3, False),
}


def metadata(*recipients: str, subject: str = "Công văn") -> DocumentMetadata:
    return DocumentMetadata(recipients=recipients, subject=subject, message_id=str(uuid.uuid4()),
                            number="1-CV")


def exchange_a_handful(hub: RunningHub, pki: TestPKI, folder: Path) -> None:
    scan = folder / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned letter " * 40)
    with hub.client("central-office") as client:
        first = client.send(b"Thong bao so 1" * 50, metadata=metadata("ha-noi", "nghe-an"))
        client.register_incoming(from_agency="Văn phòng Chính phủ", scan=scan, entered=False)
    with hub.client("ha-noi") as client:
        got = fetch(client, first.id, out_dir=folder / "in", at=lambda: datetime.now(UTC),
                    verifier=node_verifier(KeyStore(pki.dir), client))
        acknowledge(client, got)
        client.send(b"Bao cao thang" * 50, metadata=metadata("central-office"))
        client.register_incoming(from_agency="Bộ Tài chính", scan=scan, entered=True)
    with hub.client("nghe-an") as client:
        altered = sign_detached(b"what was signed", hub.credential("nghe-an"), at=datetime.now(UTC))
        with pytest.raises(RejectedError):
            client.send(b"what was sent", metadata=metadata("central-office"), signature=altered)
        client.register_incoming(from_agency="Bộ Nội vụ", entered=True)
    with hub.client("da-nang") as client:
        client.send(b"Cong van khong ky" * 50, metadata=metadata("organization-commission"), sign=False)
        client.send_paper(metadata=metadata("central-office", "ha-noi", subject="Tờ trình (giấy)"))
    with hub.client("organization-commission") as client:
        client.send(b"Huong dan" * 50, metadata=metadata("da-nang"))


@pytest.fixture(scope="module")
def hub(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    root = tmp_path_factory.mktemp("report-hub")
    running = start_hub(keys=pki.dir, data=root / "data", db_url=f"sqlite:///{root / 'hub.db'}")
    try:
        exchange_a_handful(running, pki, root)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def auditor_token(hub: RunningHub) -> str:
    hub.add_person("report-auditor", "auditor")
    return hub.person_token("report-auditor")


@pytest.fixture
def run(run: Run, auditor_token: str) -> Run:
    """The CLI with an auditor's token in EXCHANGE_TOKEN (what --hub needs; --db does not)."""

    def with_token(*args: str | Path, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return run(*args, env={"EXCHANGE_TOKEN": auditor_token, **(env or {})}, **kwargs)

    return with_token


@pytest.fixture(scope="module")
def year(hub: RunningHub) -> str:
    sent = {e["sent_at"][:4] for e in hub.register()}
    assert len(sent) == 1, f"the traffic straddles a new year: {sent}"
    return sent.pop()


def report(run: Run, *args: str | Path, ok: bool = True) -> Any:
    done = run("report", *args)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def counts(data: dict[str, Any]) -> dict[str, tuple[int, int, bool | None]]:
    return {name: (data[name]["numerator"], data[name]["denominator"], data[name]["met"])
            for name in EXPECTED}


def test_json_from_the_hub_is_the_hand_count_and_the_hubs_own(run: Run, hub: RunningHub, year: str) -> None:
    data = json.loads(report(run, "--hub", hub.url, "--period", year, "--json").stdout)
    assert counts(data) == EXPECTED
    assert data["k1"]["target"] == 0.6 and data["k1"]["value"] == 0.5
    assert data["channels"] == {"signed_valid": 4, "signed_invalid": 1, "unsigned": 1, "paper": 2}
    with hub.auditor() as http:
        assert data == http.get("/api/measures", params={"period": year}).json()
        by_body = json.loads(report(run, "--hub", hub.url, "--period", year, "--by", "body",
                                    "--format", "json").stdout)
        assert by_body == http.get("/api/measures", params={"period": year, "by": "body"}).json()
    ranked = [(row["body"], row["k1_sent"]["numerator"], row["k1_sent"]["denominator"])
              for row in by_body["breakdown"]][:2]
    assert ranked == [("da-nang", 0, 3), ("nghe-an", 0, 1)]  # furthest behind; more rows first


def test_csv_table_and_chart(run: Run, hub: RunningHub, year: str, tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(report(run, "--hub", hub.url, "--period", year,
                                                  "--format", "csv", "--by", "direction").stdout)))
    overall = {r["measure"]: (int(r["numerator"]), int(r["denominator"])) for r in rows
               if r["group"] == "overall"}
    assert overall == {name: value[:2] for name, value in EXPECTED.items()}
    assert {r["key"] for r in rows if r["group"] == "direction"} >= {"central-to-provincial"}

    table = report(run, "--hub", hub.url, "--period", year, "--by", "body").stdout
    k1 = next(line for line in table.splitlines() if "K1 electronic" in line)
    assert "✘" in k1 and "50.0 %" in k1 and "4 / 8" in k1 and "missed" in k1
    assert "Thành ủy Đà Nẵng" in table and "8 register rows and 3 incoming" in table
    assert table.index("da-nang") < table.index("nghe-an") < table.index("central-office")
    assert "\x1b[" not in table  # no colour codes when not a terminal

    chart = tmp_path / "k.png"
    done = report(run, "--hub", hub.url, "--period", year, "--format", "png", "--output", chart)
    assert str(chart) in done.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_the_six_monthly_report(run: Run, hub: RunningHub, pki: TestPKI, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    half = f"{now.year}H{1 if now.month <= 6 else 2}"
    at = (pki.revoked_at + timedelta(hours=1)).isoformat()  # revoked-body is revoked by then
    common = ("--hub", hub.url, "--half", half, "--keys", pki.dir, "--at", at)
    report(run, *common, "--output", tmp_path / "r.md")
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    for words in ("Six-monthly report", "K1 electronic, signed and delivered", "4 / 8",
                  "K2 bodies using signatures regularly", "0 / 7", "K3 outside documents", "1 / 3",
                  "## 5. Bodies furthest behind", "Thành ủy Đà Nẵng (`da-nang`)",
                  "Compared with the", "cannot be compared"):
        assert words in md, words
    behind = md[md.index("## 5."):md.index("## 6.")]
    assert behind.index("da-nang") < behind.index("nghe-an")
    certificates = md[md.index("## 6."):md.index("## 7.")]
    assert "`revoked-body`) | revoked" in certificates

    report(run, *common, "--format", "html", "--output", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "<table" in html
    assert "Thành ủy Đà Nẵng" in html and 'charset="utf-8"' in html.lower()
    assert "data:image/png;base64," in html
    tags = TagCounter()
    tags.feed(html)
    assert tags.opened["table"] == tags.closed["table"] > 0



def test_without_the_keys_the_report_says_certificates_were_not_checked(
        hub: RunningHub, auditor_token: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("EXCHANGE_TOKEN", auditor_token)
    monkeypatch.setattr("sys.argv", ["exchange", "report", "--hub", hub.url, "--half", "2015H1",
                                     "--keys", str(tmp_path / "none"), "--output", "-"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert "Certificate status was not available" in capsys.readouterr().out


def test_a_bodys_yearly_report(run: Run, hub: RunningHub, pki: TestPKI, year: str, tmp_path: Path) -> None:
    # nghe-an sent one document, altered in transit: refused (HASH_FAILURE), 0 of 1 row
    done = report(run, "--db", hub.db_url, "--keys", pki.dir, "--year", year, "--body", "nghe-an",
                  "--output", "-")
    md = done.stdout
    assert "**From:** Tỉnh ủy Nghệ An" in md
    assert "**To:** Ban Bí thư (the Secretariat), qua Văn phòng Trung ương Đảng" in md
    assert "| ✘ | Sent: electronic, signed and delivered | 0.0 % | 0 / 1 | 60 % | missed |" in md
    refusals = md[md.index("## 5."):md.index("## 6.")]
    assert "| 1 | HASH_FAILURE |" in refusals and "1-CV" in refusals
    certificates = md[md.index("## 6."):md.index("## 7.")]
    assert "valid at the end of the year" in certificates
    # from a running hub the reasons are not public: the count only, and where to find them
    over_http = report(run, "--hub", hub.url, "--keys", pki.dir, "--year", year, "--body", "nghe-an",
                       "--output", "-").stdout
    assert "1 register row was refused" in over_http and "--db" in over_http
    report(run, "--db", hub.db_url, "--keys", pki.dir, "--year", year, "--body", "nghe-an", "--format",
           "print", "--output", tmp_path / "y.html")
    printable = (tmp_path / "y.html").read_text(encoding="utf-8")
    assert "@page { size: A4" in printable and "Tỉnh ủy Nghệ An" in printable


def test_the_hub_refuses_a_report_without_a_token_in_one_line(run: Run, hub: RunningHub, year: str) -> None:
    done = run("report", "--hub", hub.url, "--period", year, "--json", env={"EXCHANGE_TOKEN": ""})
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "refused /api/" in done.stderr and "(401)" in done.stderr and "exchange users token" in done.stderr


def test_a_clerks_token_reports_only_its_bodys_rows(run: Run, hub: RunningHub, year: str) -> None:
    hub.add_person("clerk-da-nang", "clerk", body="da-nang")
    token = hub.person_token("clerk-da-nang")
    data = json.loads(report(run, "--hub", hub.url, "--period", year, "--json", "--token", token).stdout)
    # da-nang's rows only: its unsigned document, its paper one to two bodies, the one it received.
    assert data["channels"] == {"signed_valid": 1, "signed_invalid": 0, "unsigned": 1, "paper": 2}


def test_the_database_gives_the_same_numbers_after_the_hub_stops(run: Run, hub: RunningHub, pki: TestPKI,
                                                                 year: str) -> None:
    with hub.auditor() as http:
        served = http.get("/api/measures", params={"period": year}).json()
    hub.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{hub.url}/api/health", timeout=2)
    data = json.loads(report(run, "--db", hub.db_url, "--keys", pki.dir, "--period", year,
                             "--json").stdout)
    assert data == served and counts(data) == EXPECTED
    ranged = json.loads(report(run, "--db", hub.db_url, "--keys", pki.dir, "--from", f"{year}-01-01",
                               "--to", f"{year}-12-31", "--json").stdout)
    assert counts(ranged) == EXPECTED and ranged["period"]["label"] == year


@pytest.mark.parametrize(("args", "words", "status"), [
    (("--period", "2015X"), "period '2015X'", 2),
    (("--half", "2015H1", "--period", "2015"), "not --period and --half", 2),
    (("--format", "png", "--output", "-", "--period", "2015"), "cannot go to standard output", 2),
    (("--hub", "http://127.0.0.1:9", "--period", "2015"), "cannot reach the hub at http://127.0.0.1:9: ", 1),
])
def test_mistakes_are_one_line_and_a_status(run: Run, args: tuple[str, ...], words: str, status: int) -> None:
    done = report(run, *args, ok=False)
    assert done.returncode == status, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "words", "status"), [
    (("--half", "2015Q1"), "not a half-year", 2),
    (("--format", "xls"), "unknown format 'xls'", 2),
    (("--json", "--format", "csv"), "--json is short for --format json", 2),
    (("--from", "2015-01-01"), "--from and --to go together", 2),
    (("--by", "body", "--format", "md", "--period", "2015"), "--by applies to", 2),
    (("--hub", "http://h", "--db", "sqlite:///x.db"), "not both", 2),
    (("--db", "sqlite:///nowhere/hub.db", "--period", "2015"), "no hub database at nowhere/hub.db", 1),
    (("--year", "2015"), "--year and --body go together", 2),
    (("--body", "nghe-an"), "--year and --body go together", 2),
    (("--year", "2015", "--body", "nghe-an", "--half", "2015H1"), "leave out --period", 2),
    (("--year", "2015", "--body", "nghe-an", "--format", "csv"), "yearly report is md, html or print", 2),
    (("--unit", "page", "--period", "2015"), "unknown unit 'page'", 2),
    (("--unit", "document", "--half", "2015H1"), "--unit document applies to", 2),
    (("--unit", "document", "--by", "direction"), "K1 by direction counts register rows", 2),
])
def test_more_mistakes_at_the_same_error_edge(args: tuple[str, ...], words: str, status: int,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same edge as ``python -m exchange`` (main), in-process: no start-up cost per case."""
    monkeypatch.chdir(tmp_path)
    for name in ("EXCHANGE_DB", "EXCHANGE_DATA", "EXCHANGE_HUB", "EXCHANGE_KEYS", "EXCHANGE_BODIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.argv", ["exchange", "report", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == status, err
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err


class TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.opened: dict[str, int] = {}
        self.closed: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.opened[tag] = self.opened.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        self.closed[tag] = self.closed.get(tag, 0) + 1

