"""Frame listings for the annotation app: status per frame, filters, pages, progress.

A frame's status says how far its labeling has come:
"gray" no instances; "blue" predicted instances not yet confirmed; "green" no
predictions and at least the expected number of manual instances, each with a
box and every keypoint labeled; "orange" anything else (partly labeled).
Status is computed in SQL by a correlated subquery per frame, so a page sorted
by id touches only the instances of the frames on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from attrs import frozen
from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Select

from etholoop.store.models import Frame, InstanceRow, SplitMember, Video

FrameStatus = Literal["gray", "orange", "blue", "green"]
FRAME_STATUSES: tuple[FrameStatus, ...] = get_args(FrameStatus)
FrameSort = Literal["id", "video", "status"]
NO_SPLIT = "none"


@frozen
class FrameListing:
    """One row of a frame list."""

    id: int
    video_id: int
    video: str
    frame_idx: int
    split: str | None
    status: FrameStatus
    n_instances: int


@frozen
class _Columns:
    status: ColumnElement[str]
    n_instances: ColumnElement[int]


def _columns(animals: int, n_keypoints: int) -> _Columns:
    predicted = case((InstanceRow.source == "predicted", 1), else_=0)
    complete = case(
        (
            and_(
                InstanceRow.source == "manual",
                InstanceRow.x1.is_not(None),
                InstanceRow.n_labeled >= n_keypoints,
            ),
            1,
        ),
        else_=0,
    )
    status = (
        select(
            case(
                (func.count() == 0, literal("gray")),
                (func.sum(predicted) > 0, literal("blue")),
                (func.sum(complete) >= animals, literal("green")),
                else_=literal("orange"),
            )
        )
        .where(InstanceRow.frame_id == Frame.id)
        .scalar_subquery()
    )
    n_instances = (
        select(func.count()).where(InstanceRow.frame_id == Frame.id).scalar_subquery()
    )
    return _Columns(status, n_instances)


def _frames_query(
    columns: _Columns, cycle_id: int | None, split: str | None
) -> Select[*tuple[Any, ...]]:
    in_cycle = and_(SplitMember.frame_id == Frame.id, SplitMember.cycle_id == cycle_id)
    query = (
        select(
            Frame.id,
            Frame.video_id,
            Video.path,
            Frame.frame_idx,
            SplitMember.split.label("split"),
            columns.status.label("status"),
            columns.n_instances.label("n_instances"),
        )
        .join(Video, Video.id == Frame.video_id)
        .outerjoin(SplitMember, in_cycle)
    )
    if split == NO_SPLIT:
        query = query.where(SplitMember.id.is_(None))
    elif split is not None:
        query = query.where(SplitMember.split == split)
    return query


def list_frames(
    session: Session,
    *,
    animals: int,
    n_keypoints: int,
    cycle_id: int | None,
    split: str | None = None,
    status: FrameStatus | None = None,
    sort: FrameSort = "id",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[FrameListing]]:
    """One page of frames with their split and status, and how many match in all.

    Args:
        session: An open session.
        animals: Animals expected per frame (a complete frame has this many).
        n_keypoints: Keypoints per instance (a complete instance has all).
        cycle_id: The cycle whose splits are shown and filtered on.
        split: Only frames in this split; "none" for frames in no split.
        status: Only frames with this status.
        sort: "id", "video" (then frame index) or "status" (gray first).
        descending: Reverse the order.
        offset: Rows to skip.
        limit: Rows to return.

    Returns:
        (number of matching frames, the page).
    """
    columns = _columns(animals, n_keypoints)
    query = _frames_query(columns, cycle_id, split)
    if status is not None:
        query = query.where(columns.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rank = case(
        *((columns.status == s, i) for i, s in enumerate(FRAME_STATUSES)), else_=0
    )
    keys: dict[FrameSort, list[Any]] = {
        "id": [Frame.id],
        "video": [Frame.video_id, Frame.frame_idx],
        "status": [rank, Frame.id],
    }
    order = [k.desc() if descending else k.asc() for k in keys[sort]]
    rows = session.execute(query.order_by(*order).offset(offset).limit(limit))
    page = [_listing(row) for row in rows]
    return total, page


def _listing(row: Sequence[Any]) -> FrameListing:
    frame_id, video_id, path, frame_idx, split, status, n_instances = row
    return FrameListing(
        frame_id, video_id, Path(path).name, frame_idx, split, status, n_instances
    )


def split_progress(
    session: Session, *, animals: int, n_keypoints: int, cycle_id: int | None
) -> dict[str, dict[str, int]]:
    """Frames per status in each split of a cycle ("none": in no split), with totals."""
    columns = _columns(animals, n_keypoints)
    query = _frames_query(columns, cycle_id, None).subquery()
    counts = session.execute(
        select(query.c.split, query.c.status, func.count()).group_by(
            query.c.split, query.c.status
        )
    )
    progress: dict[str, dict[str, int]] = {}
    for split, status, n in counts:
        entry = progress.setdefault(
            split or NO_SPLIT, {**dict.fromkeys(FRAME_STATUSES, 0), "total": 0}
        )
        entry[status] += n
        entry["total"] += n
    return progress


def frame_listing(
    session: Session,
    frame_id: int,
    *,
    animals: int,
    n_keypoints: int,
    cycle_id: int | None,
) -> FrameListing | None:
    """The listing row of one frame, or None if there is no such frame."""
    columns = _columns(animals, n_keypoints)
    query = _frames_query(columns, cycle_id, None).where(Frame.id == frame_id)
    row = session.execute(query).first()
    if row is None:
        return None
    return _listing(row)
