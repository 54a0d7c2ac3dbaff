"""The pages in Chromium against a real hub: the overview agrees with ``GET /api/measures``,
the bodies table sorts and filters, a refused document shows why, training actions move the
measures, secret content never appears. Each page is saved as a screenshot."""

from __future__ import annotations

import re
from typing import Any

import pytest

from e2e.harness import RunningHub
from web.seed import SECRET_MARKER

pytestmark = pytest.mark.browser
MEASURES = ("k1", "k2", "k3")


def api_measures(hub: RunningHub, period: str) -> dict[str, Any]:
    """``GET /api/measures?period=…`` from the running hub."""
    with hub.auditor() as http:
        response = http.get("/api/measures", params={"period": period})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def shown_measures(page) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The overview's cards as the browser shows them (counts from their data attributes)."""
    shown = {}
    for key in MEASURES:
        card = page.locator(f'section.cards [data-measure="{key}"]')
        value = card.get_attribute("data-value")
        shown[key] = {"numerator": int(card.get_attribute("data-numerator")),
                      "denominator": int(card.get_attribute("data-denominator")),
                      "value": float(value) if value else None,
                      "text": card.locator(".value").inner_text(),
                      "state": card.get_attribute("data-met")}
    return shown


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def test_the_overview_shows_the_same_measures_as_the_api(page, web_hub, seeded, pki, screenshot):  # type: ignore[no-untyped-def]
    period = str(pki.created.year)
    page.goto(f"/?period={period}")
    expected = api_measures(web_hub, period)
    shown = shown_measures(page)
    for key in MEASURES:
        want = expected[key]
        assert (shown[key]["numerator"], shown[key]["denominator"]) == (want["numerator"], want["denominator"]), key
        assert shown[key]["value"] == pytest.approx(want["value"]) if want["value"] is not None else \
            shown[key]["value"] is None
        assert shown[key]["text"] == percent_text(want["value"])
        assert shown[key]["state"] == {True: "met", False: "missed", None: "nodata"}[want["met"]]
    # The seeded register: 2 signed and valid rows to ha-noi and nghe-an, 1 from nghe-an,
    # 1 unsigned, 1 paper, 1 refused, 1 secret (signed, valid): 4 of 7 rows.
    assert (shown["k1"]["numerator"], shown["k1"]["denominator"]) == (4, 7)
    assert (shown["k3"]["numerator"], shown["k3"]["denominator"]) == (1, 3)
    # The default period (no ?period=) is this year, where the data is.
    page.goto("/")
    assert shown_measures(page) == shown
    assert page.locator("svg.chart .target").count() == 1
    assert page.locator('[data-live-key="refused_today"]').inner_text() == "1"
    assert "Tỉnh ủy Nghệ An" in page.locator("table.behind").inner_text() or \
        "Thành ủy Đà Nẵng" in page.locator("table.behind").inner_text()
    screenshot(page, "01-overview")
    page.locator("#large-toggle").click()
    assert "large" in (page.locator("html").get_attribute("class") or "")
    screenshot(page, "01-overview-large-type")


def test_the_bodies_table_sorts_by_a_clicked_column_and_filters_by_kind(page, seeded, screenshot):  # type: ignore[no-untyped-def]
    page.goto("/bodies")
    rows = page.locator("#bodies-table tbody tr")
    assert rows.count() == 7
    assert "Văn phòng Trung ương Đảng" in page.locator("#bodies-table").inner_text()

    def column(index: int) -> list[str]:
        return page.locator(f"#bodies-table tbody tr td:nth-child({index})").evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-value'))")

    page.locator("#bodies-table th", has_text="Sent").locator("button").click()
    sent = [int(v) for v in column(3)]
    assert sent == sorted(sent, reverse=True) and sent[0] > sent[-1]
    assert page.locator("#bodies-table th", has_text="Sent").get_attribute("aria-sort") == "descending"
    page.locator("#bodies-table th", has_text="Sent").locator("button").click()
    assert [int(v) for v in column(3)] == sorted(sent)
    page.locator("#bodies-table th", has_text="Body").locator("button").click()
    names = column(1)  # Vietnamese order: "Ban …" first, "Văn phòng …" last
    assert names[0].startswith("Ban ") and names[-1] == "Văn phòng Trung ương Đảng"
    screenshot(page, "02-bodies")

    page.locator('[data-kind-filter="provincial"]').click()
    page.wait_for_url(re.compile(r"kind=provincial"))
    kinds = page.locator("#bodies-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds and set(kinds) == {"provincial"} and len(kinds) == 3


def test_a_body_page_shows_its_measures_certificate_and_exchanges(page, seeded, screenshot):  # type: ignore[no-untyped-def]
    page.goto("/bodies/nghe-an")
    assert page.locator("h1").inner_text() == "Tỉnh ủy Nghệ An"
    assert page.locator(".cert.big").inner_text() == "valid"
    sent = page.locator('[data-measure="k1_sent"]')
    assert (sent.get_attribute("data-numerator"), sent.get_attribute("data-denominator")) == ("1", "1")
    assert page.locator("svg.chart").count() == 1
    assert page.locator("table.docs tbody tr").count() == 2  # it sent one and received one
    screenshot(page, "03-body")


def test_a_refused_document_shows_why_in_words_and_stops_the_workflow_there(page, seeded, screenshot):  # type: ignore[no-untyped-def]
    page.goto("/documents?validity=failed")
    assert page.locator("table.register tbody tr").count() == 1
    screenshot(page, "04-documents-filtered")
    page.locator("table.register tbody tr a", has_text="Quyết định").click()
    page.wait_for_url(f"**/documents/{seeded.tampered}")
    validation = page.locator("#validation")
    assert "HASH_FAILURE" in validation.inner_text()
    assert "The document was altered after it was signed" in validation.inner_text()
    failed = page.locator("table.checks tr.failed")
    assert failed.count() == 1 and "unchanged since it was signed" in failed.inner_text()
    screenshot(page, "05-document-refused")

    page.goto(f"/documents/{seeded.tampered}/workflow")
    validated = page.locator('.step[data-step="3"]')
    assert validated.get_attribute("data-state") == "failed"
    assert "altered after it was signed" in validated.inner_text()
    assert page.locator('.lane .step[data-state="unreached"]').count() == 4
    assert page.locator('.step[data-state="ok"]').count() == 2  # signed, received
    screenshot(page, "06-workflow-refused")


def test_a_signed_exchange_is_drawn_step_by_step(page, seeded, screenshot):  # type: ignore[no-untyped-def]
    page.goto(f"/documents/{seeded.signed}/workflow")
    lanes = page.locator(".lane")
    assert lanes.count() == 2
    for lane in ("ha-noi", "nghe-an"):
        states = page.locator(f'.lane[data-lane="{lane}"] .step').evaluate_all(
            "steps => steps.map(s => s.dataset.state)")
        assert states == ["ok", "ok", "ok", "ok"], (lane, states)
    assert "03 accepted" in page.locator('.lane[data-lane="nghe-an"] .step[data-step="7"]').inner_text()
    screenshot(page, "07-workflow-signed")
    page.goto(f"/documents/{seeded.signed}")
    assert page.locator("table.receipts tbody tr").count() == 3
    assert page.locator("#preview").count() == 1  # a normal text document may be previewed
    validation = page.locator("#validation")
    assert "Time-stamp" in validation.inner_text() and "Time-Stamping Authority" in validation.inner_text()
    today = page.locator("#today")
    assert "Validated again now" in today.inner_text() and "Signature valid" in today.inner_text()
    assert "proof that the signature existed then" in today.inner_text()
    screenshot(page, "08-document-signed")


def test_the_content_of_a_secret_document_is_never_shown(page, web_hub, seeded, screenshot):  # type: ignore[no-untyped-def]
    for path in (f"/documents/{seeded.secret}", f"/documents/{seeded.secret}/workflow", "/documents", "/"):
        page.goto(path)
        assert SECRET_MARKER not in page.content(), path
    page.goto(f"/documents/{seeded.secret}")
    assert page.locator("#preview").count() == 0
    assert "never shown" in page.locator("#content").inner_text()
    assert page.locator('a[href*="/file"], a[download]').count() == 0
    screenshot(page, "09-document-secret")


def test_training_sends_move_the_overview_and_show_each_outcome(page, web_hub, seeded, pki, screenshot):  # type: ignore[no-untyped-def]
    period = str(pki.created.year)
    page.goto(f"/?period={period}")
    before = shown_measures(page)["k1"]
    screenshot(page, "10-training-panel")

    def send(mode: str, sender: str = "ha-noi", recipient: str = "central-office") -> None:
        page.goto(f"/?period={period}#training")
        form = page.locator("form[action='/training/send']")
        form.locator("select[name=sender]").select_option(sender)
        form.locator("select[name=recipient]").select_option(recipient)
        form.locator("select[name=sample]").select_option("01-cong-van-bao-cao-cntt.pdf")
        form.locator(f"input[name=mode][value={mode}]").check()
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"/workflow\?sent="))

    send("signed")
    assert "Accepted, validated and delivered" in page.locator("#training-result").inner_text()
    screenshot(page, "11-training-signed")
    page.goto(f"/?period={period}")
    after = shown_measures(page)["k1"]
    assert (after["numerator"], after["denominator"]) == (before["numerator"] + 1, before["denominator"] + 1)
    expected = api_measures(web_hub, period)
    assert (after["numerator"], after["denominator"]) == (expected["k1"]["numerator"], expected["k1"]["denominator"])

    send("revoked")
    result = page.locator("#training-result").inner_text()
    assert "REFUSED" in result and "revoked" in result
    assert page.locator('.step[data-step="3"]').get_attribute("data-state") == "failed"
    assert "REVOKED" in page.locator('.step[data-step="3"]').inner_text()
    screenshot(page, "12-training-revoked")
    # The body's own certificate was left alone: it still signs validly.
    send("signed")
    assert page.locator('.step[data-step="3"]').get_attribute("data-state") == "ok"

    send("tampered", sender="da-nang", recipient="nghe-an")
    assert "HASH_FAILURE" in page.locator('.step[data-step="3"]').inner_text()
    send("paper")
    assert page.locator('.step[data-step="1"]').get_attribute("data-state") == "skipped"

    page.goto(f"/?period={period}")
    final = shown_measures(page)["k1"]
    assert (final["numerator"], final["denominator"]) == (before["numerator"] + 2, before["denominator"] + 5)


def test_training_acknowledge_completes_the_receivers_steps(page, seeded, screenshot):  # type: ignore[no-untyped-def]
    page.goto(f"/documents/{seeded.unsigned}/workflow")
    lane = page.locator('.lane[data-lane="organization-commission"]')
    assert lane.locator('.step[data-step="6"]').get_attribute("data-state") == "pending"
    lane.locator("form.lane-ack button").click()
    page.wait_for_url(re.compile(r"acknowledged=organization-commission"))
    lane = page.locator('.lane[data-lane="organization-commission"]')
    assert lane.locator('.step[data-step="6"]').get_attribute("data-state") == "ok"
    assert "01 received" in lane.locator('.step[data-step="7"]').inner_text()
    screenshot(page, "13-training-acknowledged")


def test_the_overview_follows_the_hub_without_a_reload(page, web_hub, seeded, pki):  # type: ignore[no-untyped-def]
    from web.seed import metadata

    page.goto(f"/?period={pki.created.year}")
    before = int(page.locator('section.cards [data-measure="k1"]').get_attribute("data-denominator"))
    with web_hub.client("da-nang") as client:
        client.send(b"Thong bao so 1\n" * 10, filename="tb.txt",
                    metadata=metadata(("central-office",), "Thông báo"))
    page.wait_for_function(
        f"() => document.querySelector('section.cards [data-measure=\"k1\"]').dataset.denominator === '{before + 1}'",
        timeout=15_000)


def test_unknown_pages_and_bad_values_say_so_on_a_page(page, seeded, screenshot):  # type: ignore[no-untyped-def]
    response = page.goto("/documents/no-such-document")
    assert response.status == 404 and "Not found" in page.locator("h1").inner_text()
    response = page.goto("/bodies/no-such-body")
    assert response.status == 404 and "no-such-body" in page.locator("main").inner_text()
    screenshot(page, "15-not-found")
    # A period the register cannot read: the page says why, keeps the value to correct, and
    # shows the whole register meanwhile.
    response = page.goto("/documents?period=nonsense&sender=da-nang")
    assert response.status == 400
    assert "nonsense" in page.locator("[role=alert]").inner_text()
    assert page.locator("input[name=period]").input_value() == "nonsense"
    assert page.locator("select[name=sender]").input_value() == "da-nang"
    screenshot(page, "14-documents-bad-period")


def test_a_live_refresh_keeps_the_filters_and_never_overwrites_a_form_being_filled(page, web_hub, seeded):  # type: ignore[no-untyped-def]
    from web.seed import metadata

    def send() -> None:
        with web_hub.client("da-nang") as client:
            client.send(b"Thong bao\n" * 10, filename="tb.txt", metadata=metadata(("central-office",), "Thông báo"))

    page.goto("/documents?sender=da-nang")
    count = page.locator("table.register tbody tr").count()
    send()
    page.wait_for_function(f"() => document.querySelectorAll('table.register tbody tr').length === {count + 1}",
                           timeout=15_000)
    senders = page.locator("table.register tbody tr td:nth-child(4)").all_inner_texts()
    assert set(senders) == {"Thành ủy Đà Nẵng"}  # still filtered by sender after the refresh
    # A filter chosen but not yet applied: the page waits rather than reset the user's choice.
    page.locator("select[name=channel]").select_option("paper")
    page.locator("h1").click()  # focus leaves the form
    shown = page.locator("#live-indicator").inner_text()
    send()
    # The next poll after the send (the indicator shows its time) saw a new version, and waited.
    page.wait_for_function(f"() => document.getElementById('live-indicator').textContent !== {shown!r}",
                           timeout=10_000)
    assert page.locator("select[name=channel]").input_value() == "paper"
    assert page.locator("table.register tbody tr").count() == count + 1


def test_training_sends_a_secret_document_and_the_workflow_shows_its_three_layers(page, seeded, pki, screenshot):  # type: ignore[no-untyped-def]
    page.goto(f"/?period={pki.created.year}#training")
    form = page.locator("form[action='/training/send']")
    form.locator("select[name=sender]").select_option("nghe-an")
    form.locator("select[name=recipient]").select_option("central-office")
    form.locator("select[name=sample]").select_option("01-cong-van-bao-cao-cntt.txt")
    form.locator("select[name=classification]").select_option("secret")
    form.locator("input[name=mode][value=signed]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/workflow\?sent=signed"))
    assert "Accepted, validated and delivered" in page.locator("#training-result").inner_text()
    layers = page.locator("#secret-layers")
    states = layers.locator(".step").evaluate_all("steps => steps.map(s => [s.dataset.layer, s.dataset.state])")
    assert states == [["1", "pending"], ["2", "ok"], ["3", "ok"]]
    assert "AES-256-GCM" in layers.locator('[data-layer="2"]').inner_text()
    assert "without seeing the plaintext" in layers.locator('[data-layer="3"]').inner_text()
    wrapped = layers.inner_text()
    assert "Văn phòng Trung ương Đảng" in wrapped and "Tỉnh ủy Nghệ An" in wrapped  # the receiver and the sender

    def row(role: str) -> list[str]:
        return layers.locator(f'tr[data-role="{role}"] td').evaluate_all("cells => cells.map(c => c.className)")

    assert row("receiver") == ["yes", "yes", "yes", "yes"]
    assert row("sender") == ["yes", "yes", "yes", "yes"]
    assert row("passes it on") == ["yes", "yes", "no", "no"]  # the hub checks the outer signature only
    assert row("not addressed") == ["no", "no", "no", "no"]
    screenshot(page, "14-training-secret-layers")

    # The receiver opens it with its own key and verifies the inner signature: layer 1 turns ok.
    page.locator('.lane[data-lane="central-office"] form.lane-ack button').click()
    page.wait_for_url(re.compile(r"acknowledged=central-office"))
    assert page.locator('#secret-layers [data-layer="1"]').get_attribute("data-state") == "ok"
    assert page.locator('.lane[data-lane="central-office"] .step[data-step="5"]').get_attribute("data-state") == "ok"
    screenshot(page, "15-training-secret-opened")
