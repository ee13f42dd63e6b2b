"""Store functions for model runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.errors import StoreError
from etholoop.store.models import ModelRun, utcnow


def add_model_run(
    session: Session, *, stage: str, config: dict[str, Any], cycle_id: int | None
) -> ModelRun:
    """Add a `running` model run of a stage, with no `run_dir` yet, and return it."""
    run = ModelRun(
        stage=stage, status="running", run_dir="", config=config, cycle_id=cycle_id
    )
    session.add(run)
    session.flush()
    return run


def get_model_run(session: Session, run_id: int) -> ModelRun | None:
    """The model run with this id, if there is one."""
    return session.get(ModelRun, run_id)


def _existing_run(session: Session, run_id: int) -> ModelRun:
    run = get_model_run(session, run_id)
    if run is None:
        raise StoreError(f"no model run {run_id} in the store")
    return run


def end_model_run(session: Session, run_id: int, *, status: str) -> ModelRun:
    """Give a run its final status, finished now, and return it."""
    run = _existing_run(session, run_id)
    run.status = status
    run.finished_at = utcnow()
    return run


def reopen_model_run(session: Session, run_id: int, *, config: dict[str, Any]) -> None:
    """Mark a run `running` again (a stage that adds work to an earlier run)."""
    run = _existing_run(session, run_id)
    run.status, run.finished_at = "running", None
    run.config = {**run.config, **config}


def set_run_dir(session: Session, run_id: int, run_dir: str) -> None:
    """Record the folder of a run's files (relative to the project inside it)."""
    _existing_run(session, run_id).run_dir = run_dir


def update_model_run(
    session: Session,
    run_id: int,
    *,
    config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> None:
    """Add entries to a run's config and metrics; later keys replace earlier ones."""
    run = _existing_run(session, run_id)
    if config is not None:
        run.config = {**run.config, **config}
    if metrics is not None:
        run.metrics = {**(run.metrics or {}), **metrics}


def list_running_runs(session: Session) -> list[ModelRun]:
    """Every model run still marked `running`, by id."""
    query = select(ModelRun).where(ModelRun.status == "running")
    return list(session.scalars(query.order_by(ModelRun.id)))


def find_finished_run(
    session: Session, *, stage: str, run_id: int | None = None
) -> ModelRun | None:
    """The finished ("done") run of `stage` with id `run_id`, else the latest one."""
    query = select(ModelRun).where(ModelRun.stage == stage, ModelRun.status == "done")
    if run_id is not None:
        query = query.where(ModelRun.id == run_id)
    return session.scalars(query.order_by(ModelRun.id.desc()).limit(1)).first()
