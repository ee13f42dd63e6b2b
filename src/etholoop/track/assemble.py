"""Per-animal tracks from identities per detection: assembly, gaps, smoothing."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from etholoop.types import Detections, Skeleton, Tracks

SUSPECT = 0.5
"""Frames whose swap suspicion exceeds this are reported as suspected swaps."""


@frozen
class TrackQuality:
    """What a tracking run found and what it had to make up.

    Attributes:
        n_frames: Frames in the video.
        frames_all_found: Frames where every identity has a detection.
        points_filled: Keypoints (frame, individual, keypoint) filled by gap
            interpolation.
        frames_filled: Frames where at least one keypoint was filled.
        suspected_swaps: (first frame, frame after last) of each run of frames
            whose swap suspicion exceeds 0.5.
    """

    n_frames: int
    frames_all_found: int
    points_filled: int
    frames_filled: int
    suspected_swaps: tuple[tuple[int, int], ...]


def assemble_tracks(
    detections: Detections,
    identities: NDArray[np.int64],
    names: Sequence[str],
    skeleton: Skeleton,
) -> Tracks:
    """Place each detection's keypoints at its identity.

    Args:
        detections: What the pose model found in each frame.
        identities: Identity per detection row, shape (n,), in [0, len(names))
            or -1 (dropped).
        names: Name of each identity.
        skeleton: The detections' keypoints.

    Returns:
        Tracks of shape (frames, len(names), K, 2), NaN (score 0) where an
        identity has no detection.
    """
    n_ids = len(names)
    if identities.size and identities.max() >= n_ids:
        raise ValueError(
            f"identity {int(identities.max())} has no name among {n_ids} names"
        )
    shape = (detections.n_frames, n_ids, detections.n_keypoints)
    xy = np.full((*shape, 2), np.nan, np.float32)
    scores = np.zeros(shape, np.float32)
    frame = np.repeat(np.arange(detections.n_frames), np.diff(detections.offsets))
    rows = np.flatnonzero(identities >= 0)
    xy[frame[rows], identities[rows]] = detections.keypoints[rows]
    scores[frame[rows], identities[rows]] = detections.keypoint_scores[rows]
    return Tracks(xy=xy, scores=scores, individuals=tuple(names), skeleton=skeleton)


def fill_gaps(tracks: Tracks, max_gap: int) -> Tracks:
    """Interpolate linearly over runs of at most `max_gap` missing frames.

    Each keypoint of each individual is filled on its own, only between two
    frames where it was seen; gaps at the start or end and longer gaps stay NaN.
    Filled points get score 0, so that they stay apart from detected ones.
    """
    xy = tracks.xy.copy()
    if max_gap < 1 or tracks.n_frames < 3:
        return tracks
    f = tracks.n_frames
    flat = xy.reshape(f, -1, 2)
    t = np.arange(f)
    for col in range(flat.shape[1]):
        seen = np.isfinite(flat[:, col, 0])
        if seen.all() or seen.sum() < 2:
            continue
        known = np.flatnonzero(seen)
        gap_len = np.diff(known) - 1
        fill = np.zeros(f, np.bool_)
        for a, n in zip(known[:-1][gap_len > 0], gap_len[gap_len > 0], strict=True):
            if n <= max_gap:
                fill[a + 1 : a + 1 + n] = True
        if fill.any():
            for x in range(2):
                flat[fill, col, x] = np.interp(t[fill], known, flat[known, col, x])
    return Tracks(
        xy=xy,
        scores=tracks.scores.copy(),
        individuals=tracks.individuals,
        skeleton=tracks.skeleton,
    )


def smooth_tracks(tracks: Tracks, window: int) -> Tracks:
    """Median-filter each keypoint over `window` frames, ignoring missing ones.

    Missing points stay missing; a window shorter than 2 returns the tracks as
    they are. Even windows are widened by one frame to stay centred.
    """
    if window < 2 or tracks.n_frames < 2:
        return tracks
    half = window // 2
    pad = np.pad(
        tracks.xy.astype(np.float64),
        ((half, half), (0, 0), (0, 0), (0, 0)),
        constant_values=np.nan,
    )
    views = sliding_window_view(pad, 2 * half + 1, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        smoothed = np.nanmedian(views, axis=-1)
    xy = np.where(np.isfinite(tracks.xy), smoothed, np.nan).astype(np.float32)
    return Tracks(
        xy=xy,
        scores=tracks.scores.copy(),
        individuals=tracks.individuals,
        skeleton=tracks.skeleton,
    )


def summarize_quality(
    raw: Tracks, filled: Tracks, swap_suspicion: NDArray[np.float64]
) -> TrackQuality:
    """Count what was found and filled, and group suspicious frames into events.

    Args:
        raw: Tracks as assembled from detections.
        filled: The same after gap filling.
        swap_suspicion: Per-frame suspicion in [0, 1], shape (frames,).
    """
    found = np.isfinite(raw.xy[..., 0]).any(axis=2)
    filled_pts = np.isfinite(filled.xy[..., 0]) & ~np.isfinite(raw.xy[..., 0])
    suspect = np.concatenate([[False], swap_suspicion > SUSPECT, [False]])
    edges = np.flatnonzero(np.diff(suspect.astype(np.int8)))
    return TrackQuality(
        n_frames=raw.n_frames,
        frames_all_found=int(np.all(found, axis=1).sum()),
        points_filled=int(filled_pts.sum()),
        frames_filled=int(filled_pts.any(axis=(1, 2)).sum()),
        suspected_swaps=tuple(
            (int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)
        ),
    )
