"""What the browser tests share: Debian's chromium, and a page that records everything that went wrong.

Used by tests/test_browser.py (the built book) and tests/test_jupyterlab.py (live JupyterLab); the
``chromium_path`` and ``browser`` fixtures live in conftest.py. Never ``playwright install``:
the browser is Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class WatchedPage:
    """A page in a fresh browser context that may load only from ``origin``.

    Every request elsewhere is aborted and listed in ``external``; console errors and uncaught
    exceptions go to ``errors`` (``unexpected_errors()`` drops those matching ``known_benign``:
    (regular expression, reason) pairs); failed or 4xx/5xx local requests go to ``failed``.
    """

    def __init__(self, browser, origin: str, *, known_benign: Sequence[tuple[str, str]] = (),
                 viewport: tuple[int, int] = (1280, 900)):
        self.origin = origin
        self.known_benign = list(known_benign)
        self.errors: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                           service_workers="block")
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught exception: {exc}"))
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.origin + "/") or urlsplit(url).scheme in ("data", "blob", "about"):
            route.continue_()
        else:
            self.external.append(url)
            route.abort("blockedbyclient")

    def _on_console(self, msg):
        if msg.type == "error":
            location = msg.location.get("url", "") if isinstance(msg.location, dict) else ""
            self.errors.append(f"console error: {msg.text} [{location}]")

    def _on_request_failed(self, request):
        if request.url.startswith(self.origin + "/"):
            self.failed.append(f"{request.url}: {request.failure}")

    def _on_response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(re.search(p, e) for p, _ in self.known_benign)]

    def close(self):
        self.context.close()
