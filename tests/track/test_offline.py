"""The offline pass repairs a swap the online pass could have made."""

from __future__ import annotations

import numpy as np

from etholoop.track import TrackerParams, repair_identities, track_online

from .conftest import crossing, detections_from_poses


def test_an_injected_swap_at_a_crossing_is_repaired() -> None:
    kp = crossing(n_frames=80, gap=4.0)
    det = detections_from_poses(kp, order_seed=5)
    params = TrackerParams(max_ids=2)
    clean = track_online(det, params)
    frame = np.repeat(np.arange(det.n_frames), np.diff(det.offsets))
    swapped = np.where(frame >= 41, 1 - clean, clean)  # just after the contact
    repaired, suspicion = repair_identities(det, swapped, params)
    np.testing.assert_array_equal(repaired, clean)
    assert suspicion.shape == (det.n_frames,)
    assert ((suspicion >= 0) & (suspicion <= 1)).all()


def test_a_clean_tracking_is_left_alone() -> None:
    kp = crossing(n_frames=80, gap=4.0)
    det = detections_from_poses(kp, order_seed=6)
    params = TrackerParams(max_ids=2)
    clean = track_online(det, params)
    repaired, _ = repair_identities(det, clean, params)
    np.testing.assert_array_equal(repaired, clean)
