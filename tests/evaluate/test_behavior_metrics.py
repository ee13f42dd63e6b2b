from __future__ import annotations

import math

import numpy as np
import pytest

from etholoop.evaluate.behavior import (
    Counts,
    bout_counts,
    frame_counts,
    label_macro_f1,
    macro_f1,
    score_behaviors,
)


def mask(n: int, *runs: tuple[int, int]) -> np.ndarray:
    m = np.zeros(n, bool)
    for a, b in runs:
        m[a:b] = True
    return m


def test_frame_counts_by_hand() -> None:
    true = mask(10, (0, 4))
    pred = mask(10, (2, 6))
    c = frame_counts(true, pred)
    assert (c.tp, c.n_pred, c.n_true) == (2, 4, 4)
    assert c.precision == c.recall == c.f1 == 0.5


def test_empty_is_undefined_and_sums_pool() -> None:
    empty = frame_counts(np.zeros(5, bool), np.zeros(5, bool))
    assert math.isnan(empty.f1)
    assert (empty + Counts(1, 2, 2)).f1 == 0.5


def test_bouts_match_one_to_one_at_iou_02() -> None:
    true = mask(100, (0, 10), (12, 22), (24, 34))
    one_long = mask(100, (0, 34))  # IoU with each true bout ~0.29
    c = bout_counts(true, one_long)
    assert (c.tp, c.n_pred, c.n_true) == (1, 1, 3)
    small = mask(100, (0, 1))  # IoU 0.1 < 0.2
    assert bout_counts(true, small).tp == 0
    assert bout_counts(true, small, min_iou=0.05).tp == 1
    assert bout_counts(true, true).f1 == 1.0


def test_macro_skips_undefined_behaviors() -> None:
    true = np.stack([mask(10, (0, 5)), np.zeros(10, bool)], axis=1)
    pred = np.stack([mask(10, (0, 5)), np.zeros(10, bool)], axis=1)
    scores = score_behaviors(true, pred, ["a", "b"])
    assert macro_f1(scores) == 1.0
    assert macro_f1(scores, "bouts") == 1.0


def test_label_macro_f1_leaves_out_behaviors_nobody_shows_or_predicts() -> None:
    true = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0]], bool)
    pred = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], bool)
    # F1 of column 0: 2/3, of column 1: 2/3, column 2 undefined
    assert label_macro_f1(true, pred) == pytest.approx(2 / 3)
    assert np.isnan(label_macro_f1(np.zeros((2, 1), bool), np.zeros((2, 1), bool)))
