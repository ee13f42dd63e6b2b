"""Store functions for cycles and split membership."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from etholoop.store.models import Cycle, InstanceRow, SplitMember


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
    session: Session, cycle_id: int, members: Iterable[SplitMember]
) -> None:
    """Make `members` the whole split membership of a cycle."""
    session.execute(delete(SplitMember).where(SplitMember.cycle_id == cycle_id))
    for member in members:
        member.cycle_id = cycle_id
        session.add(member)
    session.flush()


def manually_labeled(
    session: Session, frame_ids: Collection[int] | None = None
) -> set[int]:
    """The frames among `frame_ids` (default: all) that hold a manual instance."""
    query = select(InstanceRow.frame_id).where(InstanceRow.source == "manual")
    if frame_ids is not None:
        query = query.where(InstanceRow.frame_id.in_(frame_ids))
    return set(session.scalars(query.distinct()))
