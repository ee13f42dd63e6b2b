"""The behavior cycle in a real Chromium: predict, review in the timeline, retrain.

Two synthetic arenas go in through the CLI (arena1 labeled, arena2 not); after
`behavior train` and `behavior predict`, arena2's predicted ranges are opened in
the timeline view of a real server. A person confirms one of them with `c`,
erases its tail and what animal 0's other lanes predict over it with the mouse,
saves, and the store and the next training set show the correction.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from etholoop.annotate import serve_in_background
from etholoop.behavior_runs.data import load_sessions
from etholoop.project import Project
from etholoop.sessions import get_session
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.synth import make_arena, write_arena
from etholoop.types import BehaviorRange

# The fixtures are imported by name, so test arguments re-bind them (F811).
# ruff: noqa: F811
from tests.annotate.browser_fixtures import browser, page, screenshot  # noqa: F401
from tests.annotate.test_browser_timeline import (
    drag_in_lane,
    get_json,
    lane_selector,
    save_and_wait,
)
from tests.fixtures.cli import cli_ok

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.browser

N_FRAMES = 400
BEHAVIORS = ("rest", "walk", "groom", "rear", "chase")
TRIM = 3
"""Frames erased with the mouse from the end of the confirmed range."""


@pytest.fixture(scope="module")
def predicted_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """arena1 labeled, arena2 not; trained on arena1 and predicted on arena2."""
    root = tmp_path_factory.mktemp("behavior-cycle")
    proj = root / "proj"
    cli_ok(
        "init", proj, "--animals", "2", "--keypoints", "nose,earL,earR,tailB",
        "--behaviors", ",".join(BEHAVIORS),
    )  # fmt: skip
    with (proj / "etholoop.yaml").open("a") as config:
        config.write("behavior:\n  trees: 30\n")
    for seed in (1, 2):
        name = f"arena{seed}"
        arena = make_arena(
            n_animals=2, n_frames=N_FRAMES, width=160, height=120, seed=seed
        )
        files = write_arena(arena, root / name)
        video = files["video"].rename(root / name / f"{name}.mp4")
        cli_ok("add-videos", proj, video)
        cli_ok("tracks", "import", proj, files["labels"], "--session", name)
        if name == "arena1":
            cli_ok(
                "behavior", "import", proj, files["behaviors"], "--session", name,
                "--format", "long",
            )  # fmt: skip
    assert "learned from arena1" in cli_ok("behavior", "train", proj)
    cli_ok("behavior", "predict", proj, "arena2")
    return proj


def _key(r: BehaviorRange | dict[str, Any]) -> tuple:
    """(individual, behavior, start, stop, source, score) of a stored or page range.

    The score is rounded: a save recomputes it as a length-weighted mean
    (`merge_ranges`), which may move its last bit.
    """
    if isinstance(r, dict):
        r = BehaviorRange(**{k: v for k, v in r.items() if k not in ("id", "version")})
    score = None if r.score is None else round(r.score, 9)
    return (r.individual, r.behavior, r.start, r.stop, r.source, score)


def _stored(proj: Path) -> tuple[int, list[BehaviorRange]]:
    with Project.open(proj) as p, p.store.session() as session:
        video_id = get_session(session, p, "arena2").id
        return video_id, load_behavior_ranges(session, video_id)


def _arena2_training(proj: Path) -> Any:
    with Project.open(proj) as p, p.store.session() as session:
        [data] = load_sessions(session, p, ["arena2"])
        return data.labeled_video(BEHAVIORS)


@pytest.fixture
def served(predicted_project: Path) -> Iterator[str]:
    """Base URL of a real server on the predicted project."""
    with (
        Project.open(predicted_project) as project,
        serve_in_background(project) as url,
    ):
        yield url


def lane_alpha(page: Page, individual: int, behavior: str, frame: int) -> int:
    """Alpha (0..255) of the lane's pixel in the middle of `frame`, half-way down."""
    return page.evaluate(
        """([selector, frame]) => {
            const canvas = document.querySelector(selector);
            const rect = canvas.getBoundingClientRect();
            const dpr = canvas.width / rect.width;
            const middle = window.etholoop.frameToClientX(frame) - rect.left;
            const x = Math.floor(middle * dpr);
            const y = Math.floor(canvas.height / 2);
            return canvas.getContext("2d").getImageData(x, y, 1, 1).data[3];
        }""",
        [lane_selector(individual, behavior), frame],
    )


def test_predictions_reviewed_in_the_timeline_change_the_next_training_set(
    predicted_project: Path, served: str, page: Page
) -> None:
    proj = predicted_project
    video_id, before = _stored(proj)
    assert before and {r.source for r in before} == {"predicted"}
    assert _arena2_training(proj) is None  # nothing of arena2 to learn from yet

    # the timeline of arena2 shows exactly the stored predictions, as predicted
    [entry] = [v for v in get_json(f"{served}/api/videos") if v["name"] == "arena2.mp4"]
    assert entry["id"] == video_id and entry["n_frames"] == N_FRAMES
    page.goto(f"{served}/timeline?video={video_id}")
    page.wait_for_selector(f'body[data-timeline-ready="{video_id}"]')
    page.wait_for_selector('body[data-shown-frame="0"]')
    assert page.locator("#timeline .lane").count() == 2 * len(BEHAVIORS)
    shown = page.evaluate("window.etholoop.labels")
    assert sorted(map(_key, shown)) == sorted(map(_key, before))

    # the longest prediction of animal 0 is the one to review
    chosen = max(
        (r for r in before if r.individual == 0), key=lambda r: r.stop - r.start
    )
    assert chosen.stop - chosen.start >= 2 * TRIM + 2, chosen
    lane = BEHAVIORS.index(chosen.behavior)  # animal 0's lanes come first
    inside = chosen.start + (chosen.stop - TRIM - chosen.start) // 2
    empty = [  # (animal, behavior, frame) with no prediction, away from the cursor
        (i, b, f)
        for i in (0, 1)
        for b in BEHAVIORS
        for f in range(N_FRAMES // 4, N_FRAMES, N_FRAMES // 8)
        if not any(r.individual == i and r.behavior == b and r.start <= f < r.stop
                   for r in before)
    ]  # fmt: skip
    assert empty, "every lane predicted everywhere"
    hatched = lane_alpha(page, 0, chosen.behavior, inside)
    assert 0 < hatched < 255  # predicted: drawn translucent (hatched)
    assert lane_alpha(page, *empty[0]) == 0  # nothing drawn there
    page.keyboard.press("0")  # all frames
    screenshot(page, "timeline-predicted.png")

    # a person: cursor into the range (click on the ruler), its lane, `c`
    ruler = page.locator("#timeline canvas.ruler").bounding_box()
    x = page.evaluate(f"window.etholoop.frameToClientX({chosen.start + 1})")
    page.mouse.click(x, ruler["y"] + ruler["height"] / 2)
    assert page.evaluate("window.etholoop.currentFrame") == chosen.start + 1
    page.keyboard.press(str(lane + 1))
    assert page.evaluate("window.etholoop.selectedLane") == lane
    page.keyboard.press("c")
    labels = page.evaluate("window.etholoop.labels")
    assert [_key(r)[:5] for r in labels if r["source"] == "manual"] == [
        (0, chosen.behavior, chosen.start, chosen.stop, "manual")
    ]
    # ... then the tail was not that behavior: erase it with the right button
    drag_in_lane(
        page, 0, chosen.behavior, chosen.stop - TRIM, chosen.stop - 1, button="right"
    )
    lo, hi = chosen.start, chosen.stop - TRIM  # the corrected range
    # ... and animal 0 did nothing else there: reject what the other lanes predict
    rejected = [
        r
        for r in before
        if r.individual == 0 and r.behavior != chosen.behavior
        if r.start < hi and r.stop > lo
    ]
    for behavior in sorted({r.behavior for r in rejected}):
        drag_in_lane(page, 0, behavior, lo, hi - 1, button="right")
    left = [  # the predictions still to review: the rejected ones lose [lo, hi)
        (r.individual, r.behavior, a, b, r.source, _key(r)[-1])
        for r in before
        if r is not chosen
        for a, b in (
            [(r.start, min(r.stop, lo)), (max(r.start, hi), r.stop)]
            if r in rejected
            else [(r.start, r.stop)]
        )
        if a < b
    ]
    labels = page.evaluate("window.etholoop.labels")
    assert sorted(_key(r) for r in labels if r["source"] == "predicted") == sorted(left)
    corrected = (0, chosen.behavior, lo, hi)
    assert [
        (r["individual"], r["behavior"], r["start"], r["stop"])
        for r in labels
        if r["source"] == "manual"
    ] == [corrected]
    assert lane_alpha(page, 0, chosen.behavior, inside) == 255  # manual: solid
    save_and_wait(page)
    screenshot(page, "timeline-corrected.png")
    stored_page = get_json(f"{served}/api/videos/{video_id}/behaviors")["labels"]
    assert sorted(map(_key, stored_page)) == sorted(map(_key, labels))

    # the store: the corrected range is manual, the others are still predicted
    _, after = _stored(proj)
    [row] = [r for r in after if r.source == "manual"]
    assert (row.individual, row.behavior, row.start, row.stop) == corrected
    assert row.id == chosen.id  # the reviewed row itself, not a new one
    assert sorted(_key(r) for r in after if r.source == "predicted") == sorted(left)
    untouched = {r.id for r in before if r is not chosen and r not in rejected}
    assert untouched <= {r.id for r in after if r.source == "predicted"}

    # the next training set: animal 0 of arena2 is labeled, the range positive
    video = _arena2_training(proj)
    assert video is not None
    assert not video.labeled[:, 1].any()  # animal 1 was not reviewed
    assert video.labeled[:, 0].all()
    expected = np.zeros((N_FRAMES, len(BEHAVIORS)), bool)
    for individual, behavior, start, stop, *_ in left:
        if individual == 0:  # unconfirmed: that behavior counts neither way there
            expected[start:stop, BEHAVIORS.index(behavior)] = True
    assert video.unknown is not None
    np.testing.assert_array_equal(video.unknown[:, 0], expected)
    assert video.known()[lo:hi, 0].all()  # the reviewed frames count for all
    values = video.labels.values[:, 0]
    column = BEHAVIORS.index(chosen.behavior)
    assert np.flatnonzero(values[:, column]).tolist() == list(range(lo, hi))
    assert values.sum() == hi - lo  # nothing else of animal 0 is positive

    out = cli_ok("behavior", "train", proj)
    assert "learned from arena1" in out and "learned from arena2" in out
