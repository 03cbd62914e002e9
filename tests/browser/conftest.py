"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, or a skip that says why.

Playwright never downloads a browser here: it starts /usr/bin/chromium (``scripts/setup.sh``
installs Debian's package when it runs as root) headless, with a fresh profile folder. Every test
gets a new page that records the dialogs it opened, the requests it made and its console messages.
"""

from __future__ import annotations

import pytest

from browser_support import CHROMIUM, CHROMIUM_FLAGS


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return (f"Chromium is not installed ({CHROMIUM}, Debian's chromium package; scripts/setup.sh installs it "
                "when run as root): the browser tests are skipped")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]'): the browser tests are skipped"
    return None


# Per module, not per session: while Playwright's sync driver runs, an asyncio loop is running
# in the main thread, and every later test calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1000, "height": 800})
        yield context
        context.close()


class Watched:
    """A page, with what it did: dialogs opened, requests made, console messages."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.console: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: self.console.append(message.text))

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path):
        self.page.goto(path.as_uri())
        return self.page


@pytest.fixture
def watched(browser):
    page = browser.new_page()
    yield Watched(page)
    page.close()
