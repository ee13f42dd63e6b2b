"""Fixed-identity tracking of a known number of animals: arrays in, arrays out.

    track_identities(detections, params, names, skeleton) -> TrackingResult
    track_online(detections, params) -> NDArray[int64]  # identity per row, -1 = none
    repair_identities(detections, identities, params)
        -> tuple[NDArray[int64], NDArray[float64]]  # identities, swap_suspicion (F,)
    assemble_tracks(detections, identities, names, skeleton) -> Tracks
    fill_gaps(tracks, max_gap) -> Tracks
    smooth_tracks(tracks, window) -> Tracks

Nothing here reads or writes files, or imports video, store, pose or torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.track.assemble import (
    TrackQuality,
    assemble_tracks,
    fill_gaps,
    smooth_tracks,
    summarize_quality,
)
from etholoop.track.offline import repair_identities
from etholoop.track.online import track_online
from etholoop.track.params import TrackerParams
from etholoop.types import Detections, Skeleton, Tracks

__all__ = [
    "TrackQuality",
    "TrackerParams",
    "TrackingResult",
    "assemble_tracks",
    "fill_gaps",
    "repair_identities",
    "smooth_tracks",
    "track_identities",
    "track_online",
]


@frozen(eq=False)
class TrackingResult:
    """Tracks of a fixed set of animals and how far to trust them.

    Attributes:
        tracks: Poses (frames, max_ids, K, 2), gaps filled and smoothed as asked.
        identities: Identity per detection row, shape (n,), -1 = none.
        swap_suspicion: Per-frame suspicion of an identity swap in [0, 1],
            shape (frames,); zeros if the offline pass did not run.
        quality: Counts of found, filled and suspicious frames.
    """

    tracks: Tracks
    identities: NDArray[np.int64]
    swap_suspicion: NDArray[np.float64]
    quality: TrackQuality


def track_identities(
    detections: Detections,
    params: TrackerParams,
    names: Sequence[str],
    skeleton: Skeleton,
) -> TrackingResult:
    """Track `params.max_ids` animals: online pass, swap repair, gaps, smoothing.

    Args:
        detections: What the pose model found in each frame.
        params: Tracker parameters.
        names: One name per identity, `params.max_ids` of them.
        skeleton: The detections' keypoints.

    Raises:
        ValueError: `names` does not hold `params.max_ids` names.
    """
    if len(names) != params.max_ids:
        raise ValueError(f"max_ids is {params.max_ids} but {len(names)} names given")
    identities = track_online(detections, params)
    suspicion = np.zeros(detections.n_frames)
    if params.offline:
        identities, suspicion = repair_identities(detections, identities, params)
    raw = assemble_tracks(detections, identities, names, skeleton)
    filled = fill_gaps(raw, params.max_gap)
    return TrackingResult(
        tracks=smooth_tracks(filled, params.smooth_window),
        identities=identities,
        swap_suspicion=suspicion,
        quality=summarize_quality(raw, filled, suspicion),
    )
