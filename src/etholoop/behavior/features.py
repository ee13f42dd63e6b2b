"""Pose features of each animal, for behavior classifiers: pure numpy, no labels.

Steps, each configurable:

1. Cleaning (`clean_tracks`): a keypoint whose score is below `min_score`
   (off by default: see `CleanParams`), or that lies more than `max_spread`
   body lengths from the median of its animal's keypoints in that frame (a
   tracking glitch), becomes NaN; then NaN runs of at most `max_gap` frames
   between two known positions are filled by linear interpolation. Longer gaps
   stay NaN (the classifier takes NaN).
2. Per-frame features of a subject (`frame_features`), lengths in body lengths
   (the video's median front-to-back keypoint distance) and times in frames:
   its own speed, acceleration, body length, turning, keypoint confidences;
   and, seen from the subject towards the nearest other animal (by centroid):
   nose-nose, nose-tail and tail-nose distances, each of the subject's
   keypoints to the nearest keypoint of the other, centroid and closest-pair
   distances, relative orientation, whether each faces the other, approach
   speeds and the other's speed.
3. Windowed statistics (`windowed`): mean and standard deviation of every
   per-frame feature over centered windows of each length in `windows`.
4. Per-video normalization (`video_features`): each column minus its median
   over the video's frames and animals, divided by its interquartile range, so
   that a model trained on one rig applies to another; it uses no labels.

"Front" and "back" are the first keypoints named like a nose (`nose`, `snout`)
and a tail base (`tailB`, `tailbase`, `tail_base`, `tail`), else the first and
the last keypoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
from attrs import field, frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import runs_of_true
from etholoop.types import Tracks, at_least

F64 = NDArray[np.float64]
FRONT_NAMES = ("nose", "snout")
BACK_NAMES = ("tailB", "tailbase", "tail_base", "tail")


@frozen
class CleanParams:
    """Rules that drop unreliable keypoints and fill short gaps.

    Attributes:
        min_score: Keypoints scored below this become NaN. Off (0) by default:
            a pose model scores a keypoint low exactly when it is hidden, and
            one animal's nose hides in the other's fur during contact. On the
            ethome session the 110 frames where a 0.5 cut left the adult's
            nose unknown (runs longer than `max_gap`) are all "interact"
            frames, and the cut lowered the single feature "nose to the
            nearest other keypoint" from frame F1 0.79 to 0.69. The
            confidences stay features (`score_mean`, `score_min`).
        max_spread: Keypoints farther than this many body lengths from the
            median of their animal's keypoints become NaN.
        max_gap: Longest NaN run, in frames, filled by linear interpolation.
    """

    min_score: float = 0.0
    max_spread: float = field(default=1.5, validator=at_least(0.0))
    max_gap: int = field(default=15, validator=at_least(0))


@frozen
class FeatureParams:
    """What `video_features` computes.

    Attributes:
        clean: Cleaning rules applied first.
        windows: Lengths in frames of the centered windows of the statistics.
        normalize: Normalize each column per video (median, interquartile range).
    """

    clean: CleanParams = CleanParams()
    windows: tuple[int, ...] = (5, 15, 45)
    normalize: bool = True


def body_axis_indices(names: Sequence[str]) -> tuple[int, int]:
    """Indices of the front and back keypoints among `names` (see module doc)."""
    front = next((names.index(n) for n in FRONT_NAMES if n in names), 0)
    back = next((names.index(n) for n in BACK_NAMES if n in names), len(names) - 1)
    return front, back


def body_scale(xy: NDArray[np.floating], front: int, back: int) -> float:
    """Median front-to-back distance over all frames and animals, in px.

    Args:
        xy: Keypoints, shape (frames, individuals, keypoints, 2).
        front: Index of the front keypoint.
        back: Index of the back keypoint.
    """
    lengths = np.linalg.norm(xy[:, :, front] - xy[:, :, back], axis=-1)
    finite = lengths[np.isfinite(lengths)]
    return float(np.median(finite)) if finite.size and np.median(finite) > 0 else 1.0


def clean_tracks(tracks: Tracks, params: CleanParams) -> Tracks:
    """Tracks with low-score and far-off keypoints removed and short gaps filled."""
    xy = tracks.xy.astype(np.float64)
    xy[tracks.scores < params.min_score] = np.nan
    scale = body_scale(xy, *body_axis_indices(tracks.skeleton.keypoints))
    center = _nanmedian(xy, axis=2)
    spread = np.linalg.norm(xy - center[:, :, None], axis=-1)
    with np.errstate(invalid="ignore"):
        xy[spread > params.max_spread * scale] = np.nan
    flat = xy.reshape(xy.shape[0], -1)
    for column in range(flat.shape[1]):
        flat[:, column] = _fill_gaps(flat[:, column], params.max_gap)
    return attrs.evolve(tracks, xy=xy.astype(np.float32))


def frame_features(
    xy: NDArray[np.floating],
    scores: NDArray[np.floating],
    subject: int,
    names: Sequence[str],
) -> tuple[F64, list[str]]:
    """Per-frame features of one animal and its nearest neighbour.

    Args:
        xy: Cleaned keypoints in px, shape (frames, individuals, keypoints, 2).
        scores: Keypoint scores, shape (frames, individuals, keypoints).
        subject: The animal the features are seen from.
        names: Keypoint names.

    Returns:
        Features, shape (frames, n_features), lengths in body lengths, and the
        name of each column.
    """
    front, back = body_axis_indices(names)
    xy = np.asarray(xy, np.float64) / body_scale(xy, front, back)
    own = xy[:, subject]
    other = _nearest_other(xy, subject)
    center, other_center = _nanmean(own, axis=1), _nanmean(other, axis=1)
    heading = own[:, front] - own[:, back]
    other_heading = other[:, front] - other[:, back]
    between = other_center - center
    to_nearest = _nanmin(_norm(own[:, :, None] - other[:, None]), axis=2)
    speed = _norm(_rate(center))
    centroid_distance = _norm(between)
    nose_to_other = to_nearest[:, front]
    columns = {
        "speed": speed,
        "acceleration": _rate(speed),
        "body_length": _norm(heading),
        "turning": np.abs(_angle_rate(heading)),
        "score_mean": _nanmean(scores[:, subject], axis=1),
        "score_min": _nanmin(scores[:, subject], axis=1),
        "nose_nose": _norm(own[:, front] - other[:, front]),
        "nose_tail": _norm(own[:, front] - other[:, back]),
        "tail_nose": _norm(own[:, back] - other[:, front]),
        **{f"{name}_to_other": to_nearest[:, k] for k, name in enumerate(names)},
        "centroid_distance": centroid_distance,
        "closest_distance": _nanmin(to_nearest, axis=1),
        "relative_orientation": _cosine(heading, other_heading),
        "facing_other": _cosine(heading, between),
        "other_facing": _cosine(other_heading, -between),
        "approach_speed": -_rate(centroid_distance),
        "nose_approach_speed": -_rate(nose_to_other),
        "other_speed": _norm(_rate(other_center)),
    }
    return np.stack(list(columns.values()), axis=1), list(columns)


def windowed(
    values: F64, names: Sequence[str], windows: Sequence[int]
) -> tuple[F64, list[str]]:
    """Centered moving mean and standard deviation of each column, NaN skipped.

    Args:
        values: Shape (frames, n); NaN = unknown.
        names: Name of each column.
        windows: Window lengths in frames (an even one is made odd).

    Returns:
        Shape (frames, 2 * n * len(windows)) and the column names
        (`<name>_mean<w>`, `<name>_std<w>`).
    """
    if not windows:
        return np.zeros((values.shape[0], 0)), []
    known = np.isfinite(values)
    padded = [np.zeros((1, values.shape[1]))]
    sums = np.concatenate([*padded, np.cumsum(np.where(known, values, 0), axis=0)])
    squares = np.concatenate(
        [*padded, np.cumsum(np.where(known, values, 0) ** 2, axis=0)]
    )
    counts = np.concatenate([*padded, np.cumsum(known, axis=0)])
    n_frames = values.shape[0]
    out, out_names = [], []
    for window in windows:
        half = window // 2
        hi = np.minimum(np.arange(n_frames) + half + 1, n_frames)
        lo = np.maximum(np.arange(n_frames) - half, 0)
        n = counts[hi] - counts[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (sums[hi] - sums[lo]) / n
            var = (squares[hi] - squares[lo]) / n - mean**2
        out += [mean, np.sqrt(np.maximum(var, 0))]
        out_names += [f"{c}_mean{2 * half + 1}" for c in names]
        out_names += [f"{c}_std{2 * half + 1}" for c in names]
    return np.concatenate(out, axis=1), out_names


def video_features(
    tracks: Tracks, params: FeatureParams = FeatureParams()
) -> tuple[NDArray[np.float32], list[str]]:
    """Every feature of every animal of one video (see the module doc).

    Returns:
        Features, shape (frames, individuals, n_features), float32 with NaN
        where unknown, and the name of each feature.
    """
    clean = clean_tracks(tracks, params.clean)
    names = list(tracks.skeleton.keypoints)
    per_subject: list[F64] = []
    columns: list[str] = []
    for subject in range(len(tracks.individuals)):
        base, columns = frame_features(clean.xy, clean.scores, subject, names)
        stats, stat_names = windowed(base, columns, params.windows)
        per_subject.append(np.concatenate([base, stats], axis=1))
    columns = columns + stat_names
    features = np.stack(per_subject, axis=1)
    if params.normalize:
        features = _normalize(features)
    return features.astype(np.float32), columns


def _normalize(features: F64) -> F64:
    flat = features.reshape(-1, features.shape[-1])
    finite = np.isfinite(flat).any(axis=0)
    median = np.zeros(flat.shape[1])
    spread = np.ones(flat.shape[1])
    q1, q2, q3 = np.nanpercentile(flat[:, finite], [25, 50, 75], axis=0)
    median[finite] = q2
    spread[finite] = np.where(q3 > q1, q3 - q1, 1.0)
    return (features - median) / spread


def _fill_gaps(series: F64, max_gap: int) -> F64:
    missing = np.isnan(series)
    if missing.all() or not missing.any():
        return series
    known = np.flatnonzero(~missing)
    filled = np.interp(np.arange(series.size), known, series[known])
    for start, stop in runs_of_true(missing):
        if start == 0 or stop == series.size or stop - start > max_gap:
            filled[start:stop] = np.nan
    return filled


def _nearest_other(xy: F64, subject: int) -> F64:
    """Keypoints of the animal whose centroid is nearest the subject's, each frame."""
    n_frames, n_individuals = xy.shape[:2]
    others = [i for i in range(n_individuals) if i != subject]
    if not others:
        return np.full_like(xy[:, subject], np.nan)
    centers = _nanmean(xy, axis=2)
    distance = _norm(centers[:, others] - centers[:, subject : subject + 1])
    pick = np.argmin(np.where(np.isnan(distance), np.inf, distance), axis=1)
    return np.asarray(xy[np.arange(n_frames), np.asarray(others)[pick]], np.float64)


def _rate(x: F64) -> F64:
    """Change per frame (central differences) along the first axis."""
    return np.gradient(x, axis=0) if x.shape[0] > 1 else np.zeros_like(x)


def _angle_rate(vectors: F64) -> F64:
    angle = np.arctan2(vectors[:, 1], vectors[:, 0])
    step = np.angle(np.exp(1j * np.diff(angle)))
    return np.concatenate([step[:1], step]) if step.size else np.zeros_like(angle)


def _norm(vectors: F64) -> F64:
    return np.asarray(np.linalg.norm(vectors, axis=-1), np.float64)


def _cosine(a: F64, b: F64) -> F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.sum(a * b, axis=-1) / (_norm(a) * _norm(b)), np.float64)


def _nanmean(x: NDArray[np.floating], axis: int) -> F64:
    known = np.isfinite(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(
            np.where(known, x, 0).sum(axis=axis) / known.sum(axis=axis), np.float64
        )


def _nanmin(x: NDArray[np.floating], axis: int) -> F64:
    out = np.where(np.isfinite(x), x, np.inf).min(axis=axis)
    return np.asarray(np.where(np.isinf(out), np.nan, out), np.float64)


def _nanmedian(x: F64, axis: int) -> F64:
    known = np.isfinite(x).any(axis=axis, keepdims=True)
    safe = np.where(known, x, 0.0)
    return np.asarray(np.nanmedian(safe, axis=axis), np.float64)
