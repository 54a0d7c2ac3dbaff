"""The web pages in a real browser: Debian's Chromium, headless, driven by Playwright, against a
real ``exchange hub serve --training`` process seeded through ``HubClient``.

No browser is ever downloaded: Playwright is pointed at ``/usr/bin/chromium`` (``apt-get
install chromium``). Without it the browser tests skip with the reason, except under
``CI=true``, where a missing Chromium is a failure. Screenshots of every page go to
``test-artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.harness import RunningHub, start_hub
from web.seed import Seeded, seed

CHROMIUM = Path(os.environ.get("EXCHANGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}


def _require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing: under CI=true the browser tests must run, not skip "
                    "(install it with: apt-get install -y chromium)", pytrace=False)
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium); "
                "Playwright never downloads a browser here")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, web_hub: RunningHub) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser page whose relative URLs go to the test hub; every request stays local."""
    context = browser.new_context(base_url=web_hub.url, viewport=VIEWPORT, locale="vi-VN")
    # Nothing on the pages may come from elsewhere (no CDN, no web font): block and record it.
    outside: list[str] = []

    def guard(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(web_hub.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not outside, f"the pages asked for outside resources: {outside}"
    assert not errors, f"script errors on the pages: {errors}"


@pytest.fixture(scope="session")
def screenshot() -> object:
    """``screenshot(page, name)``: a full-page PNG in test-artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="module")
def web_hub(pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:  # type: ignore[no-untyped-def]
    """A real hub in training mode, on its own copy of the session PKI (training revokes
    throwaway certificates, which rewrites the CRL: the session PKI must stay as it is)."""
    root = tmp_path_factory.mktemp("web-hub")
    keys = Path(shutil.copytree(pki.dir, root / "keys"))
    hub = start_hub(keys=keys, data=root / "data", db_url=f"sqlite:///{root / 'hub.db'}", args=("--training",))
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def seeded(web_hub: RunningHub, samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(web_hub, samples_dir, tmp_path_factory.mktemp("nodes"))
