"""Store functions for labeled instances: load a frame, save a frame atomically.

A save replaces the whole frame in one transaction and is refused when the frame
changed since the caller read it (optimistic concurrency on per-instance versions).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from attrs import evolve
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from etholoop.errors import ConflictError
from etholoop.store.models import Frame, InstanceRow
from etholoop.store.versions import check_base_versions
from etholoop.types import Instance


def _json_points(xy: np.ndarray) -> list[Any]:
    return [
        None if not np.isfinite(p).all() else [float(p[0]), float(p[1])] for p in xy
    ]


def _json_floats(values: np.ndarray | None) -> list[Any] | None:
    if values is None:
        return None
    return [None if not math.isfinite(v) else float(v) for v in values]


def _fill_row(row: InstanceRow, inst: Instance) -> None:
    box = inst.box
    row.source = inst.source
    row.x1, row.y1, row.x2, row.y2 = (
        (None, None, None, None) if box is None else (float(v) for v in box)
    )
    row.box_score = inst.box_score
    row.keypoints = _json_points(inst.keypoints)
    row.visibility = [int(v) for v in inst.visibility]
    # done when every keypoint is labeled, visible (2) or not (1); no box is
    # needed: DLC and SLEAP labels have none, and training derives one
    row.complete = inst.source == "manual" and all(v > 0 for v in row.visibility)
    row.keypoint_scores = _json_floats(inst.keypoint_scores)
    row.track_id = inst.track_id
    row.author = inst.author


def row_to_instance(row: InstanceRow) -> Instance:
    """The shared `Instance` type for a stored row (unlabeled keypoints become NaN)."""
    xy = np.array(
        [[math.nan, math.nan] if p is None else p for p in row.keypoints],
        dtype=np.float64,
    ).reshape(-1, 2)
    box = None if row.x1 is None else [row.x1, row.y1, row.x2, row.y2]
    scores = (
        None
        if row.keypoint_scores is None
        else [math.nan if s is None else s for s in row.keypoint_scores]
    )
    return Instance(
        keypoints=xy,
        visibility=np.array(row.visibility, dtype=np.uint8),
        box=box,
        box_score=row.box_score,
        keypoint_scores=scores,
        source=row.source,  # type: ignore[arg-type]
        track_id=row.track_id,
        id=row.id,
        version=row.version,
        author=row.author,
    )


def _same_content(row: InstanceRow, inst: Instance) -> bool:
    probe = InstanceRow()
    _fill_row(probe, inst)
    columns = ("source", "x1", "y1", "x2", "y2", "box_score", "keypoints")
    more = ("visibility", "keypoint_scores", "track_id", "author")
    return all(getattr(row, c) == getattr(probe, c) for c in (*columns, *more))


def _frame_rows(session: Session, frame_id: int) -> list[InstanceRow]:
    query = select(InstanceRow).where(InstanceRow.frame_id == frame_id)
    return list(session.scalars(query.order_by(InstanceRow.id)))


def load_frame_instances(session: Session, frame_id: int) -> list[Instance]:
    """Every instance of a frame, in the order they were created."""
    return [row_to_instance(row) for row in _frame_rows(session, frame_id)]


def load_instances_by_frame(
    session: Session,
    *,
    frame_ids: Collection[int] | None = None,
    sources: Collection[str] | None = None,
) -> dict[int, list[Instance]]:
    """Stored instances grouped by frame id, in creation order; one query.

    Args:
        session: An open session.
        frame_ids: Only these frames (default: every frame).
        sources: Only instances from these sources (default: all).
    """
    by_frame: dict[int, list[Instance]] = {}
    query = select(InstanceRow).order_by(InstanceRow.frame_id, InstanceRow.id)
    if frame_ids is not None:
        query = query.where(InstanceRow.frame_id.in_(list(frame_ids)))
    if sources is not None:
        query = query.where(InstanceRow.source.in_(list(sources)))
    for row in session.scalars(query):
        by_frame.setdefault(row.frame_id, []).append(row_to_instance(row))
    return by_frame


def frame_versions(session: Session, frame_id: int) -> dict[int, int]:
    """{instance id: version} of a frame: what a later save must be based on."""
    return {row.id: row.version for row in _frame_rows(session, frame_id)}


def save_frame_instances(
    session: Session,
    *,
    frame_id: int,
    instances: Sequence[Instance],
    base_versions: Mapping[int, int],
    author: str | None = None,
) -> list[Instance]:
    """Replace a frame's instances with `instances`, if nobody changed it meanwhile.

    Args:
        session: An open session; the caller's transaction makes the save atomic.
        frame_id: The frame to save.
        instances: The frame's instances after editing; those with an `id` update
            their row, those without are added, rows not named are deleted.
        base_versions: {instance id: version} of the frame as the caller loaded it.
        author: Recorded on added and changed instances that name no author.

    Returns:
        The saved instances with their ids and versions.

    Raises:
        ConflictError: the frame's stored instances differ from `base_versions`.
    """
    frame = session.get(Frame, frame_id)
    if frame is None:
        raise ConflictError(f"frame {frame_id}: no such frame (deleted meanwhile?)")
    rows = {row.id: row for row in _frame_rows(session, frame_id)}
    check_base_versions(
        f"frame {frame_id}",
        {row_id: row.version for row_id, row in rows.items()},
        base_versions,
    )
    kept = {inst.id for inst in instances if inst.id is not None}
    unknown = kept - rows.keys()
    if unknown:
        raise ConflictError(
            f"frame {frame_id}: instances {sorted(unknown)} do not exist"
        )
    saved: list[InstanceRow] = []
    try:
        for row_id, row in rows.items():
            if row_id not in kept:
                session.delete(row)
        for inst in instances:
            if inst.author is None and author is not None:
                inst = evolve(inst, author=author)
            if inst.id is None:
                row = InstanceRow(frame_id=frame_id)
                _fill_row(row, inst)
                session.add(row)
            else:
                row = rows[inst.id]
                if not _same_content(row, inst):
                    _fill_row(row, inst)
            saved.append(row)
        session.flush()
        _count_instances(session, frame)
    except StaleDataError:
        raise ConflictError(
            f"frame {frame_id}: changed by someone else while saving; reload it"
        ) from None
    return [row_to_instance(row) for row in saved]


def add_frame_instances(
    session: Session, *, frame_id: int, instances: Iterable[Instance]
) -> int:
    """Append instances to a frame without touching its existing ones (imports)."""
    n = 0
    for inst in instances:
        row = InstanceRow(frame_id=frame_id)
        _fill_row(row, inst)
        session.add(row)
        n += 1
    session.flush()
    frame = session.get(Frame, frame_id)
    assert frame is not None
    _count_instances(session, frame)
    return n


def _count_instances(session: Session, frame: Frame) -> None:
    """Bring the frame's instance counts up to date after a save."""
    of_frame = InstanceRow.frame_id == frame.id
    frame.n_instances, frame.n_predicted, frame.n_complete = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((InstanceRow.source == "predicted", 1), else_=0)), 0
            ),
            func.coalesce(func.sum(case((InstanceRow.complete, 1), else_=0)), 0),
        ).where(of_frame)
    ).one()
