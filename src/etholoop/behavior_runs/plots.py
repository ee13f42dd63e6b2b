"""Plots of a behavior evaluation: confusion per behavior, truth vs prediction raster.

Each draws on its own `Figure` (the Agg canvas), so pyplot's global backend is
left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from etholoop.formatting import format_metric

MAX_RASTERS = 8
"""Most (session, animal) rasters drawn in one figure."""


def plot_confusion(per_behavior: Mapping[str, Mapping[str, Any]], path: Path) -> Path:
    """Save `confusion_figure` as a PNG at `path`; returns `path`."""
    figure = confusion_figure(per_behavior)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


def confusion_figure(per_behavior: Mapping[str, Mapping[str, Any]]) -> Figure:
    """One 2x2 confusion matrix (true x predicted, frames) per behavior.

    Args:
        per_behavior: Per behavior name, "confusion" (rows true off/on,
            columns predicted off/on, frames) and "f1" (None: undefined).
    """
    names = list(per_behavior)
    figure = Figure(figsize=(2.6 * max(len(names), 1), 3), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, max(len(names), 1)))
    for ax, name in zip(axes, names, strict=False):
        matrix = np.asarray(per_behavior[name]["confusion"], float)
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for t in (0, 1):
            for p in (0, 1):
                ax.text(
                    p,
                    t,
                    f"{int(matrix[t, p])}\n{shares[t, p]:.0%}",
                    ha="center",
                    va="center",
                    color="white" if shares[t, p] > 0.5 else "black",
                    fontsize="small",
                )
        ax.set(
            xticks=[0, 1],
            yticks=[0, 1],
            xticklabels=["off", "on"],
            yticklabels=["off", "on"],
            xlabel="predicted",
            ylabel="true",
            title=f"{name}\nF1 {format_metric(per_behavior[name]['f1'])}",
        )
    return figure


RasterRow = tuple[str, NDArray[np.bool_] | None, NDArray[np.bool_], NDArray[np.bool_]]
"""(title, truth or None, prediction, tested) of one (session, animal)."""


def plot_ethogram_raster(
    rows: Sequence[RasterRow], behaviors: Sequence[str], path: Path
) -> Path:
    """Save `ethogram_raster_figure` as a PNG at `path`; returns `path`."""
    figure = ethogram_raster_figure(rows, behaviors)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


def ethogram_raster_figure(
    rows: Sequence[RasterRow], behaviors: Sequence[str]
) -> Figure:
    """Truth above prediction, one lane per behavior, for each (session, animal).

    Args:
        rows: (title, truth, prediction, tested) of each; truth and prediction
            of shape (frames, behaviors), tested of shape (frames,): frames
            outside a test split are grey. Truth None (an animal nobody
            labeled): prediction lanes only.
        behaviors: Names of the behaviors.
    """
    shown = rows[:MAX_RASTERS]
    n_lanes = sum(
        len(behaviors) * (1 if truth is None else 2) for _, truth, *_ in shown
    )
    figure = Figure(figsize=(12, 0.5 + 0.45 * max(n_lanes, 1)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(max(len(shown), 1), 1, squeeze=False)[:, 0])
    colors = np.array(
        [[0.12, 0.47, 0.71], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16]]
    )
    for ax, (title, truth, pred, tested) in zip(axes, shown, strict=False):
        lanes, labels = [], []
        for k, behavior in enumerate(behaviors):
            pairs = [("true", truth)] if truth is not None else []
            for name, values in (*pairs, ("pred", pred)):
                lane = np.ones((len(tested), 3))
                lane[values[:, k]] = colors[k % len(colors)]
                lane[~tested] = 0.85
                lanes.append(lane)
                labels.append(f"{behavior} {name}")
        ax.imshow(np.stack(lanes), aspect="auto", interpolation="nearest")
        ax.set(title=title, yticks=range(len(labels)), xlabel="frame")
        ax.set_yticklabels(labels, fontsize="small")
    return figure
