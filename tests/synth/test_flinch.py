"""The opt-in "flinch": a paw drawn in the pixels, invisible in the keypoints."""

from __future__ import annotations

import hashlib

import attrs
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.synth import (
    Arena,
    ArenaSpec,
    make_arena,
    make_composed_arena,
    write_arena,
)
from etholoop.synth.body import make_body, paw_ellipses
from etholoop.synth.compose import SourceMice
from etholoop.synth.config import (
    BEHAVIORS,
    FLINCH,
    FLINCH_EDGE,
    FLINCH_FRAMES,
    floor_rect,
)
from etholoop.synth.render import ONE, _Layout
from etholoop.types import Skeleton

WITH_FLINCH = (*BEHAVIORS, FLINCH)
LONG = {"n_animals": 3, "n_frames": 1800, "width": 160, "height": 120, "seed": 4}


@pytest.fixture(scope="module")
def pair() -> tuple[Arena, Arena]:
    """One minute of three mice at 160x120, with flinches and without."""
    return make_arena(**LONG, behaviors=WITH_FLINCH), make_arena(**LONG)


def _digest(*arrays: np.ndarray) -> str:
    m = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        m.update(f"{a.dtype}{a.shape}".encode())
        m.update(a.tobytes())
    return m.hexdigest()[:16]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Start and stop (exclusive) of each run of True in a 1D array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _without_paws(arena: Arena, t: int) -> np.ndarray:
    """Frame `t` of `arena` drawn with the flinch drawing switched off."""
    motion = attrs.evolve(arena.motion, flinch=None)
    return next(iter(arena.painter.paint(motion, t, t + 1)))


def test_scenes_without_flinch_are_unchanged():
    # Recorded before the flinch existed (numpy 2.4, opencv 5.1): the truth and
    # every frame of a small default scene. Truth is rounded to 1e-3 px; a new
    # numpy or OpenCV may change how frames round, then re-record after checking.
    arena = make_arena(
        n_animals=3, n_frames=90, width=160, height=120, seed=1, min_contacts=1
    )
    assert arena.spec.behaviors == BEHAVIORS == ArenaSpec().behaviors
    contacts = [(c.start, c.stop, *c.individuals) for c in arena.contacts]
    truth = _digest(
        np.round(arena.tracks.xy.astype(np.float64), 3),
        arena.visibility,
        np.round(arena.boxes.astype(np.float64), 3),
        arena.ethogram.values,
        arena.motion.behavior,
        np.array(contacts).reshape(-1, 4),
    )
    assert arena.motion.flinch is None
    assert truth == "c1021900910fdc46"
    assert _digest(*arena.frames()) == "acb6d646d3d5d2e5"


def test_about_two_percent_of_frames_are_short_flinch_episodes(pair):
    arena, _ = pair
    flinch = arena.spec.behaviors.index(FLINCH)
    assert arena.ethogram.behaviors == WITH_FLINCH
    for i in range(arena.spec.n_animals):
        flags = arena.motion.behavior[:, i] == flinch
        assert 0.01 <= flags.mean() <= 0.04
        runs = _runs(flags)
        assert len(runs) >= 2
        for start, stop in runs:
            assert FLINCH_FRAMES[0] <= stop - start <= FLINCH_FRAMES[1]
            assert start >= FLINCH_EDGE
            assert stop <= arena.n_frames - FLINCH_EDGE
        gaps = [b[0] - a[1] for a, b in zip(runs, runs[1:], strict=False)]
        assert min(gaps) >= FLINCH_EDGE
        # the paw is out exactly on the flinch frames
        np.testing.assert_array_equal(arena.motion.flinch.extension[:, i] > 0, flags)
    values = arena.ethogram.values
    assert (values.sum(axis=-1) == 1).all()  # exclusive: flinch overrides
    np.testing.assert_array_equal(values[..., flinch], arena.motion.behavior == flinch)


def test_flinch_leaves_keypoints_and_motion_as_they_are(pair):
    # Asking for flinch changes the labels of the flinch frames and nothing else
    # of the truth: every keypoint (all of KEYPOINTS: the posture is the same)
    # equals the scene's without flinch.
    arena, plain = pair
    np.testing.assert_array_equal(arena.tracks.xy, plain.tracks.xy)
    np.testing.assert_array_equal(arena.visibility, plain.visibility)
    np.testing.assert_array_equal(arena.boxes, plain.boxes)
    assert arena.contacts == plain.contacts
    spec = arena.spec
    every = make_body(arena.motion.posture, spec.body_length, floor_rect(spec))
    same = make_body(plain.motion.posture, spec.body_length, floor_rect(spec))
    np.testing.assert_array_equal(every.keypoints, same.keypoints)
    flinch = arena.motion.behavior == spec.behaviors.index(FLINCH)
    np.testing.assert_array_equal(
        arena.motion.behavior[~flinch], plain.motion.behavior[~flinch]
    )


def test_frames_without_a_flinch_equal_the_scene_without_flinch(pair):
    arena, plain = pair
    flinching = (arena.motion.behavior == arena.spec.behaviors.index(FLINCH)).any(1)
    frames = np.flatnonzero(~flinching)[::25]
    for t in frames.tolist():
        np.testing.assert_array_equal(arena.render(t), plain.render(t))


@pytest.mark.parametrize(
    "look",
    [
        {"width": 160, "height": 120},
        {"width": 320, "height": 240, "gray": True, "blur": 1.0},
        {"width": 320, "height": 240, "noise": 0.0},
    ],
)
def test_the_paw_shows_near_the_animal_on_flinch_frames_only(look):
    # One mouse, so that no other animal can cover the paw.
    arena = make_arena(n_animals=1, n_frames=600, seed=2, behaviors=WITH_FLINCH, **look)
    flags = arena.motion.behavior[:, 0] == arena.spec.behaviors.index(FLINCH)
    assert flags.sum() >= 10
    reach = int(0.6 * arena.spec.body_length)
    shown = _runs(flags)
    around = [max(start - 3, 0) for start, _ in shown] + [stop for _, stop in shown]
    for t in sorted({*np.flatnonzero(flags).tolist(), *around}):
        frame = arena.render(t).astype(np.int16)
        diff = np.abs(frame - _without_paws(arena, t))
        diff = diff.max(axis=-1) if diff.ndim == 3 else diff
        if not flags[t]:
            assert not diff.any(), t
            continue
        x1, y1, x2, y2 = arena.boxes[t, 0].astype(int)
        near = np.zeros(diff.shape, bool)
        near[max(y1 - reach, 0) : y2 + reach, max(x1 - reach, 0) : x2 + reach] = True
        assert not diff[~near].any(), t
        assert (diff[near] > 25).sum() >= 4, t


def test_regions_of_interest_hold_the_paws(pair):
    arena, _ = pair
    spec, renderer = arena.spec, arena.painter.renderer
    body = make_body(arena.motion.posture[:600], spec.body_length, floor_rect(spec))
    f = arena.motion.flinch[:600]
    paws = paw_ellipses(
        body.ellipses, f.extension, f.side, f.shoulder, spec.body_length
    )
    layout = _Layout.build(renderer._shapes(body.ellipses), body.tail, renderer, paws)
    assert layout.has_paw is not None and layout.paw is not None
    assert layout.has_paw.any()
    size = layout.roi[..., 2:] - layout.roi[..., :2]
    paw = layout.paw[layout.has_paw]
    assert (paw >= 0).all()
    assert (paw <= size[layout.has_paw][:, None] * ONE).all()


def test_written_arena_labels_flinch(tmp_path):
    arena = make_arena(
        n_animals=2, n_frames=60, width=160, height=120, seed=0, behaviors=WITH_FLINCH
    )
    paths = write_arena(arena, tmp_path)
    truth = np.load(paths["truth"])
    assert truth["behaviors"].tolist() == list(WITH_FLINCH)
    np.testing.assert_array_equal(truth["behavior"], arena.motion.behavior)
    table = pd.read_csv(paths["behaviors"])
    flinch = table[table.behavior == FLINCH]
    t, i = np.nonzero(arena.motion.behavior == WITH_FLINCH.index(FLINCH))
    assert len(flinch) == len(t) > 0
    assert sorted(zip(flinch.frame, flinch.individual, strict=True)) == sorted(
        zip(t.tolist(), [f"mouse{k}" for k in i], strict=True)
    )


def test_cli_writes_flinch_when_asked(tmp_path):
    out = tmp_path / "arena"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            str(out),
            "--animals",
            "2",
            "--frames",
            "40",
            "--size",
            "160x120",
            "--behaviors",
            "rest,walk,flinch",
        ],
    )
    assert result.exit_code == 0, result.output
    assert FLINCH in set(pd.read_csv(out / "behaviors.csv").behavior)


def test_composed_arenas_refuse_flinch():
    source = SourceMice(
        images=np.zeros((1, 120, 160, 3), np.uint8),
        keypoints=np.zeros((1, 4, 2)),
        visibility=np.full((1, 4), 2, np.uint8),
        skeleton=Skeleton(("nose", "earL", "earR", "tailB")),
    )
    spec = ArenaSpec(n_frames=60, behaviors=("rest", "walk", FLINCH))
    with pytest.raises(ValueError, match=FLINCH) as error:
        make_composed_arena(spec, source)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"behaviors": (FLINCH,)}, "at least one of"),
        ({"behaviors": ("walk", FLINCH), "n_frames": 20}, "at least 26 frames"),
        ({"behaviors": ("chase", FLINCH), "n_animals": 1}, "no one to chase"),
        ({"behaviors": ("walk", "shiver")}, "expected distinct names"),
    ],
)
def test_spec_refuses_flinch_it_cannot_show(fields, match):
    with pytest.raises(ValueError, match=match):
        ArenaSpec(**fields)
