"""Pose training runs: their stage name and finding the one to use.

Starting and finishing runs is `etholoop.runs`, shared by every stage.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.errors import ProjectError
from etholoop.store.models import ModelRun

POSE_TRAIN = "pose-train"


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
