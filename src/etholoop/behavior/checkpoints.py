"""Checkpoints and epoch logs of the behavior networks (clip3d, flow, sequence).

A checkpoint is a dict saved with `torch.save` holding a `format` name; loading
uses `weights_only=True`, so no pickled code runs. The epoch log is a CSV; when
TensorBoard is installed, each new epoch's numbers also go to `tensorboard/`
beside it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from etholoop.atomic import written_atomically
from etholoop.errors import ConfigError

FILES = {
    "best": "best.pt",
    "last": "last.pt",
    "log": "epochs.csv",
    "curves": "training-curves.png",
}
"""What each behavior network's training writes into its `out_dir`, by key."""


def write_log_csv(
    records: Sequence[dict[str, float]], path: Path, columns: Sequence[str]
) -> Path:
    """Write epoch records as a CSV of `columns` (epoch as an integer); `path`."""
    with written_atomically(path) as partial, partial.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(columns))
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "epoch": int(record["epoch"])})
    if records:
        _to_tensorboard(records[-1], path.parent / "tensorboard")
    return path


def _to_tensorboard(record: dict[str, float], folder: Path) -> None:
    """Add one epoch's numbers to a TensorBoard log, if TensorBoard is installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return
    with SummaryWriter(str(folder)) as writer:
        for name, value in record.items():
            if name != "epoch":
                writer.add_scalar(name, float(value), int(record["epoch"]))


def cpu_state(model: nn.Module) -> dict[str, Tensor]:
    """A copy of the model's state on the CPU."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def save_checkpoint(state: dict[str, Any], path: Path, format_name: str) -> None:
    """Save `state` with `{"format": format_name}`, atomically."""
    with written_atomically(path) as partial:
        torch.save({"format": format_name, **state}, partial)


def load_checkpoint(path: Path, format_name: str) -> dict[str, Any]:
    """A checkpoint's contents, tensors on the CPU; no pickled code is run.

    Raises:
        ConfigError: if the file is unreadable or of another format.
    """
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise ConfigError(f"{path}: not a readable checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != format_name:
        raise ConfigError(f"{path}: not an {format_name} checkpoint")
    return state
