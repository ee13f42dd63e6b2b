"""Pose tracks made by other tools into the project, with or without their video.

`import_tracks` reads a tracks file (`io.tracks.read_tracks`: SLEAP `.slp`,
etholoop's or movement's poses `.nc`, DeepLabCut `.csv`/`.h5` single- or
multi-animal, `.nwb`), puts its keypoints in the project's order and keeps a
copy of it in the project (`PROJECT/tracks/imported/`, netCDF), recorded in
`imported_tracks`. The tracks go onto a session of the project (a raw video,
an image sequence or an earlier tracks-only session) or make a new tracks-only
session: a `videos` row of kind "tracks" that has frames but no images, which
behaviors can then be labeled on.

Coordinates and scores (DeepLabCut likelihoods, SLEAP point scores) are kept
as the file has them; the `behavior:` cleaning rules of the config apply when
features are computed, not here. Animal i of the project is the i-th
individual of the file.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen

from etholoop.errors import FormatError, ProjectError
from etholoop.io.tracks import read_tracks, write_tracks
from etholoop.sessions import find_session, session_name
from etholoop.store.session_tracks import add_imported_tracks, set_imported_tracks_path
from etholoop.store.videos import add_video, find_video_by_hash
from etholoop.types import Skeleton, Tracks, VideoInfo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from etholoop.project import Project
    from etholoop.store import Video

IMPORTED_DIR = Path("tracks") / "imported"
"""Where the project keeps its copies of imported tracks, under its root."""
TRACKS_KIND = "tracks"
"""`videos.kind` of a session known by its pose tracks alone."""
DLC_SCORER_MARK = "DLC_"
"""DeepLabCut names its outputs `<video stem>DLC_<scorer>`."""


@frozen
class TracksImport:
    """What `import_tracks` did.

    Attributes:
        session: The session's name (a video's stem, or a tracks session's name).
        video_id: The session's row id in `videos`.
        n_frames: Frames of tracks in the file.
        individuals: The file's individuals in order: animal i is the i-th.
        keypoints: The project keypoints the file has, in the project's order.
        missing_keypoints: Project keypoints the file lacks (NaN in the copy).
        new_session: Whether the import made a new tracks-only session.
        path: The project's copy of the tracks (netCDF).
    """

    session: str
    video_id: int
    n_frames: int
    individuals: tuple[str, ...]
    keypoints: tuple[str, ...]
    missing_keypoints: tuple[str, ...]
    new_session: bool
    path: Path


def import_tracks(
    project: Project,
    file: Path,
    *,
    session: str | None = None,
    fps: float | None = None,
    keypoint_map: Mapping[str, str] | None = None,
) -> TracksImport:
    """Import a pose tracks file onto a session, or as a new tracks-only session.

    Everything is checked before anything is written; the session's row (when
    new), the `imported_tracks` row and the copy are one transaction: on any
    failure no row and no file remain.

    Args:
        project: The open project.
        file: The tracks file.
        session: An existing session (stored path, file name or stem) to add the
            tracks to, or the name of a new tracks-only session; default: a new
            session named by the file's stem, cut before "DLC_" when it has one.
        fps: Frames per second of a new session (checked against an existing
            session's); None leaves a new session without a frame rate.
        keypoint_map: File keypoint name -> project keypoint name, applied first.

    Raises:
        FormatError: the file cannot be read, names keypoints the project lacks
            (after `keypoint_map`), holds more individuals than the project has
            animals or more frames than the session.
        ProjectError: the session's fps differs from `fps`, the new session's
            name is taken or invalid, or the file is already a session.
    """
    file = Path(file)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ProjectError(f"{file}: --fps must be a positive number, got {fps}")
    read = read_tracks(file)
    if read.n_frames == 0:
        raise FormatError(f"{file}: no frames of tracks in the file")
    tracks = project_keypoints(read, project.skeleton, keypoint_map or {}, file)
    animals = project.config.animals
    if len(tracks.individuals) > animals:
        raise FormatError(
            f"{file}: {len(tracks.individuals)} individuals "
            f"{list(tracks.individuals)}, but the project has {animals} animal(s)"
        )
    sha256 = file_sha256(file)
    source = str(file.resolve())
    written: Path | None = None
    try:
        with project.store.session() as db:
            target = _target_session(db, project, file, session, fps, tracks)
            new = isinstance(target, str)
            if isinstance(target, str):
                same = find_video_by_hash(db, sha256)
                if same is not None:
                    raise ProjectError(
                        f"{file}: already imported as session "
                        f"{session_name(db, same)!r}; pass --session "
                        f"{session_name(db, same)} to import it onto that session again"
                    )
                info = _tracks_info(file, sha256, tracks, fps)
                video = add_video(db, info, path=target, kind=TRACKS_KIND)
            else:
                video = target
            name, video_id, video_fps = session_name(db, video), video.id, video.fps
            tracks_id = add_imported_tracks(
                db, video_id=video_id, path="", source_path=source
            )
            path = project.root / IMPORTED_DIR / f"{name}-{video_id}-{tracks_id}.nc"
            written = write_tracks(tracks, path, "nc", video_path=source, fps=video_fps)
            set_imported_tracks_path(db, tracks_id, project.relative(path))
    except BaseException:
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    renamed = {(keypoint_map or {}).get(k, k) for k in read.skeleton.keypoints}
    return TracksImport(
        session=name,
        video_id=video_id,
        n_frames=tracks.n_frames,
        individuals=tracks.individuals,
        keypoints=tuple(k for k in project.skeleton.keypoints if k in renamed),
        missing_keypoints=tuple(
            k for k in project.skeleton.keypoints if k not in renamed
        ),
        new_session=new,
        path=path,
    )


def default_session_name(file: Path) -> str:
    """A new session's name: the file's stem, cut before "DLC_" where it has one."""
    stem = Path(file).stem
    cut = stem.find(DLC_SCORER_MARK)
    return stem[:cut] if cut > 0 else stem


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def project_keypoints(
    tracks: Tracks, skeleton: Skeleton, keypoint_map: Mapping[str, str], file: Path
) -> Tracks:
    """The tracks over the project's keypoints, in its order.

    File keypoints are renamed by `keypoint_map` first; each must then be a
    project keypoint. Project keypoints the file lacks are NaN with NaN scores.

    Args:
        tracks: Tracks as read, keypoints as the file names them.
        skeleton: The project's skeleton.
        keypoint_map: File keypoint name -> project keypoint name.
        file: The file, for messages.

    Raises:
        FormatError: the map names keypoints the file lacks or maps two onto
            one, or a keypoint is not the project's.
    """
    names = list(tracks.skeleton.keypoints)
    absent = sorted(set(keypoint_map) - set(names))
    if absent:
        raise FormatError(
            f"{file}: --keypoint-map names keypoints {absent} the file lacks "
            f"(file keypoints: {names})"
        )
    renamed = [keypoint_map.get(n, n) for n in names]
    twice = sorted({n for n in renamed if renamed.count(n) > 1})
    if twice:
        raise FormatError(f"{file}: two file keypoints become {twice}")
    wanted = list(skeleton.keypoints)
    unknown = [n for n in renamed if n not in wanted]
    if unknown:
        raise FormatError(
            f"{file}: keypoints {unknown} are not the project's ({wanted}); "
            "map them with --keypoint-map a=b"
        )
    n_frames, n_individuals = tracks.xy.shape[:2]
    xy = np.full((n_frames, n_individuals, len(wanted), 2), np.nan, np.float32)
    scores = np.full((n_frames, n_individuals, len(wanted)), np.nan, np.float32)
    for j, name in enumerate(renamed):
        k = wanted.index(name)
        xy[:, :, k] = tracks.xy[:, :, j]
        scores[:, :, k] = tracks.scores[:, :, j]
    return Tracks(xy, scores, tracks.individuals, skeleton)


def _target_session(
    db: Session,
    project: Project,
    file: Path,
    name: str | None,
    fps: float | None,
    tracks: Tracks,
) -> Video | str:
    """The existing session the tracks go to, or the name of a new one."""
    if name is not None:
        video = find_session(db, project, name)
        if video is not None:
            _check_fits(video, session_name(db, video), file, fps, tracks)
            return video
    else:
        name = default_session_name(file)
        taken = find_session(db, project, name)
        if taken is not None:
            raise ProjectError(
                f"{file}: the project has a session named {name!r} "
                f"({taken.path}); pass --session {name} to add the tracks to it, "
                "or --session NEW_NAME for a new session"
            )
    name = name.strip()
    if not name or name in {".", ".."} or any(c in name for c in "/\\"):
        raise ProjectError(
            f"{file}: {name!r} cannot name a session (empty, or a path); "
            "pass --session NAME"
        )
    return name


def _check_fits(
    video: Video, name: str, file: Path, fps: float | None, tracks: Tracks
) -> None:
    """Refuse tracks longer than session `name`, or a frame rate it does not have."""
    if tracks.n_frames > video.n_frames:
        raise FormatError(
            f"{file}: {tracks.n_frames} frames of tracks, but session {name!r} "
            f"has {video.n_frames}"
        )
    if fps is not None and (
        video.fps is None or not math.isclose(fps, video.fps, rel_tol=1e-6)
    ):
        raise ProjectError(
            f"{file}: --fps {fps:g} differs from the "
            f"{'unknown fps' if video.fps is None else f'{video.fps:g} fps'} of "
            f"session {name!r}; leave --fps out to use the session's"
        )


def _tracks_info(
    file: Path, sha256: str, tracks: Tracks, fps: float | None
) -> VideoInfo:
    """A tracks-only session's `VideoInfo`: its size is what the keypoints span."""
    seen = tracks.xy[np.isfinite(tracks.xy).all(axis=-1)]
    width, height = (
        (max(0, math.ceil(float(seen[:, c].max()))) for c in (0, 1))
        if len(seen)
        else (0, 0)
    )
    return VideoInfo(
        path=str(file),
        sha256=sha256,
        fps=fps,
        n_frames=tracks.n_frames,
        width=width,
        height=height,
        codec="",
        pix_fmt="",
        duration_s=tracks.n_frames / fps if fps else None,
    )
