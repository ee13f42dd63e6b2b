"""`train_pose`: train a pose model on the project's labels and record the run."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from attrs import frozen

from etholoop.errors import ProjectError
from etholoop.pose.backend import TrainParams, get_backend
from etholoop.pose.dataset import write_pose_dataset
from etholoop.pose.plots import plot_training_curves
from etholoop.pose.runs import POSE_TRAIN, find_pose_run
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run, start_run
from etholoop.store import latest_cycle
from etholoop.store.models import ModelRun


@frozen
class TrainReport:
    """What `train_pose` did.

    Attributes:
        run_id: The model run's id in the store.
        run_dir: Its folder (dataset, backend output, plots).
        weights: The weights to predict with.
        n_train: Training frames.
        n_val: Validation frames (0: training frames validated).
        epochs: Metrics of every epoch, as the backend names them.
        curves: The training-curve plot.
    """

    run_id: int
    run_dir: Path
    weights: Path
    n_train: int
    n_val: int
    epochs: list[dict[str, float]]
    curves: Path


class RunInterrupted(KeyboardInterrupt):
    """Training was stopped by a signal or Ctrl+C; its run is marked `interrupted`.

    A `KeyboardInterrupt`, so code that stops on Ctrl+C stops on this too.

    Attributes:
        run_id: The run that was stopped.
        signum: The signal (SIGINT for Ctrl+C); a CLI exits with 128 + signum.
    """

    def __init__(self, run_id: int, signum: int) -> None:
        self.run_id = run_id
        self.signum = signum
        super().__init__(f"run {run_id} interrupted by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        """The signal's name, e.g. "SIGTERM"."""
        return signal.Signals(self.signum).name


class _Signalled(KeyboardInterrupt):
    """Raised by the handler of a stopping signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP")
    if hasattr(signal, name)
)
"""Signals that stop training: Ctrl+C, `kill PID`, a closed terminal.

SIGINT is handled too, since a host program (a server, a test runner) may have
replaced Python's own KeyboardInterrupt handler.
"""


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """While the block runs, `STOP_SIGNALS` raise `_Signalled` instead of exiting.

    A signal the process ignores stays ignored (`nohup` ignores SIGHUP, a shell
    SIGINT for background jobs). Handlers can only be set from the main thread;
    elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise _Signalled(signum)

    previous = {
        signum: signal.signal(signum, interrupt)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def train_pose(
    project: Project,
    params: TrainParams,
    *,
    backend: str = "yolo",
    report: Reporter = silent,
) -> TrainReport:
    """Train a pose model on the latest cycle's labeled train+val frames.

    The run is recorded in the store before training starts (status "running")
    with its settings and the exact labels used (frame ids, splits, instance
    versions), and finished as "done" with per-epoch metrics and the weights
    path, "failed" with the error, or "interrupted" when Ctrl+C, SIGTERM or
    SIGHUP stopped it.

    Raises:
        ProjectError: no splits or no labeled train+val frames.
        ConfigError: an unknown backend.
        RunInterrupted: Ctrl+C, SIGTERM or SIGHUP stopped the training.
    """
    trainer = get_backend(backend)
    with _stop_signals_interrupt():
        with project.store.session() as session:
            cycle = latest_cycle(session)
            run = start_run(
                session,
                stage=POSE_TRAIN,
                config={"backend": backend, "params": params.to_dict()},
                cycle_id=None if cycle is None else cycle.id,
            )
            run_id = run.id
            run_dir = project.runs_dir / "pose" / f"{run_id:04d}"
            run.run_dir = project.relative(run_dir)
        try:
            snapshot = write_pose_dataset(project, run_dir / "dataset", report=report)
            with report(f"Training pose model (run {run_id})", params.epochs) as step:
                result = trainer.train(
                    snapshot.data_yaml, run_dir, params, lambda epoch: step(1)
                )
            curves = plot_training_curves(
                result.epochs, run_dir / "training-curves.png"
            )
        except KeyboardInterrupt as error:
            signum = getattr(error, "signum", signal.SIGINT)
            stopped = RunInterrupted(run_id, signum)
            with project.store.session() as session:
                finish_run(
                    session,
                    run_id,
                    status="interrupted",
                    metrics={"error": str(stopped)},
                )
            raise stopped from error
        except BaseException as error:
            with project.store.session() as session:
                finish_run(
                    session, run_id, status="failed", metrics={"error": str(error)}
                )
            raise
    record: dict[str, Any] = {
        "weights": project.relative(result.weights),
        "data": {"cycle_id": snapshot.cycle_id, "frames": snapshot.frames},
    }
    with project.store.session() as session:
        finish_run(
            session,
            run_id,
            status="done",
            metrics={"epochs": result.epochs},
            config=record,
        )
    return TrainReport(
        run_id=run_id,
        run_dir=run_dir,
        weights=result.weights,
        n_train=snapshot.n_train,
        n_val=snapshot.n_val,
        epochs=result.epochs,
        curves=curves,
    )


def run_weights(project: Project, run: ModelRun) -> Path:
    """The weights file a finished training run left."""
    return project.resolve(str(run.config["weights"]))


def previous_run_weights(project: Project, run_id: int | None) -> Path:
    """The weights of a finished training run (default: the latest).

    The next cycle's training continues from them instead of from scratch.

    Raises:
        ProjectError: no such finished run, or its weights file is gone.
    """
    with project.store.session() as session:
        run = find_pose_run(session, run_id, str(project.root))
        weights = run_weights(project, run)
        found_id = run.id
    if not weights.is_file():
        raise ProjectError(f"{weights}: weights of run {found_id} are missing")
    return weights
