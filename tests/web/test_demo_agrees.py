"""After ``exchange demo``, the terminal, the dashboard it links to, ``report --half 2015H1`` and
``report --period 2015 --by month`` show the same figures, digit for digit.

The demo runs on the programme's calendar (2015), in a real subprocess with its real hub and
node processes; the dashboard is read in Chromium while the demo's hub keeps serving; the
reports read the demo's database. Every figure is compared as the printed string and as its
counts.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2e.harness import free_port
from web.conftest import VIEWPORT

pytestmark = pytest.mark.browser

LABELS = {"k1": "K1 electronic, signed and delivered", "k1_verified": "K1 verified by the recipient",
          "k2": "K2 bodies using signatures regularly", "k3": "K3 outside documents scanned and entered"}
FIGURE = r"(no data|\d+\.\d %)"
COUNT = r"(\d[\d,]*) / (\d[\d,]*)"


def _headline(text: str, title: str) -> dict[str, tuple[str, str, str]]:
    """{measure: (percent, numerator, denominator)} from a rich headline table titled *title*."""
    block = text[text.index(title):]
    found = {}
    for key, label in LABELS.items():
        m = re.search(re.escape(label) + r"\s*│\s*" + FIGURE + r"\s*│\s*" + COUNT, block)
        assert m, f"{label} not in the table {title!r}:\n{block[:1500]}"
        found[key] = (m[1], m[2].replace(",", ""), m[3].replace(",", ""))
    return found


def _rows(text: str, title: str, first: str) -> dict[str, list[tuple[str, str, str]]]:
    """Rows of a rich table titled *title* whose first cell matches *first*: [(percent, n, d)…]."""
    block = text[text.index(title):]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells and re.fullmatch(first, cells[0]):
            figures = []
            for cell in cells[1:]:
                m = re.search(FIGURE + r"(?:\s+" + COUNT + ")?", cell)
                if m:
                    figures.append((m[1], m[2] or "", m[3] or ""))
            rows[cells[0]] = figures
    return rows


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "exchange", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr  # no note: the register's own bodies are counted
    return done.stdout


def test_terminal_dashboard_and_reports_agree_after_the_demo(browser, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "exchange", "demo", "--bodies", "5", "--documents", "24",
                             "--seconds", "8", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = ""
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 180
        for line in demo.stdout:
            out += line
            if "The hub keeps serving" in line or time.monotonic() > deadline:
                break
        assert "The hub keeps serving" in out, out
        url = re.search(r"this run: ((https?)://\S+)\)", out)
        assert url and url[1] == f"{url[2]}://127.0.0.1:{port}/?period=2015", out
        home = f"{url[2]}://127.0.0.1:{port}/"

        terminal = _headline(out, "Measures K1–K3 · 2015")
        months = _rows(out, "By month · 2015", r"2015-\d\d")
        halves = _rows(out, "Half-years", r"2015H[12]")
        assert len(months) == 12 and set(halves) == {"2015H1", "2015H2"}
        assert int(terminal["k1"][2]) > 0  # the demo's rows are in 2015

        # 1. the dashboard the demo links to, and the one it opens on by default
        # (the demo's hub serves HTTPS with a certificate from the demo's own root, which this
        # browser profile does not know: the TLS check is the node tests' business, not this one's)
        context = browser.new_context(viewport=VIEWPORT, ignore_https_errors=True)
        try:
            tab = context.new_page()
            # the pages need a login: the demo printed the auditor's and keeps it in logins.txt
            logins = dict(line.split(" ", 1) for line in
                          (tmp_path / "demo-data" / "logins.txt").read_text(encoding="utf-8").splitlines())
            assert "auditor[/]" not in out and logins["auditor"].strip() in out
            tab.goto(url[1])
            assert "/login" in tab.url
            tab.fill('input[name="name"]', "auditor")
            tab.fill('input[name="password"]', logins["auditor"].strip())
            tab.click('form.login-form button[type="submit"]')
            tab.wait_for_url(url[1])
            for address in (url[1], home):
                tab.goto(address)
                assert "· 2015" in tab.locator("h1").inner_text()
                for key in ("k1", "k2", "k3"):
                    card = tab.locator(f'section.cards [data-measure="{key}"]')
                    assert card.locator(".value").inner_text() == terminal[key][0], key
                    assert (card.get_attribute("data-numerator"), card.get_attribute("data-denominator")) == \
                        terminal[key][1:], key
                strict = tab.locator('[data-measure-note="k1_verified"] strong').inner_text()
                assert strict == terminal["k1_verified"][0]
            if terminal["k2"][0] != "no data" and float(terminal["k2"][0][:-2]) < 60:
                note = tab.locator("p.k2-reach").inner_text()
                assert "K2" in note and "weeks of 2015" in note  # the low K2 is explained
            screenshot(tab, "demo-dashboard-2015")
        finally:
            context.close()

        # 2. the six-monthly report of 2015H1 on the demo's database
        database = f"sqlite:///{tmp_path / 'demo-data' / 'hub' / 'hub.db'}"
        half = _cli("report", "--db", database, "--half", "2015H1", "--output", "-", cwd=tmp_path, env=env)
        for index, key in enumerate(("k1", "k1_verified", "k2", "k3")):
            shown, numerator, denominator = halves["2015H1"][index]
            assert re.search(rf"\| {re.escape(LABELS[key])} \| {re.escape(shown)} \| {numerator} / {denominator} \|",
                             half), (key, half)
        h1 = _headline(_cli("report", "--db", database, "--period", "2015H1", cwd=tmp_path, env=env),
                       "Measures K1–K3 · 2015H1")
        assert [h1[k] for k in ("k1", "k1_verified", "k2", "k3")] == halves["2015H1"]

        # 3. the year by month
        year = _cli("report", "--db", database, "--period", "2015", "--by", "month", cwd=tmp_path, env=env)
        assert _headline(year, "Measures K1–K3 · 2015") == terminal
        assert _rows(year, "By month · 2015", r"2015-\d\d") == months

        # 4. with the demo's CA: Nghệ An's revoke-then-renew is in the six-monthly report, which
        # proposes adjustments; Nghệ An's own yearly report exists and prints to PDF
        keys = str(tmp_path / "demo-data" / "keys")
        # (the CA acts on 20 May and 10 August, a few simulated days late on a busy machine)
        assert re.search(r"CA, \d+ May 2015: the certificate of nghe-an\s+is\s+revoked", out), out
        half = _cli("report", "--db", database, "--keys", keys, "--half", "2015H1", "--output", "-", cwd=tmp_path,
                    env=env)
        assert re.search(r"\| Tỉnh ủy Nghệ An \(`nghe-an`\) \| `[0-9a-f]+…` \| \d+ May 2015, \d\d:\d\d UTC \| "
                         r"key compromise \| \d+ August 2015", half), half
        assert "## 7. Proposed adjustments" in half and re.search(r"\| 1 \| K\d", half)
        assert "**To:** Thường trực Ban Bí thư (the Standing Secretariat)" in half
        yearly = _cli("report", "--db", database, "--keys", keys, "--year", "2015", "--body", "nghe-an",
                      "--output", "-", cwd=tmp_path, env=env)
        assert "**To:** Ban Bí thư (the Secretariat), qua Văn phòng Trung ương Đảng" in yearly
        assert re.search(r"revoked \d+ May 2015 \(key compromise\)", yearly) and "| REVOKED |" in yearly
        _cli("report", "--db", database, "--keys", keys, "--year", "2015", "--body", "nghe-an", "--format",
             "print", cwd=tmp_path, env=env)
        printable = tmp_path / "report-2015-nghe-an.print.html"
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(printable.as_uri())
            assert "Tỉnh ủy Nghệ An" in tab.locator("h1").inner_text() + tab.locator("p.vi").inner_text()
            pdf = tab.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2  # laid out on A4 pages
        finally:
            context.close()
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
        try:
            demo.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.communicate()
