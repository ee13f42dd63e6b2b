"""Store functions for the pose tracks of a session: imports, tracking outputs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.errors import StoreError
from etholoop.store.models import ImportedTracks, ModelRun, TrackedVideo
from etholoop.store.tracking import TRACK_STAGE

TRACK_FILE_FORMATS = ("nc", "slp")
"""Outputs of a tracking run that hold tracks with scores, in order of preference."""


def add_imported_tracks(
    session: Session, *, video_id: int, path: str, source_path: str
) -> int:
    """Record a tracks file imported for a video (or a tracks-only session).

    Returns:
        The new row's id (copies are named by it: `set_imported_tracks_path`).
    """
    row = ImportedTracks(video_id=video_id, path=path, source_path=source_path)
    session.add(row)
    session.flush()
    return row.id


def set_imported_tracks_path(session: Session, tracks_id: int, path: str) -> None:
    """Point an imported tracks row at the project's copy of the file.

    Raises:
        StoreError: no such row.
    """
    row = session.get(ImportedTracks, tracks_id)
    if row is None:
        raise StoreError(f"no imported tracks {tracks_id}")
    row.path = path
    session.flush()


def imported_tracks_of(session: Session, video_id: int) -> list[ImportedTracks]:
    """Every tracks file imported for a video, newest first."""
    query = select(ImportedTracks).where(ImportedTracks.video_id == video_id)
    return list(session.scalars(query.order_by(ImportedTracks.id.desc())))


def latest_tracks_file(session: Session, video_id: int) -> str | None:
    """The newest tracks of a video: an imported file or a tracking run's output.

    Returns the file's path as stored (relative to the project), or None when the
    video has neither.
    """
    found: list[tuple[datetime, str]] = []
    imported = imported_tracks_of(session, video_id)
    if imported:
        found.append((_aware(imported[0].added_at), imported[0].path))
    query = (
        select(TrackedVideo)
        .join(ModelRun, ModelRun.id == TrackedVideo.run_id)
        .where(
            ModelRun.stage == TRACK_STAGE,
            TrackedVideo.video_id == video_id,
            TrackedVideo.status == "done",
        )
        .order_by(TrackedVideo.finished_at.desc(), TrackedVideo.id.desc())
    )
    for row in session.scalars(query):
        outputs = row.outputs or {}
        fmt = next((f for f in TRACK_FILE_FORMATS if f in outputs), None)
        if fmt is not None and row.finished_at is not None:
            found.append((_aware(row.finished_at), outputs[fmt]))
            break
    return max(found)[1] if found else None


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; the store writes UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
