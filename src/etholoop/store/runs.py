"""Store functions for model runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.store.models import ModelRun


def list_running_runs(session: Session) -> list[ModelRun]:
    """Every model run still marked `running`, by id."""
    query = select(ModelRun).where(ModelRun.status == "running")
    return list(session.scalars(query.order_by(ModelRun.id)))
