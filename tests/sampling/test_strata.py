"""Strata from video, condition and time bin."""

from __future__ import annotations

import numpy as np

from etholoop.sampling.strata import assign_strata, time_bins


def test_time_bins_split_each_video_into_equal_parts():
    frames = np.array([0, 24, 25, 99, 0, 9])
    lengths = np.array([100, 100, 100, 100, 10, 10])
    assert time_bins(frames, lengths, 4).tolist() == [0, 0, 1, 3, 0, 3]


def test_strata_combine_the_chosen_factors():
    video_ids = np.array([1, 1, 2, 2, 3])
    conditions = ["a", "a", "b", "b", None]
    bins = np.array([0, 1, 0, 1, 0])
    ids, names = assign_strata(["condition", "time"], video_ids, conditions, bins)
    assert [names[i] for i in ids] == [
        "condition=a|time=0",
        "condition=a|time=1",
        "condition=b|time=0",
        "condition=b|time=1",
        "condition=none|time=0",
    ]
    ids, names = assign_strata([], video_ids, conditions, bins)
    assert names == ("all",) and ids.tolist() == [0] * 5
