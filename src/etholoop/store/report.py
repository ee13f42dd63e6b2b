"""Store queries of the project report: finished runs of a stage, tracked videos."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.store.models import ModelRun, TrackedVideo, Video
from etholoop.store.tracking import TRACK_STAGE


def finished_runs(session: Session, *, stage: str) -> list[ModelRun]:
    """Every finished ("done") run of `stage`, newest first."""
    query = select(ModelRun).where(ModelRun.stage == stage, ModelRun.status == "done")
    return list(session.scalars(query.order_by(ModelRun.id.desc())))


def tracked_video_rows(session: Session) -> list[tuple[TrackedVideo, Video]]:
    """Every video of every tracking run with the video, by run then video id."""
    query = (
        select(TrackedVideo, Video)
        .join(ModelRun, ModelRun.id == TrackedVideo.run_id)
        .join(Video, Video.id == TrackedVideo.video_id)
        .where(ModelRun.stage == TRACK_STAGE)
        .order_by(TrackedVideo.run_id, TrackedVideo.video_id)
    )
    return [(row, video) for row, video in session.execute(query)]
