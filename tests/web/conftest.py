"""The web pages in a real browser: Debian's Chromium, headless, driven by Playwright, against a
real ``exchange hub serve --training`` process seeded through ``HubClient``.

The pages need a login: ``page`` is a tab logged in as the hub's trainer (``web_hub`` has one);
``page_as(role, body=None)`` opens another tab logged in as a person of that role, and
``browser_login(context, hub, name)`` logs any browser context in through the login form.

No browser is ever downloaded: Playwright is pointed at ``/usr/bin/chromium`` (``apt-get
install chromium``). Without it the browser tests skip with the reason, except under
``CI=true``, where a missing Chromium is a failure. Screenshots of every page go to
``test-artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exchange.hub.gate import SESSION_COOKIE

from e2e.harness import TEST_PASSWORD, RunningHub, start_hub
from web.seed import Seeded, seed

CHROMIUM = Path(os.environ.get("EXCHANGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
TRAINER = "test-trainer"  # the person the ``page`` fixture is logged in as


def _require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing: under CI=true the browser tests must run, not skip "
                    "(install it with: apt-get install -y chromium)", pytrace=False)
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium); "
                "Playwright never downloads a browser here")


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Chromium, for the tests of this folder: stopped when a worker leaves it, because Playwright's
    synchronous API keeps an event loop running in the thread (``asyncio.run`` in any later test,
    e.g. pyHanko's validation, would fail) and ``./dev test`` runs other folders after this one."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def browser_login(context, hub: RunningHub, name: str, password: str = TEST_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Give a browser *context* the session cookie of *name*, logged in through the login form."""
    http = hub.login(name, password)
    try:
        context.add_cookies([{"name": cookie.name, "value": cookie.value or "", "url": hub.url}
                             for cookie in http.cookies.jar if cookie.name == SESSION_COOKIE])
    finally:
        http.close()


@pytest.fixture
def page(browser, web_hub: RunningHub) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser tab, logged in as the hub's trainer, whose relative URLs go to the test
    hub; every request stays local."""
    yield from _tab(browser, web_hub, TRAINER)


@pytest.fixture
def page_as(browser, web_hub: RunningHub) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """``page_as(role, body=None)``: a fresh tab logged in as a person of *role* (None: nobody)."""
    tabs: list[Iterator[object]] = []

    def open_tab(role: str | None, body: str | None = None) -> object:
        name = web_hub.ensure_person(role, body=body) if role is not None else None
        tab = _tab(browser, web_hub, name)
        tabs.append(tab)
        return next(tab)

    yield open_tab
    for tab in tabs:
        next(tab, None)


def _tab(browser, web_hub: RunningHub, name: str | None) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=web_hub.url, viewport=VIEWPORT, locale="vi-VN")
    if name is not None:
        browser_login(context, web_hub, name)
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
    hub.ensure_person("trainer")
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def seeded(web_hub: RunningHub, samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(web_hub, samples_dir, tmp_path_factory.mktemp("nodes"))
