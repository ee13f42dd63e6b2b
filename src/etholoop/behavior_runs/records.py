"""Behavior runs in the store: their folders under `runs/behavior/`, their failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from etholoop.errors import EtholoopError
from etholoop.project import Project
from etholoop.runs import finish_run, start_run
from etholoop.store.runs import set_run_dir


def run_folder(project: Project, run_id: int) -> Path:
    """The folder of behavior run `run_id`: PROJECT/runs/behavior/<id>."""
    return project.runs_dir / "behavior" / f"{run_id:04d}"


def start_behavior_run(
    project: Project, stage: str, config: dict[str, Any]
) -> tuple[int, Path]:
    """Record a running behavior run of `stage`; its id and folder."""
    with project.store.session() as session:
        run = start_run(session, stage=stage, config=config, cycle_id=None)
        run_dir = run_folder(project, run.id)
        set_run_dir(session, run.id, project.relative(run_dir))
        return run.id, run_dir


@contextmanager
def failed_on_error(project: Project, run_id: int) -> Iterator[None]:
    """Mark the run failed when the block raises a user or file error, and re-raise."""
    try:
        yield
    except (EtholoopError, ValueError, OSError):
        with project.store.session() as session:
            finish_run(session, run_id, status="failed")
        raise
