"""Store functions for tracking runs: each video's status, error, files and quality."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.store.models import ModelRun, TrackedVideo, utcnow

TRACK_STAGE = "track"
"""Stage name of tracking runs in `model_runs`."""


def find_track_run(session: Session, key: dict[str, Any]) -> ModelRun | None:
    """The latest tracking run whose config holds `key` (pose run and parameters)."""
    query = select(ModelRun).where(ModelRun.stage == TRACK_STAGE)
    for run in session.scalars(query.order_by(ModelRun.id.desc())):
        if all(run.config.get(name) == value for name, value in key.items()):
            return run
    return None


def tracked_videos(session: Session, run_id: int) -> dict[int, TrackedVideo]:
    """Every video a tracking run has started, by video id."""
    query = select(TrackedVideo).where(TrackedVideo.run_id == run_id)
    return {row.video_id: row for row in session.scalars(query)}


def start_tracked_video(session: Session, run_id: int, video_id: int) -> None:
    """Mark a video of a run `running` again, forgetting an earlier attempt."""
    row = tracked_videos(session, run_id).get(video_id)
    if row is None:
        row = TrackedVideo(run_id=run_id, video_id=video_id)
        session.add(row)
    row.status, row.error, row.outputs, row.quality = "running", None, None, None
    row.started_at, row.finished_at = utcnow(), None
    session.flush()


def finish_tracked_video(
    session: Session,
    run_id: int,
    video_id: int,
    *,
    status: str,
    error: str | None = None,
    outputs: dict[str, Any] | None = None,
    quality: dict[str, Any] | None = None,
) -> None:
    """Record how a video of a run ended: `done` with its files, or `failed`."""
    row = tracked_videos(session, run_id)[video_id]
    row.status, row.error, row.outputs, row.quality = status, error, outputs, quality
    row.finished_at = utcnow()
    session.flush()
