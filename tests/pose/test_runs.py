"""Model runs whose process ended without finishing them are marked `interrupted`.

The slow tests train a tiny YOLO model (of the backends, the one that reaches its
first epoch soonest) on a tiny synthetic project and stop the training: a real
`etholoop train` subprocess killed with SIGKILL stays `running` until the
project is next opened, one sent SIGTERM marks its run at once; in this process,
Ctrl+C (SIGINT) and SIGHUP do too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.label_files import import_labels
from etholoop.pose.backend import TrainParams
from etholoop.pose.runs import POSE_TRAIN
from etholoop.pose.train import RunInterrupted, train_pose
from etholoop.project import DB_NAME, Project
from etholoop.runs import start_run
from etholoop.sampling import split_frames
from etholoop.store import ModelRun, Store, sqlite_url
from etholoop.synth import make_arena, write_arena

SKELETON = SkeletonConfig(
    keypoints=["nose", "earL", "earR", "tailB"], symmetry=[("earL", "earR")]
)


def _ended_pid() -> int:
    """The id of a process that has already ended (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_opening_a_project_marks_runs_of_ended_processes(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    ended = _ended_pid()
    here = socket.gethostname()
    with (
        Project.create(root, ProjectConfig(name="p", animals=1, skeleton=SKELETON)) as (
            project
        ),
        project.store.session() as session,
    ):
        alive = start_run(session, stage=POSE_TRAIN, config={}, cycle_id=None)
        assert alive.config["process"] == {"pid": os.getpid(), "host": here}
        dead = start_run(session, stage=POSE_TRAIN, config={}, cycle_id=None)
        dead.config = {"process": {"pid": ended, "host": here}}
        elsewhere = start_run(session, stage=POSE_TRAIN, config={}, cycle_id=None)
        elsewhere.config = {"process": {"pid": ended, "host": f"not-{here}"}}
        ids = alive.id, dead.id, elsewhere.id
    with Project.open(root) as project, project.store.session() as session:
        runs = [session.get(ModelRun, run_id) for run_id in ids]
        assert [run.status for run in runs] == ["running", "interrupted", "running"]
        assert f"process {ended} on {here} ended" in runs[1].metrics["error"]
        assert runs[1].finished_at is not None


def _tiny_project(tmp_path: Path) -> Path:
    """A project of 24 labeled 64x64 frames of one synthetic mouse, split."""
    arena = make_arena(n_animals=1, n_frames=24, width=64, height=64, seed=1)
    labels = write_arena(arena, tmp_path / "arena")["labels"]
    root = tmp_path / "tiny"
    config = ProjectConfig(name="tiny", animals=1, skeleton=SKELETON)
    with Project.create(root, config) as project:
        import_labels(project, labels)
        split_frames(project, test=0.1, n_trainval=16, n_predict=0, seed=0)
    return root


def _read_run(root: Path, run_id: int) -> ModelRun | None:
    """The run as stored, read without opening the project (no stale-run check)."""
    store = Store(sqlite_url(root / DB_NAME))
    try:
        with store.session() as session:
            return session.get(ModelRun, run_id)
    finally:
        store.close()


@pytest.fixture
def start_training() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Starts `etholoop train` subprocesses; kills what is left of them at the end."""
    procs: list[subprocess.Popen[str]] = []

    def start(root: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "etholoop.cli",
                "train",
                str(root),
                "--backend",
                "yolo",
                "--epochs",
                "1000",
                "--imgsz",
                "32",
                "--batch",
                "4",
                "--device",
                "cpu",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):  # training and data loaders
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def _wait_for_epoch(root: Path, run_id: int, proc: subprocess.Popen[str]) -> None:
    """Wait until run `run_id` has finished its first epoch, i.e. it is training."""
    results = root / "runs" / "pose" / f"{run_id:04d}" / "train" / "results.csv"
    deadline = time.monotonic() + 300
    while not results.is_file():
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail("training did not finish an epoch in 300 s")
        time.sleep(0.5)


@pytest.mark.slow
def test_a_stopped_training_is_marked_interrupted(
    tmp_path: Path, start_training: Callable[[Path], subprocess.Popen[str]]
) -> None:
    root = _tiny_project(tmp_path)

    killed = start_training(root)
    _wait_for_epoch(root, 1, killed)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    stored = _read_run(root, 1)
    assert stored is not None and stored.status == "running"  # nobody could mark it
    result = CliRunner().invoke(app, ["status", str(root), "--json"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.output)["cycles"][0]["runs"]
    assert (run["id"], run["status"]) == (1, "interrupted")

    stopped = start_training(root)
    _wait_for_epoch(root, 2, stopped)
    stopped.send_signal(signal.SIGTERM)
    _, stderr = stopped.communicate(timeout=60)
    assert stopped.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == (
        "run 2 interrupted by SIGTERM; marked interrupted in the store"
    )
    stored = _read_run(root, 2)
    assert stored is not None and stored.status == "interrupted"
    assert stored.metrics is not None and "SIGTERM" in stored.metrics["error"]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP], ids=["INT", "HUP"])
def test_ctrl_c_or_a_closed_terminal_interrupts_training(
    tmp_path: Path, signum: signal.Signals
) -> None:
    root = _tiny_project(tmp_path)

    @contextlib.contextmanager
    def signal_after_first_epoch(
        description: str, total: int | None
    ) -> Iterator[Callable[[int], None]]:
        training = description.startswith("Training")
        yield lambda n: os.kill(os.getpid(), signum) if training else None

    params = TrainParams(epochs=1000, imgsz=32, batch=4, workers=0, device="cpu")
    # as in a terminal, whatever the test runner inherited (nohup, a background job)
    inherited = signal.signal(signum, signal.SIG_DFL)
    try:
        with Project.open(root) as project:
            match = f"run 1 interrupted by {signum.name}"
            with pytest.raises(RunInterrupted, match=match):
                train_pose(
                    project, params, backend="yolo", report=signal_after_first_epoch
                )
            with project.store.session() as session:
                run = session.get(ModelRun, 1)
                assert run is not None and run.status == "interrupted"
        assert signal.getsignal(signum) is signal.SIG_DFL  # handler restored
    finally:
        signal.signal(signum, inherited)


@pytest.mark.slow
def test_an_ignored_hangup_stays_ignored_during_training(tmp_path: Path) -> None:
    """`nohup etholoop train ...` survives its terminal closing."""
    root = _tiny_project(tmp_path)
    seen = []

    @contextlib.contextmanager
    def look_at_the_handler(
        description: str, total: int | None
    ) -> Iterator[Callable[[int], None]]:
        if description.startswith("Training"):
            seen.append(signal.getsignal(signal.SIGHUP))
        yield lambda n: None

    params = TrainParams(epochs=1, imgsz=32, batch=4, workers=0, device="cpu")
    inherited = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with Project.open(root) as project:
            train_pose(project, params, backend="yolo", report=look_at_the_handler)
    finally:
        signal.signal(signal.SIGHUP, inherited)
    assert seen == [signal.SIG_IGN]
