"""The report's own figures; each draws the table it is given on its own `Figure`.

The table a figure draws is what the report saves as its CSV, so the numbers
behind every picture are at hand. Figures already drawn by a stage (training
curves, pose metrics, behavior confusion, ethogram rasters) come from that
stage's plots module. Each `Figure` uses the Agg canvas, so pyplot's global
backend is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray

from etholoop.formatting import UNDEFINED
from etholoop.status import UNASSIGNED
from etholoop.types import SPLITS

SPLIT_ORDER = (*SPLITS, UNASSIGNED)


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    """`n` distinct colours (tab10, then tab20 for more)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def labeling_figure(table: pd.DataFrame) -> Figure:
    """Frames per split of each cycle (pale) and those with manual labels (solid).

    Args:
        table: Columns cycle, split, frames, labeled_frames (one row per cycle
            and split).
    """
    cycles = sorted(table["cycle"].unique())
    splits = [s for s in SPLIT_ORDER if s in set(table["split"])]
    figure = Figure(figsize=(max(6.0, 1.2 * len(cycles) + 3), 4), layout="constrained")
    axes = figure.subplots()
    width = 0.8 / max(len(splits), 1)
    x = np.arange(len(cycles), dtype=np.float64)
    for i, (split, color) in enumerate(zip(splits, _colors(len(splits)), strict=True)):
        rows = table[table["split"] == split].set_index("cycle").reindex(cycles)
        offset = x - 0.4 + (i + 0.5) * width
        axes.bar(offset, rows["frames"].fillna(0), width, color=color, alpha=0.3)
        axes.bar(
            offset, rows["labeled_frames"].fillna(0), width, color=color, label=split
        )
    axes.set_xticks(x, [f"cycle {c}" for c in cycles])
    axes.set(ylabel="frames", title="Frames per split (pale) and labeled (solid)")
    axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    return figure


def active_learning_figure(table: pd.DataFrame) -> Figure:
    """Test metrics of each evaluated pose run against the labeled frames it had.

    Args:
        table: Columns run, cycle, labeled_frames, oks_map50_95, oks_map50,
            pck@0.1, rmse_px (None where undefined).
    """
    rows = table.sort_values(["labeled_frames", "run"])
    x = rows["labeled_frames"].to_numpy(np.float64)
    figure = Figure(figsize=(10, 4), layout="constrained")
    scores, errors = figure.subplots(1, 2)
    for name in ("oks_map50_95", "oks_map50", "pck@0.1"):
        y = pd.to_numeric(rows[name], errors="coerce").to_numpy(np.float64)
        scores.plot(x, y, marker="o", label=name)
    for xi, cycle, run in zip(x, rows["cycle"], rows["run"], strict=True):
        where = "" if pd.isna(cycle) else f"cycle {int(cycle)}, "
        scores.annotate(
            f"{where}run {run}",
            (xi, 0.0),
            textcoords="offset points",
            xytext=(2, 4),
            fontsize="x-small",
            rotation=90,
        )
    rmse = pd.to_numeric(rows["rmse_px"], errors="coerce").to_numpy(np.float64)
    errors.plot(x, rmse, marker="o", color="tab:red")
    if np.isnan(rmse).all():
        errors.text(
            0.5, 0.5, f"RMSE {UNDEFINED}: no keypoint matched", ha="center",
            transform=errors.transAxes, color="gray",
        )  # fmt: skip
    scores.set(title="Test scores", xlabel="labeled frames trained on", ylim=(0, 1.05))
    errors.set(title="Test RMSE", xlabel="labeled frames trained on", ylabel="px")
    scores.legend(fontsize="small")
    for axes in (scores, errors):
        axes.grid(alpha=0.3)
    return figure


def tracking_figure(table: pd.DataFrame) -> Figure:
    """Per tracked video: frames with every animal found, frames filled, swaps.

    Args:
        table: Columns run, video, status, frames, coverage, frames_filled,
            suspected_swaps; rows not "done" are left out.
    """
    done = table[table["status"] == "done"]
    labels = [
        f"run {run}: {Path(video).name} ({int(swaps)} suspected swap(s))"
        for run, video, swaps in zip(
            done["run"], done["video"], done["suspected_swaps"], strict=True
        )
    ]
    y = np.arange(len(done), dtype=np.float64)
    figure = Figure(figsize=(10, 1.4 + 0.5 * max(len(done), 1)), layout="constrained")
    axes = figure.subplots()
    frames = done["frames"].to_numpy(np.float64)
    filled = done["frames_filled"].to_numpy(np.float64) / np.maximum(frames, 1)
    axes.barh(y - 0.2, done["coverage"].to_numpy(np.float64), 0.4, label="all found")
    axes.barh(y + 0.2, filled, 0.4, color="tab:orange", label="gaps filled")
    axes.set_yticks(y, labels, fontsize="small")
    axes.invert_yaxis()
    axes.set(xlim=(0, 1), xlabel="share of frames", title="Tracking quality")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    axes.grid(axis="x", alpha=0.3)
    return figure


def trajectories_figure(
    table: pd.DataFrame, *, width: float, height: float, title: str
) -> Figure:
    """Each animal's centroid path over the arena (image coordinates, y down).

    Args:
        table: Columns frame, animal, x, y (px; NaN where not seen).
        width: Arena width in px.
        height: Arena height in px.
        title: The figure's title (the session).
    """
    size = 6.0 * np.array([1.0, height / max(width, 1.0)])
    figure = Figure(
        figsize=(size[0] + 1.5, max(size[1], 2.5) + 0.6), layout="constrained"
    )
    axes = figure.subplots()
    animals = list(dict.fromkeys(table["animal"]))
    for animal, color in zip(animals, _colors(len(animals)), strict=True):
        rows = table[table["animal"] == animal]
        axes.plot(rows["x"], rows["y"], lw=0.7, color=color, label=animal)
    axes.set(xlim=(0, width), ylim=(height, 0), aspect="equal", title=title)
    axes.set(xlabel="x (px)", ylabel="y (px)")
    if animals:
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return figure


def occupancy_figure(
    counts: Mapping[str, NDArray[np.int64]], *, cell: float, title: str
) -> Figure:
    """Share of each animal's seen frames spent in each cell, one panel per animal.

    Args:
        counts: Per animal, frames per cell, shape (rows, columns), row 0 at
            y = 0.
        cell: Cell side in px.
        title: The figure's title (the session).
    """
    n = max(len(counts), 1)
    figure = Figure(figsize=(3.6 * n + 0.8, 3.4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, n))
    image = None
    for ax, (animal, grid) in zip(axes, counts.items(), strict=False):
        share = grid / max(int(grid.sum()), 1)
        rows, columns = grid.shape
        image = ax.imshow(
            share,
            cmap="magma",
            extent=(0, columns * cell, rows * cell, 0),
            interpolation="nearest",
        )
        ax.set(title=f"{animal} ({int(grid.sum())} frames)", xlabel="x (px)")
    axes[0].set_ylabel("y (px)")
    if image is not None:
        figure.colorbar(image, ax=list(axes), label="share of frames", shrink=0.8)
    figure.suptitle(title)
    return figure


def budget_figure(
    table: pd.DataFrame, *, labels: Sequence[str], actions: Sequence[str], title: str
) -> Figure:
    """Stacked shares of each action, one horizontal bar per row of `table`.

    Args:
        table: One row per bar, a column per action (shares summing to 1).
        labels: The bar labels, one per row.
        actions: The action columns, in stacking order.
        title: The figure's title.
    """
    y = np.arange(len(table), dtype=np.float64)
    figure = Figure(figsize=(10, 1.4 + 0.4 * max(len(table), 1)), layout="constrained")
    axes = figure.subplots()
    left = np.zeros(len(table))
    for action, color in zip(actions, _colors(len(actions)), strict=True):
        share = table[action].fillna(0).to_numpy(np.float64)
        axes.barh(y, share, left=left, color=color, label=action)
        left += share
    axes.set_yticks(y, list(labels), fontsize="small")
    axes.invert_yaxis()
    axes.set(xlim=(0, 1), xlabel="share of frames", title=title)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return figure


def bouts_figure(table: pd.DataFrame, *, behaviors: Sequence[str]) -> Figure:
    """Bouts per behavior and their mean duration, one bar per session and animal.

    Args:
        table: Columns session, animal, behavior, bouts, mean_frames, mean_s.
        behaviors: The behaviors, in axis order.
    """
    groups = list(dict.fromkeys(zip(table["session"], table["animal"], strict=True)))
    seconds = table["mean_s"].notna().any()
    figure = Figure(
        figsize=(max(8.0, 1.3 * len(behaviors) + 3), 6), layout="constrained"
    )
    count_axes, duration_axes = figure.subplots(2, 1, sharex=True)
    x = np.arange(len(behaviors), dtype=np.float64)
    width = 0.8 / max(len(groups), 1)
    for i, (group, color) in enumerate(zip(groups, _colors(len(groups)), strict=True)):
        rows = table[(table["session"] == group[0]) & (table["animal"] == group[1])]
        rows = rows.set_index("behavior").reindex(list(behaviors))
        offset = x - 0.4 + (i + 0.5) * width
        count_axes.bar(offset, rows["bouts"].fillna(0), width, color=color)
        duration = rows["mean_s" if seconds else "mean_frames"]
        duration_axes.bar(
            offset, duration.fillna(0), width, color=color, label=" / ".join(group)
        )
    count_axes.set(ylabel="bouts", title="Bouts per behavior")
    duration_axes.set(
        ylabel="mean duration (s)" if seconds else "mean duration (frames)"
    )
    duration_axes.set_xticks(x, list(behaviors))
    if groups:
        duration_axes.legend(
            fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
        )
    for axes in (count_axes, duration_axes):
        axes.grid(axis="y", alpha=0.3)
    return figure
