"""The CLI: commands run, user errors print one line and exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from etholoop.cli import app

runner = CliRunner()
INIT = ["init", "--animals", "2", "--keypoints", "nose,earL,earR,tailB"]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_init_then_status_json(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    code, out = _run(
        *INIT,
        str(proj),
        "--skeleton",
        "nose-earL,nose-earR",
        "--behaviors",
        "rest,walk",
    )
    assert code == 0, out
    code, out = _run("status", str(proj), "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["animals"] == 2
    assert summary["keypoints"] == ["nose", "earL", "earR", "tailB"]
    assert summary["behaviors"] == ["rest", "walk"]
    assert summary["videos"] == []
    assert summary["frames"]["test"] == 0
    code, out = _run("status", str(proj))
    assert code == 0 and "Frames and labels" in out


def _error_line(args: list[str]) -> str:
    """Run the installed CLI in a subprocess, as a user would, and return stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", *args], capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    assert "already an etholoop project" in _error_line([*INIT, str(proj)])
    assert "not an etholoop project" in _error_line(["status", str(tmp_path)])
    assert "no such project folder" in _error_line(["status", str(tmp_path / "nope")])
    config = proj / "etholoop.yaml"
    config.write_text(config.read_text() + "animls: 3\n")
    line = _error_line(["status", str(proj)])
    assert line == f"error: {config}: unknown key 'animls'"


def test_init_with_bad_skeleton_writes_nothing(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    line = _error_line([*INIT, str(proj), "--skeleton", "nose-tail"])
    assert "unknown keypoint 'tail'" in line
    assert not proj.exists()


def test_info_lists_versions() -> None:
    code, out = _run("info")
    assert code == 0
    for key in ("python", "torch", "av", "ffmpeg", "device"):
        assert f"{key}:" in out


def test_help_says_where_outputs_go() -> None:
    code, out = _run("preprocess", "--help")
    assert code == 0 and "PROJECT/videos" in out


def test_model_commands_explain_what_is_missing(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    assert "run `etholoop split` first" in _error_line(["train", str(proj)])
    assert "train one with `etholoop train`" in _error_line(["predict", str(proj)])
    assert "train one with `etholoop train`" in _error_line(["evaluate", str(proj)])
    assert "run `etholoop split` first" in _error_line(["cycle", str(proj)])
    assert "--subset everything" in _error_line(
        ["predict", str(proj), "--subset", "everything"]
    )
    assert "no such weights file" in _error_line(
        ["train", str(proj), "--weights", str(tmp_path / "none.pt")]
    )
    assert "train one with `etholoop train`" in _error_line(
        ["train", str(proj), "--from-run", "latest"]
    )
    assert "give a run id or 'latest'" in _error_line(
        ["train", str(proj), "--from-run", "last"]
    )
    assert "choose one" in _error_line(
        ["train", str(proj), "--from-run", "3", "--weights", str(tmp_path / "a.pt")]
    )
    assert "--host 0.0.0.0" in _error_line(["serve", str(proj), "--host", "0.0.0.0"])
