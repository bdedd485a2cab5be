"""Browser tests: the real app served from a thread, driven by Debian's Chromium via Playwright.

Every request that is not to the test server is aborted and recorded; only the configured
basemap's tiles may even be attempted. Screenshots of each step go to test-artefacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from streetsafe import create_app
from streetsafe.config import Settings
from tests.conftest import migrated_database, redis_url

from .hull_network import insert_network

CHROMIUM = Path(os.environ.get("STREETSAFE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
PORT_RANGE = range(18600, 18700)
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
BASEMAP_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
BASEMAP_ORIGIN = "https://tile.openstreetmap.org"
QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a skip naming how to install it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (`make test` does, as root)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: Path):
    """One headless Chromium for the run (Playwright gives it a fresh temporary profile)."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_database() -> str:
    """A committed database for the served app: migrated, with the Hull network loaded."""
    url = migrated_database("browser")
    engine = sa.create_engine(url)
    insert_network(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def browser_engine(browser_database: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(browser_database)
    yield engine
    engine.dispose()


def _free_port() -> int:
    for port in PORT_RANGE:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")


@dataclass
class LiveServer:
    """The app served over real HTTP from a thread."""

    url: str
    settings: Settings


@pytest.fixture
def serve(browser_database: str) -> Iterator[Callable[..., LiveServer]]:
    """Start the app with the given settings overrides (rate limits, for example)."""
    servers = []

    def start(**overrides: object) -> LiveServer:
        settings = Settings(
            database_url=browser_database,
            redis_url=redis_url(),
            secret_key="browser-test-secret-key-0123",
            rate_limits="",
            receipt_limits="",
            basemap_url=BASEMAP_URL,
        ).with_overrides(**overrides)
        app = create_app(settings)
        port = _free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{port}", settings)

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class Traffic:
    """What the page asked for beyond the test server, and what went wrong in it."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    posts: list[dict[str, str]] = field(default_factory=list)


def _open_page(
    browser, request, device: dict, cookies_allowed: bool = False
) -> Iterator[tuple[object, Traffic]]:
    traffic = Traffic()
    context = browser.new_context(**device, locale="en-GB", timezone_id="Europe/London")

    def route(route_request) -> None:
        host = urlsplit(route_request.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route_request.continue_()
        else:
            traffic.blocked.append(route_request.request.url)
            route_request.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: traffic.errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Content Security Policy" in message.text
            and traffic.errors.append(f"CSP: {message.text}")
        ),
    )
    page.on(
        "request",
        lambda req: req.method == "POST" and traffic.posts.append({"url": req.url, **req.headers}),
    )
    page.shots = Screenshots(request.node.name)
    yield page, traffic
    cookies = context.cookies()
    context.close()
    if not cookies_allowed:
        assert cookies == [], "a public page set a cookie"
    unexpected = [
        url
        for url in traffic.blocked
        if not url.startswith(BASEMAP_ORIGIN + "/") and url != QUICK_EXIT_URL
    ]
    assert unexpected == [], f"third-party requests attempted: {unexpected}"
    assert traffic.errors == []


@pytest.fixture
def phone_page(browser, request):
    """A page in a 390x844 touch phone viewport, with traffic recorded."""
    yield from _open_page(browser, request, PHONE)


@pytest.fixture
def desktop_page(browser, request):
    """A page in a 1280x900 desktop viewport, with traffic recorded."""
    yield from _open_page(browser, request, DESKTOP)


@pytest.fixture
def team_page(browser, request):
    """A desktop page for the team dashboard (its session cookie is expected)."""
    yield from _open_page(browser, request, DESKTOP, cookies_allowed=True)


class Screenshots:
    """Numbered full-page screenshots in test-artefacts/<test name>/."""

    def __init__(self, test_name: str) -> None:
        self.folder = ARTEFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page, step: str) -> Path:
        """Save the page as NN-step.png."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
