"""Predicted instances as detection rows (whole videos: tests/test_tracking.py)."""

from __future__ import annotations

import numpy as np

from etholoop.pose.video_inference import instance_rows
from etholoop.types import Instance


def test_instance_rows_keep_boxes_and_scores() -> None:
    boxed = Instance(
        keypoints=[[1.0, 2.0], [3.0, 4.0]],
        box=[0.0, 1.0, 5.0, 6.0],
        box_score=0.8,
        keypoint_scores=[0.9, 0.4],
        source="predicted",
    )
    boxes, box_scores, keypoints, keypoint_scores = instance_rows([boxed], 2)
    assert boxes.tolist() == [[0.0, 1.0, 5.0, 6.0]]
    assert box_scores.tolist() == [0.8]
    assert keypoints.tolist() == [[[1.0, 2.0], [3.0, 4.0]]]
    assert keypoint_scores.tolist() == [[0.9, 0.4]]


def test_instance_rows_without_a_box_take_the_keypoints_extent() -> None:
    bare = Instance(keypoints=[[1.0, 8.0], [np.nan, np.nan], [4.0, 2.0]])
    boxes, box_scores, _, keypoint_scores = instance_rows([bare], 3)
    assert boxes.tolist() == [[1.0, 2.0, 4.0, 8.0]]
    assert box_scores.tolist() == [1.0]
    assert keypoint_scores.tolist() == [[1.0, 0.0, 1.0]]


def test_instance_rows_of_a_frame_without_animals() -> None:
    boxes, box_scores, keypoints, keypoint_scores = instance_rows([], 4)
    assert (boxes.shape, box_scores.shape) == ((0, 4), (0,))
    assert (keypoints.shape, keypoint_scores.shape) == ((0, 4, 2), (0, 4))
