"""The frame cache: images of a project's frames under `PROJECT/frames/<hash>/`.

Video frames are decoded once (one forward pass per video) and kept as
`<frame idx:06d>.png`; an imported image sequence is copied in under its own
file names. Training, prediction, ranking and image-based exports read the
cached files instead of decoding again.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.store.label_files import frames_with_videos
from etholoop.types import VideoInfo, VideoRef
from etholoop.video import extract_frames, open_video
from etholoop.video.frames import frame_png

if TYPE_CHECKING:
    from etholoop.store import Video


def cache_image_sequence(project: Project, info: VideoInfo, ref: VideoRef) -> list[str]:
    """Copy an image sequence into the frame cache; its file names, in order.

    Files keep their names unless two share one (images from several folders),
    then they are numbered `<index:06d><suffix>`. Files already cached are kept.
    """
    folder = project.frame_dir(info.sha256)
    folder.mkdir(parents=True, exist_ok=True)
    names = [Path(f).name for f in ref.image_files]
    if len(set(names)) != len(names):
        names = [f"{i:06d}{Path(f).suffix}" for i, f in enumerate(ref.image_files)]
    for src, name in zip(ref.image_files, names, strict=True):
        dst = folder / name
        if not dst.exists():
            tmp = dst.with_name(dst.name + ".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
    return names


def cache_video_frames(
    project: Project, video: Video, frame_inds: list[int], report: Reporter = silent
) -> dict[int, Path]:
    """Extract frames of a video file to the cache in one pass; index -> PNG path.

    The video is not opened when every frame is cached already.
    """
    folder = project.frame_dir(video.sha256)
    cached = {i: frame_png(folder, i) for i in sorted(set(frame_inds))}
    if all(path.is_file() for path in cached.values()):
        return cached
    with (
        open_video(project.resolve(video.path)) as reader,
        report(
            f"Extracting frames of {Path(video.path).name}", len(frame_inds)
        ) as advance,
    ):
        return extract_frames(reader, frame_inds, folder, progress=advance)


def frame_image_paths(
    project: Project, frame_ids: Collection[int], *, report: Reporter = silent
) -> dict[int, Path]:
    """The image file of each frame, extracting video frames to the cache if needed.

    A frame's stored image is used when it exists; frames of video files without
    one are decoded in one forward pass per video and cached as PNG.
    """
    with project.store.session() as session:
        rows = frames_with_videos(session, frame_ids)
    paths: dict[int, Path] = {}
    missing: dict[int, list[tuple[int, int]]] = defaultdict(list)
    videos: dict[int, Video] = {}
    for frame, video in rows:
        stored = None if frame.image_path is None else project.resolve(frame.image_path)
        if stored is not None and stored.is_file():
            paths[frame.id] = stored
        else:
            missing[video.id].append((frame.id, frame.frame_idx))
            videos[video.id] = video
    for video_id, frames in missing.items():
        cached = cache_video_frames(
            project, videos[video_id], [idx for _, idx in frames], report
        )
        paths.update({frame_id: cached[idx] for frame_id, idx in frames})
    return paths
