"""Pose training runs: their stage name and finding the one to use.

Starting and finishing runs is `etholoop.runs`, shared by every stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from etholoop.runs import require_run
from etholoop.store.runs import find_finished_run

if TYPE_CHECKING:
    from etholoop.store import ModelRun

POSE_TRAIN = "pose-train"
POSE_PRETRAIN = "pose-pretrain"


def find_pose_run(session: Session, run_id: int | None, where: str) -> ModelRun:
    """The finished pose training run `run_id`, or the latest one.

    Raises:
        ProjectError: there is no such finished run.
    """
    return require_run(
        session,
        stage=POSE_TRAIN,
        run_id=run_id,
        where=where,
        what="pose model run",
        how="train one with `etholoop train`",
    )


def find_pretrain_run(session: Session) -> ModelRun | None:
    """The latest finished self-supervised pretraining run, if there is one."""
    return find_finished_run(session, stage=POSE_PRETRAIN)
