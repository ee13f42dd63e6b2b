"""Plots of a pose run: metrics with and without values, training curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from etholoop.formatting import UNDEFINED
from etholoop.pose.metrics import evaluate_pose
from etholoop.pose.plots import (
    plot_pose_metrics,
    plot_training_curves,
    pose_metrics_figure,
)
from etholoop.types import Instance

NAMES = ("nose", "tail")
TRUTH = Instance(keypoints=[[10.0, 10.0], [np.nan, np.nan]], box=[0, 0, 40, 40])
GUESS = Instance(
    keypoints=[[12.0, 10.0], [30.0, 30.0]], box=[0, 0, 40, 40], box_score=0.9
)


def _metrics(truth: list[list[Instance]], found: list[list[Instance]]):
    return evaluate_pose(
        truth, found, keypoint_names=NAMES, sigmas=(0.05, 0.05), expected_animals=1
    )


def _marks(figure) -> list[str]:
    return [t.get_text() for axes in figure.axes for t in axes.texts]


def test_the_metrics_plot_is_a_png(tmp_path: Path) -> None:
    path = plot_pose_metrics(_metrics([[TRUTH]], [[GUESS]]), tmp_path / "a" / "m.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_missing_values_are_marked_not_drawn_as_zero() -> None:
    figure = pose_metrics_figure(_metrics([[TRUTH]], [[GUESS]]))
    rmse_axes, pck_axes = figure.axes
    rmse_heights = [bar.get_height() for bar in rmse_axes.patches]
    assert rmse_heights[0] == 2.0 and np.isnan(rmse_heights[1])  # tail unlabeled
    assert _marks(figure) == [UNDEFINED] * 3  # RMSE, PCK@0.05 and @0.1 of the tail


def test_an_empty_test_set_is_plotted_without_a_single_number() -> None:
    figure = pose_metrics_figure(_metrics([], []))
    assert _marks(figure) == [UNDEFINED] * 6
    assert all(np.isnan(bar.get_height()) for a in figure.axes for bar in a.patches)
    title = figure.axes[0].get_title()
    assert title.count(UNDEFINED) == 3 and "0.000" not in title


def test_training_curves_are_a_png(tmp_path: Path) -> None:
    epochs = [
        {"epoch": 1.0, "train/pose_loss": 3.0, "metrics/mAP50(P)": 0.1},
        {"epoch": 2.0, "train/pose_loss": 2.0, "metrics/mAP50(P)": 0.3},
    ]
    path = plot_training_curves(epochs, tmp_path / "curves.png")
    assert path.read_bytes().startswith(b"\x89PNG")
