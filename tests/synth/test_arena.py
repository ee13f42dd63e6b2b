from __future__ import annotations

import numpy as np
import pytest

from etholoop.synth import Arena, ArenaSpec, make_arena
from etholoop.synth.config import KEYPOINTS
from etholoop.types import LabelSet

SMALL = {"width": 320, "height": 240, "n_frames": 120}


@pytest.fixture(scope="module")
def arena() -> Arena:
    """Three mice, 10 s at 320x240, with at least 4 contacts."""
    return make_arena(**{**SMALL, "n_frames": 300, "min_contacts": 4, "seed": 3})


def test_ground_truth_shapes_and_names(arena):
    n = arena.n_frames
    assert arena.tracks.xy.shape == (n, 3, 4, 2)
    assert arena.tracks.xy.dtype == np.float32
    assert (arena.tracks.scores == 1).all()
    assert arena.tracks.individuals == ("mouse0", "mouse1", "mouse2")
    assert arena.tracks.skeleton.keypoints == ("nose", "earL", "earR", "tailB")
    assert arena.tracks.skeleton.symmetry_names == [("earL", "earR")]
    assert arena.visibility.shape == (n, 3, 4)
    assert set(np.unique(arena.visibility).tolist()) <= {1, 2}
    assert arena.boxes.shape == (n, 3, 4)
    assert (arena.boxes[..., 2:] > arena.boxes[..., :2]).all()
    assert arena.ethogram.values.shape == (n, 3, 5)
    assert arena.ethogram.behaviors == ArenaSpec().behaviors


def test_ethogram_has_one_behavior_per_animal_per_frame(arena):
    values = arena.ethogram.values
    assert values.dtype == np.bool_
    assert (values.sum(axis=-1) == 1).all()


def test_contacts_are_reported_with_their_pair_and_frames(arena):
    assert len(arena.contacts) >= 4
    xy = arena.motion.posture.xy
    for contact in arena.contacts:
        a, b = contact.individuals
        assert 0 <= a < b < 3
        d = np.linalg.norm(
            xy[contact.start : contact.stop, a] - xy[contact.start : contact.stop, b],
            axis=-1,
        )
        assert d[0] < arena.spec.contact_distance
        assert d[-1] < arena.spec.contact_distance
        assert d.min() == pytest.approx(contact.min_distance)


def test_same_seed_same_truth_and_frames():
    a = make_arena(**SMALL, seed=7)
    b = make_arena(**SMALL, seed=7)
    np.testing.assert_array_equal(a.tracks.xy, b.tracks.xy)
    np.testing.assert_array_equal(a.visibility, b.visibility)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.ethogram.values, b.ethogram.values)
    assert a.contacts == b.contacts
    for t in (0, 1, 59, 119):
        np.testing.assert_array_equal(a.render(t), b.render(t))


def test_different_seeds_differ():
    a = make_arena(**SMALL, seed=7)
    b = make_arena(**SMALL, seed=8)
    assert not np.array_equal(a.tracks.xy, b.tracks.xy)
    assert not np.array_equal(a.render(0), b.render(0))


def test_frames_iterates_what_render_draws(arena):
    frames = arena.frames()
    first = [next(frames) for _ in range(3)]
    for t, frame in enumerate(first):
        assert frame.shape == (240, 320, 3)
        assert frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, arena.render(t))
    assert sum(1 for _ in frames) == arena.n_frames - 3


def test_render_refuses_frames_out_of_range(arena):
    with pytest.raises(IndexError, match="out of range"):
        arena.render(arena.n_frames)


def _pixels_differ_under_keypoints(arena: Arena, frame_inds, threshold: float) -> None:
    background = arena.painter.renderer.background.astype(np.int16)
    if arena.spec.gray:
        background = background[..., 0]
    n_checked = 0
    for t in frame_inds:
        frame = arena.render(t).astype(np.int16)
        xy = np.rint(arena.tracks.xy[t]).astype(int)
        for i, k in zip(*np.nonzero(arena.visibility[t] == 2), strict=True):
            x, y = xy[i, k]
            diff = np.abs(frame[y, x] - background[y, x]).max()
            assert diff > threshold, (t, i, arena.spec.keypoints[k], diff)
            n_checked += 1
    assert n_checked > 0


@pytest.mark.parametrize(
    "fields",
    [
        {"seed": 0},
        {"seed": 1, "gray": True, "keypoints": KEYPOINTS},
        {"seed": 2, "noise": 0.0, "blur": 1.0, "n_animals": 5},
        {"seed": 3, "width": 640, "height": 480, "keypoints": KEYPOINTS},
    ],
)
def test_visible_keypoints_land_on_the_drawn_body(fields):
    arena = make_arena(**{**SMALL, **fields})
    _pixels_differ_under_keypoints(arena, range(0, arena.n_frames, 7), threshold=15)


def test_crossings_hide_keypoints_under_the_animal_on_top(arena):
    assert (arena.visibility == 1).any()
    # a hidden keypoint still lands on an animal, just not its own
    _pixels_differ_under_keypoints(
        arena, np.unique(np.nonzero(arena.visibility == 1)[0])[:5], 15
    )


def test_gray_frames_are_single_channel():
    arena = make_arena(**SMALL, gray=True)
    frame = arena.render(0)
    assert frame.shape == (240, 320)
    assert frame.dtype == np.uint8


def test_label_set_holds_one_instance_per_animal_per_frame(arena):
    labels = arena.to_label_set("arena.mp4")
    assert isinstance(labels, LabelSet)
    assert labels.videos[0].path == "arena.mp4"
    assert labels.tracks == ("mouse0", "mouse1", "mouse2")
    assert len(labels.frames) == arena.n_frames
    assert labels.n_instances == 3 * arena.n_frames
    frame = labels.frames[17]
    assert frame.frame_idx == 17
    for i, inst in enumerate(frame.instances):
        assert inst.track_id == i
        assert inst.source == "manual"
        np.testing.assert_allclose(
            inst.keypoints, arena.tracks.xy[17, i], rtol=0, atol=1e-6
        )
        np.testing.assert_array_equal(inst.visibility, arena.visibility[17, i])
        np.testing.assert_allclose(inst.box, arena.boxes[17, i], rtol=0, atol=1e-6)


def test_make_arena_accepts_a_spec_with_overrides():
    spec = ArenaSpec(n_animals=2, n_frames=30, width=160, height=120)
    arena = make_arena(spec, seed=5)
    assert arena.spec == ArenaSpec(
        n_animals=2, n_frames=30, width=160, height=120, seed=5
    )
    assert arena.tracks.xy.shape == (30, 2, 4, 2)


def test_too_many_contacts_for_the_frames_are_refused():
    with pytest.raises(ValueError, match="contacts fit in 60 frames"):
        make_arena(n_frames=60, min_contacts=20, width=320, height=240)
