"""Store functions of imports, exports and the frame cache: frames with their videos.

Which sources a frame holds instances of comes from its instance counts
(`Frame.n_instances`, `n_predicted`; the rest are manual), so neither question
reads the instances.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from etholoop.store.models import Frame, Video


def _source_counts(frame: Any) -> dict[str, Any]:
    """Instances of each source in `frame`: ints for a row, SQL for the class."""
    return {
        "manual": frame.n_manual,
        "predicted": frame.n_predicted,
    }


def holds_instances(frame: Frame, sources: Collection[str]) -> bool:
    """Whether the frame holds an instance of one of `sources` (no query)."""
    counts = _source_counts(frame)
    return any(counts[source] > 0 for source in sources)


def _holds_instances(sources: Collection[str]) -> ColumnElement[bool]:
    counts = _source_counts(Frame)
    return or_(false(), *(counts[source] > 0 for source in sources))


def frames_with_videos(
    session: Session,
    frame_ids: Collection[int] | None = None,
    *,
    sources: Collection[str] | None = None,
) -> list[tuple[Frame, Video]]:
    """Frames and their videos' rows, ordered by video and frame index.

    Args:
        session: An open session.
        frame_ids: Only these frames (default: every frame).
        sources: Only frames holding an instance of one of these sources
            (default: with or without instances).
    """
    query = (
        select(Frame, Video)
        .join(Video, Frame.video_id == Video.id)
        .order_by(Video.id, Frame.frame_idx)
    )
    if frame_ids is not None:
        query = query.where(Frame.id.in_(list(frame_ids)))
    if sources is not None:
        query = query.where(_holds_instances(sources))
    return [(frame, video) for frame, video in session.execute(query)]
