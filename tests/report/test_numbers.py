"""The report's pure numbers: occupancy, path length, time budgets and bouts."""

from __future__ import annotations

import numpy as np
import pytest

from etholoop.report.collect import SessionEthogram
from etholoop.report.numbers import (
    OCCUPANCY_BINS,
    AnimalEthogram,
    actions,
    bout_statistics,
    bouts,
    condition_budgets,
    occupancy,
    path_length,
    time_budget,
    time_budgets,
)

BEHAVIORS = ("walk", "groom")


def _animal(
    labels: list[list[int]],
    *,
    counted: list[bool] | None = None,
    fps: float | None = 10.0,
    session: str = "s",
    condition: str = "a",
    animal: str = "m0",
) -> AnimalEthogram:
    values = np.array(labels, bool)
    mask = np.ones(len(values), bool) if counted is None else np.array(counted)
    return AnimalEthogram(
        session, condition, animal, "manual", fps, BEHAVIORS, values, mask
    )


def test_occupancy_counts_each_seen_frame_once(rng: np.random.Generator) -> None:
    points = rng.uniform(-10, 110, size=(500, 2))  # some outside the arena
    points[rng.random(500) < 0.2] = np.nan
    counts, cell = occupancy(points, 100.0, 50.0)
    assert cell == 100.0 / OCCUPANCY_BINS
    assert counts.shape == (OCCUPANCY_BINS // 2, OCCUPANCY_BINS)
    assert counts.sum() == np.isfinite(points).all(axis=1).sum()


def test_occupancy_puts_a_point_in_the_cell_it_lies_in() -> None:
    counts, cell = occupancy(np.array([[30.0, 10.0], [30.0, 10.0]]), 48.0, 24.0)
    assert cell == 2.0
    assert counts[5, 15] == 2 and counts.sum() == 2


def test_path_length_skips_steps_into_or_out_of_a_gap() -> None:
    points = np.array([[0, 0], [3, 4], [np.nan, np.nan], [6, 8], [6, 9]], float)
    assert path_length(points) == pytest.approx(6.0)


def test_a_time_budget_sums_to_one_even_where_behaviors_overlap() -> None:
    animal = _animal([[1, 1], [1, 0], [0, 1], [0, 0], [0, 0]])
    counts = time_budget(animal)
    assert counts == {"walk": 2, "groom": 1, "none": 2}  # overlap: the first
    budgets = time_budgets([animal, _animal([[0, 1]] * 3, animal="m1")])
    assert list(budgets.columns[-3:]) == list(actions(BEHAVIORS))
    np.testing.assert_allclose(budgets[list(actions(BEHAVIORS))].sum(axis=1), 1.0)
    assert budgets["frames"].tolist() == [5, 3]


def test_only_counted_frames_enter_a_time_budget() -> None:
    animal = _animal([[1, 0], [1, 0], [0, 1]], counted=[True, False, True])
    assert time_budget(animal) == {"walk": 1, "groom": 1, "none": 0}


def test_condition_budgets_weigh_animals_by_their_frames() -> None:
    budgets = time_budgets(
        [
            _animal([[1, 0]] * 3, condition="saline"),
            _animal([[0, 1]], condition="saline", animal="m1"),
            _animal([[0, 0]] * 2, condition="drug"),
        ]
    )
    table = condition_budgets(budgets, actions(BEHAVIORS)).set_index("condition")
    assert table.loc["saline", "walk"] == pytest.approx(0.75)
    assert table.loc["saline", "groom"] == pytest.approx(0.25)
    assert table.loc["drug", "none"] == 1.0
    assert table.loc["saline", "frames"] == 4 and table.loc["saline", "animals"] == 2


def test_bouts_are_runs_within_counted_frames_in_seconds() -> None:
    walk = [1, 1, 0, 1, 1, 1, 1, 0]
    animal = _animal([[w, 0] for w in walk], counted=[True] * 5 + [False] + [True] * 2)
    rows = bouts([animal])
    assert rows[["start", "stop", "frames"]].values.tolist() == [
        [0, 2, 2],
        [3, 5, 2],
        [6, 7, 1],
    ]
    stats = bout_statistics(rows, ("animal",)).iloc[0]
    assert (stats["behavior"], stats["bouts"]) == ("walk", 3)
    assert stats["mean_s"] == pytest.approx(5 / 3 / 10)
    assert stats["median_s"] == pytest.approx(0.2)
    assert stats["total_s"] == pytest.approx(0.5)


def test_without_fps_bout_durations_in_seconds_are_unknown() -> None:
    stats = bout_statistics(bouts([_animal([[1, 0], [1, 0]], fps=None)]), ("animal",))
    assert stats["mean_frames"][0] == 2
    assert np.isnan(stats["mean_s"][0]) and np.isnan(stats["total_s"][0])
    assert bout_statistics(bouts([]), ("animal",)).empty


def test_a_session_counts_labels_where_labeled_else_predictions() -> None:
    n = 4
    truth = np.zeros((n, 3, 2), bool)
    truth[:, 0, 0] = True
    labeled = np.zeros((n, 3), bool)
    labeled[:, 0] = True
    predicted = np.zeros((n, 3, 2), bool)
    predicted[:, :, 1] = True
    ethogram = SessionEthogram(
        "s", "-", 30.0, BEHAVIORS, ("a", "b", "c"), truth, labeled, predicted, None
    )
    animals = ethogram.animals()
    assert [(a.animal, a.source) for a in animals] == [
        ("a", "manual"),
        ("b", "predicted"),
        ("c", "predicted"),
    ]
    assert animals[0].labels[:, 0].all() and not animals[1].labels[:, 0].any()
    unpredicted = SessionEthogram(
        "s", "-", 30.0, BEHAVIORS, ("a", "b", "c"), truth, labeled, None, None
    )
    assert [a.animal for a in unpredicted.animals()] == ["a"]
