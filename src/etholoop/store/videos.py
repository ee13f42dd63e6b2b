"""Store functions for videos and their frames."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.store.models import Frame, Video
from etholoop.types import VideoInfo


def find_video_by_hash(session: Session, sha256: str) -> Video | None:
    """The registered video with this content hash, if any."""
    return session.scalars(select(Video).where(Video.sha256 == sha256)).first()


def add_video(
    session: Session,
    info: VideoInfo,
    *,
    path: str,
    kind: str = "file",
    parent_id: int | None = None,
    params: dict[str, Any] | None = None,
    image_files: list[str] | None = None,
    condition: str | None = None,
) -> Video:
    """Register a probed video (or image sequence) and return its row."""
    video = Video(
        path=path,
        kind=kind,
        sha256=info.sha256,
        fps=info.fps,
        n_frames=info.n_frames,
        width=info.width,
        height=info.height,
        codec=info.codec,
        pix_fmt=info.pix_fmt,
        duration_s=info.duration_s,
        parent_id=parent_id,
        params=params,
        image_files=image_files,
        condition=condition,
    )
    session.add(video)
    session.flush()
    return video


def get_video(session: Session, video_id: int) -> Video | None:
    """The video with this id, if it is registered."""
    return session.get(Video, video_id)


def list_videos(session: Session, *, normalized: bool | None = None) -> list[Video]:
    """Registered videos by id; `normalized` keeps only preprocessed (True) or raw."""
    query = select(Video).order_by(Video.id)
    if normalized is True:
        query = query.where(Video.parent_id.is_not(None))
    elif normalized is False:
        query = query.where(Video.parent_id.is_(None))
    return list(session.scalars(query))


def find_normalized(session: Session, parent_id: int) -> Video | None:
    """The preprocessed child of a raw video, if one is registered."""
    query = select(Video).where(Video.parent_id == parent_id).order_by(Video.id.desc())
    return session.scalars(query).first()


def video_files_to_read(session: Session) -> list[tuple[Video, Video]]:
    """Each raw video file (no image sequences) and the copy of it to read.

    The copy is the normalized one where there is one, else the raw file
    itself; ordered by raw video id.
    """
    return [
        (raw, find_normalized(session, raw.id) or raw)
        for raw in list_videos(session, normalized=False)
        if raw.kind == "file"
    ]


def get_or_add_frame(
    session: Session, *, video_id: int, frame_idx: int, image_path: str | None = None
) -> Frame:
    """The frame row for (video, index), created if missing; sets a missing image."""
    frame = session.scalars(
        select(Frame).where(Frame.video_id == video_id, Frame.frame_idx == frame_idx)
    ).first()
    if frame is None:
        frame = Frame(video_id=video_id, frame_idx=frame_idx, image_path=image_path)
        session.add(frame)
        session.flush()
    elif image_path is not None and frame.image_path is None:
        frame.image_path = image_path
    return frame


def set_pixel_stats(
    session: Session, video_id: int, stats: tuple[float, float]
) -> None:
    """Record a video's gray pixel mean and std."""
    video = session.get(Video, video_id)
    if video is not None:
        video.pixel_stats = [float(stats[0]), float(stats[1])]
        session.flush()
