"""The CLI: commands run, user errors print one line and exit 1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.pose.heatmap.backend import read_weights
from etholoop.pose.train import REQUESTED_CONFIG, RESOLVED_CONFIG
from etholoop.project import Project
from etholoop.runs import finish_run, record_metrics, start_run
from etholoop.store import latest_cycle
from etholoop.store.status import list_runs
from etholoop.synth import make_arena, write_arena

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


def _split_arena_project(
    tmp_path: Path, *, n_frames: int, train_val: int
) -> tuple[Path, dict[str, Path]]:
    """A project of a generated 2-mouse arena's labels, split by the CLI, and the
    arena's files (`synth.write_arena`)."""
    arena = write_arena(
        make_arena(n_animals=2, n_frames=n_frames, width=96, height=64, seed=0),
        tmp_path / "arena",
    )
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    assert _run("import", str(proj), str(arena["labels"]))[0] == 0
    split = ("--test", "0.25", "--train-val", str(train_val), "--predict", "0")
    code, out = _run("split", str(proj), *split)
    assert code == 0, out
    return proj, arena


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


def _usage_error(args: list[str]) -> str:
    """Run the installed CLI on arguments its parser refuses; return stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", *args], capture_output=True, text=True
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return " ".join(proc.stderr.split())


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
    assert "'everything' is not one of 'predict', 'reserve'" in _usage_error(
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


def test_help_shows_bracketed_text() -> None:
    code, out = _run("split", "--help")
    assert code == 0, out
    assert "[default: 0.15 on the first call, then kept]" in " ".join(out.split())


def test_init_warns_about_left_right_names_it_could_not_pair(tmp_path: Path) -> None:
    keypoints = "snout,leftEar,ear_right,tailbase"
    args = ["init", "--animals", "1", "--keypoints", keypoints]
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", *args, str(tmp_path / "a")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("warning: no left/right partner for leftEar, ear_right")
    assert "--symmetry a-b" in line and "--no-flip" in line
    code, out = _run(*args, str(tmp_path / "b"), "--symmetry", "leftEar-ear_right")
    assert code == 0 and "warning" not in out
    code, out = _run(*INIT, str(tmp_path / "c"))  # earL/earR are paired
    assert code == 0 and "warning" not in out


def test_serve_on_a_busy_port_says_so_before_printing_a_url(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "etholoop.cli",
                "serve",
                str(proj),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout + proc.stderr
    assert proc.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use; pass --port"
    )


def test_serve_answers_at_the_url_it_prints(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "etholoop.cli", "serve", str(proj), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split(" at ")[1].split()[0]
        assert url == f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "api/project", timeout=5) as reply:
                    assert json.load(reply)["name"] == "proj"
                break
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionRefusedError):
                    raise
                assert time.monotonic() < deadline, "serve did not answer in 30 s"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_train_records_its_augmentation_settings(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    yolo = ["train", str(proj), "--backend", "yolo"]
    assert "run `etholoop split` first" in _error_line(
        [*yolo, "--no-flip", "--rotate", "30", "--scale", "0.2"]
    )
    with Project.open(proj) as project, project.store.session() as session:
        (run,) = list_runs(session)
        params = run.config["params"]
    assert (params["flip"], params["rotate"], params["scale"]) == (False, 30.0, 0.2)
    assert params["augment"] is True and run.config["backend"] == "yolo"
    assert "--no-augment turns every augmentation off" in _error_line(
        [*yolo, "--no-augment", "--rotate", "10"]
    )


def test_yolo_options_without_a_backend_say_to_choose_yolo(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert _run(*INIT, str(proj))[0] == 0
    assert _error_line(["train", str(proj), "--imgsz", "320", "--scale", "0.2"]) == (
        "error: --imgsz, --scale: options of the yolo backend; add --backend yolo "
        "(the default backend, heatmap, sizes its crops from the labels and "
        "rotates and zooms them itself)"
    )
    with Project.open(proj) as project, project.store.session() as session:
        assert list_runs(session) == []  # refused before any run is recorded


@pytest.mark.slow
def test_train_defaults_to_heatmap_and_evaluate_counts_the_animals_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHOLOOP_THREADS", "1")  # the backend sets torch's threads
    proj, _ = _split_arena_project(tmp_path, n_frames=12, train_val=9)
    threads = torch.get_num_threads()
    try:
        code, out = _run("train", str(proj), "--epochs", "1", "--device", "cpu")
        assert code == 0, out
        code, evaluated = _run("evaluate", str(proj))
        assert code == 0, evaluated
    finally:
        torch.set_num_threads(threads)
    with Project.open(proj) as project, project.store.session() as session:
        (run,) = list_runs(session)
        assert (run.status, run.config["backend"]) == ("done", "heatmap")
        run_dir = project.resolve(run.run_dir)
    for name in (REQUESTED_CONFIG, RESOLVED_CONFIG):
        assert yaml.safe_load((run_dir / name).read_text())["backend"] == "heatmap"
    weights = read_weights(run_dir / "train" / "weights" / "best.pt")  # its format
    assert weights["keypoints"] == ["nose", "earL", "earR", "tailB"]
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    found, extra = metrics["n_matched"], metrics["n_extra"]
    assert metrics["n_truth"] == 6  # 3 test frames of 2 mice
    assert (
        f"animals: found {found} of 6 ({6 - found} missed), {extra} extra, "
        in " ".join(evaluated.split())
    )


@pytest.mark.slow
def test_from_run_continues_with_the_backend_that_run_trained(tmp_path: Path) -> None:
    proj, _ = _split_arena_project(tmp_path, n_frames=12, train_val=9)
    tiny = ["--epochs", "1", "--imgsz", "64", "--batch", "8", "--device", "cpu"]
    code, out = _run("train", str(proj), "--backend", "yolo", *tiny)
    assert code == 0, out
    code, out = _run("train", str(proj), "--from-run", "latest", *tiny)
    assert code == 0, out  # --imgsz is fine: the run it continues is yolo's
    assert _error_line(
        ["train", str(proj), "--from-run", "1", "--backend", "heatmap"]
    ) == (
        "error: --from-run 1: that run trained the yolo backend; "
        "--backend heatmap cannot continue from it"
    )
    with Project.open(proj) as project, project.store.session() as session:
        runs = list_runs(session)
    assert [(r.config["backend"], r.status) for r in runs] == [("yolo", "done")] * 2


def test_status_as_json_and_as_tables(tmp_path: Path) -> None:
    proj, arena = _split_arena_project(tmp_path, n_frames=20, train_val=10)
    with Project.open(proj) as project, project.store.session() as session:
        cycle = latest_cycle(session)
        assert cycle is not None
        run_id = start_run(session, stage="pose-train", config={}, cycle_id=cycle.id).id
        finish_run(session, run_id, status="done")
        test = {
            "oks_map50_95": 0.5,
            "box_map50": None,
            "rmse": 2.0,
            "pck": {"0.1": None},
        }
        record_metrics(session, run_id, {"test": test})
    code, out = _run("status", str(proj), "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert list(summary) == [
        "project", "name", "animals", "keypoints", "behaviors", "store",
        "videos", "frames", "pool", "labels", "cycles",
    ]  # fmt: skip
    (video,) = summary["videos"]
    assert video == {
        "id": 1, "path": str(arena["video"]), "kind": "file", "normalized_from": None,
        "frames": 20, "fps": 30.0, "size": [96, 64], "codec": "h264", "condition": None,
    }  # fmt: skip
    assert summary["frames"] == {
        "test": 5, "trainval": 15, "predict": 0, "reserve": 0, "unassigned": 0
    }  # fmt: skip
    assert summary["labels"]["test"] == {
        "manual": {"instances": 10, "frames": 5},
        "predicted": {"instances": 0, "frames": 0},
    }
    assert sum(summary["pool"]["trainval"].values()) == 15
    assert summary["pool"]["reserve"] == {}
    (cycle_summary,) = summary["cycles"]
    assert cycle_summary["index"] == 0 and cycle_summary["settings"] is None
    assert cycle_summary["runs"] == [
        {
            "id": run_id,
            "stage": "pose-train",
            "status": "done",
            "test": {
                "oks_map50_95": 0.5,
                "box_map50": None,
                "rmse": 2.0,
                "pck@0.1": None,
            },
        }
    ]
    code, out = _run("status", str(proj))
    assert code == 0, out
    (row,) = [line for line in out.splitlines() if "done" in line]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells == ["0", "split", str(run_id), "done", "n/a", "0.500", "2.000"]
