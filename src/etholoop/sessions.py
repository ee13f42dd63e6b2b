"""Sessions: the videos (and tracks-only sessions) behaviors are labeled on.

A session is a raw video of the project or a session of imported pose tracks
without a video (`videos.kind == "tracks"`, named by its `path`). Its tracks are
the newest of the files imported for it and the outputs of tracking runs on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from etholoop.errors import ProjectError
from etholoop.store import list_videos
from etholoop.store.session_tracks import latest_tracks_file
from etholoop.types import Tracks

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from etholoop.project import Project
    from etholoop.store import Video


def session_name(session: Session, video: Video) -> str:
    """The short name of a session, unique in the project.

    A tracks session's name, else the video's file stem; where two videos share
    a stem (day1/m1.mp4, day2/m1.mp4), each is `<stem>-<video id>`, so the
    files named after sessions do not overwrite each other.
    """
    if video.kind == "tracks":
        return video.path
    stem = Path(video.path).stem
    clashes = [
        v
        for v in list_sessions(session)
        if v.kind != "tracks" and Path(v.path).stem == stem
    ]
    return stem if len(clashes) <= 1 else f"{stem}-{video.id}"


def list_sessions(session: Session) -> list[Video]:
    """Every session: raw videos, image sequences and tracks-only sessions, by id."""
    return list_videos(session, normalized=False)


def find_session(session: Session, project: Project, name: str) -> Video | None:
    """The session `name` names (stored path, file name, stem), or None.

    Raises:
        ProjectError: `name` names several sessions.
    """

    def names(video: Video) -> set[str]:
        if video.kind == "tracks":  # named, not a file: a dot in it is no suffix
            return {video.path}
        path = Path(video.path)
        return {
            video.path,
            path.name,
            path.stem,
            str(project.resolve(video.path)),
            session_name(session, video),
        }

    given = str(Path(name).resolve()) if Path(name).exists() else name
    found = [v for v in list_sessions(session) if name in names(v) or given in names(v)]
    if len(found) > 1:
        raise ProjectError(
            f"{project.root}: session {name!r} names several: "
            f"{[v.path for v in found]}; give the stored path"
        )
    return found[0] if found else None


def get_session(session: Session, project: Project, name: str) -> Video:
    """The session `name` names.

    Raises:
        ProjectError: no session or several have that name.
    """
    video = find_session(session, project, name)
    if video is None:
        known = [session_name(session, v) for v in list_sessions(session)] or "none"
        raise ProjectError(
            f"{project.root}: {name!r} is not a session of the project "
            f"(sessions: {known}); add its video or import its tracks"
        )
    return video


def load_session_tracks(session: Session, project: Project, video: Video) -> Tracks:
    """The newest tracks of a session, as long as the session (NaN past their end).

    Raises:
        ProjectError: the session has no tracks, or more frames of them than
            the session has.
    """
    from etholoop.io.tracks import read_tracks

    stored = latest_tracks_file(session, video.id)
    if stored is None:
        raise ProjectError(
            f"{video.path}: no tracks; run `etholoop track` on it or "
            "`etholoop tracks import` its pose file"
        )
    path = project.resolve(stored)
    tracks = read_tracks(path)
    if tracks.n_frames > video.n_frames:
        raise ProjectError(
            f"{path}: {tracks.n_frames} frames of tracks for {video.path}, "
            f"which has {video.n_frames}"
        )
    return pad_tracks(tracks, video.n_frames)


def pad_tracks(tracks: Tracks, n_frames: int) -> Tracks:
    """Tracks extended with missing poses up to `n_frames` frames."""
    extra = n_frames - tracks.n_frames
    if extra <= 0:
        return tracks
    xy = np.concatenate(
        [tracks.xy, np.full((extra, *tracks.xy.shape[1:]), np.nan, np.float32)]
    )
    scores = np.concatenate(
        [tracks.scores, np.full((extra, *tracks.scores.shape[1:]), np.nan, np.float32)]
    )
    return Tracks(xy, scores, tracks.individuals, tracks.skeleton)
