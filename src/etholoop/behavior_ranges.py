"""Behavior labels as frame ranges and as per-frame arrays, and conversions between.

Timelines are edited as ranges (`BehaviorRange`); models and CSV files speak
per-frame arrays (one row per frame, one column per behavior).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby

import numpy as np
from attrs import evolve
from numpy.typing import NDArray

from etholoop.types import BehaviorRange, Source

NO_BEHAVIOR = "none"


def runs_of_true(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D mask."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def merge_ranges(ranges: Iterable[BehaviorRange]) -> list[BehaviorRange]:
    """Merge overlapping or touching ranges of the same animal, behavior and source.

    The merged range keeps the id and version of its first stored member, so an
    edit that extends a range updates that row; a score becomes the mean score
    weighted by length.
    """

    def key(r: BehaviorRange) -> tuple[int, str, str]:
        return (r.individual, r.behavior, r.source)

    merged: list[BehaviorRange] = []
    for _, group in groupby(sorted(ranges, key=lambda r: (*key(r), r.start)), key):
        current: list[BehaviorRange] = []
        for r in group:
            if current and r.start > max(c.stop for c in current):
                merged.append(_join(current))
                current = []
            current.append(r)
        merged.append(_join(current))
    return merged


def _join(parts: Sequence[BehaviorRange]) -> BehaviorRange:
    if len(parts) == 1:  # unchanged, score to the last bit: a save leaves it alone
        return parts[0]
    stored = [p for p in parts if p.id is not None]
    first = min(stored, key=lambda p: p.id or 0) if stored else parts[0]
    scores = [(p.score, p.stop - p.start) for p in parts if p.score is not None]
    score = (
        sum(s * n for s, n in scores) / sum(n for _, n in scores) if scores else None
    )
    return evolve(
        first,
        start=min(p.start for p in parts),
        stop=max(p.stop for p in parts),
        score=score,
    )


def ranges_from_labels(
    labels: NDArray[np.generic],
    behaviors: Sequence[str],
    *,
    individual: int,
    source: Source = "manual",
) -> list[BehaviorRange]:
    """One range per run of frames of each behavior of one animal.

    Args:
        labels: Shape (frames, behaviors), true (non-zero) where a behavior goes on.
        behaviors: Name of each column.
        individual: The animal the labels are for.
        source: The ranges' source.
    """
    return [
        BehaviorRange(
            individual=individual,
            behavior=behavior,
            start=start,
            stop=stop,
            source=source,
        )
        for column, behavior in enumerate(behaviors)
        for start, stop in runs_of_true(labels[:, column].astype(bool))
    ]


def ranges_from_probabilities(
    probabilities: NDArray[np.floating],
    behaviors: Sequence[str],
    *,
    individual: int,
    threshold: float,
) -> list[BehaviorRange]:
    """Predicted ranges where each behavior's probability reaches `threshold`.

    Args:
        probabilities: Shape (frames, behaviors), values in [0, 1].
        behaviors: Name of each column.
        individual: The animal the probabilities are for.
        threshold: Probability at or above which a frame shows the behavior.

    Returns:
        One "predicted" range per run of frames, scored by its mean probability.
    """
    return scored_ranges(
        probabilities >= threshold, probabilities, behaviors, individual
    )


def scored_ranges(
    on: NDArray[np.bool_],
    probabilities: NDArray[np.floating],
    behaviors: Sequence[str],
    individual: int,
) -> list[BehaviorRange]:
    """Predicted ranges of the runs of `on`, each scored by its mean probability.

    Args:
        on: Shape (frames, behaviors), where each behavior is predicted.
        probabilities: Same shape, the probabilities `on` came from.
        behaviors: Name of each column.
        individual: The animal.
    """
    column = {b: i for i, b in enumerate(behaviors)}
    ranges = ranges_from_labels(
        on, behaviors, individual=individual, source="predicted"
    )
    return [
        evolve(
            r, score=float(np.mean(probabilities[r.start : r.stop, column[r.behavior]]))
        )
        for r in ranges
    ]


def one_hot(
    ranges: Iterable[BehaviorRange],
    behaviors: Sequence[str],
    *,
    n_frames: int,
    individual: int,
) -> NDArray[np.uint8]:
    """Per-frame 0/1 labels of one animal, shape (frames, behaviors).

    Ranges of behaviors not in `behaviors` are left out; ranges past the end of
    the video are cut at `n_frames`.
    """
    labels = np.zeros((n_frames, len(behaviors)), np.uint8)
    column = {b: i for i, b in enumerate(behaviors)}
    for r in ranges:
        if r.individual == individual and r.behavior in column:
            labels[r.start : min(r.stop, n_frames), column[r.behavior]] = 1
    return labels


def frame_actions(labels: NDArray[np.uint8], behaviors: Sequence[str]) -> list[str]:
    """One behavior name per frame (the first by `behaviors` order), else "none"."""
    first = np.argmax(labels, axis=1)
    return [
        behaviors[i] if labels[t, i] else NO_BEHAVIOR
        for t, i in enumerate(first.tolist())
    ]
