from __future__ import annotations

import numpy as np
import pytest

from etholoop.synth import ArenaSpec, Contact
from etholoop.synth.config import floor_rect
from etholoop.synth.motion import contact_gap_frames, find_contacts, simulate


def _pair_track(distances):
    """Two animals on a line whose distance per frame is `distances`."""
    d = np.asarray(distances, dtype=np.float64)
    xy = np.zeros((len(d), 2, 2))
    xy[:, 1, 0] = d
    return xy


def test_find_contacts_merges_close_spells_within_the_gap():
    far, near = 100.0, 10.0
    d = [far, near, near, far, far, near, far, far, far, far, near, far]
    contacts = find_contacts(_pair_track(d), 20.0, gap=2)
    assert contacts == (
        Contact(1, 6, (0, 1), 10.0),
        Contact(10, 11, (0, 1), 10.0),
    )
    assert len(find_contacts(_pair_track(d), 20.0, gap=1)) == 3
    assert find_contacts(_pair_track([far] * 5), 20.0, gap=2) == ()


def test_find_contacts_orders_events_by_start_then_pair():
    xy = np.zeros((4, 3, 2))
    xy[:, 0, 0] = [0, 0, 0, 0]
    xy[:, 1, 0] = [100, 5, 5, 100]  # near 0 in frames 1-2
    xy[:, 2, 0] = [3, 200, 200, 200]  # near 0 in frame 0
    contacts = find_contacts(xy, 20.0, gap=0)
    assert [(c.start, c.stop, c.individuals) for c in contacts] == [
        (0, 1, (0, 2)),
        (1, 3, (0, 1)),
    ]


def test_same_seed_same_motion_different_seed_different_motion():
    spec = ArenaSpec(n_frames=300, seed=4)
    a = simulate(spec, np.random.default_rng(spec.seed))
    b = simulate(spec, np.random.default_rng(spec.seed))
    c = simulate(spec, np.random.default_rng(spec.seed + 1))
    np.testing.assert_array_equal(a.posture.xy, b.posture.xy)
    np.testing.assert_array_equal(a.behavior, b.behavior)
    assert not np.array_equal(a.posture.xy, c.posture.xy)


def test_animals_stay_on_the_floor_and_move_smoothly():
    spec = ArenaSpec(n_animals=4, n_frames=1800, width=320, height=240, seed=2)
    motion = simulate(spec, np.random.default_rng(spec.seed))
    x0, y0, x1, y1 = floor_rect(spec)
    xy = motion.posture.xy
    assert xy.shape == (1800, 4, 2)
    assert (xy[..., 0] > x0).all() and (xy[..., 0] < x1).all()
    assert (xy[..., 1] > y0).all() and (xy[..., 1] < y1).all()
    step = np.linalg.norm(np.diff(xy, axis=0), axis=-1)
    # no teleporting: at most a few body lengths per second
    assert step.max() < 5 * spec.body_length / spec.fps
    assert step.mean() > 0.1  # and they do move


def test_every_behavior_shows_up_and_labels_follow_the_spec_order():
    spec = ArenaSpec(
        n_frames=3600, seed=1, behaviors=("chase", "walk", "rest", "groom", "rear")
    )
    motion = simulate(spec, np.random.default_rng(spec.seed))
    counts = np.bincount(motion.behavior.ravel(), minlength=5)
    assert (counts > 0).all()
    stretch = motion.posture.stretch
    rearing = motion.behavior == spec.behaviors.index("rear")
    # a rearing body foreshortens
    assert stretch[rearing].mean() < stretch[~rearing].mean() - 0.1


def test_restricted_behaviors_are_the_only_ones_shown():
    spec = ArenaSpec(n_frames=600, behaviors=("rest", "walk"), n_animals=2)
    motion = simulate(spec, np.random.default_rng(0))
    assert set(np.unique(motion.behavior).tolist()) <= {0, 1}


@pytest.mark.parametrize(
    ("n_animals", "n_frames", "min_contacts"), [(3, 900, 10), (2, 900, 5), (5, 600, 15)]
)
def test_min_contacts_are_met(n_animals, n_frames, min_contacts):
    spec = ArenaSpec(
        n_animals=n_animals,
        n_frames=n_frames,
        min_contacts=min_contacts,
        width=320,
        height=240,
    )
    motion = simulate(spec, np.random.default_rng(0))
    contacts = find_contacts(
        motion.posture.xy, spec.contact_distance, contact_gap_frames(spec.fps)
    )
    assert len(contacts) >= min_contacts
