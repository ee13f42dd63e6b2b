"""Model runs in the store: start one, finish it, find the one to use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.errors import ProjectError
from etholoop.store.models import ModelRun, utcnow

POSE_TRAIN = "pose-train"


def start_run(
    session: Session, *, stage: str, config: dict[str, Any], cycle_id: int | None
) -> ModelRun:
    """Add a running model run; its `run_dir` is filled in by the caller."""
    run = ModelRun(
        stage=stage, status="running", run_dir="", config=config, cycle_id=cycle_id
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    metrics: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended, its metrics and config additions."""
    run = session.get(ModelRun, run_id)
    assert run is not None
    run.status = status
    run.finished_at = utcnow()
    if metrics is not None:
        record_metrics(session, run_id, metrics)
    if config is not None:
        run.config = {**run.config, **config}


def record_metrics(session: Session, run_id: int, metrics: dict[str, Any]) -> None:
    """Add metrics to a run's record (later keys replace earlier ones)."""
    run = session.get(ModelRun, run_id)
    assert run is not None
    run.metrics = {**(run.metrics or {}), **metrics}


def find_pose_run(session: Session, run_id: int | None, where: str) -> ModelRun:
    """The finished pose training run `run_id`, or the latest one.

    Raises:
        ProjectError: there is no such finished run.
    """
    query = select(ModelRun).where(
        ModelRun.stage == POSE_TRAIN, ModelRun.status == "done"
    )
    if run_id is not None:
        query = query.where(ModelRun.id == run_id)
    run = session.scalars(query.order_by(ModelRun.id.desc()).limit(1)).first()
    if run is None:
        raise ProjectError(
            f"{where}: no finished pose model run"
            + (f" with id {run_id}" if run_id is not None else "")
            + "; train one with `etholoop train`"
        )
    return run
