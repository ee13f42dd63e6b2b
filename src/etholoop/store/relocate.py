"""Store functions that move labeled frames from a raw video onto its normalized copy.

`etholoop.relabel` decides where each frame goes; these functions only read and
write the rows, inside the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etholoop.store.models import Frame, InstanceRow, SplitMember


def labeled_frames(session: Session, video_id: int) -> list[Frame]:
    """The frames of a video that hold instances, by frame index."""
    query = select(Frame).where(Frame.video_id == video_id, Frame.n_instances > 0)
    return list(session.scalars(query.order_by(Frame.frame_idx)))


def frames_by_index(session: Session, video_id: int) -> dict[int, Frame]:
    """Every frame row of a video, by frame index."""
    query = select(Frame).where(Frame.video_id == video_id)
    return {frame.frame_idx: frame for frame in session.scalars(query)}


def move_frame(
    session: Session, frame: Frame, *, video_id: int, frame_idx: int
) -> None:
    """Make `frame` frame `frame_idx` of another video; instances and splits stay.

    Its cached image showed the old video's pixels and its stratum named the old
    video, so both are cleared (the image is extracted again when needed, and
    `split` groups a frame without a stratum by its video and time bin).
    """
    frame.video_id, frame.frame_idx = video_id, frame_idx
    frame.image_path = frame.stratum = None
    session.flush()


def fold_frame(
    session: Session, src: Frame, dst: Frame, *, keep_instances: bool
) -> None:
    """Merge `src` into `dst` (a row for the same moment) and delete `src`.

    Args:
        session: An open session; the caller's transaction makes the merge atomic.
        src: The frame that goes away.
        dst: The frame that stays; it keeps its image, stratum and split
            memberships, and takes those of `src` for cycles it is in no split of.
        keep_instances: Move the instances of `src` to `dst` (else they are
            deleted with `src`).
    """
    if keep_instances:
        session.execute(
            update(InstanceRow)
            .where(InstanceRow.frame_id == src.id)
            .values(frame_id=dst.id)
        )
        dst.n_instances += src.n_instances
        dst.n_predicted += src.n_predicted
        dst.n_complete += src.n_complete
    dst_cycles = select(SplitMember.cycle_id).where(SplitMember.frame_id == dst.id)
    session.execute(
        update(SplitMember)
        .where(SplitMember.frame_id == src.id, SplitMember.cycle_id.not_in(dst_cycles))
        .values(frame_id=dst.id),
        execution_options={"synchronize_session": "fetch"},
    )
    session.delete(src)
    session.flush()
