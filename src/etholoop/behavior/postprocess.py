"""Probabilities to bouts: a threshold, gap filling, a minimum bout length.

A frame is on where its probability reaches the threshold; gaps of at most
`max_gap` frames between two bouts are filled, then bouts shorter than
`min_bout` frames are dropped. `tune_bouts` picks the three on validation
frames, never on test frames: the caller passes only those.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import runs_of_true
from etholoop.evaluate.behavior import Counts, bout_counts, frame_counts
from etholoop.types import Ethogram

THRESHOLDS: tuple[float, ...] = tuple(
    np.round(
        np.concatenate([np.arange(0.01, 0.2, 0.01), np.arange(0.2, 0.95, 0.05)]), 2
    )
)
MIN_BOUTS: tuple[int, ...] = (1, 3, 5, 8, 12)
MAX_GAPS: tuple[int, ...] = (0, 3, 6, 10, 15)


@frozen
class BoutParams:
    """How one behavior's probabilities become bouts.

    Attributes:
        threshold: Probability at or above which a frame is on.
        min_bout: Shortest bout kept, in frames.
        max_gap: Longest gap between two bouts that is filled, in frames.
    """

    threshold: float = 0.5
    min_bout: int = 1
    max_gap: int = 0


def apply_bouts(
    probability: NDArray[np.floating], params: BoutParams
) -> NDArray[np.bool_]:
    """On/off of each frame, shape (frames,), from probabilities of shape (frames,).

    NaN probabilities count as off.
    """
    on = np.asarray(probability) >= params.threshold
    bouts = runs_of_true(on)
    for (_, stop), (start, _) in zip(bouts, bouts[1:], strict=False):
        if start - stop <= params.max_gap:
            on[stop:start] = True
    for start, stop in runs_of_true(on):
        if stop - start < params.min_bout:
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
) -> BoutParams:
    """The parameters that score best on validation stretches of video.

    The score is the mean of frame F1 and bout F1 (see `etholoop.evaluate.behavior`),
    pooled over the segments; ties go to the first in grid order (lowest
    threshold, shortest bout, smallest gap).

    Args:
        segments: (probabilities, true labels) of each contiguous validation
            stretch, both of shape (frames,); bouts never join across two.
        thresholds: Thresholds to try.
        min_bouts: Minimum bout lengths to try.
        max_gaps: Gap lengths to try.
    """
    best, best_score = BoutParams(), -1.0
    for threshold in thresholds:
        for min_bout in min_bouts:
            for max_gap in max_gaps:
                params = BoutParams(float(threshold), min_bout, max_gap)
                frames, bouts = Counts(), Counts()
                for probability, truth in segments:
                    pred = apply_bouts(probability, params)
                    frames += frame_counts(truth, pred)
                    bouts += bout_counts(truth, pred)
                score = np.nan_to_num((frames.f1 + bouts.f1) / 2)
                if score > best_score:
                    best, best_score = params, float(score)
    return best
