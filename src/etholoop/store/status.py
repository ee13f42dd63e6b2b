"""Store queries of a project summary: frames and labels per split and stratum.

Label counts come from the counters each frame keeps (`Frame.n_instances`,
`Frame.n_predicted`; see `store.labels`), so a summary reads no instance row.
"""

from __future__ import annotations

from attrs import frozen
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from etholoop.store.models import Cycle, Frame, ModelRun, SplitMember


@frozen
class SplitStratumCounts:
    """Frames and labels of one split and stratum of a cycle.

    Attributes:
        split: The split, or None for frames in no split of the cycle.
        stratum: The frame's stratum in the split, else the one it was sampled
            in, else None.
        n_frames: Frames.
        n_manual: Manual instances on them.
        n_manual_frames: Frames holding a manual instance.
        n_predicted: Predicted instances on them.
        n_predicted_frames: Frames holding a predicted instance.
    """

    split: str | None
    stratum: str | None
    n_frames: int
    n_manual: int
    n_manual_frames: int
    n_predicted: int
    n_predicted_frames: int


def count_frames_by_split(
    session: Session, *, cycle_id: int | None
) -> list[SplitStratumCounts]:
    """Frames and labels of every (split, stratum) of a cycle that holds a frame.

    Args:
        session: An open session.
        cycle_id: The cycle whose splits count; None: every frame is in no split.

    Returns:
        One entry per (split, stratum) with at least one frame, in no set order.
    """
    split_of = (
        select(SplitMember.frame_id, SplitMember.split, SplitMember.stratum)
        .where(SplitMember.cycle_id == cycle_id)
        .subquery()
    )
    stratum = func.coalesce(split_of.c.stratum, Frame.stratum)
    n_manual = Frame.n_manual
    rows = session.execute(
        select(
            split_of.c.split,
            stratum,
            func.count(Frame.id),
            func.sum(n_manual),
            func.count(case((n_manual > 0, 1))),
            func.sum(Frame.n_predicted),
            func.count(case((Frame.n_predicted > 0, 1))),
        )
        .select_from(Frame)
        .outerjoin(split_of, split_of.c.frame_id == Frame.id)
        .group_by(split_of.c.split, stratum)
    )
    return [
        SplitStratumCounts(split, stratum, *(int(n) for n in counts))
        for split, stratum, *counts in rows
    ]


def list_cycles(session: Session) -> list[Cycle]:
    """Every cycle, by index."""
    return list(session.scalars(select(Cycle).order_by(Cycle.index)))


def list_runs(session: Session) -> list[ModelRun]:
    """Every model run of any stage, by id."""
    return list(session.scalars(select(ModelRun).order_by(ModelRun.id)))
