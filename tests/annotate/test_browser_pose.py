"""The pose labeling view in a real Chromium against a real server.

Each test drives the page with mouse and keyboard only and checks the result both
in the page's state (`window.etholoop`) and through the HTTP API.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

# The fixtures are imported by name, so test arguments re-bind them (F811).
# ruff: noqa: F811
from tests.annotate.browser_fixtures import browser, page, screenshot  # noqa: F401
from tests.annotate.conftest import IMAGE_FOLDER_LABELS, KEYPOINTS

Page = Any  # playwright.sync_api.Page; the module is optional at import time
pytestmark = pytest.mark.browser


def get_json(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(url, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def unlabeled_frame(server: str) -> dict[str, Any]:
    """A frame without instances, with its size (GET /api/frames/{id})."""
    items = get_json(f"{server}/api/frames?status=gray")["items"]
    return get_json(f"{server}/api/frames/{items[1]['id']}")


def open_frame(page: Page, server: str, frame_id: int, query: str = "") -> None:
    page.goto(f"{server}/?frame={frame_id}{query}")
    page.wait_for_selector(f'body[data-drawn-frame="{frame_id}"]')


def state(page: Page, name: str) -> Any:
    return page.evaluate(f"window.etholoop.{name}")


def client_point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image point (x, y)."""
    p = page.evaluate("([x, y]) => window.etholoop.imageToClient(x, y)", [x, y])
    return p["x"], p["y"]


def drag(page: Page, start: tuple[float, float], stop: tuple[float, float]) -> None:
    """Press the left button at image point `start`, move to `stop`, release."""
    page.mouse.move(*client_point(page, *start))
    page.mouse.down()
    page.mouse.move(*client_point(page, *stop), steps=5)
    page.mouse.up()


def click(page: Page, x: float, y: float) -> None:
    page.mouse.click(*client_point(page, x, y))


def save_and_wait(page: Page) -> None:
    page.keyboard.press("Control+s")
    page.wait_for_function("!window.etholoop.dirty")
    page.wait_for_selector("#save-status.ok")


CANVAS_PIXELS = """([x, y, w, h]) => {
  const canvas = document.getElementById("canvas");
  const rect = canvas.getBoundingClientRect();
  const dpr = canvas.width / rect.width;
  const a = window.etholoop.imageToClient(x, y);
  const b = window.etholoop.imageToClient(x + w, y + h);
  const box = [a.x - rect.left, a.y - rect.top, b.x - a.x, b.y - a.y];
  const [sx, sy, sw, sh] = box.map((v) => Math.max(1, Math.round(v * dpr)));
  const data = canvas.getContext("2d").getImageData(sx, sy, sw, sh).data;
  const rgb = [];
  for (let i = 0; i < data.length; i += 4) rgb.push([...data.slice(i, i + 3)]);
  return rgb;
}"""


def canvas_pixels(page: Page, x: float, y: float, w: float, h: float) -> list[list]:
    """RGB of the canvas pixels in the image-coordinate rectangle (x, y, w, h)."""
    return page.evaluate(CANVAS_PIXELS, [x, y, w, h])


def near(rgb: list[int], hex_color: str, tolerance: int = 40) -> bool:
    want = [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, want, strict=True))


def drawn_labels(page: Page) -> list[str]:
    """The keypoint names the canvas shows now."""
    return page.evaluate("window.etholoop.editor.drawnLabels.map((l) => l.text)")


def draw_box(page: Page, box: list[float]) -> None:
    assert state(page, "mode") == "box"
    drag(page, (box[0], box[1]), (box[2], box[3]))


def test_draw_box_keypoints_undo_redo_save_reload(live_server: str, page: Page) -> None:
    frame = unlabeled_frame(live_server)
    fid, w, h = frame["id"], frame["width"], frame["height"]
    open_frame(page, live_server, fid)
    box = [0.30 * w, 0.30 * h, 0.60 * w, 0.70 * h]
    points = [
        [0.45 * w, 0.35 * h],  # nose
        [0.40 * w, 0.42 * h],  # earL
        [0.50 * w, 0.42 * h],  # earR
        [0.45 * w, 0.65 * h],  # tailB
    ]

    draw_box(page, box)
    [inst] = state(page, "instances")
    assert inst["box"] == pytest.approx(box, abs=1.0)
    assert inst["source"] == "manual" and state(page, "selected") == 0

    page.keyboard.press("m")
    for k, (x, y) in enumerate(points):
        assert state(page, "mode") == f"keypoint:{['nose', 'earL', 'earR', 'tailB'][k]}"
        click(page, x, y)
    assert state(page, "mode") == "box"  # the last keypoint hands back to box mode
    [inst] = state(page, "instances")
    assert inst["keypoints"] == [pytest.approx(p, abs=1.0) for p in points]
    assert inst["visibility"] == [2, 2, 2, 2]

    page.keyboard.press("v")  # the last keypoint placed: tailB
    assert state(page, "instances")[0]["visibility"] == [2, 2, 2, 1]

    page.keyboard.press("Control+z")  # visibility back
    assert state(page, "instances")[0]["visibility"] == [2, 2, 2, 2]
    page.keyboard.press("Control+z")  # tailB gone
    assert state(page, "instances")[0]["keypoints"][3] is None
    page.keyboard.press("Control+Shift+z")
    assert state(page, "instances")[0]["keypoints"][3] is not None
    page.keyboard.press("Control+y")
    assert state(page, "instances")[0]["visibility"] == [2, 2, 2, 1]
    assert page.text_content("#save-status") == "unsaved changes"

    save_and_wait(page)
    [stored] = get_json(f"{live_server}/api/frames/{fid}")["instances"]
    assert stored["source"] == "manual"
    assert stored["box"] == pytest.approx(box, abs=1.0)
    assert stored["keypoints"] == [pytest.approx(p, abs=1.0) for p in points]
    assert stored["visibility"] == [2, 2, 2, 1]
    # one animal of two labeled: the row turns orange
    assert "status-orange" in page.get_attribute(f'[data-frame-id="{fid}"]', "class")

    page.reload()
    page.wait_for_selector(f'body[data-drawn-frame="{fid}"]')
    [loaded] = state(page, "instances")
    assert loaded["id"] == stored["id"]
    assert loaded["box"] == pytest.approx(box, abs=1.0)
    assert loaded["keypoints"] == [pytest.approx(p, abs=1.0) for p in points]
    assert loaded["visibility"] == [2, 2, 2, 1]

    click(page, box[0] + 4, (box[1] + box[3]) / 2)  # select it to show names
    assert state(page, "selected") == 0
    screenshot(page, "pose-view.png")


def test_confirm_prediction(
    live_server: str, page: Page, predicted_frame_id: int
) -> None:
    fid = predicted_frame_id
    open_frame(page, live_server, fid)
    [inst] = state(page, "instances")
    assert inst["source"] == "predicted"
    assert "status-blue" in page.get_attribute(f'[data-frame-id="{fid}"]', "class")

    x1, y1, x2, y2 = inst["box"]
    click(page, (x1 + x2) / 2, y1 + 0.75 * (y2 - y1))  # inside, off the keypoints
    assert state(page, "selected") == 0
    page.keyboard.press("c")
    assert state(page, "instances")[0]["source"] == "manual"
    save_and_wait(page)

    frame = get_json(f"{live_server}/api/frames/{fid}")
    [stored] = frame["instances"]
    assert stored["source"] == "manual"
    assert stored["id"] == inst["id"]  # the same row, confirmed
    assert stored["keypoints"] == inst["keypoints"]
    assert frame["status"] != "blue"
    assert "status-blue" not in page.get_attribute(f'[data-frame-id="{fid}"]', "class")


def test_an_edit_made_while_a_save_is_in_flight_stays_unsaved(
    live_server: str, page: Page
) -> None:
    frame = unlabeled_frame(live_server)
    fid, w, h = frame["id"], frame["width"], frame["height"]
    open_frame(page, live_server, fid)
    draw_box(page, [0.2 * w, 0.2 * h, 0.5 * w, 0.5 * h])
    page.keyboard.press("m")
    click(page, 0.3 * w, 0.3 * h)  # the nose, selected
    saved = page.evaluate(
        """async () => {
          const saving = window.etholoop.save();
          // V while the request is on its way: the nose becomes "not visible"
          const key = new KeyboardEvent("keydown", { key: "v", bubbles: true });
          document.activeElement.dispatchEvent(key);
          return await saving;
        }"""
    )
    assert saved is True
    [stored] = get_json(f"{live_server}/api/frames/{fid}")["instances"]
    assert stored["visibility"][0] == 2  # the save sent what was there before V
    assert state(page, "instances")[0]["visibility"][0] == 1
    assert state(page, "dirty")
    assert page.text_content("#save-status") == "unsaved changes"
    page.keyboard.press("Control+z")  # back to what the save sent: nothing unsaved
    assert not state(page, "dirty")
    page.keyboard.press("Control+Shift+z")
    assert state(page, "dirty")
    save_and_wait(page)
    [stored] = get_json(f"{live_server}/api/frames/{fid}")["instances"]
    assert stored["visibility"][0] == 1


def test_second_save_of_same_frame_gets_conflict(
    live_server: str, browser: Any, page: Page
) -> None:
    frame = unlabeled_frame(live_server)
    fid, w, h = frame["id"], frame["width"], frame["height"]
    other_context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = other_context.new_page()
    try:
        open_frame(page, live_server, fid)
        open_frame(other, live_server, fid)

        first_box = [0.1 * w, 0.1 * h, 0.3 * w, 0.3 * h]
        draw_box(page, first_box)
        save_and_wait(page)

        draw_box(other, [0.5 * w, 0.5 * h, 0.8 * w, 0.8 * h])
        other.keyboard.press("Control+s")
        other.wait_for_selector("#conflict", state="visible")
        assert "changed by someone else" in other.text_content("#conflict")
        assert state(other, "dirty")  # its edit is kept, not silently dropped

        [stored] = get_json(f"{live_server}/api/frames/{fid}")["instances"]
        assert stored["box"] == pytest.approx(first_box, abs=1.0)

        other.click("#conflict-reload")
        other.wait_for_selector("#conflict", state="hidden")
        [reloaded] = state(other, "instances")
        assert reloaded["id"] == stored["id"]
        assert reloaded["box"] == pytest.approx(first_box, abs=1.0)
    finally:
        other_context.close()


def test_help_navigation_and_token(
    live_server_with_token: tuple[str, str], page: Page
) -> None:
    server, token = live_server_with_token
    items = get_json(f"{server}/api/frames", token)["items"]
    first, second = items[0]["id"], items[1]["id"]
    open_frame(page, server, first, f"&token={token}")  # then kept in a cookie
    assert "token" not in page.url  # not left in the address bar or history

    assert page.is_hidden("#help")
    page.keyboard.press("h")
    page.wait_for_selector("#help", state="visible")
    text = page.text_content("#help")
    for shortcut in ("Ctrl+Z", "Ctrl+S", "Shift+C", "Tab", "Delete"):
        assert shortcut in text
    for color in ("green", "blue", "orange", "gray"):
        assert color in text
    page.keyboard.press("h")
    page.wait_for_selector("#help", state="hidden")

    page.keyboard.press("d")
    page.wait_for_selector(f'body[data-drawn-frame="{second}"]')
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector(f'body[data-drawn-frame="{first}"]')
    assert state(page, "lastDrawnFrameId") == first

    scale = page.evaluate("window.etholoop.editor.view.scale")
    canvas = page.locator("#canvas").bounding_box()
    page.mouse.move(
        canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    )
    page.mouse.wheel(0, -400)  # zoom in
    page.wait_for_function(f"window.etholoop.editor.view.scale > {scale * 1.5}")
    page.keyboard.press("f")  # fit again
    assert page.evaluate("window.etholoop.editor.view.scale") == pytest.approx(scale)

    page.click(f'[data-frame-id="{second}"]')
    page.wait_for_selector(f'body[data-drawn-frame="{second}"]')
    assert page.get_attribute("#timeline-link", "href") == "/timeline"
    page.click("#timeline-link")  # the cookie carries the token
    page.wait_for_selector("body[data-timeline-ready]")


def test_boxless_imported_instance_is_drawn_selected_and_saved_without_a_box(
    image_server: str, page: Page
) -> None:
    items = get_json(f"{image_server}/api/frames")["items"]
    fid = items[0]["id"]
    open_frame(page, image_server, fid)
    assert "img0000.png" in page.text_content(f'[data-frame-id="{fid}"]')
    assert "img0000.png" in page.text_content("#frame-title")
    [inst] = state(page, "instances")
    assert inst["box"] is None and inst["keypoints"] == IMAGE_FOLDER_LABELS[0]

    # a box derived from the keypoints is drawn (thin, dashed, in the instance color)
    x1, y1, x2, y2 = page.evaluate(
        "async () => (await import('/static/pose-geometry.js'))"
        ".displayBox(window.etholoop.instances[0])"
    )
    xs, ys = [p[0] for p in inst["keypoints"]], [p[1] for p in inst["keypoints"]]
    assert x1 < min(xs) and y1 < min(ys) and x2 > max(xs) and y2 > max(ys)
    top_edge = canvas_pixels(page, x1, y1 - 0.5, x2 - x1, 1)
    green = [g - max(r, b) > 25 for r, g, b in top_edge]  # #3ddc97 blended in
    assert sum(green) > 0.2 * len(green)
    screenshot(page, "pose-view-boxless.png")

    # the derived box is what a click hits: inside it, off the keypoints, selects
    inside = (x1 + 1, (y1 + y2) / 2)
    click(page, *inside)
    assert state(page, "selected") == 0
    assert drawn_labels(page) == KEYPOINTS  # names beside the selected keypoints
    drag(page, inside, (x1 + 20, y2 - 10))  # dragging the body invents no box
    assert state(page, "instances")[0]["box"] is None and not state(page, "dirty")

    drag(page, tuple(inst["keypoints"][0]), (64.0, 44.0))  # move the nose
    save_and_wait(page)
    [stored] = get_json(f"{image_server}/api/frames/{fid}")["instances"]
    assert stored["id"] == inst["id"] and stored["box"] is None
    assert stored["keypoints"][0] == pytest.approx([64.0, 44.0], abs=0.5)
    assert stored["keypoints"][1:] == inst["keypoints"][1:]
    assert state(page, "instances")[0]["box"] is None

    corner = page.evaluate(
        "async () => (await import('/static/pose-geometry.js'))"
        ".displayBox(window.etholoop.instances[0])"
    )[2:]
    drag(page, tuple(corner), (corner[0] + 10, corner[1] + 5))  # draws a box
    assert state(page, "instances")[0]["box"][2:] == pytest.approx(
        [corner[0] + 10, corner[1] + 5], abs=0.5
    )


def test_keypoint_names_legend_hover_and_selection(
    live_server: str, page: Page, predicted_frame_id: int
) -> None:
    open_frame(page, live_server, predicted_frame_id)
    legend = page.locator("#keypoint-legend li")
    assert legend.all_text_contents() == KEYPOINTS  # skeleton order
    [inst] = state(page, "instances")
    for k, (x, y) in enumerate(inst["keypoints"]):  # legend color = drawn color
        swatch = (
            legend.nth(k)
            .locator(".swatch")
            .evaluate("(e) => getComputedStyle(e).backgroundColor")
        )
        want = "#" + "".join(f"{int(v):02x}" for v in swatch[4:-1].split(","))
        [center] = canvas_pixels(page, x, y, 0, 0)
        assert near(center, want, tolerance=8), (KEYPOINTS[k], center, want)

    assert drawn_labels(page) == []
    page.mouse.move(*client_point(page, *inst["keypoints"][1]))
    page.wait_for_function("window.etholoop.editor.drawnLabels.length === 1")
    assert drawn_labels(page) == ["earL"]
    page.mouse.move(*client_point(page, 5, 5))  # off every keypoint
    page.wait_for_function("window.etholoop.editor.drawnLabels.length === 0")

    click(page, *inst["keypoints"][0])  # select the instance by its nose
    assert state(page, "selected") == 0
    assert drawn_labels(page) == KEYPOINTS
