"""Frame listings for the annotation app: status per frame, filters, pages, progress.

A frame's status says how far its labeling has come:
"gray" no instances; "blue" predicted instances not yet confirmed; "green" no
predictions and at least the expected number of complete manual instances (every
keypoint labeled, visible or marked not visible; no box needed); "orange"
anything else (partly labeled).
Status is computed in SQL from the instance counts kept on each frame (see
`store.models.Frame`), so filtering and sorting by it never reads the instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from attrs import frozen
from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Select

from etholoop.store.models import Frame, SplitMember, Video

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
    image_name: str | None
    """The image file of a frame of an image sequence (None for video files)."""


def _status(animals: int) -> ColumnElement[str]:
    return case(
        (Frame.n_instances == 0, literal("gray")),
        (Frame.n_predicted > 0, literal("blue")),
        (Frame.n_complete >= animals, literal("green")),
        else_=literal("orange"),
    )


def _in_cycle(cycle_id: int | None) -> ColumnElement[bool]:
    return and_(SplitMember.frame_id == Frame.id, SplitMember.cycle_id == cycle_id)


def _frames_query(animals: int, cycle_id: int | None) -> Select[*tuple[Any, ...]]:
    """Every listing column of the frames, each frame with its split in the cycle."""
    return (
        select(
            Frame.id,
            Frame.video_id,
            Video.path,
            Frame.frame_idx,
            SplitMember.split.label("split"),
            _status(animals).label("status"),
            Frame.n_instances,
            case((Video.kind == "images", Frame.image_path)).label("image_path"),
        )
        .join(Video, Video.id == Frame.video_id)
        .outerjoin(SplitMember, _in_cycle(cycle_id))
    )


def list_frames(
    session: Session,
    *,
    animals: int,
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
    status_column = _status(animals)
    matching = select(Frame.id).outerjoin(SplitMember, _in_cycle(cycle_id))
    if split == NO_SPLIT:
        matching = matching.where(SplitMember.id.is_(None))
    elif split is not None:
        matching = matching.where(SplitMember.split == split)
    if status is not None:
        matching = matching.where(status_column == status)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    rank = case(
        *((status_column == s, i) for i, s in enumerate(FRAME_STATUSES)), else_=0
    )
    keys: dict[FrameSort, list[Any]] = {
        "id": [Frame.id],
        "video": [Frame.video_id, Frame.frame_idx],
        "status": [rank, Frame.id],
    }
    order = [k.desc() if descending else k.asc() for k in keys[sort]]
    ids = session.scalars(matching.order_by(*order).offset(offset).limit(limit)).all()
    rows = session.execute(_frames_query(animals, cycle_id).where(Frame.id.in_(ids)))
    by_id = {row[0]: _listing(row) for row in rows}
    page = [by_id[frame_id] for frame_id in ids]
    return total, page


def _listing(row: Sequence[Any]) -> FrameListing:
    frame_id, video_id, path, frame_idx, split, status, n_instances, image = row
    return FrameListing(
        frame_id,
        video_id,
        Path(path).name,
        frame_idx,
        split,
        status,
        n_instances,
        None if image is None else Path(image).name,
    )


def split_progress(
    session: Session, *, animals: int, cycle_id: int | None
) -> dict[str, dict[str, int]]:
    """Frames per status in each split of a cycle ("none": in no split), with totals."""
    query = _frames_query(animals, cycle_id).subquery()
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
    cycle_id: int | None,
) -> FrameListing | None:
    """The listing row of one frame, or None if there is no such frame."""
    query = _frames_query(animals, cycle_id).where(Frame.id == frame_id)
    row = session.execute(query).first()
    if row is None:
        return None
    return _listing(row)
