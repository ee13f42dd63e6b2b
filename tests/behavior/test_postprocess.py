from __future__ import annotations

import numpy as np

from etholoop.behavior.postprocess import BoutParams, apply_bouts, tune_bouts


def test_gap_fill_then_short_bouts_dropped() -> None:
    p = np.zeros(30)
    p[2:8] = 0.9
    p[10:15] = 0.9  # gap of 2 before: filled
    p[20:22] = 0.9  # 2 frames alone: dropped
    on = apply_bouts(p, BoutParams(threshold=0.5, min_bout=3, max_gap=2))
    assert np.flatnonzero(on).tolist() == list(range(2, 15))
    plain = apply_bouts(p, BoutParams(threshold=0.5))
    assert plain.sum() == 6 + 5 + 2
    assert not apply_bouts(np.full(5, np.nan), BoutParams()).any()


def test_tuning_finds_a_threshold_that_recovers_the_bouts(
    rng: np.random.Generator,
) -> None:
    truth = np.zeros(600, bool)
    for start in range(20, 600, 60):
        truth[start : start + 20] = True
    # A low-probability signal: positives near 0.2, negatives near 0.05, with
    # a one-frame dropout in the middle of each bout that a gap fill must bridge.
    p = np.where(truth, 0.2, 0.05) + rng.normal(0, 0.01, truth.size)
    p[np.arange(30, 600, 60)] = 0.0
    params = tune_bouts([(p, truth)])
    assert 0.05 < params.threshold <= 0.2
    assert params.max_gap >= 1
    assert (apply_bouts(p, params) == truth).all()
