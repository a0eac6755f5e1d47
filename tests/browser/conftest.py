"""Browser tests: Playwright for Python driving Debian's Chromium (/usr/bin/chromium; Playwright
cannot download its own browser here) against the app served on 127.0.0.1 on a free port.

Without /usr/bin/chromium or the playwright package the tests skip, saying why; under CI=true
they fail instead, like the PostgreSQL pass of tests/conftest.py. Screenshots go to
tests/.artifacts/browser/ and are listed at the end of the run.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("QC_CHROMIUM", "/usr/bin/chromium"))  # Debian's build
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts" / "browser"
SAVED: list[Path] = []


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def playwright_driver():
    """Playwright's driver for one test module (skip, or fail under CI, without a browser).

    Not for the whole session: while it runs, its event loop counts as running in the main
    thread, and later tests that call asyncio.run() (the bot's) would fail."""
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + ": CI must run the browser tests", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def new_browser(playwright_driver, tmp_path):
    """Start a Chromium with a fresh user-data dir (another phone, as far as the page knows);
    all are closed after the test."""
    opened = []

    def start():
        context = playwright_driver.chromium.launch_persistent_context(
            str(tmp_path / f"chromium-profile-{len(opened)}"), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 390, "height": 844},
            locale="zh-CN", service_workers="block")
        context.set_default_timeout(30_000)
        opened.append(context)
        return context

    yield start
    for context in opened:
        context.close()


@pytest.fixture
def browser(new_browser):
    """A Chromium context with a fresh user-data dir (local storage survives reloads)."""
    return new_browser()


class RequestLog:
    """WSGI wrapper that keeps what reached the server: each request line and its headers."""

    def __init__(self, app):
        self.app, self.lines, self.headers = app, [], []

    def __call__(self, environ, start_response):
        uri = environ.get("REQUEST_URI") or environ.get("RAW_URI") or (
            environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        self.lines.append(f"{environ['REQUEST_METHOD']} {uri}")
        self.headers.append({k: v for k, v in environ.items() if k.startswith("HTTP_")})
        return self.app(environ, start_response)


@pytest.fixture
def live_server(app):
    """The test app (tests/conftest.py's container) on 127.0.0.1, a free port, in a thread."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    log = RequestLog(app)
    server = make_server("127.0.0.1", 0, log, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.log = log
    yield server
    server.shutdown()
    thread.join(10)


@pytest.fixture
def artifacts(request) -> Path:
    """This test's screenshot folder under tests/.artifacts/browser/."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(page, folder: Path, name: str) -> list[Path]:
    """The page at a phone's 390×844 and a desk's 1440×900, whole length; their paths."""
    paths = []
    for width, height in ((390, 844), (1440, 900)):
        page.set_viewport_size({"width": width, "height": height})
        path = folder / f"{name}-{width}x{height}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
        SAVED.append(path)
        print(f"screenshot: {path}")
    page.set_viewport_size({"width": 390, "height": 844})
    return paths


def pytest_terminal_summary(terminalreporter):
    """Say where the screenshots of this run are."""
    if SAVED:
        terminalreporter.section("browser screenshots")
        for path in SAVED:
            terminalreporter.write_line(str(path))
