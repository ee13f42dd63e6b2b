"""Behavior ranges ↔ per-frame arrays: runs, merging, thresholds, CSV forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etholoop.behavior_ranges import (
    frame_actions,
    merge_ranges,
    one_hot,
    ranges_from_labels,
    ranges_from_probabilities,
    runs_of_true,
)
from etholoop.types import BehaviorRange


def test_runs_of_true_finds_each_run():
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert runs_of_true(mask) == [(0, 2), (4, 5), (6, 9)]
    assert runs_of_true(np.zeros(4, bool)) == []


@given(st.lists(st.booleans(), max_size=60))
def test_ranges_and_one_hot_round_trip(bits):
    mask = np.array(bits, bool)
    ranges = [BehaviorRange(0, "walk", a, b) for a, b in runs_of_true(mask)]
    labels = one_hot(ranges, ["walk"], n_frames=len(mask), individual=0)
    assert labels[:, 0].astype(bool).tolist() == mask.tolist()


def test_overlapping_and_touching_ranges_merge_keeping_the_stored_row():
    ranges = [
        BehaviorRange(0, "walk", 10, 20, id=7, version=3),
        BehaviorRange(0, "walk", 20, 25),
        BehaviorRange(0, "walk", 30, 35),
        BehaviorRange(1, "walk", 12, 14),
        BehaviorRange(0, "walk", 15, 18, source="predicted", score=0.8),
    ]
    merged = {
        (r.individual, r.start, r.stop, r.source, r.id) for r in merge_ranges(ranges)
    }
    assert merged == {
        (0, 10, 25, "manual", 7),
        (0, 30, 35, "manual", None),
        (1, 12, 14, "manual", None),
        (0, 15, 18, "predicted", None),
    }


def test_probabilities_become_scored_predicted_ranges():
    p = np.array([[0.1, 0.9], [0.6, 0.8], [0.7, 0.2], [0.2, 0.1]])
    ranges = ranges_from_probabilities(p, ["rest", "walk"], individual=1, threshold=0.5)
    found = {(r.behavior, r.start, r.stop, r.source, r.individual) for r in ranges}
    assert found == {("rest", 1, 3, "predicted", 1), ("walk", 0, 2, "predicted", 1)}
    assert {r.behavior: r.score for r in ranges} == pytest.approx(
        {"rest": 0.65, "walk": 0.85}
    )


def test_frame_actions_name_the_first_behavior_or_none():
    labels = np.array([[0, 0], [1, 1], [0, 1]], np.uint8)
    assert frame_actions(labels, ["rest", "walk"]) == ["none", "rest", "walk"]


def test_an_empty_range_is_refused():
    with pytest.raises(ValueError, match="start < stop"):
        BehaviorRange(0, "walk", 5, 5)


def test_ranges_from_labels_one_per_run() -> None:
    labels = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], bool)
    ranges = ranges_from_labels(labels, ["a", "b"], individual=1)
    assert [(r.behavior, r.start, r.stop, r.source) for r in ranges] == [
        ("a", 0, 2, "manual"),
        ("a", 3, 4, "manual"),
        ("b", 1, 3, "manual"),
    ]


def test_a_range_that_merges_with_nothing_comes_back_unchanged() -> None:
    scored = BehaviorRange(0, "walk", 3, 24, "predicted", 0.7748850505242403, 4, 2)
    assert merge_ranges([scored]) == [scored]
    assert merge_ranges([scored])[0].score == 0.7748850505242403  # s * 21 / 21 is not
