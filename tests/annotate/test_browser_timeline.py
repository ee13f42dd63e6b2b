"""The behavior timeline view in a real Chromium against a real server.

Ranges are painted with the mouse and the keyboard, saved, and read back through
the HTTP API and the project's store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from etholoop.project import Project
from etholoop.store.models import BehaviorLabel

# The fixtures are imported by name, so test arguments re-bind them (F811).
# ruff: noqa: F811
from tests.annotate.browser_fixtures import browser, page, screenshot  # noqa: F401
from tests.annotate.conftest import IMAGE_SIZE

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.browser


def get_json(url: str) -> Any:
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


def open_timeline(page: Page, server: str) -> int:
    """Open the first video's timeline; returns the video id."""
    video_id: int = get_json(f"{server}/api/videos")[0]["id"]
    page.goto(f"{server}/timeline?video={video_id}")
    page.wait_for_selector(f'body[data-timeline-ready="{video_id}"]')
    page.wait_for_selector('body[data-shown-frame="0"]')
    return video_id


def lane_selector(individual: int, behavior: str) -> str:
    return (
        f'#timeline .lane[data-individual="{individual}"][data-behavior="{behavior}"]'
    )


def drag_in_lane(
    page: Page, individual: int, behavior: str, start: int, stop: int, button="left"
) -> None:
    """Drag in a lane from the middle of frame `start` to the middle of `stop`."""
    box = page.locator(lane_selector(individual, behavior)).bounding_box()
    y = box["y"] + box["height"] / 2
    x0, x1 = (
        page.evaluate(f"window.etholoop.frameToClientX({f})") for f in (start, stop)
    )
    page.mouse.move(x0, y)
    page.mouse.down(button=button)
    page.mouse.move(x1, y, steps=6)
    page.mouse.up(button=button)


def ranges(labels: list[dict[str, Any]], source: str = "manual") -> set[tuple]:
    return {
        (lab["individual"], lab["behavior"], lab["start"], lab["stop"])
        for lab in labels
        if lab["source"] == source
    }


def save_and_wait(page: Page) -> None:
    page.keyboard.press("Control+s")
    page.wait_for_function("!window.etholoop.dirty")
    page.wait_for_selector("#save-status.ok")


def test_paint_erase_save_and_find_in_store(
    live_server: str, page: Page, annotation_project: Project
) -> None:
    video_id = open_timeline(page, live_server)
    assert page.locator("#timeline .lane").count() == 2 * 3  # animals x behaviors

    drag_in_lane(page, 0, "walk", 10, 20)  # paint frames 10..20
    assert ranges(page.evaluate("window.etholoop.labels")) == {(0, "walk", 10, 21)}
    assert page.evaluate("window.etholoop.currentFrame") == 20  # the display follows

    # keyboard: lane 6 = animal 1 groom, frames 30..34 with [ and ]
    page.keyboard.press("6")
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    page.wait_for_selector('body[data-shown-frame="30"]')  # frame-exact display
    assert "/frames/30" in page.get_attribute("#frame-image", "src")
    page.keyboard.press("[")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("]")

    drag_in_lane(page, 0, "walk", 14, 15, button="right")  # erase 14..15
    expected = {(0, "walk", 10, 14), (0, "walk", 16, 21), (1, "groom", 30, 35)}
    assert ranges(page.evaluate("window.etholoop.labels")) == expected
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+Shift+z")
    assert ranges(page.evaluate("window.etholoop.labels")) == expected

    save_and_wait(page)
    stored = get_json(f"{live_server}/api/videos/{video_id}/behaviors")["labels"]
    assert ranges(stored) == expected
    with annotation_project.store.session() as session:
        rows = session.scalars(
            select(BehaviorLabel).where(BehaviorLabel.video_id == video_id)
        ).all()
        in_store = {
            (r.individual, r.behavior, r.start_frame, r.stop_frame)
            for r in rows
            if r.source == "manual"
        }
    assert in_store == expected

    page.reload()
    page.wait_for_selector(f'body[data-timeline-ready="{video_id}"]')
    assert ranges(page.evaluate("window.etholoop.labels")) == expected


def test_import_confirm_and_export_predictions(
    live_server: str, page: Page, tmp_path: Path
) -> None:
    video_id = open_timeline(page, live_server)
    n_frames = get_json(f"{live_server}/api/videos")[0]["n_frames"]
    csv = tmp_path / "probabilities.csv"
    rows = ["frame,rest,walk,groom"]
    for t in range(n_frames):
        walk = 0.9 if 40 <= t < 60 else 0.1
        rows.append(f"{t},0.0,{walk},0.0")
    csv.write_text("\n".join(rows) + "\n")

    drag_in_lane(page, 0, "groom", 5, 12)
    save_and_wait(page)
    page.set_input_files("#pred-file", str(csv))
    page.fill("#pred-threshold", "0.5")
    page.click("#pred-import")
    page.wait_for_function(
        "window.etholoop.labels.some((l) => l.source === 'predicted')"
    )
    predicted = ranges(page.evaluate("window.etholoop.labels"), "predicted")
    assert (0, "walk", 40, 60) in predicted
    assert (0, "groom", 5, 13) in ranges(page.evaluate("window.etholoop.labels"))
    page.keyboard.press("0")  # show all frames
    screenshot(page, "timeline-view.png")

    page.keyboard.press("Shift+c")  # confirm every prediction
    labels = page.evaluate("window.etholoop.labels")
    assert not ranges(labels, "predicted")
    assert (0, "walk", 40, 60) in ranges(labels)
    save_and_wait(page)
    stored = get_json(f"{live_server}/api/videos/{video_id}/behaviors")["labels"]
    assert (0, "walk", 40, 60) in ranges(stored)
    assert not ranges(stored, "predicted")

    href = page.get_attribute("#export-action", "href")
    assert "form=action" in href
    lines = httpx.get(live_server + href, timeout=10).text.splitlines()
    assert lines[0] == "Frame,Action"
    assert lines[1 + 45] == "45,walk" and lines[1 + 8] == "8,groom"
    assert "form=onehot" in page.get_attribute("#export-onehot", "href")


def test_help_and_conflict_on_timeline(
    live_server: str, browser: Any, page: Page
) -> None:
    open_timeline(page, live_server)
    page.keyboard.press("h")
    page.wait_for_selector("#help", state="visible")
    assert "Ctrl+S" in page.text_content("#help")
    page.keyboard.press("h")
    page.wait_for_selector("#help", state="hidden")

    other_context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = other_context.new_page()
    try:
        open_timeline(other, live_server)
        drag_in_lane(page, 0, "rest", 0, 9)
        save_and_wait(page)
        drag_in_lane(other, 1, "rest", 50, 59)
        other.keyboard.press("Control+s")
        other.wait_for_selector("#conflict", state="visible")
        assert "changed by someone else" in other.text_content("#conflict")
        other.click("#conflict-reload")
        other.wait_for_selector("#conflict", state="hidden")
        assert ranges(other.evaluate("window.etholoop.labels")) == {(0, "rest", 0, 10)}
    finally:
        other_context.close()


def test_help_key_works_while_the_scrubber_has_focus(
    live_server: str, page: Page
) -> None:
    open_timeline(page, live_server)
    page.focus("#scrubber")  # a range input is not a text field
    page.keyboard.press("h")
    page.wait_for_selector("#help", state="visible")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")
    page.focus("#pred-threshold")  # a number field is: H types there
    page.keyboard.press("h")
    assert page.is_hidden("#help")


def test_timeline_of_an_imported_image_folder_draws_its_frames(
    image_server: str, page: Page
) -> None:
    [video] = get_json(f"{image_server}/api/videos")
    assert video["n_frames"] == 5
    open_timeline(page, image_server)  # waits until frame 0 is shown
    natural = "document.getElementById('frame-image').naturalWidth"
    assert page.evaluate(natural) == IMAGE_SIZE[0]
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('body[data-shown-frame="1"]')  # an unlabeled image too
    assert page.evaluate(natural) == IMAGE_SIZE[0]
