"""`train_pose`: train a pose model on the project's labels and record the run."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import yaml
from attrs import evolve, frozen

from etholoop.errors import ConfigError, ProjectError
from etholoop.pose.backend import PoseBackend, TrainParams, get_backend
from etholoop.pose.dataset import DatasetSnapshot, write_pose_dataset
from etholoop.pose.plots import plot_training_curves
from etholoop.pose.runs import POSE_TRAIN, find_pose_run, find_pretrain_run
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run, start_run
from etholoop.store import latest_cycle
from etholoop.store.runs import set_run_dir
from etholoop.system import system_info

if TYPE_CHECKING:
    from etholoop.store import ModelRun

REQUESTED_CONFIG = "config.requested.yaml"
"""The run's settings as asked for (those that differ from the defaults)."""
RESOLVED_CONFIG = "config.resolved.yaml"
"""Every setting of the run: parameters, the backend's arguments, versions."""
SPLIT_FILE = "split.json"
"""The frames trained and validated on, with the versions of their labels."""


@frozen
class TrainReport:
    """What `train_pose` did.

    Attributes:
        run_id: The model run's id in the store.
        run_dir: Its folder (dataset, backend output, plots, and the files that
            replay the run: `REQUESTED_CONFIG`, `RESOLVED_CONFIG`, `SPLIT_FILE`).
        weights: The weights to predict with.
        n_train: Training frames.
        n_val: Validation frames (0: training frames validated).
        epochs: Metrics of every epoch, as the backend names them.
        curves: The training-curve plot.
        encoder: The pretrained encoder training started from, if any.
    """

    run_id: int
    run_dir: Path
    weights: Path
    n_train: int
    n_val: int
    epochs: list[dict[str, float]]
    curves: Path
    encoder: Path | None = None


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
def stop_signals_interrupt() -> Iterator[None]:
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


@contextmanager
def failures_recorded(project: Project, run_id: int) -> Iterator[None]:
    """Finish the run as "interrupted" or "failed" when the block raises.

    A stop (Ctrl+C or a `STOP_SIGNALS` signal under `stop_signals_interrupt`)
    is raised on as `RunInterrupted`; any other error as it is.
    """
    try:
        yield
    except KeyboardInterrupt as error:
        signum = getattr(error, "signum", signal.SIGINT)
        stopped = RunInterrupted(run_id, signum)
        with project.store.session() as session:
            finish_run(
                session, run_id, status="interrupted", metrics={"error": str(stopped)}
            )
        raise stopped from error
    except BaseException as error:
        with project.store.session() as session:
            finish_run(session, run_id, status="failed", metrics={"error": str(error)})
        raise


def train_pose(
    project: Project,
    params: TrainParams,
    *,
    backend: str = "heatmap",
    report: Reporter = silent,
) -> TrainReport:
    """Train a pose model on the latest cycle's labeled train+val frames.

    The run is recorded in the store before training starts (status "running")
    with its settings and the exact labels used (frame ids, splits, instance
    versions), and finished as "done" with per-epoch metrics and the weights
    path, "failed" with the error, or "interrupted" when Ctrl+C, SIGTERM or
    SIGHUP stopped it. The run folder gets the settings as asked for
    (`config.requested.yaml`), every setting resolved with the backend's own
    arguments and the library versions (`config.resolved.yaml`), and the frames
    used (`split.json`), written before training starts. A `pretrainable`
    backend given neither weights nor an encoder starts from the latest
    finished pretraining run (`pose.pretrain`).

    Raises:
        ProjectError: no splits or no labeled train+val frames.
        ConfigError: an unknown backend, or an encoder it cannot use.
        RunInterrupted: Ctrl+C, SIGTERM or SIGHUP stopped the training.
    """
    trainer = get_backend(backend)
    requested = params.requested()
    params = _with_pretrained_encoder(project, trainer, backend, params)
    with stop_signals_interrupt():
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
            set_run_dir(session, run_id, project.relative(run_dir))
        with failures_recorded(project, run_id):
            run_dir.mkdir(parents=True, exist_ok=True)
            _write_yaml(
                run_dir / REQUESTED_CONFIG,
                {"backend": backend, "params": requested},
            )
            snapshot = write_pose_dataset(project, run_dir / "dataset", report=report)
            _write_replay_files(run_dir, trainer, backend, params, snapshot)
            with report(f"Training pose model (run {run_id})", params.epochs) as step:
                result = trainer.train(
                    snapshot.data_yaml, run_dir, params, lambda epoch: step(1)
                )
            curves = plot_training_curves(
                result.epochs, run_dir / "training-curves.png"
            )
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
        encoder=params.encoder,
    )


def _with_pretrained_encoder(
    project: Project, trainer: PoseBackend, backend: str, params: TrainParams
) -> TrainParams:
    """`params`, starting from the project's latest pretrained encoder if any.

    Only for a backend that is `pretrainable`, and only when neither weights
    nor an encoder are given.

    Raises:
        ConfigError: an encoder is given to a backend that cannot use one, or
            together with weights.
    """
    if params.encoder is not None:
        if not trainer.pretrainable:
            raise ConfigError(
                f"{params.encoder}: the {backend} backend cannot start from a "
                "pretrained encoder"
            )
        if params.weights is not None:
            raise ConfigError(
                f"{params.encoder}: give weights or a pretrained encoder, not both"
            )
        return params
    if not trainer.pretrainable or params.weights is not None:
        return params
    with project.store.session() as session:
        run = find_pretrain_run(session)
        if run is None:
            return params
        return evolve(params, encoder=project.resolve(str(run.config["weights"])))


def _write_replay_files(
    run_dir: Path,
    trainer: PoseBackend,
    backend: str,
    params: TrainParams,
    snapshot: DatasetSnapshot,
) -> None:
    """Write `RESOLVED_CONFIG` and `SPLIT_FILE`: what a replay of the run needs."""
    _write_yaml(
        run_dir / RESOLVED_CONFIG,
        {
            "backend": backend,
            "params": params.to_dict(),
            "backend_arguments": trainer.arguments(snapshot.data_yaml, run_dir, params),
            "data_yaml": str(snapshot.data_yaml),
            "versions": system_info(),
        },
    )
    split = {"cycle_id": snapshot.cycle_id, "frames": snapshot.frames}
    (run_dir / SPLIT_FILE).write_text(json.dumps(split, indent=1) + "\n")


def _write_yaml(path: Path, content: dict[str, Any]) -> None:
    """Write `content` as YAML, keys in the order given."""
    path.write_text(yaml.safe_dump(content, sort_keys=False))


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


def previous_run_backend(project: Project, run_id: int | None) -> str:
    """The backend a finished training run (default: the latest) trained.

    Raises:
        ProjectError: no such finished run.
    """
    with project.store.session() as session:
        return str(find_pose_run(session, run_id, str(project.root)).config["backend"])
