"""Plots of a pose model run that a person would rather look at than read.

Each draws on its own `Figure` (the Agg canvas), so pyplot's global backend is
left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from etholoop.formatting import UNDEFINED, format_metric
from etholoop.pose.metrics import PoseMetrics


def plot_training_curves(epochs: Sequence[dict[str, float]], path: Path) -> Path:
    """Save `training_curves_figure` as a PNG at `path`; returns `path`."""
    figure = training_curves_figure(epochs)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


def training_curves_figure(epochs: Sequence[dict[str, float]]) -> Figure:
    """Losses and validation metrics per epoch, side by side.

    Args:
        epochs: One record per epoch with an "epoch" entry; names containing
            "loss" are losses, names starting with "metrics/" are metrics.
    """
    figure = Figure(figsize=(10, 4), layout="constrained")
    losses, metrics = figure.subplots(1, 2)
    x = [row.get("epoch", i + 1) for i, row in enumerate(epochs)]
    names = list(epochs[0]) if epochs else []
    for name in names:
        values = [row[name] for row in epochs]
        if "loss" in name:
            losses.plot(x, values, marker=".", label=name)
        elif name.startswith("metrics/"):
            metrics.plot(x, values, marker=".", label=name.removeprefix("metrics/"))
    losses.set(title="Losses", xlabel="epoch")
    metrics.set(title="Validation metrics", xlabel="epoch", ylim=(0, 1))
    for axes in (losses, metrics):
        if axes.lines:
            axes.legend(fontsize="small")
        axes.grid(alpha=0.3)
    return figure


def plot_pose_metrics(metrics: PoseMetrics, path: Path) -> Path:
    """Save `pose_metrics_figure` as a PNG at `path`; returns `path`."""
    figure = pose_metrics_figure(metrics)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=100)
    return path


def pose_metrics_figure(metrics: PoseMetrics) -> Figure:
    """Bar charts of per-keypoint RMSE (top) and PCK by threshold (bottom).

    A metric that is None (nothing to measure, e.g. a keypoint never labeled)
    gets no bar but an "n/a" mark at its place, so it cannot be read as 0.
    """
    names = list(metrics.rmse_per_keypoint)
    x = np.arange(len(names), dtype=np.float64)
    figure = Figure(figsize=(max(6.0, 0.6 * len(names) + 2.0), 7.0), layout="tight")
    rmse_axes, pck_axes = figure.subplots(2, 1, sharex=True)
    _bars(rmse_axes, x, [metrics.rmse_per_keypoint[n] for n in names], 0.8, "tab:red")
    rmse_axes.set_ylabel("RMSE (px)")
    rmse_axes.set_title(
        f"box mAP50 {format_metric(metrics.box_map50, '.3f')}  "
        f"OKS mAP50-95 {format_metric(metrics.oks_map50_95, '.3f')}  "
        f"RMSE {format_metric(metrics.rmse, '.2f')} px"
    )
    width = 0.8 / max(len(metrics.pck_per_keypoint), 1)
    for i, (threshold, per_keypoint) in enumerate(metrics.pck_per_keypoint.items()):
        _bars(
            pck_axes,
            x + (i + 0.5) * width - 0.4,
            [per_keypoint[n] for n in names],
            width,
            None,
            label=f"PCK@{threshold:g} ({format_metric(metrics.pck[threshold], '.3f')})",
        )
    pck_axes.set_ylabel("PCK")
    pck_axes.set_ylim(0.0, 1.05)
    pck_axes.set_xticks(x, names, rotation=45, ha="right")
    if metrics.pck_per_keypoint:
        pck_axes.legend(loc="lower right")
    return figure


def _bars(
    axes: Axes,
    x: NDArray[np.float64],
    values: Sequence[float | None],
    width: float,
    color: str | None,
    *,
    label: str | None = None,
) -> None:
    """Bars of the values that exist, "n/a" at the foot of those that are None."""
    heights = [np.nan if v is None else v for v in values]
    axes.bar(x, heights, width=width, color=color, label=label)
    for position, value in zip(x, values, strict=True):
        if value is None:
            axes.text(
                position,
                0.0,
                UNDEFINED,
                ha="center",
                va="bottom",
                rotation=90,
                fontsize="small",
                color="gray",
            )
