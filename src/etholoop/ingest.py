"""Bring videos into a project: register them, then write normalized copies.

Both work per video and go on past a bad one, recording what failed, so that one
corrupt file does not stop a batch; a rerun skips what is already done.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from attrs import frozen
from sqlalchemy.orm import Session

from etholoop.errors import EtholoopError
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.relabel import MoveReport, move_labels_to_copy
from etholoop.store import add_video, find_video_by_hash, list_videos
from etholoop.types import VideoInfo
from etholoop.video import PreprocessParams, preprocess_video, probe_video
from etholoop.video.preprocess import plan_source_frames

if TYPE_CHECKING:
    from etholoop.store import Video


@frozen
class Failure:
    """A file that could not be processed and why."""

    path: str
    message: str


@frozen
class AddVideosReport:
    """What `add_videos` did: ids of added videos, duplicates, failures."""

    added: list[int]
    duplicates: list[tuple[str, str]]
    failed: list[Failure]


@frozen
class PreprocessReport:
    """What `preprocess_videos` did: written, skipped (already done), failed.

    `moves` says, per copy written, where the raw video's labeled frames went.
    """

    written: list[int]
    skipped: list[int]
    failed: list[Failure]
    moves: tuple[MoveReport, ...] = ()


def register_video(
    session: Session,
    project: Project,
    info: VideoInfo,
    *,
    path: Path,
    image_files: list[str] | None = None,
    condition: str | None = None,
) -> tuple[Video, bool]:
    """The video with this content, registered now if it is new; True if it was."""
    existing = find_video_by_hash(session, info.sha256)
    if existing is not None:
        return existing, False
    video = add_video(
        session,
        info,
        path=project.relative(path),
        kind="images" if image_files is not None else "file",
        image_files=image_files,
        condition=condition,
    )
    return video, True


def add_videos(
    project: Project,
    paths: Sequence[Path],
    *,
    condition: str | None = None,
    report: Reporter = silent,
) -> AddVideosReport:
    """Probe and register videos; a file whose content is already registered is skipped.

    Args:
        project: The open project.
        paths: Video files to add; they stay where they are.
        condition: Experimental condition recorded for every added video.
        report: Progress reporter.
    """
    added: list[int] = []
    duplicates: list[tuple[str, str]] = []
    failed: list[Failure] = []
    with report("Registering videos", len(paths)) as advance:
        for path in paths:
            try:
                info = probe_video(path)
            except EtholoopError as exc:
                failed.append(Failure(str(path), str(exc)))
                advance(1)
                continue
            with project.store.session() as session:
                video, is_new = register_video(
                    session, project, info, path=path, condition=condition
                )
                if is_new:
                    added.append(video.id)
                else:
                    duplicates.append((str(path), video.path))
            advance(1)
    return AddVideosReport(added, duplicates, failed)


def _params_key(params: PreprocessParams) -> str:
    text = json.dumps(attrs.asdict(params), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def normalized_path(project: Project, video: Video, params: PreprocessParams) -> Path:
    """Where the normalized copy of `video` under `params` is written."""
    stem = Path(video.path).stem
    return project.videos_dir / f"{stem}-{video.id}-{_params_key(params)}.mp4"


def preprocess_videos(
    project: Project,
    params: PreprocessParams,
    *,
    video_ids: Collection[int] | None = None,
    report: Reporter = silent,
) -> PreprocessReport:
    """Write a normalized copy of every raw video that lacks one under `params`.

    `video_ids` restricts it to those raw videos (None: every raw video file).
    Resumable per video: a finished copy is registered and skipped next time; an
    interrupted one leaves only a `.partial.mp4` that the next run overwrites.
    The raw video's labeled frames move onto the copy where it shows them, in the
    transaction that registers it (see `etholoop.relabel`).
    """
    settings = attrs.asdict(params)
    with project.store.session() as session:
        raw = [
            v
            for v in list_videos(session, normalized=False)
            if v.kind == "file" and (video_ids is None or v.id in video_ids)
        ]
        done = {
            v.parent_id
            for v in list_videos(session, normalized=True)
            if v.params == settings
        }
    todo = [v for v in raw if v.id not in done]
    skipped = [v.id for v in raw if v.id in done]
    written: list[int] = []
    failed: list[Failure] = []
    moves: list[MoveReport] = []
    project.videos_dir.mkdir(parents=True, exist_ok=True)
    with report("Preprocessing videos", len(todo)) as advance_videos:
        for video in todo:
            src = project.resolve(video.path)
            dst = normalized_path(project, video, params)
            try:
                n_out = len(
                    plan_source_frames(video.n_frames, video.fps or 1.0, params)
                )
                with report(f"  {src.name}", n_out) as advance_frames:
                    info = preprocess_video(src, dst, params, progress=advance_frames)
            except EtholoopError as exc:
                failed.append(Failure(str(src), str(exc)))
                advance_videos(1)
                continue
            with project.store.session() as session:
                child = add_video(
                    session,
                    info,
                    path=project.relative(dst),
                    parent_id=video.id,
                    params=settings,
                    condition=video.condition,
                )
                written.append(child.id)
                moves.append(move_labels_to_copy(session, child))
            advance_videos(1)
    return PreprocessReport(written, skipped, failed, tuple(moves))
