"""The real gateway served by uvicorn on a loopback port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from broker.app import create_app
from broker.partnership.cli import issue_token
from broker.ui.cli import signin_link
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, gateway_settings, partnership  # noqa: F401 - fixture

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
BRITISH = {"LANG": "en_GB.UTF-8", "LANGUAGE": "en_GB"}
BRITISH_PAK = Path("/usr/lib/chromium/locales/en-GB.pak")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    base_url: str
    partnership: LocalPartnership

    def token(self, agency: str, role: str, user: str | None = None) -> str:
        return issue_token(
            self.partnership.agency_keys(agency), role=role, audience=AUDIENCE, subject=user or f"{role}-demo-01"
        )

    def link(self, agency: str, role: str, user: str | None = None) -> str:
        return signin_link(self.base_url, self.token(agency, role, user))

    def post(self, notification: dict[str, Any]) -> dict[str, Any]:
        token = self.token(notification["sender"]["agency_id"], "agency_system")
        response = httpx.post(
            f"{self.base_url}/v1/notifications",
            json=notification,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def served(partnership: LocalPartnership, sqlite_url: str) -> Iterator[Served]:  # noqa: F811
    """The whole app (lifespan, relay, OPA) under uvicorn in a thread, on a free loopback port."""
    with serving(partnership, sqlite_url) as started:
        yield started


@contextlib.contextmanager
def serving(partnership: LocalPartnership, sqlite_url: str, **overrides: Any) -> Iterator[Served]:  # noqa: F811
    """`served` with settings overrides (`gateway_settings`), for a test that needs another gateway."""
    port = _free_port()
    app = create_app(gateway_settings(partnership, sqlite_url, **overrides))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        # 127.0.0.1 is a secure context for Chromium, so Secure __Host- cookies work without TLS.
        yield Served(f"http://127.0.0.1:{port}", partnership)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def browser() -> Iterator[Browser]:
    # Per test: Playwright's sync API keeps an event loop current while it is open, which would
    # break the async gateway tests if it stayed open for the whole session.
    if not Path(CHROMIUM).exists() or not BRITISH_PAK.exists():
        pytest.fail(f"{CHROMIUM} or {BRITISH_PAK} is missing: make browser")
    with sync_playwright() as p:
        # Chromium shows a date field in its own language (LANG, with Debian's chromium-l10n), not the
        # page's: day first, as a practitioner in England reads it (`make browser` installs both).
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={**os.environ, **BRITISH})
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A practitioner in England: dates and times as they read them.
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="en-GB", timezone_id="Europe/London"
    )
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
