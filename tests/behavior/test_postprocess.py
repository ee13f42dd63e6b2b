from __future__ import annotations

import attrs
import numpy as np

from etholoop.behavior.postprocess import (
    MAX_GAPS,
    MIN_BOUTS,
    THRESHOLDS,
    BoutParams,
    apply_bouts,
    smooth_probability,
    tune_bouts,
)
from etholoop.evaluate.behavior import Counts, bout_counts, frame_counts


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


def test_smoothing_window_one_is_a_no_op_and_nan_stays_off() -> None:
    p = np.array([0.1, 0.9, np.nan, 0.2, 0.7, 0.4])
    assert np.array_equal(smooth_probability(p, 1), p, equal_nan=True)
    smoothed = smooth_probability(p, 3)
    assert np.isnan(smoothed[2])
    # Means over the known frames of each window, ends included.
    assert np.allclose(smoothed[[0, 1, 3, 4, 5]], [0.5, 0.5, 0.45, 13 / 30, 0.55])
    assert np.allclose(smooth_probability(np.full(7, 0.3), 5), 0.3)
    params = BoutParams(threshold=0.5, min_bout=1, max_gap=0)
    assert np.array_equal(
        apply_bouts(p, params), apply_bouts(p, attrs.evolve(params, smooth=1))
    )
    assert apply_bouts(p, attrs.evolve(params, smooth=3)).tolist() == [
        True, True, False, False, False, True,
    ]  # fmt: skip


def test_tuning_picks_a_smoothing_window_where_frames_flicker(
    rng: np.random.Generator,
) -> None:
    truth = np.zeros(2000, bool)
    for start in range(50, 2000, 200):
        truth[start : start + 60] = True
    # Frame-level noise as wide as the gap between the classes: a threshold
    # alone flickers; a moving mean separates them.
    p = np.clip(np.where(truth, 0.6, 0.3) + rng.uniform(-0.3, 0.3, truth.size), 0, 1)
    grid = {"min_bouts": (1,), "max_gaps": (0,)}
    plain = tune_bouts([(p, truth)], smooths=(1,), **grid)
    tuned = tune_bouts([(p, truth)], smooths=(1, 5, 9, 15), **grid)
    assert plain.smooth == 1 and tuned.smooth > 1
    scores = [
        frame_counts(truth, apply_bouts(p, params)).f1 for params in (plain, tuned)
    ]
    assert scores[1] > scores[0] + 0.1


def test_threshold_is_tuned_on_frame_f1_then_bout_rules_on_bout_f1(
    rng: np.random.Generator,
) -> None:
    truth = np.zeros(900, bool)
    for start in range(30, 900, 90):
        truth[start : start + 25] = True
    p = np.clip(np.where(truth, 0.5, 0.2) + rng.normal(0, 0.15, truth.size), 0, 1)
    segments = [(p[:450], truth[:450]), (p[450:], truth[450:])]
    params = tune_bouts(segments)

    def pooled(params: BoutParams) -> tuple[float, float]:
        frames, bouts = Counts(), Counts()
        for prob, t in segments:
            on = apply_bouts(prob, params)
            frames += frame_counts(t, on)
            bouts += bout_counts(t, on)
        return frames.f1, bouts.f1

    frame_f1 = [pooled(BoutParams(float(t)))[0] for t in THRESHOLDS]
    assert params.threshold == THRESHOLDS[int(np.argmax(frame_f1))]
    bout_f1 = [
        pooled(BoutParams(params.threshold, b, g))[1]
        for b in MIN_BOUTS
        for g in MAX_GAPS
    ]
    assert pooled(params)[1] == max(bout_f1)
    assert pooled(params)[1] > pooled(BoutParams(params.threshold))[1]
