"""Model runs of any stage in the store: start one, finish it, notice it ended.

A run records the process that started it (pid and host name), so that a run
left `running` by a killed process can be told apart from one still at work.
Stages find their own runs (e.g. `pose.runs.find_pose_run`) with `require_run`.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from etholoop.errors import ProjectError
from etholoop.store.runs import (
    add_model_run,
    end_model_run,
    find_finished_run,
    list_running_runs,
    reopen_model_run,
    update_model_run,
)

if TYPE_CHECKING:
    from etholoop.store import ModelRun


def _this_process() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def require_run(
    session: Session, *, stage: str, run_id: int | None, where: str, what: str, how: str
) -> ModelRun:
    """The finished run of `stage` with id `run_id`, else the latest one.

    Raises:
        ProjectError: there is none; the message names `what` it looked for and
            `how` to make one.
    """
    run = find_finished_run(session, stage=stage, run_id=run_id)
    if run is None:
        raise ProjectError(
            f"{where}: no finished {what}"
            + (f" with id {run_id}" if run_id is not None else "")
            + f"; {how}"
        )
    return run


def start_run(
    session: Session, *, stage: str, config: dict[str, Any], cycle_id: int | None
) -> ModelRun:
    """Add a running model run of this process; the caller fills in `run_dir`."""
    return add_model_run(
        session,
        stage=stage,
        config={**config, "process": _this_process()},
        cycle_id=cycle_id,
    )


def resume_run(session: Session, run_id: int) -> None:
    """Mark an earlier run running again, in this process (it gets more work)."""
    reopen_model_run(session, run_id, config={"process": _this_process()})


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    metrics: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended, its metrics and config additions."""
    end_model_run(session, run_id, status=status)
    update_model_run(session, run_id, config=config, metrics=metrics)


def _process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this host (Windows: assumed so)."""
    if sys.platform == "win32":  # os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def interrupt_ended_runs(session: Session) -> list[int]:
    """Mark `interrupted` the running runs whose process on this host has ended.

    A process killed outright (SIGKILL, a crash, a power cut) cannot record that
    its run stopped. Runs started on another host (a shared PostgreSQL store),
    whose processes cannot be seen from here, and runs that recorded no process
    are left alone.

    Returns:
        The ids of the runs marked.
    """
    host = socket.gethostname()
    marked = []
    for run in list_running_runs(session):
        process = run.config.get("process") or {}
        if process.get("host") != host or _process_exists(process["pid"]):
            continue
        error = f"process {process['pid']} on {host} ended without finishing the run"
        finish_run(session, run.id, status="interrupted", metrics={"error": error})
        marked.append(run.id)
    return marked


def record_metrics(session: Session, run_id: int, metrics: dict[str, Any]) -> None:
    """Add metrics to a run's record (later keys replace earlier ones)."""
    update_model_run(session, run_id, metrics=metrics)
