"""Plots of a pose model run that a person would rather look at than read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure


def plot_training_curves(epochs: Sequence[dict[str, float]], path: Path) -> Path:
    """Losses and validation metrics per epoch, side by side, as a PNG.

    Args:
        epochs: One record per epoch with an "epoch" entry; names containing
            "loss" are losses, names starting with "metrics/" are metrics.
        path: The PNG to write.

    Returns:
        `path`.
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
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
