"""`etholoop sample`, `split` and the pool in `status`, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from etholoop.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_sample_split_status(tmp_path, arena_videos):
    proj = str(tmp_path / "proj")
    assert _run("init", proj, "--animals", "2", "--keypoints", "nose,tail")[0] == 0
    assert _run("add-videos", proj, *map(str, arena_videos))[0] == 0
    code, out = _run(
        "sample", proj, "--n", "24", "--strata", "condition,time",
        "--condition-from", r"arena-(\w+)", "--time-bins", "3",
    )  # fmt: skip
    assert code == 0, out
    assert "Chose 24 frame(s) (24 new) in 6 strata" in out
    code, out = _run("split", proj, "--train-val", "8", "--predict", "6")
    assert code == 0, out
    assert "Cycle 0: test 4, trainval 8, predict 6, reserve 6 (val 2)" in out
    code, out = _run("status", proj)
    assert code == 0 and "Frames per split and stratum" in out
    assert "condition=drug|time=2" in out
    summary = json.loads(_run("status", proj, "--json")[1])
    assert sum(summary["pool"]["trainval"].values()) == 8


def test_sampling_errors_are_one_line(tmp_path, arena_videos):
    proj = str(tmp_path / "proj")
    _run("init", proj, "--animals", "2", "--keypoints", "nose,tail")
    _run("add-videos", proj, *map(str, arena_videos))
    for args, message in (
        (["sample", proj, "--n", "9999"], "asked for 9999 frames"),
        (["split", proj], "no frames to split"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "etholoop.cli", *args],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 1
        assert len(proc.stderr.strip().splitlines()) == 1
        assert message in proc.stderr
    for strategy in ("best", "uncertainty"):  # uncertainty ranks by a model: cycle's
        code, out = _run("sample", proj, "--n", "5", "--strategy", strategy)
        assert code == 2, out
        assert f"'{strategy}' is not one of 'uniform', 'random', 'stratified', " in out
    assert not (tmp_path / "proj" / "frames").exists()


def test_a_short_sample_says_how_many_distinct_frames_there_were(tmp_path, still_video):
    proj = str(tmp_path / "proj")
    _run("init", proj, "--animals", "1", "--keypoints", "nose,tail")
    _run("add-videos", proj, str(still_video))
    code, out = _run("sample", proj, "--n", "6")
    assert code == 0, out
    assert "Chose 1 frame(s) (1 new) in 4 strata" in out
    assert "only 1 distinct frame(s) found in these videos, of 6 asked for" in out


def test_a_short_diverse_sample_points_at_stratified(tmp_path, still_video):
    proj = str(tmp_path / "proj")
    _run("init", proj, "--animals", "1", "--keypoints", "nose,tail")
    _run("add-videos", proj, str(still_video))
    code, out = _run("sample", proj, "--n", "6", "--strategy", "diverse")
    assert code == 0, out
    assert "of 6: the rest of diverse's candidate pool" in out
    assert "found in these videos" not in out
