"""The report's pure numbers: occupancy, path lengths, time budgets, bout statistics.

Arrays in, arrays and tables out; nothing here opens a file or the store.
A time budget gives each counted frame one action, the first of the animal's
behaviors that frame in the project's order, else "none"
(`behavior_ranges.frame_actions`), so an animal's shares sum to 1 even where
behaviors overlap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import NO_BEHAVIOR, frame_actions, runs_of_true

OCCUPANCY_BINS = 24
"""Cells of an occupancy heatmap along the longer side of the arena."""

NO_CONDITION = "-"
"""The condition of a session that has none."""


@frozen(eq=False)
class AnimalEthogram:
    """One animal's behaviors in one session, as the report counts them.

    Attributes:
        session: The session's name.
        condition: Its experimental condition (`NO_CONDITION` for none).
        animal: The animal's name.
        source: "manual" (a person's labels) or "predicted" (a model's).
        fps: Frames per second, None if unknown.
        behaviors: Behavior names, one per column of `labels`.
        labels: Shape (frames, behaviors), true where a behavior goes on.
        counted: Shape (frames,), the frames that count (those a person
            settled, for manual labels).
    """

    session: str
    condition: str
    animal: str
    source: str
    fps: float | None
    behaviors: tuple[str, ...]
    labels: NDArray[np.bool_]
    counted: NDArray[np.bool_]


def occupancy_cell(width: float, height: float) -> float:
    """The side in px of an occupancy cell: `OCCUPANCY_BINS` on the longer side."""
    return max(width, height, 1.0) / OCCUPANCY_BINS


def occupancy(
    points: NDArray[np.floating], width: float, height: float
) -> tuple[NDArray[np.int64], float]:
    """Frames spent in each square cell of the arena.

    Args:
        points: One animal's centroid per frame in px, shape (frames, 2); NaN
            where it was not seen. Points outside the arena count in the
            nearest cell.
        width: Arena width in px.
        height: Arena height in px.

    Returns:
        Counts of shape (rows, columns) (row 0 at y = 0), summing to the frames
        with a centroid, and the cell side in px.
    """
    cell = occupancy_cell(width, height)
    n_x, n_y = max(math.ceil(width / cell), 1), max(math.ceil(height / cell), 1)
    seen = points[np.isfinite(points).all(axis=1)]
    column = np.clip((seen[:, 0] // cell).astype(np.int64), 0, n_x - 1)
    row = np.clip((seen[:, 1] // cell).astype(np.int64), 0, n_y - 1)
    counts = np.zeros((n_y, n_x), np.int64)
    np.add.at(counts, (row, column), 1)
    return counts, cell


def path_length(points: NDArray[np.floating]) -> float:
    """Distance in px travelled between consecutive frames that both have a point.

    Args:
        points: Shape (frames, 2), NaN where missing.
    """
    steps = np.linalg.norm(np.diff(points.astype(np.float64), axis=0), axis=1)
    return float(np.nansum(steps))


def actions(behaviors: Sequence[str]) -> tuple[str, ...]:
    """The columns of a time budget: each behavior, then "none"."""
    return (*behaviors, NO_BEHAVIOR)


def time_budget(animal: AnimalEthogram) -> dict[str, int]:
    """Counted frames per action (`actions`), every action present."""
    labels = animal.labels[animal.counted].astype(np.uint8)
    found = Counter(frame_actions(labels, animal.behaviors))
    return {action: found.get(action, 0) for action in actions(animal.behaviors)}


def time_budgets(animals: Sequence[AnimalEthogram]) -> pd.DataFrame:
    """One row per (session, animal): its frames and the share of each action.

    Columns: session, condition, animal, source, frames, then one per action
    (shares of `frames`, summing to 1; NaN for an animal without a counted
    frame).
    """
    rows = []
    for animal in animals:
        counts = time_budget(animal)
        frames = sum(counts.values())
        rows.append(
            {
                "session": animal.session,
                "condition": animal.condition,
                "animal": animal.animal,
                "source": animal.source,
                "frames": frames,
                **{a: n / frames if frames else np.nan for a, n in counts.items()},
            }
        )
    return pd.DataFrame(rows)


def condition_budgets(
    budgets: pd.DataFrame, action_names: Sequence[str]
) -> pd.DataFrame:
    """Shares of each action per condition, over all frames of its animals.

    Args:
        budgets: As `time_budgets` gives.
        action_names: Its action columns.

    Returns:
        One row per condition: condition, animals, frames, then the shares.
    """
    rows = []
    for condition, group in budgets.groupby("condition", sort=True):
        frames = int(group["frames"].sum())
        shares = {
            a: float((group[a] * group["frames"]).sum() / frames) if frames else np.nan
            for a in action_names
        }
        rows.append(
            {"condition": condition, "animals": len(group), "frames": frames, **shares}
        )
    return pd.DataFrame(rows, columns=["condition", "animals", "frames", *action_names])


BOUT_COLUMNS = [
    "session",
    "condition",
    "animal",
    "behavior",
    "source",
    "start",
    "stop",
    "frames",
    "duration_s",
]


def bouts(animals: Sequence[AnimalEthogram]) -> pd.DataFrame:
    """One row per bout (a run of counted frames showing a behavior).

    Columns `BOUT_COLUMNS`: frames [start, stop), duration in frames and in
    seconds (NaN without fps).
    """
    rows = [
        {
            "session": animal.session,
            "condition": animal.condition,
            "animal": animal.animal,
            "behavior": behavior,
            "source": animal.source,
            "start": start,
            "stop": stop,
            "frames": stop - start,
            "duration_s": (stop - start) / animal.fps if animal.fps else np.nan,
        }
        for animal in animals
        for k, behavior in enumerate(animal.behaviors)
        for start, stop in runs_of_true(animal.labels[:, k] & animal.counted)
    ]
    return pd.DataFrame(rows, columns=BOUT_COLUMNS)


def bout_statistics(bout_rows: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Bouts, their mean duration (frames, s), median (s) and total (s) per group.

    Args:
        bout_rows: As `bouts` gives.
        by: The columns that make a group besides the behavior, e.g.
            ("session", "animal") or ("condition",).

    Returns:
        One row per group with a bout, in the order of first appearance;
        durations in s are NaN where the fps is unknown.
    """
    keys = [*by, "behavior"]
    if bout_rows.empty:
        columns = [*keys, "bouts", "mean_frames", "mean_s", "median_s", "total_s"]
        return pd.DataFrame(columns=columns)
    return (
        bout_rows.groupby(keys, sort=False)
        .agg(
            bouts=("frames", "size"),
            mean_frames=("frames", "mean"),
            mean_s=("duration_s", "mean"),
            median_s=("duration_s", "median"),
            total_s=("duration_s", lambda s: s.sum(min_count=1)),
        )
        .reset_index()
    )
