"""`etholoop evaluate-tracks`: scores two track files; bad input is one line, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.io.tracks import write_tracks
from etholoop.types import Skeleton, Tracks

runner = CliRunner()


def _write(path: Path, xy: np.ndarray, keypoints: tuple[str, ...]) -> Path:
    xy = np.asarray(xy, np.float32)
    tracks = Tracks(
        xy=xy,
        scores=np.ones(xy.shape[:3], np.float32),
        individuals=[f"mouse{i}" for i in range(xy.shape[1])],
        skeleton=Skeleton(keypoints),
    )
    return write_tracks(tracks, path, path.suffix[1:])


@pytest.fixture
def two_mice(tmp_path: Path) -> dict[str, Path]:
    """Truth of two mice 100 frames long (.nc), the same with the ids swapped
    from frame 50 (.csv), and a file whose keypoints share no name (.nc)."""
    t = np.arange(100, dtype=np.float32)[:, None]
    walk = np.stack([np.hstack([t, t]), np.hstack([t, 300 - t])], axis=1)
    xy = np.stack([walk, walk + 10], axis=2)  # (100, 2, 2, 2)
    swapped = xy.copy()
    swapped[50:] = swapped[50:, ::-1]
    return {
        "truth": _write(tmp_path / "truth.nc", xy, ("nose", "tail")),
        "swapped": _write(tmp_path / "swapped.csv", swapped, ("nose", "tail")),
        "other": _write(tmp_path / "other.nc", xy, ("head", "thorax")),
    }


def test_json_scores_a_swap(two_mice: dict[str, Path]) -> None:
    args = ["evaluate-tracks", str(two_mice["swapped"]), str(two_mice["truth"])]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["id_switches"] == 2
    assert scores["idf1"] == pytest.approx(0.5)
    assert scores["n_frames"] == 100
    assert scores["keypoints"] == ["nose", "tail"]
    assert scores["gate_px"] == 50


def test_the_table_names_the_metrics(two_mice: dict[str, Path]) -> None:
    args = ["evaluate-tracks", str(two_mice["truth"]), str(two_mice["truth"])]
    result = runner.invoke(app, [*args, "--gate", "5"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "IDF1 │ 1.000" in out
    assert "identity switches │ 0" in out
    assert "matched within 5 px by the centroid of nose, tail" in out


def _error_line(args: list[str]) -> str:
    """Run the CLI as a user would; it must exit 1 with one line on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", "evaluate-tracks", *args],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_bad_input_is_one_line(two_mice: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nope.slp"
    assert _error_line([str(missing), str(two_mice["truth"])]) == (
        f"error: {missing}: no such file"
    )
    line = _error_line([str(two_mice["truth"]), str(two_mice["other"])])
    assert line.startswith(f"error: {two_mice['other']}: keypoints ['head', 'thorax']")
    assert f"share no name with {two_mice['truth']}" in line


def test_a_gate_must_be_positive(two_mice: dict[str, Path]) -> None:
    truth = str(two_mice["truth"])
    result = runner.invoke(app, ["evaluate-tracks", truth, truth, "--gate", "0"])
    assert result.exit_code == 2
    assert "--gate" in result.output


def test_sleap_predictions_on_the_two_flies(shared_data: Path) -> None:
    clip = shared_data / "sleap_two_flies_tracks"
    args = [str(clip / "clip.predictions.slp"), str(clip / "clip.slp"), "--json"]
    result = runner.invoke(app, ["evaluate-tracks", *args])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert round(scores["mota"], 3) == 0.900
    assert scores["id_switches"] == 19
    assert scores["keypoints"] == ["head", "thorax"]
