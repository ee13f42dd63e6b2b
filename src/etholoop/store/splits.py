"""Store functions for cycles and split membership."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from attrs import frozen
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from etholoop.store.models import Cycle, Frame, SplitMember
from etholoop.types import Split


@frozen
class Membership:
    """One frame's place in the splits of a cycle, as it is to be stored.

    Attributes:
        frame_id: The frame.
        split: Its split.
        val: A train+val frame held out for validation.
        stratum: The stratum it was drawn in.
    """

    frame_id: int
    split: Split
    val: bool = False
    stratum: str | None = None


def latest_cycle(session: Session) -> Cycle | None:
    """The cycle with the highest index, if any."""
    return session.scalars(select(Cycle).order_by(Cycle.index.desc())).first()


def get_or_add_cycle(session: Session) -> Cycle:
    """The latest cycle, or cycle 0 created now if there is none."""
    cycle = latest_cycle(session)
    if cycle is None:
        cycle = Cycle(index=0)
        session.add(cycle)
        session.flush()
    return cycle


def load_split_members(session: Session, cycle_id: int) -> list[SplitMember]:
    """Every split membership of a cycle, by frame id."""
    query = select(SplitMember).where(SplitMember.cycle_id == cycle_id)
    return list(session.scalars(query.order_by(SplitMember.frame_id)))


def replace_split_members(
    session: Session, cycle_id: int, members: Iterable[Membership]
) -> None:
    """Make `members` the whole split membership of a cycle."""
    session.execute(delete(SplitMember).where(SplitMember.cycle_id == cycle_id))
    session.add_all(
        SplitMember(
            cycle_id=cycle_id,
            frame_id=m.frame_id,
            split=m.split,
            val=m.val,
            stratum=m.stratum,
        )
        for m in members
    )
    session.flush()


def manually_labeled(
    session: Session, frame_ids: Collection[int] | None = None
) -> set[int]:
    """The frames among `frame_ids` (default: all) that hold a manual instance."""
    query = select(Frame.id).where(Frame.n_manual > 0)
    if frame_ids is not None:
        query = query.where(Frame.id.in_(list(frame_ids)))
    return set(session.scalars(query))


def split_frame_ids(session: Session, *, cycle_id: int, split: Split) -> list[int]:
    """Ids of the frames in one split of a cycle, ascending."""
    query = (
        select(SplitMember.frame_id)
        .where(SplitMember.cycle_id == cycle_id, SplitMember.split == split)
        .order_by(SplitMember.frame_id)
    )
    return list(session.scalars(query))


def all_frame_ids(session: Session) -> list[int]:
    """Ids of every frame of the project, ascending."""
    return list(session.scalars(select(Frame.id).order_by(Frame.id)))
