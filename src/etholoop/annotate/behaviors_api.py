"""API routes of the behavior timeline view: videos, frames, ranges, imports, CSVs."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from etholoop.annotate.images import NotServed
from etholoop.annotate.schemas import (
    RangeBody,
    SaveRangesBody,
    TimelineBody,
    VideoItem,
)
from etholoop.annotate.state import AppState, app_state
from etholoop.behavior_ranges import merge_ranges, one_hot, ranges_from_probabilities
from etholoop.io.behavior_files import write_frame_action, write_onehot
from etholoop.store import list_videos
from etholoop.store.behaviors import load_behavior_ranges, save_behavior_ranges
from etholoop.store.videos import get_video
from etholoop.types import BehaviorRange

if TYPE_CHECKING:
    from etholoop.store import Video

router = APIRouter(prefix="/api/videos")
State = Annotated[AppState, Depends(app_state)]


def _video(session: Session, video_id: int) -> Video:
    video = get_video(session, video_id)
    if video is None:
        raise HTTPException(404, f"no video {video_id}")
    return video


def _timeline(state: AppState, session: Session, video: Video) -> TimelineBody:
    return TimelineBody(
        video_id=video.id,
        n_frames=video.n_frames,
        individuals=state.project.config.animals,
        behaviors=list(state.project.config.behaviors),
        labels=[RangeBody.of(r) for r in load_behavior_ranges(session, video.id)],
    )


def _check_ranges(state: AppState, video: Video, ranges: list[BehaviorRange]) -> None:
    config = state.project.config
    for r in ranges:
        problem = (
            f"unknown behavior {r.behavior!r}"
            if r.behavior not in config.behaviors
            else f"animal {r.individual} of {config.animals}"
            if r.individual >= config.animals
            else f"frames {r.start}..{r.stop} past the end ({video.n_frames})"
            if r.stop > video.n_frames
            else None
        )
        if problem is not None:
            raise HTTPException(422, f"video {video.id}: {problem}")


@router.get("")
def get_videos(state: State) -> list[VideoItem]:
    """The sessions whose behaviors can be labeled.

    Raw video files, image sequences and sessions of imported tracks without a
    video (`kind` "tracks": frames to label, no images).
    """
    with state.project.store.session() as session:
        return [
            VideoItem(
                id=v.id,
                name=v.path.rsplit("/", 1)[-1],
                kind=v.kind,
                n_frames=v.n_frames,
                fps=v.fps,
                width=v.width,
                height=v.height,
            )
            for v in list_videos(session, normalized=False)
        ]


@router.get(
    "/{video_id}/frames/{frame_idx}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_video_frame(state: State, video_id: int, frame_idx: int) -> Response:
    """One frame of a video as JPEG, decoded frame-exactly on the server."""
    with state.project.store.session() as session:
        video = _video(session, video_id)
    try:
        jpeg = state.video_frames.jpeg(video, frame_idx)
    except NotServed:
        raise HTTPException(404, f"video {video_id}: no frame {frame_idx}") from None
    return Response(jpeg, media_type="image/jpeg")


@router.get("/{video_id}/behaviors")
def get_behaviors(state: State, video_id: int) -> TimelineBody:
    """The behavior ranges of a video."""
    with state.project.store.session() as session:
        return _timeline(state, session, _video(session, video_id))


@router.put("/{video_id}/behaviors")
def put_behaviors(state: State, video_id: int, body: SaveRangesBody) -> TimelineBody:
    """Replace a video's behavior ranges in one transaction; 409 if changed meanwhile.

    Overlapping or touching ranges of one animal, behavior and source are merged.
    """
    try:
        ranges = [label.to_range() for label in body.labels]
    except ValueError as error:
        raise HTTPException(422, f"video {video_id}: {error}") from None
    with state.project.store.session() as session:
        video = _video(session, video_id)
        _check_ranges(state, video, ranges)
        save_behavior_ranges(
            session,
            video_id=video_id,
            ranges=merge_ranges(ranges),
            base_versions=body.base_versions,
            author=body.author,
        )
    with state.project.store.session() as session:
        return _timeline(state, session, _video(session, video_id))


def _probabilities(data: bytes, behaviors: list[str], name: str) -> np.ndarray:
    """(frames, behaviors) probabilities from a CSV with one column per behavior."""
    try:
        table = pd.read_csv(io.BytesIO(data))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise HTTPException(422, f"{name}: not a CSV file ({error})") from None
    missing = [b for b in behaviors if b not in table.columns]
    if missing:
        raise HTTPException(
            422, f"{name}: no column for behaviors {missing} (columns: {list(table)})"
        )
    values: NDArray[np.float64] = table[behaviors].to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise HTTPException(422, f"{name}: probabilities must be numbers in [0, 1]")
    return values


@router.post("/{video_id}/behaviors/predictions")
def import_predictions(
    state: State,
    video_id: int,
    file: Annotated[UploadFile, File()],
    threshold: Annotated[float, Form(ge=0, le=1)] = 0.5,
    individual: Annotated[int, Form(ge=0)] = 0,
) -> TimelineBody:
    """Turn per-frame probabilities into predicted ranges, editable until confirmed.

    The animal's earlier predicted ranges are replaced; manual ranges stay.
    """
    behaviors = list(state.project.config.behaviors)
    name = file.filename or "upload"
    probabilities = _probabilities(file.file.read(), behaviors, name)
    with state.project.store.session() as session:
        video = _video(session, video_id)
        if (
            len(probabilities) > video.n_frames
            or individual >= state.project.config.animals
        ):
            raise HTTPException(
                422,
                f"{name}: {len(probabilities)} frames for animal {individual}; video "
                f"{video_id} has {video.n_frames} frames and "
                f"{state.project.config.animals} animals",
            )
        stored = load_behavior_ranges(session, video_id)
        kept = [r for r in stored if r.source == "manual" or r.individual != individual]
        predicted = ranges_from_probabilities(
            probabilities, behaviors, individual=individual, threshold=threshold
        )
        save_behavior_ranges(
            session,
            video_id=video_id,
            ranges=[*kept, *predicted],
            base_versions={r.id: r.version for r in stored if r.id and r.version},
        )
    with state.project.store.session() as session:
        return _timeline(state, session, _video(session, video_id))


@router.get("/{video_id}/behaviors.csv", response_class=Response)
def export_behaviors(
    state: State,
    video_id: int,
    form: Literal["action", "onehot"] = "action",
    individual: int = 0,
) -> Response:
    """Per-frame labels of one animal as CSV: `Frame,Action` or one-hot columns."""
    behaviors = list(state.project.config.behaviors)
    with state.project.store.session() as session:
        video = _video(session, video_id)
        labels = one_hot(
            load_behavior_ranges(session, video_id),
            behaviors,
            n_frames=video.n_frames,
            individual=individual,
        )
        stem = video.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    out = io.StringIO()
    if form == "action":
        write_frame_action(out, labels, behaviors)
    else:
        write_onehot(out, labels, behaviors)
    filename = f"{stem}.animal{individual}.{form}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
