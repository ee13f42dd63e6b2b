"""Store functions of the active-learning loop: what a cycle moves, the next cycle.

Built on the frames' instance counts (`Frame.n_instances`, `n_predicted`), so
asking which frames a person finished never reads the instances.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etholoop.store.models import Cycle, Frame, SplitMember
from etholoop.store.splits import Membership, replace_split_members
from etholoop.types import Split


class FramePosition(NamedTuple):
    """Where a frame lies: its id, its video's id and its index in the video."""

    frame_id: int
    video_id: int
    frame_idx: int


def corrected_frames(session: Session, frame_ids: Collection[int]) -> set[int]:
    """The frames among `frame_ids` a person finished: labeled, no prediction left.

    A frame whose predictions were all confirmed or corrected holds instances,
    none of them predicted.
    """
    query = select(Frame.id).where(
        Frame.id.in_(list(frame_ids)), Frame.n_instances > 0, Frame.n_predicted == 0
    )
    return set(session.scalars(query))


def frames_in_video_order(
    session: Session, frame_ids: Collection[int]
) -> list[FramePosition]:
    """Where each of `frame_ids` lies, ordered by video and frame index."""
    query = (
        select(Frame.id, Frame.video_id, Frame.frame_idx)
        .where(Frame.id.in_(list(frame_ids)))
        .order_by(Frame.video_id, Frame.frame_idx)
    )
    return [FramePosition(*row) for row in session.execute(query)]


def count_manually_labeled(session: Session, cycle_id: int, split: Split) -> int:
    """Frames of one split of a cycle that hold at least one manual instance."""
    query = (
        select(func.count())
        .select_from(SplitMember)
        .join(Frame, Frame.id == SplitMember.frame_id)
        .where(
            SplitMember.cycle_id == cycle_id,
            SplitMember.split == split,
            Frame.n_manual > 0,
        )
    )
    return int(session.scalar(query) or 0)


def open_next_cycle(
    session: Session,
    previous_id: int,
    members: Iterable[Membership],
    *,
    notes: str | None = None,
) -> Cycle:
    """Close a cycle and open the next one with `members` as its splits.

    Args:
        session: An open session; the caller's transaction makes the step atomic.
        previous_id: The cycle to close (the latest).
        members: Every frame's split in the new cycle.
        notes: Recorded on the new cycle (the settings that drew it).

    Returns:
        The new cycle, flushed.
    """
    previous = session.get_one(Cycle, previous_id)
    previous.status = "closed"
    new = Cycle(index=previous.index + 1, notes=notes)
    session.add(new)
    session.flush()
    replace_split_members(session, new.id, members)
    return new
