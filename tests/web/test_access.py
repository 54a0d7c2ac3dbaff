"""Logging in and what each role sees, in Chromium against a real hub: the login form (a wrong
password, then the right one, back to the page asked for), a clerk limited to its body, an
auditor who sees a secret document's metadata but not its content, and the access log listing
every refusal. Screenshots: 20-… to 24-…."""

from __future__ import annotations

import pytest

from e2e.harness import TEST_PASSWORD
from web.seed import SECRET_MARKER

pytestmark = pytest.mark.browser


def test_a_person_logs_in_on_the_form_and_lands_on_the_page_asked_for(page_as, web_hub, seeded, screenshot):  # type: ignore[no-untyped-def]
    name = web_hub.ensure_person("auditor")
    tab = page_as(None)
    tab.goto(f"/documents/{seeded.signed}")
    assert tab.url.startswith(f"{web_hub.url}/login?next=")
    assert tab.locator("form.login-form").is_visible()
    assert "V/v báo cáo" not in tab.content()
    tab.fill('input[name="name"]', name)
    tab.fill('input[name="password"]', "not the password")
    tab.click('form.login-form button[type="submit"]')
    assert tab.locator("#login-error").inner_text() == "wrong name or password"
    screenshot(tab, "20-login-refused")
    tab.fill('input[name="password"]', TEST_PASSWORD)
    tab.click('form.login-form button[type="submit"]')
    tab.wait_for_url(f"{web_hub.url}/documents/{seeded.signed}")
    assert "V/v báo cáo" in tab.content()
    assert f"{name} · auditor" in tab.locator("#who").inner_text()
    screenshot(tab, "21-logged-in-auditor")
    tab.click("form.logout button")
    tab.wait_for_url(f"{web_hub.url}/login")
    tab.goto("/documents")
    assert tab.url.startswith(f"{web_hub.url}/login")


def test_a_clerk_sees_only_its_bodys_documents(page_as, seeded, screenshot):  # type: ignore[no-untyped-def]
    tab = page_as("clerk", body="da-nang")
    tab.goto("/documents")
    shown = {row.get_attribute("data-document") for row in tab.locator("tr[data-document]").all()}
    assert shown == {seeded.unsigned, seeded.tampered}  # what da-nang sent or was sent, nothing else
    screenshot(tab, "22-clerk-register")
    response = tab.goto(f"/documents/{seeded.signed}")
    assert response.status == 403
    assert "V/v báo cáo" not in tab.content()
    assert tab.locator('nav a[href="/access"]').count() == 0


def test_an_auditor_sees_the_secret_documents_metadata_and_the_refusals(page_as, seeded, screenshot):  # type: ignore[no-untyped-def]
    clerk = page_as("clerk", body="ha-noi")
    for _ in range(5):
        assert clerk.goto(f"/documents/{seeded.tampered}").status == 403
    auditor = page_as("auditor")
    auditor.goto(f"/documents/{seeded.secret}")
    assert "Văn bản mật (thử nghiệm)" in auditor.content()
    assert SECRET_MARKER not in auditor.content()
    assert auditor.locator("#preview").count() == 0
    auditor.click('nav a[href="/access"]')
    repeated = auditor.locator('#repeated tr[data-actor="test-clerk-ha-noi"]')
    assert repeated.count() == 1 and "other-body" in repeated.inner_text()
    log = auditor.locator("#access-log").inner_text()
    assert "other-body" in log and f"/documents/{seeded.tampered}" in log
    screenshot(auditor, "23-access-log")
