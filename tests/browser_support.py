"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright for Python.

Playwright never downloads a browser here: it launches the system one (``/usr/bin/chromium``, or
``GRADER_CHROMIUM``) with the flags that keep Chromium off the network (this machine's network
is closed; without them Chromium keeps trying Google's hosts). Where Chromium or Playwright is
missing the tests skip with one line, unless ``GRADER_REQUIRE_BROWSER=1`` (CI sets it after
installing chromium): then they fail.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None."""
    path = os.environ.get("GRADER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


def require_browser() -> str:
    """The Chromium path; skips the test (fails it under GRADER_REQUIRE_BROWSER=1) when Chromium
    or Playwright is missing."""
    missing = ""
    path = chromium_path()
    if path is None:
        missing = "no Chromium (apt-get install chromium, or set GRADER_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if missing and os.environ.get("GRADER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GRADER_REQUIRE_BROWSER=1, but {missing}", pytrace=False)
    if missing:
        pytest.skip(f"browser test skipped: {missing}")
    return path


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A Playwright ``Browser`` on headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    path = require_browser()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


def keep_offline(page) -> None:
    """Abort every request that leaves the loopback interface (the page must not need them)."""
    def route(r):
        host = r.request.url.split("/")[2].rsplit(":", 1)[0] if "://" in r.request.url else ""
        if r.request.url.startswith(("http://", "https://", "ws://")) and host not in (
                "127.0.0.1", "localhost", "[::1]"):
            return r.abort()
        return r.continue_()
    page.route("**/*", route)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve folder ``root`` over HTTP on a free loopback port; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


class Steps:
    """Screenshots of each step of a browser test, kept in ``folder``; a failing step adds
    ``NN-failed-STEP.png`` and names the folder in the failure message."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder, self.n = page, folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.n += 1
        try:
            yield
        except Exception as exc:
            shot = self.folder / f"{self.n:02d}-failed-{name}.png"
            with contextlib.suppress(Exception):
                self.page.screenshot(path=str(shot), full_page=False)
            raise AssertionError(
                f"browser step {name!r} failed: {str(exc).splitlines()[0] if str(exc) else exc!r}; "
                f"screenshots of every step in {self.folder}"
            ) from exc
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(self.folder / f"{self.n:02d}-{name}.png"))
