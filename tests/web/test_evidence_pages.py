"""The evidence log on the pages, in Chromium: the overview shows the current signed
checkpoint (the same as ``GET /api/log/checkpoint``), a document page lists its log indexes
and its "download the evidence bundle" link gives a bundle that verifies offline."""

from __future__ import annotations

import base64

import httpx
import pytest

from exchange.audit import verify_file
from exchange.cms import Indication
from exchange.tlog import decode_leaf

pytestmark = pytest.mark.browser


def test_the_overview_shows_the_current_checkpoint(page, web_hub, seeded, screenshot):  # type: ignore[no-untyped-def]
    page.goto("/")
    shown = page.locator("#checkpoint")
    api = httpx.get(f"{web_hub.url}/api/log/checkpoint", timeout=30).json()
    assert api["size"] > 0
    assert shown.locator("strong").inner_text() == str(api["size"])
    assert shown.locator("code.hash").inner_text() == api["root_hash"]
    screenshot(page, "20-overview-checkpoint")


def test_a_document_page_lists_its_log_entries_and_its_bundle_verifies(page, web_hub, seeded, pki, tmp_path,
                                                                        screenshot):  # type: ignore[no-untyped-def]
    page.goto(f"/documents/{seeded.signed}")
    rows = page.locator("#evidence-log table tbody tr")
    entries = httpx.get(f"{web_hub.url}/api/log/documents/{seeded.signed}", timeout=30).json()["entries"]
    assert rows.count() == len(entries) >= 4  # accepted, delivered ×2, downloads, receipts
    first = rows.nth(0).locator("td")
    assert first.nth(0).inner_text() == str(entries[0]["index"])
    assert first.nth(1).inner_text() == decode_leaf(base64.b64decode(entries[0]["leaf"]))["kind"] == "accepted"
    screenshot(page, "21-document-evidence-log")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the evidence bundle").click()
    saved = tmp_path / "bundle.zip"
    download.value.save_as(saved)
    verdicts = list(verify_file(saved, pki.store.root_path, workers=1))
    assert [v.indication for v in verdicts] == [Indication.TOTAL_PASSED] * 2, [v.summary() for v in verdicts]
