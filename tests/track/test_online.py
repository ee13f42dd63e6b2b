"""The online pass: crossings, the identity limit, order independence."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.track import TrackerParams, track_online
from etholoop.track.online import hungarian
from etholoop.types import Detections

from .conftest import SKELETON, crossing, detections_from_poses, pose


def identity_per_animal(kp: np.ndarray, det: Detections, ids: np.ndarray) -> list:
    """For each frame, the identity given to each animal (matched by keypoints)."""
    out = []
    for t in range(det.n_frames):
        rows = det.rows(t)
        here = []
        for a in range(kp.shape[1]):
            d = np.abs(det.keypoints[rows] - kp[t, a]).sum(axis=(1, 2))
            here.append(int(ids[rows][np.argmin(d)]))
        out.append(here)
    return out


def test_hungarian_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    from itertools import permutations

    for shape in [(3, 3), (2, 4), (4, 2), (5, 5)]:
        cost = rng.random(shape)
        cols = hungarian(cost)
        n = min(shape)
        best = min(
            sum(cost[i, p[i]] for i in range(n))
            if shape[0] <= shape[1]
            else sum(cost[p[j], j] for j in range(n))
            for p in permutations(range(max(shape)), n)
        )
        got = sum(cost[i, c] for i, c in enumerate(cols) if c >= 0)
        assert np.isclose(got, best)


def test_a_crossing_keeps_both_identities() -> None:
    kp = crossing()
    det = detections_from_poses(kp, order_seed=1)
    ids = track_online(det, TrackerParams(max_ids=2))
    per_frame = identity_per_animal(kp, det, ids)
    assert all(frame == per_frame[0] for frame in per_frame)
    assert sorted(per_frame[0]) == [0, 1]


def test_a_crossing_with_missed_frames_coasts_through() -> None:
    kp = crossing()
    kp[28:33, 0] = np.nan  # animal 0 unseen around the crossing
    det = detections_from_poses(kp, order_seed=2)
    ids = track_online(det, TrackerParams(max_ids=2))
    first, last = identity_per_animal(kp, det, ids)[0], None
    last = identity_per_animal(kp, det, ids)[-1]
    assert first == last


def test_max_ids_is_never_exceeded() -> None:
    rng = np.random.default_rng(3)
    home = rng.uniform(50, 800, (7, 2))
    kp = np.stack(
        [
            [pose(home[a] + rng.normal(0, 1, 2), 0.0) for a in range(7)]
            for _ in range(20)
        ]
    )
    det = detections_from_poses(kp, order_seed=3)
    ids = track_online(det, TrackerParams(max_ids=3))
    assert ids.max() == 2 and ids.min() == -1
    for t in range(det.n_frames):
        here = ids[det.rows(t)]
        assert sorted(here[here >= 0]) == [0, 1, 2]


@settings(max_examples=25, deadline=None)
@given(
    n_animals=st.integers(1, 5),
    n_frames=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    order_seed=st.integers(0, 2**16),
    max_ids=st.integers(1, 6),
)
def test_result_does_not_depend_on_detection_order(
    n_animals: int, n_frames: int, seed: int, order_seed: int, max_ids: int
) -> None:
    rng = np.random.default_rng(seed)
    start = rng.uniform(50, 400, (n_animals, 2))
    step = rng.normal(0, 6, (n_frames, n_animals, 2)).cumsum(axis=0)
    kp = np.stack(
        [
            [pose(start[a] + step[t, a], rng.uniform(0, 6)) for a in range(n_animals)]
            for t in range(n_frames)
        ]
    )
    kp[rng.random((n_frames, n_animals)) < 0.2] = np.nan
    params = TrackerParams(max_ids=max_ids)
    a = detections_from_poses(kp)
    b = detections_from_poses(kp, order_seed=order_seed)
    ids_a, ids_b = track_online(a, params), track_online(b, params)
    for t in range(a.n_frames):
        key_a = {
            tuple(r.ravel()): i
            for r, i in zip(a.keypoints[a.rows(t)], ids_a[a.rows(t)], strict=True)
        }
        key_b = {
            tuple(r.ravel()): i
            for r, i in zip(b.keypoints[b.rows(t)], ids_b[b.rows(t)], strict=True)
        }
        assert key_a == key_b


def test_a_video_without_animals_gets_empty_tracks() -> None:
    from etholoop.track import track_identities

    empty = (np.zeros((0, 4)), np.zeros(0), np.zeros((0, 4, 2)), np.zeros((0, 4)))
    for n_frames in (0, 5):
        detections = Detections.from_frames([empty] * n_frames, 4)
        result = track_identities(
            detections, TrackerParams(max_ids=2), ["a", "b"], SKELETON
        )
        assert result.tracks.xy.shape == (n_frames, 2, 4, 2)
        assert np.isnan(result.tracks.xy).all()
        assert result.quality.frames_all_found == 0
