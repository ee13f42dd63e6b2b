"""Store queries of the pose stages: the frames to train on, frame sizes.

A frame's labeling state comes from the counts kept on its row (`Frame.n_instances`,
`Frame.n_predicted`; see `store.labels`): it holds manual instances when it has
more instances than predictions, and unconfirmed predictions when
`n_predicted > 0`, so no query here reads the instances.
"""

from __future__ import annotations

from collections.abc import Collection

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.store.models import Frame, SplitMember, Video


@frozen
class TrainingFrame:
    """A train+val frame that a pose model can learn from.

    Attributes:
        frame_id: The frame's row id.
        video_id: Its video's row id.
        video: Its video's path as stored (relative to the project inside it).
        frame_idx: Its index in that video.
        val: Held out for validation by the split.
    """

    frame_id: int
    video_id: int
    video: str
    frame_idx: int
    val: bool


def training_frames(session: Session, *, cycle_id: int) -> list[TrainingFrame]:
    """The cycle's train+val frames with manual labels and no predictions, by id.

    A frame that still holds unconfirmed predictions is left out: its labels are
    not final until someone confirms or deletes them.
    """
    query = (
        select(Frame.id, Frame.video_id, Video.path, Frame.frame_idx, SplitMember.val)
        .select_from(SplitMember)
        .join(Frame, Frame.id == SplitMember.frame_id)
        .join(Video, Video.id == Frame.video_id)
        .where(
            SplitMember.cycle_id == cycle_id,
            SplitMember.split == "trainval",
            Frame.n_predicted == 0,
            Frame.n_manual > 0,
        )
        .order_by(Frame.id)
    )
    return [TrainingFrame(*row) for row in session.execute(query).all()]


def frame_sizes(
    session: Session, frame_ids: Collection[int]
) -> dict[int, tuple[int, int]]:
    """(width, height) in px of each frame's image: its video's frame size."""
    query = (
        select(Frame.id, Video.width, Video.height)
        .join(Video, Video.id == Frame.video_id)
        .where(Frame.id.in_(list(frame_ids)))
    )
    return {
        frame_id: (width, height)
        for frame_id, width, height in session.execute(query).all()
    }
