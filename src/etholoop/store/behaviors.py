"""Store functions for behavior timelines: load a video's ranges, save them at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from etholoop.errors import ConflictError
from etholoop.store.models import BehaviorLabel
from etholoop.store.versions import check_base_versions
from etholoop.types import BehaviorRange


def _video_rows(session: Session, video_id: int) -> list[BehaviorLabel]:
    query = select(BehaviorLabel).where(BehaviorLabel.video_id == video_id)
    return list(session.scalars(query.order_by(BehaviorLabel.id)))


def _to_range(row: BehaviorLabel) -> BehaviorRange:
    return BehaviorRange(
        individual=row.individual,
        behavior=row.behavior,
        start=row.start_frame,
        stop=row.stop_frame,
        source=row.source,  # type: ignore[arg-type]
        score=row.score,
        id=row.id,
        version=row.version,
    )


def _fill_row(row: BehaviorLabel, r: BehaviorRange) -> None:
    row.individual, row.behavior = r.individual, r.behavior
    row.start_frame, row.stop_frame = r.start, r.stop
    row.source, row.score = r.source, r.score


def load_behavior_ranges(session: Session, video_id: int) -> list[BehaviorRange]:
    """Every behavior range of a video, in the order they were created."""
    return [_to_range(row) for row in _video_rows(session, video_id)]


def save_behavior_ranges(
    session: Session,
    *,
    video_id: int,
    ranges: Sequence[BehaviorRange],
    base_versions: Mapping[int, int],
    author: str | None = None,
) -> list[BehaviorRange]:
    """Replace a video's behavior ranges, if nobody changed them meanwhile.

    Ranges with an `id` update their row, those without are added, rows not
    named are deleted; all in the caller's transaction.

    Raises:
        ConflictError: the stored ranges differ from `base_versions`, or a range
            names a row that does not exist.
    """
    subject = f"behaviors of video {video_id}"
    rows = {row.id: row for row in _video_rows(session, video_id)}
    check_base_versions(
        subject, {row_id: row.version for row_id, row in rows.items()}, base_versions
    )
    kept = {r.id for r in ranges if r.id is not None}
    if kept - rows.keys():
        raise ConflictError(
            f"{subject}: ranges {sorted(kept - rows.keys())} do not exist"
        )
    saved = []
    try:
        for row_id, row in rows.items():
            if row_id not in kept:
                session.delete(row)
        for r in ranges:
            row = rows[r.id] if r.id is not None else BehaviorLabel(video_id=video_id)
            if r.id is None or _to_range(row) != r:
                _fill_row(row, r)
                row.author = author
            session.add(row)
            saved.append(row)
        session.flush()
    except StaleDataError:
        raise ConflictError(
            f"{subject}: changed by someone else while saving; reload it"
        ) from None
    return [_to_range(row) for row in saved]
