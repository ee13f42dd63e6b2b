"""Assembly, gap filling, smoothing, parameters and the one entry point."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.track import (
    TrackerParams,
    assemble_tracks,
    fill_gaps,
    smooth_tracks,
    track_identities,
)
from etholoop.types import Skeleton, Tracks

from .conftest import SKELETON, crossing, detections_from_poses


def line_track(n_frames: int, missing: list[int]) -> Tracks:
    xy = np.zeros((n_frames, 1, 1, 2), np.float32)
    xy[:, 0, 0, 0] = np.arange(n_frames)
    xy[missing] = np.nan
    return Tracks(
        xy=xy,
        scores=np.where(np.isnan(xy[..., 0]), 0, 1).astype(np.float32),
        individuals=("a",),
        skeleton=Skeleton(("p",)),
    )


def test_fill_gaps_fills_short_gaps_and_leaves_long_ones() -> None:
    tracks = line_track(20, [0, 3, 4, 10, 11, 12, 13, 19])
    filled = fill_gaps(tracks, max_gap=3)
    x = filled.xy[:, 0, 0, 0]
    np.testing.assert_allclose(x[[3, 4]], [3, 4])
    assert np.isnan(x[[0, 10, 11, 12, 13, 19]]).all()
    assert filled.scores[3, 0, 0] == 0
    assert np.isnan(tracks.xy[3, 0, 0, 0])  # the input is not changed


def test_smoothing_removes_a_spike_and_keeps_gaps() -> None:
    tracks = line_track(11, [8])
    tracks.xy[5, 0, 0, 0] = 100.0
    smooth = smooth_tracks(tracks, window=3)
    assert smooth.xy[5, 0, 0, 0] == pytest.approx(6.0)  # median of 4, 100, 6
    assert np.isnan(smooth.xy[8, 0, 0, 0])


def test_max_ids_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_ids"):
        TrackerParams(max_ids=0)


@settings(max_examples=15, deadline=None)
@given(perm=st.permutations([0, 1, 2]))
def test_permuting_names_permutes_the_tracks_and_nothing_else(perm: list[int]) -> None:
    kp = crossing()
    det = detections_from_poses(kp, order_seed=4)
    ids = np.where(np.arange(len(det.boxes)) % 2 == 0, 0, 1)
    ids[::3] = 2
    names = ("a", "b", "c")
    tracks = assemble_tracks(det, ids, names, SKELETON)
    renamed = assemble_tracks(
        det, np.array(perm)[ids], [names[p] for p in range(3)], SKELETON
    )
    for old, new in enumerate(perm):
        np.testing.assert_array_equal(tracks.xy[:, old], renamed.xy[:, new])
        np.testing.assert_array_equal(tracks.scores[:, old], renamed.scores[:, new])


def test_track_identities_runs_every_step() -> None:
    kp = crossing()
    kp[10:13, 1] = np.nan
    det = detections_from_poses(kp, order_seed=7)
    result = track_identities(det, TrackerParams(max_ids=2), ("f", "m"), SKELETON)
    assert result.tracks.xy.shape == (60, 2, 4, 2)
    assert result.tracks.individuals == ("f", "m")
    assert np.isfinite(result.tracks.xy).all()  # the 3-frame gap is filled
    assert result.quality.points_filled == 3 * 4
    assert result.quality.frames_all_found == 57
    assert result.swap_suspicion.shape == (60,)
