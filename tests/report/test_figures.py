"""The report's own figures draw the tables they are given, undefined values too."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etholoop.report import figures

LEARNING = pd.DataFrame(
    {
        "run": [3, 1, 5],
        "cycle": [1, 0, None],
        "labeled_frames": [40, 20, 60],
        "oks_map50_95": [0.4, 0.2, None],
        "oks_map50": [0.7, 0.5, 0.8],
        "pck@0.1": [0.6, 0.3, 0.9],
        "rmse_px": [None, None, None],
    }
)


def test_the_active_learning_curve_runs_in_order_of_labels() -> None:
    figure = figures.active_learning_figure(LEARNING)
    scores, errors = figure.axes
    oks = scores.lines[0]
    assert list(oks.get_xdata()) == [20, 40, 60]
    np.testing.assert_array_equal(oks.get_ydata(), [0.2, 0.4, np.nan])
    labels = [t.get_text() for t in scores.texts]
    assert labels == ["cycle 0, run 1", "cycle 1, run 3", "run 5"]
    assert "n/a" in errors.texts[0].get_text()  # no RMSE at all: said, not 0


def test_labeling_draws_each_split_of_each_cycle() -> None:
    table = pd.DataFrame(
        {
            "cycle": [0, 0, 1, 1],
            "split": ["test", "trainval", "test", "unassigned"],
            "frames": [5, 10, 5, 3],
            "labeled_frames": [5, 4, 5, 0],
        }
    )
    axes = figures.labeling_figure(table).axes[0]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "test",
        "trainval",
        "unassigned",
    ]
    heights = [p.get_height() for p in axes.patches]
    assert len(heights) == 2 * 3 * 2  # frames and labeled, per split and cycle
    assert sorted(heights)[-1] == 10


def test_time_budget_bars_stack_to_one() -> None:
    table = pd.DataFrame({"walk": [0.25, 1.0], "none": [0.75, 0.0]})
    figure = figures.budget_figure(
        table, labels=["a", "b"], actions=["walk", "none"], title="t"
    )
    axes = figure.axes[0]
    ends = [p.get_x() + p.get_width() for p in axes.patches]
    assert ends[2:] == [1.0, 1.0]


def test_occupancy_shows_shares_of_each_animals_frames() -> None:
    grid = np.array([[3, 1], [0, 0]])
    figure = figures.occupancy_figure({"m0": grid}, cell=10.0, title="s")
    image = figure.axes[0].images[0]
    np.testing.assert_allclose(image.get_array(), grid / 4)
    assert image.get_extent() == [0, 20.0, 20.0, 0]
