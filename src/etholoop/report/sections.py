"""The report's sections: their ids, titles, what fills them, and their contents.

`build_sections` turns the gathered numbers (`collect.ReportData`) into, per
section, a list of blocks: tables and plots (a figure with the table it draws).
A section with no block is shown with the one line `SectionSpec.empty` says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from attrs import frozen
from matplotlib.figure import Figure
from numpy.typing import NDArray

from etholoop.behavior_ranges import runs_of_true
from etholoop.behavior_runs.plots import (
    RasterRow,
    confusion_figure,
    ethogram_raster_figure,
)
from etholoop.formatting import format_metric
from etholoop.pose.plots import pose_metrics_figure, training_curves_figure
from etholoop.report import figures
from etholoop.report.collect import ReportData, SessionEthogram, SessionTracks
from etholoop.report.numbers import (
    AnimalEthogram,
    actions,
    bout_statistics,
    bouts,
    condition_budgets,
    occupancy,
    occupancy_cell,
    path_length,
    time_budgets,
)

MAX_TRAJECTORY_POINTS = 5000
"""Most centroids per animal drawn (and saved) for a trajectory: every n-th frame."""


@frozen
class SectionSpec:
    """One section of the report.

    Attributes:
        id: Its HTML id.
        title: Its heading.
        empty: What to run to fill it, `{project}` standing for the project
            folder; None for a section that always has something.
    """

    id: str
    title: str
    empty: str | None


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("summary", "Project summary", None),
    SectionSpec(
        "labeling",
        "Labeling progress",
        "no split yet: `etholoop sample {project} --n N`, then "
        "`etholoop split {project}`",
    ),
    SectionSpec(
        "pose-training",
        "Pose training",
        "no pose model trained yet: `etholoop train {project}`",
    ),
    SectionSpec(
        "pose-metrics",
        "Pose metrics",
        "no pose model evaluated yet: `etholoop evaluate {project}`",
    ),
    SectionSpec(
        "active-learning",
        "Active learning",
        "no evaluated pose model yet: `etholoop train {project}` and "
        "`etholoop evaluate {project}` in each cycle (`etholoop cycle {project}`)",
    ),
    SectionSpec(
        "tracking",
        "Tracking quality",
        "no tracking run yet: `etholoop track {project}`",
    ),
    SectionSpec(
        "trajectories",
        "Trajectories and occupancy",
        "no tracks yet: `etholoop track {project}` or "
        "`etholoop tracks import {project} FILE`",
    ),
    SectionSpec(
        "ethograms",
        "Ethograms",
        "no behavior predictions yet: `etholoop behavior train {project}`, then "
        "`etholoop behavior predict {project}`",
    ),
    SectionSpec(
        "time-budgets",
        "Time budgets",
        "no behaviors yet: label some (`etholoop serve {project}`) or "
        "`etholoop behavior predict {project}`",
    ),
    SectionSpec(
        "bouts",
        "Bouts",
        "no behaviors yet: label some (`etholoop serve {project}`) or "
        "`etholoop behavior predict {project}`",
    ),
    SectionSpec(
        "behavior-confusion",
        "Behavior confusion",
        "no behavior evaluation yet: `etholoop behavior evaluate {project}`",
    ),
)
SECTION_IDS = tuple(spec.id for spec in SECTIONS)


@frozen(eq=False)
class Table:
    """A table shown in the report.

    Attributes:
        caption: What it holds.
        table: The rows.
        name: The stem of its CSV beside the report; None when a plot of the
            section saves the same numbers.
    """

    caption: str
    table: pd.DataFrame
    name: str | None


@frozen(eq=False)
class Plot:
    """A figure and the table it draws, saved as `<name>.png/.svg/.csv`."""

    name: str
    caption: str
    figure: Figure
    numbers: pd.DataFrame


Block = Table | Plot


def build_sections(data: ReportData) -> dict[str, list[Block]]:
    """The blocks of every section, by section id (`SECTION_IDS` order)."""
    builders: dict[str, Callable[[ReportData], list[Block]]] = {
        "summary": _summary,
        "labeling": _labeling,
        "pose-training": _pose_training,
        "pose-metrics": _pose_metrics,
        "active-learning": _active_learning,
        "tracking": _tracking,
        "trajectories": _trajectories,
        "ethograms": _ethograms,
        "time-budgets": _time_budgets,
        "bouts": _bouts,
        "behavior-confusion": _behavior_confusion,
    }
    return {spec.id: builders[spec.id](data) for spec in SECTIONS}


def slug(name: str) -> str:
    """`name` as a safe file name part: runs of other characters become "_"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "session"


def _facts(facts: dict[str, Any]) -> pd.DataFrame:
    """A two-column table of named values; None is "n/a", floats have 3 decimals."""
    shown = [
        format_metric(v) if v is None or isinstance(v, float) else str(v)
        for v in facts.values()
    ]
    return pd.DataFrame({"": list(facts), "value": shown})


def _summary(data: ReportData) -> list[Block]:
    status = data.status
    facts = {
        "name": status.name,
        "folder": status.root,
        "store": status.store,
        "animals": status.animals,
        "keypoints": ", ".join(status.keypoints),
        "behaviors": ", ".join(status.behaviors) or "none",
        "videos": len(status.videos),
        "cycles": len(status.cycles),
        "model runs": len(data.runs),
    }
    videos = pd.DataFrame(
        [
            {
                "id": v.id,
                "path": v.path,
                "kind": v.kind,
                "copy of": v.normalized_from,
                "frames": v.n_frames,
                "fps": v.fps,
                "size": f"{v.width}x{v.height}",
                "condition": v.condition,
            }
            for v in status.videos
        ],
        columns=["id", "path", "kind", "copy of", "frames", "fps", "size", "condition"],
    )
    blocks: list[Block] = [Table("The project", _facts(facts), "summary")]
    if not videos.empty:
        blocks.append(Table("Videos and sessions", videos, "videos"))
    if not data.runs.empty:
        blocks.append(Table("Model runs", data.runs, "runs"))
    return blocks


def _labeling(data: ReportData) -> list[Block]:
    if data.labeling.empty:
        return []
    return [
        Plot(
            "labeling",
            "Frames per split and cycle, and those holding manual labels",
            figures.labeling_figure(data.labeling),
            data.labeling,
        ),
        Table("Frames and labels per cycle and split", data.labeling, None),
    ]


def _pose_training(data: ReportData) -> list[Block]:
    runs = [r for r in data.training if r.epochs]
    if not runs:
        return []
    latest = runs[-1]
    numbers = pd.DataFrame([{"run": r.id, **epoch} for r in runs for epoch in r.epochs])
    summary = pd.DataFrame(
        [
            {
                "run": r.id,
                "cycle": r.cycle,
                "backend": r.backend,
                "labeled frames": r.n_frames,
                "epochs": len(r.epochs),
            }
            for r in runs
        ]
    )
    return [
        Plot(
            "pose-training",
            f"Training curves of pose run {latest.id} (every run's epochs in the CSV)",
            training_curves_figure(list(latest.epochs)),
            numbers,
        ),
        Table("Finished pose training runs", summary, "pose-training-runs"),
    ]


def _pose_metrics(data: ReportData) -> list[Block]:
    evaluation = data.pose_evaluation
    if evaluation is None:
        return []
    metrics = evaluation.metrics
    per_keypoint = pd.DataFrame(
        {
            "keypoint": list(metrics.rmse_per_keypoint),
            "rmse_px": list(metrics.rmse_per_keypoint.values()),
            **{
                f"pck@{t:g}": [values[k] for k in metrics.rmse_per_keypoint]
                for t, values in metrics.pck_per_keypoint.items()
            },
        }
    )
    headline = {
        "box mAP50": metrics.box_map50,
        "box mAP50-95": metrics.box_map50_95,
        "OKS mAP50": metrics.oks_map50,
        "OKS mAP50-95": metrics.oks_map50_95,
        **{f"PCK@{t:g}": v for t, v in metrics.pck.items()},
        "RMSE (px)": metrics.rmse,
        "test frames": metrics.n_frames,
        "animals labeled": metrics.n_truth,
        "animals found": metrics.n_matched,
        "missed": metrics.n_missed,
        "extra": metrics.n_extra,
        "frames with a wrong count": metrics.n_frames_wrong_count,
    }
    return [
        Table(
            f"Pose run {evaluation.run_id} on the test split",
            _facts(headline),
            "pose-metrics-summary",
        ),
        Plot(
            "pose-metrics",
            "Error per keypoint: RMSE (px) and PCK by threshold",
            pose_metrics_figure(metrics),
            per_keypoint,
        ),
        Table("Per keypoint", per_keypoint, None),
    ]


def _active_learning(data: ReportData) -> list[Block]:
    if data.learning.empty:
        return []
    return [
        Plot(
            "active-learning",
            "Test metrics against the labeled frames each pose run trained on",
            figures.active_learning_figure(data.learning),
            data.learning,
        ),
        Table("Evaluated pose runs", data.learning, None),
    ]


def _tracking(data: ReportData) -> list[Block]:
    table = data.tracking
    if table.empty:
        return []
    blocks: list[Block] = []
    if (table["status"] == "done").any():
        blocks.append(
            Plot(
                "tracking",
                "Share of frames with every animal found and with gaps filled",
                figures.tracking_figure(table),
                table,
            )
        )
    blocks.append(
        Table(
            "Tracked videos (coverage: share of frames with every animal found)",
            table,
            None if blocks else "tracking",
        )
    )
    return blocks


def _trajectory_table(tracks: SessionTracks) -> pd.DataFrame:
    """Every n-th frame's centroid per animal (at most `MAX_TRAJECTORY_POINTS`)."""
    n_frames = tracks.centroids.shape[0]
    step = max(1, -(-n_frames // MAX_TRAJECTORY_POINTS))
    frames = np.arange(0, n_frames, step)
    return pd.DataFrame(
        [
            {"frame": int(t), "animal": animal, "x": xy[0], "y": xy[1]}
            for i, animal in enumerate(tracks.individuals)
            for t, xy in zip(frames, tracks.centroids[frames, i], strict=True)
        ],
        columns=["frame", "animal", "x", "y"],
    )


def _trajectories(data: ReportData) -> list[Block]:
    if not data.tracks:
        return []
    blocks: list[Block] = []
    stats = []
    for n, tracks in enumerate(data.tracks, 1):
        stem = f"{n:02d}-{slug(tracks.name)}"
        title = f"{tracks.name} ({tracks.condition})"
        counts, cells = {}, []
        cell = occupancy_cell(tracks.width, tracks.height)
        for i, animal in enumerate(tracks.individuals):
            points = tracks.centroids[:, i]
            grid, _ = occupancy(points, tracks.width, tracks.height)
            counts[animal] = grid
            seen = int(np.isfinite(points).all(axis=1).sum())
            stats.append(
                {
                    "session": tracks.name,
                    "condition": tracks.condition,
                    "animal": animal,
                    "frames": len(points),
                    "frames_seen": seen,
                    "share_seen": seen / len(points) if len(points) else None,
                    "path_px": path_length(points),
                }
            )
            cells += [
                {
                    "animal": animal,
                    "x0": column * cell,
                    "y0": row * cell,
                    "cell_px": cell,
                    "frames": int(grid[row, column]),
                }
                for row, column in zip(*np.nonzero(grid), strict=True)
            ]
        trajectory = _trajectory_table(tracks)
        blocks.append(
            Plot(
                f"trajectories-{stem}",
                f"{tracks.name}: centroid paths ({tracks.path})",
                figures.trajectories_figure(
                    trajectory, width=tracks.width, height=tracks.height, title=title
                ),
                trajectory,
            )
        )
        blocks.append(
            Plot(
                f"occupancy-{stem}",
                f"{tracks.name}: where each animal spent its frames",
                figures.occupancy_figure(counts, cell=cell, title=title),
                pd.DataFrame(
                    cells, columns=["animal", "x0", "y0", "cell_px", "frames"]
                ),
            )
        )
    blocks.insert(
        0,
        Table(
            "Seen frames and distance per animal", pd.DataFrame(stats), "trajectories"
        ),
    )
    return blocks


def _ethogram_numbers(
    ethogram: SessionEthogram, predicted: NDArray[np.bool_]
) -> pd.DataFrame:
    """The bouts drawn: per animal, behavior and source, [start, stop) frames."""
    rows = []
    for a, animal in enumerate(ethogram.individuals):
        sources = [("predicted", predicted)]
        if ethogram.labeled[:, a].any():
            settled = ethogram.truth & ethogram.labeled[:, :, None]
            sources.insert(0, ("manual", settled))
        for source, values in sources:
            for k, behavior in enumerate(ethogram.behaviors):
                rows += [
                    {
                        "animal": animal,
                        "behavior": behavior,
                        "source": source,
                        "start": start,
                        "stop": stop,
                    }
                    for start, stop in runs_of_true(values[:, a, k])
                ]
    return pd.DataFrame(rows, columns=["animal", "behavior", "source", "start", "stop"])


def _ethograms(data: ReportData) -> list[Block]:
    blocks: list[Block] = []
    predicted = [(e, e.predicted) for e in data.ethograms if e.predicted is not None]
    for n, (ethogram, labels) in enumerate(predicted, 1):
        rows: list[RasterRow] = []
        for a, animal in enumerate(ethogram.individuals):
            labeled = ethogram.labeled[:, a]
            truth = ethogram.truth[:, a] if labeled.any() else None
            tested = labeled if truth is not None else np.ones(len(labeled), bool)
            rows.append((f"{ethogram.name} {animal}", truth, labels[:, a], tested))
        blocks.append(
            Plot(
                f"ethogram-{n:02d}-{slug(ethogram.name)}",
                f"{ethogram.name}: manual labels (true) above predictions (pred) "
                f"where a person labeled the animal; grey: frames nobody settled "
                f"({ethogram.path})",
                ethogram_raster_figure(rows, ethogram.behaviors),
                _ethogram_numbers(ethogram, labels),
            )
        )
    return blocks


def _animals(data: ReportData) -> list[AnimalEthogram]:
    return [animal for e in data.ethograms for animal in e.animals()]


def _time_budgets(data: ReportData) -> list[Block]:
    animals = _animals(data)
    if not animals:
        return []
    names = actions(animals[0].behaviors)
    budgets = time_budgets(animals)
    by_condition = condition_budgets(budgets, names)
    return [
        Plot(
            "time-budgets",
            "Share of frames per behavior, per session and animal (manual labels "
            "where a person labeled the animal, else predictions; a frame with "
            "several behaviors counts for the first)",
            figures.budget_figure(
                budgets,
                labels=[
                    f"{s} / {a} ({src})"
                    for s, a, src in zip(
                        budgets["session"],
                        budgets["animal"],
                        budgets["source"],
                        strict=True,
                    )
                ],
                actions=names,
                title="Time budget per animal",
            ),
            budgets,
        ),
        Table("Per session and animal", budgets, None),
        Plot(
            "time-budgets-by-condition",
            "Share of frames per behavior, per condition (all its animals' frames)",
            figures.budget_figure(
                by_condition,
                labels=list(by_condition["condition"]),
                actions=names,
                title="Time budget per condition",
            ),
            by_condition,
        ),
        Table("Per condition", by_condition, None),
    ]


def _bouts(data: ReportData) -> list[Block]:
    animals = _animals(data)
    if not animals:
        return []
    rows = bouts(animals)
    per_animal = bout_statistics(rows, ("session", "condition", "animal", "source"))
    by_condition = bout_statistics(rows, ("condition",))
    blocks: list[Block] = []
    if not per_animal.empty:
        blocks.append(
            Plot(
                "bouts",
                "Bouts per behavior and their mean duration, per session and animal",
                figures.bouts_figure(per_animal, behaviors=animals[0].behaviors),
                per_animal,
            )
        )
    blocks += [
        Table(
            "Per session, animal and behavior (durations in s)",
            per_animal,
            None if blocks else "bouts",
        ),
        Table("Per condition and behavior", by_condition, "bouts-by-condition"),
    ]
    return blocks


def _behavior_confusion(data: ReportData) -> list[Block]:
    evaluation = data.behavior_evaluation
    if evaluation is None:
        return []
    metrics = evaluation.metrics
    per_behavior = metrics.get("per_behavior") or {}
    numbers = pd.DataFrame(
        [
            {
                "behavior": name,
                "true_negative": values["confusion"][0][0],
                "false_positive": values["confusion"][0][1],
                "false_negative": values["confusion"][1][0],
                "true_positive": values["confusion"][1][1],
                "precision": values.get("precision"),
                "recall": values.get("recall"),
                "f1": values.get("f1"),
                "bout_f1": values.get("bout_f1"),
                "support": values.get("support"),
            }
            for name, values in per_behavior.items()
        ]
    )
    headline = {
        key: metrics.get(key)
        for key in ("frames", "accuracy", "macro_f1", "weighted_f1", "macro_bout_f1")
    }
    return [
        Table(
            f"Behavior evaluation run {evaluation.run_id} (cross-validated)",
            _facts(headline),
            "behavior-evaluation",
        ),
        Plot(
            "behavior-confusion",
            "Frames per behavior: true (rows) against predicted (columns)",
            confusion_figure(per_behavior),
            numbers,
        ),
        Table("Per behavior", numbers, None),
    ]
