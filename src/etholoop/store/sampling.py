"""Store functions of `etholoop sample` and `etholoop split`.

`sampling.sample` records the frames it chose and the videos' conditions;
`sampling.split` reads every frame with what its strata are made of and whether
it holds manual labels, from the frames' instance counters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.store.models import Frame, Video
from etholoop.store.videos import get_or_add_frame


@frozen
class SampledFrame:
    """A frame `sample` chose, as it is recorded.

    Attributes:
        video_id: Its video.
        frame_idx: Its index in the video.
        image_path: Its cached image, relative to the project root.
        stratum: The stratum it was chosen in.
    """

    video_id: int
    frame_idx: int
    image_path: str
    stratum: str


@frozen
class SplitFrame:
    """A frame as `split` groups it.

    Attributes:
        frame_id: The frame.
        stratum: The stratum it was sampled in (None when imported).
        frame_idx: Its index in its video.
        video_id: Its video.
        video_n_frames: The video's length in frames.
        condition: The video's condition.
        labeled: Whether it holds a manual instance.
    """

    frame_id: int
    stratum: str | None
    frame_idx: int
    video_id: int
    video_n_frames: int
    condition: str | None
    labeled: bool


def set_video_conditions(
    session: Session, conditions: Mapping[int, str | None]
) -> None:
    """Set each video's condition (by video id), and its raw video's if it is a copy."""
    for video in session.scalars(select(Video).where(Video.id.in_(conditions))):
        video.condition = conditions[video.id]
        if video.parent_id is not None:
            raw = session.get(Video, video.parent_id)
            assert raw is not None
            raw.condition = conditions[video.id]


def save_sampled_frames(
    session: Session, frames: Sequence[SampledFrame], sampling: Mapping[str, Any]
) -> int:
    """Add or update a frame row per sampled frame; the number new to the store.

    Each row gets its stratum and the `sampling` settings of the call that chose
    it; a row that exists keeps its image path if it has one.
    """
    video_ids = {f.video_id for f in frames}
    existing = set(
        session.execute(
            select(Frame.video_id, Frame.frame_idx).where(Frame.video_id.in_(video_ids))
        )
    )
    for sampled in frames:
        frame = get_or_add_frame(
            session,
            video_id=sampled.video_id,
            frame_idx=sampled.frame_idx,
            image_path=sampled.image_path,
        )
        frame.stratum = sampled.stratum
        frame.sampling = dict(sampling)
    return sum((f.video_id, f.frame_idx) not in existing for f in frames)


def list_split_frames(session: Session) -> list[SplitFrame]:
    """Every frame of the project with its video's length and condition, by id.

    `labeled` comes from the frame's counters: a manual instance is one that is
    not predicted.
    """
    query = (
        select(
            Frame.id,
            Frame.stratum,
            Frame.frame_idx,
            Video.id,
            Video.n_frames,
            Video.condition,
            Frame.n_manual > 0,
        )
        .join(Video, Frame.video_id == Video.id)
        .order_by(Frame.id)
    )
    return [
        SplitFrame(
            frame_id, stratum, frame_idx, video_id, n_frames, condition, bool(labeled)
        )
        for frame_id, stratum, frame_idx, video_id, n_frames, condition, labeled in (
            session.execute(query)
        )
    ]
