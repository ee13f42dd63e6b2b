"""Pose accuracy metrics on hand-made truth and predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.pose.metrics import (
    PoseMetrics,
    evaluate_pose,
    keypoint_errors,
    match_frame,
)
from etholoop.types import Instance

NAMES = ("nose", "earL", "earR", "tailB")
SIGMAS = (0.05, 0.05, 0.05, 0.08)
SHAPE = np.array([[0.0, 0.0], [10.0, -8.0], [10.0, 8.0], [50.0, 0.0]])
"""A 50 px long animal: keypoints relative to its nose."""


def animal(x: float, y: float, *, box: bool = True) -> Instance:
    keypoints = SHAPE + [x, y]
    corners = [x - 5, y - 15, x + 55, y + 15] if box else None
    return Instance(keypoints=keypoints, box=corners)


def predicted(inst: Instance, shift: float = 0.0, score: float = 0.9) -> Instance:
    box = None if inst.box is None else inst.box + [shift, 0, shift, 0]
    return Instance(
        keypoints=inst.keypoints + [shift, 0.0],
        box=box,
        box_score=score,
        source="predicted",
    )


def truth_frames() -> list[list[Instance]]:
    return [
        [animal(20, 30), animal(200, 150)],
        [animal(40, 60), animal(250, 100, box=False)],
        [],
        [animal(100, 200), animal(300, 40)],
    ]


def evaluate(
    truth: list[list[Instance]], predictions: list[list[Instance]]
) -> PoseMetrics:
    return evaluate_pose(
        truth,
        predictions,
        keypoint_names=NAMES,
        sigmas=SIGMAS,
        expected_animals=2,
        image_sizes=[(400, 300)] * len(truth),
    )


def perfect(truth: list[list[Instance]]) -> list[list[Instance]]:
    return [[predicted(i) for i in frame] for frame in truth]


def test_perfect_predictions_score_one() -> None:
    truth = truth_frames()
    metrics = evaluate(truth, perfect(truth))
    assert metrics.box_map50 == pytest.approx(1.0)
    assert metrics.box_map50_95 == pytest.approx(1.0)
    assert metrics.oks_map50 == pytest.approx(1.0)
    assert metrics.oks_map50_95 == pytest.approx(1.0)
    assert metrics.pck == {0.05: 1.0, 0.1: 1.0}
    assert metrics.rmse == 0.0
    assert set(metrics.rmse_per_keypoint.values()) == {0.0}
    assert (metrics.n_frames, metrics.n_truth, metrics.n_predicted) == (4, 6, 6)
    assert (metrics.n_matched, metrics.n_missed, metrics.n_extra) == (6, 0, 0)
    assert metrics.n_frames_wrong_count == 1  # the empty frame


def test_shifted_predictions_lose_pck_at_the_tight_threshold() -> None:
    truth = truth_frames()
    shifted = [[predicted(i, shift=4.0) for i in frame] for frame in truth]
    metrics = evaluate(truth, shifted)
    assert metrics.pck[0.05] < metrics.pck[0.1] <= 1.0
    assert metrics.rmse == pytest.approx(4.0)
    assert all(v == pytest.approx(4.0) for v in metrics.rmse_per_keypoint.values())
    assert metrics.oks_map50_95 < 1.0


def test_missing_animal_counts_as_missed() -> None:
    truth = truth_frames()
    predictions = perfect(truth)
    predictions[0] = predictions[0][:1]
    metrics = evaluate(truth, predictions)
    assert (metrics.n_matched, metrics.n_missed, metrics.n_extra) == (5, 1, 0)
    assert metrics.n_frames_wrong_count == 2
    assert metrics.box_map50 < 1.0
    assert metrics.oks_map50 < 1.0
    assert metrics.pck[0.1] == pytest.approx(5 / 6)
    assert metrics.rmse == 0.0


def test_extra_detection_counts_as_extra() -> None:
    truth = truth_frames()
    predictions = perfect(truth)
    stray = Instance(
        keypoints=SHAPE + [300, 250],
        keypoint_scores=[0.1, 0.2, 0.1, 0.2],
        source="predicted",
    )
    predictions[1] = [*predictions[1], stray]
    metrics = evaluate(truth, predictions)
    assert (metrics.n_matched, metrics.n_missed, metrics.n_extra) == (6, 0, 1)
    assert metrics.n_predicted == 7
    assert metrics.n_frames_wrong_count == 2
    assert metrics.pck[0.05] == 1.0
    # Scored below every true detection (mean keypoint score), so AP is intact.
    assert metrics.box_map50 == pytest.approx(1.0)
    assert metrics.oks_map50 == pytest.approx(1.0)


def test_animals_beyond_the_expected_count_count_for_map_only() -> None:
    truth = truth_frames()
    predictions = perfect(truth)
    stray = predicted(animal(300, 250), score=0.5)  # above min_score, below the rest
    predictions[1] = [stray, *predictions[1]]
    metrics = evaluate_pose(
        truth,
        predictions,
        keypoint_names=NAMES,
        sigmas=SIGMAS,
        expected_animals=2,
        image_sizes=[(400, 300)] * len(truth),
        min_score=0.25,
        max_animals=2,  # what `predict` stores
    )
    assert (metrics.n_predicted, metrics.n_extra, metrics.n_missed) == (6, 0, 0)
    assert metrics.n_frames_wrong_count == 1  # the frame without animals


def test_weak_predictions_count_for_map_only() -> None:
    truth = truth_frames()
    predictions = [[predicted(i, score=0.1) for i in frame] for frame in truth]
    metrics = evaluate_pose(
        truth,
        predictions,
        keypoint_names=NAMES,
        sigmas=SIGMAS,
        expected_animals=2,
        image_sizes=[(400, 300)] * len(truth),
        min_score=0.25,
    )
    assert metrics.box_map50 == pytest.approx(1.0)
    assert metrics.oks_map50 == pytest.approx(1.0)
    assert (metrics.n_predicted, metrics.n_matched, metrics.n_missed) == (0, 0, 6)
    assert metrics.pck[0.1] == 0.0


def test_order_of_predictions_does_not_matter() -> None:
    truth = truth_frames()
    in_order = evaluate(truth, perfect(truth))
    reversed_ = evaluate(truth, [frame[::-1] for frame in perfect(truth)])
    assert reversed_.to_dict() == in_order.to_dict()
    assert match_frame(truth[0], perfect(truth)[0][::-1]) == [(0, 1), (1, 0)]


def test_no_predictions_against_truth_scores_zero() -> None:
    truth = truth_frames()
    metrics = evaluate(truth, [[] for _ in truth])
    result = metrics.to_dict()
    assert result["box_map50"] == result["oks_map50_95"] == 0.0
    assert result["pck"] == {"0.05": 0.0, "0.1": 0.0}
    assert result["rmse"] is None
    assert set(result["rmse_per_keypoint"].values()) == {None}
    assert (metrics.n_matched, metrics.n_missed) == (0, 6)
    json.dumps(result, allow_nan=False)


UNDEFINED_WITHOUT_TRUTH = (
    "box_map50",
    "box_map50_95",
    "oks_map50",
    "oks_map50_95",
    "rmse",
)


def test_without_truth_every_accuracy_is_none_not_zero() -> None:
    truth = truth_frames()
    metrics = evaluate([[] for _ in truth], perfect(truth))
    result = metrics.to_dict()
    assert {key: result[key] for key in UNDEFINED_WITHOUT_TRUTH} == dict.fromkeys(
        UNDEFINED_WITHOUT_TRUTH
    )
    assert result["pck"] == {"0.05": None, "0.1": None}
    assert result["pck_per_keypoint"]["0.1"] == dict.fromkeys(NAMES)
    assert result["rmse_per_keypoint"] == dict.fromkeys(NAMES)
    assert (metrics.n_truth, metrics.n_extra) == (0, 6)
    json.dumps(result, allow_nan=False)


def test_an_empty_test_set_gives_none_not_zero() -> None:
    metrics = evaluate([], [])
    assert metrics.n_frames == metrics.n_truth == metrics.n_predicted == 0
    assert metrics.box_map50 is None and metrics.oks_map50_95 is None
    assert metrics.pck == {0.05: None, 0.1: None}
    assert metrics.rmse is None
    assert set(metrics.rmse_per_keypoint.values()) == {None}


def test_unlabeled_truth_keypoints_are_ignored() -> None:
    keypoints = SHAPE + [100, 100]
    keypoints[3] = np.nan
    truth = [[Instance(keypoints=keypoints)]]
    guess = Instance(keypoints=SHAPE + [100, 100], source="predicted")
    guess.keypoints[3] = [0.0, 0.0]  # wrong, but the truth has no label there
    metrics = evaluate(truth, [[guess]])
    assert metrics.oks_map50_95 == pytest.approx(1.0)
    assert metrics.pck[0.05] == 1.0
    assert metrics.pck_per_keypoint[0.05]["tailB"] is None
    assert metrics.rmse_per_keypoint["tailB"] is None


def test_mismatched_inputs_are_refused() -> None:
    truth = truth_frames()
    with pytest.raises(ValueError, match="prediction frames"):
        evaluate(truth, perfect(truth)[:2])
    with pytest.raises(ValueError, match="sigmas"):
        evaluate_pose(
            truth,
            perfect(truth),
            keypoint_names=NAMES,
            sigmas=SIGMAS[:2],
            expected_animals=2,
        )


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(
        st.tuples(st.floats(-20, 20), st.floats(-20, 20), st.booleans(), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    thresholds=st.tuples(st.floats(0, 1), st.floats(0, 1)).map(sorted),
)
def test_pck_is_monotone_in_the_threshold(
    offsets: list[tuple[float, float, bool, bool]], thresholds: list[float]
) -> None:
    truth, predictions = [], []
    for i, (dx, dy, predict, has_box) in enumerate(offsets):
        inst = animal(60.0 * i, 50.0, box=has_box)
        truth.append([inst])
        guess = Instance(keypoints=inst.keypoints + [dx, dy], source="predicted")
        predictions.append([guess] if predict else [])
    errors = keypoint_errors(truth, predictions, n_keypoints=len(NAMES))
    low, high = thresholds
    assert 0.0 <= errors.pck(low) <= errors.pck(high) <= 1.0
    assert np.all(errors.pck_per_keypoint(low) <= errors.pck_per_keypoint(high) + 1e-12)
