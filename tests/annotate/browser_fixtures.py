"""Playwright fixtures for the annotation app's browser tests (Debian's Chromium).

Import them into a test module with
`from tests.annotate.browser_fixtures import browser, page  # noqa: F401`.
Playwright's own browser download is not used: the tests drive the `chromium`
found on PATH and skip with the reason when there is none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
"""Screenshots of the views land here (git-ignored)."""

VIEWPORT = {"width": 1400, "height": 900}


_shared: dict[str, Any] = {}
"""The one Playwright driver and browser of the session. Each test module imports
its own copy of `browser`, and a second sync Playwright cannot start while the
first runs, so the copies share these and the last one to finish closes them."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium shared by the session, or skip when none is installed."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("browser tests need Chromium: no `chromium` on PATH")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not _shared:
        playwright = sync_api.sync_playwright().start()
        try:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True
            )
        except Exception:
            playwright.stop()
            raise
        _shared.update(playwright=playwright, browser=chromium, users=0)
    _shared["users"] += 1
    try:
        yield _shared["browser"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["browser"].close()
            _shared["playwright"].stop()
            _shared.clear()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context; console errors fail the test."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of `page` as test-artifacts/NAME and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path
