from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from etholoop.behavior.checkpoints import (
    load_checkpoint,
    save_checkpoint,
    write_log_csv,
)
from etholoop.errors import ConfigError


def test_a_checkpoint_of_another_format_is_refused(tmp_path: Path) -> None:
    save_checkpoint({"model": {"w": torch.ones(2)}}, tmp_path / "a.pt", "fmt-a/1")
    assert load_checkpoint(tmp_path / "a.pt", "fmt-a/1")["model"]["w"].sum() == 2
    with pytest.raises(ConfigError, match="not an fmt-b/1 checkpoint"):
        load_checkpoint(tmp_path / "a.pt", "fmt-b/1")


def test_the_epoch_log_goes_to_tensorboard_only_when_it_is_installed(
    tmp_path: Path,
) -> None:
    records = [{"epoch": 1.0, "loss": 0.5}, {"epoch": 2.0, "loss": 0.25}]
    path = write_log_csv(records, tmp_path / "epochs.csv", ["epoch", "loss"])
    assert path.read_text().splitlines() == ["epoch,loss", "1,0.5", "2,0.25"]
    installed = importlib.util.find_spec("tensorboard") is not None
    assert (tmp_path / "tensorboard").is_dir() == installed
