"""The report in headless Chromium: every section shows, nothing fails or is fetched.

The page is opened from its file, as a person would open it; the full-page
screenshot is saved as test-artifacts/report.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from etholoop.report import SECTION_IDS
from tests.annotate.browser_fixtures import ARTIFACTS, VIEWPORT, browser  # noqa: F401
from tests.report.conftest import ReportRun

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_report_opens_with_every_section_and_no_error(
    browser: Any,  # noqa: F811
    report_run: ReportRun,
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    try:
        page.goto(report_run.html.as_uri(), wait_until="load")
        for section in SECTION_IDS:
            assert page.locator(f"section#{section}").is_visible(), section
            assert page.locator(f'nav a[href="#{section}"]').is_visible(), section
        widths = page.eval_on_selector_all(
            "img", "images => images.map(image => image.naturalWidth)"
        )
        assert widths and min(widths) > 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    finally:
        context.close()
    assert not problems
    remote = [url for url in fetched if not url.startswith(("file:", "data:"))]
    assert not remote
