"""Uncertainty of a frame from its predictions, and the strategies that rank by it."""

from __future__ import annotations

import numpy as np

from etholoop.pose.uncertainty import flip_disagreement, frame_uncertainty
from etholoop.sampling.candidates import Candidates
from etholoop.sampling.strategies import select_hybrid, select_uncertainty
from etholoop.types import Instance


def _animal(x: float, score: float = 0.95) -> Instance:
    points = np.array([[x, 10.0], [x + 10, 10.0], [x + 5, 30.0]])
    return Instance(
        keypoints=points,
        box=[x - 2, 8, x + 12, 32],
        box_score=score,
        keypoint_scores=[score] * 3,
        source="predicted",
    )


def test_confident_consistent_predictions_score_low():
    plain = [_animal(0), _animal(100)]
    assert frame_uncertainty(plain, plain, expected_animals=2) < 0.05


def test_no_detection_scores_highest():
    assert frame_uncertainty([], [], expected_animals=2) == 1.0


def test_each_doubt_raises_the_score():
    sure = frame_uncertainty([_animal(0)], [_animal(0)], expected_animals=1)
    unsure = frame_uncertainty([_animal(0, 0.3)], [_animal(0, 0.3)], expected_animals=1)
    moved = frame_uncertainty([_animal(0)], [_animal(6)], expected_animals=1)
    counted = frame_uncertainty([_animal(0)], [_animal(0)], expected_animals=2)
    assert sure < min(unsure, moved, counted)
    assert 0 < flip_disagreement([_animal(0)], [_animal(6)]) < 1


def test_uncertainty_takes_the_top_scores_and_hybrid_spreads_them():
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3])
    candidates = Candidates(
        video_ids=[1] * 6,
        frame_inds=range(6),
        stratum_ids=[0, 0, 0, 1, 1, 1],
        stratum_names=["a", "b"],
        scores=scores,
    )
    rng = np.random.default_rng(0)
    assert select_uncertainty(candidates, 2, rng).tolist() == [0, 1]
    assert select_hybrid(candidates, 2, rng).tolist() == [0, 5]
