"""Import label files into a project's store and export the store to label files.

Parsing and writing each format is `etholoop.io`'s job; this module maps keypoints
to the project skeleton, registers the videos or image sequences the labels refer
to, caches frame images in the project and moves instances in and out of the store.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

from attrs import evolve, frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from etholoop.errors import FormatError
from etholoop.ingest import register_video
from etholoop.io import load_labels, map_to_skeleton, save_labels
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.store import (
    add_frame_instances,
    get_or_add_frame,
    load_instances_by_frame,
)
from etholoop.store.models import Frame, InstanceRow, Video
from etholoop.types import (
    SOURCES,
    FrameLabels,
    LabelSet,
    Source,
    VideoInfo,
    VideoRef,
)
from etholoop.video import extract_frames, open_video, probe_images, probe_video


@frozen
class TransferReport:
    """Counts of what an import or export moved."""

    n_frames: int
    n_instances: int
    n_skipped: int = 0


def _probe_ref(ref: VideoRef, source: Path) -> VideoInfo:
    if ref.is_image_sequence:
        return probe_images([Path(f) for f in ref.image_files])
    path = Path(ref.path)
    if not path.is_file():
        raise FormatError(
            f"{source}: labels refer to video {ref.path}, which does not exist"
        )
    return probe_video(path)


def _cache_images(project: Project, info: VideoInfo, ref: VideoRef) -> list[str]:
    """Copy an image sequence into the frame cache; its file names, in order."""
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


def import_labels(
    project: Project,
    path: Path,
    *,
    format: str = "auto",
    keypoint_map: dict[str, str] | None = None,
    source: Source | None = None,
    author: str | None = None,
    report: Reporter = silent,
) -> TransferReport:
    """Import a label file into the store as one transaction.

    The file is read, its keypoints mapped to the project skeleton and every video
    it refers to probed before anything is written, so bad input writes nothing.
    Frames that already hold instances of the same source keep them and are
    counted as skipped, so importing a file twice adds nothing.

    Args:
        project: The open project.
        path: The label file (or YOLO dataset folder).
        format: "dlc", "slp", "coco", "yolo" or "auto".
        keypoint_map: File keypoint name -> project keypoint name.
        source: Mark every instance "manual" or "predicted"; None keeps the file's.
        author: Recorded on every instance; default "import:<file name>".
        report: Progress reporter.
    """
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    labels = map_to_skeleton(
        load_labels(path, format), project.skeleton, keypoint_map, source=str(path)
    )
    author = author or f"import:{path.name}"
    infos = [_probe_ref(ref, path) for ref in labels.videos]
    n_frames = n_instances = n_skipped = 0
    with (
        project.store.session() as session,
        report("Importing", len(labels.frames)) as advance,
    ):
        video_ids: list[int] = []
        images: list[list[str] | None] = []
        for ref, info in zip(labels.videos, infos, strict=True):
            names = _cache_images(project, info, ref) if ref.is_image_sequence else None
            video, _ = register_video(
                session,
                project,
                info,
                path=Path(ref.path),
                image_files=names,
            )
            video_ids.append(video.id)
            images.append(video.image_files)
        for frame in labels.frames:
            advance(1)
            instances = [
                evolve(inst, source=source or inst.source, author=inst.author or author)
                for inst in frame.instances
            ]
            if not instances:
                continue
            names = images[frame.video]
            sha = infos[frame.video].sha256
            image_path = (
                project.relative(project.frame_dir(sha) / names[frame.frame_idx])
                if names is not None
                else None
            )
            row = get_or_add_frame(
                session,
                video_id=video_ids[frame.video],
                frame_idx=frame.frame_idx,
                image_path=image_path,
            )
            sources = {inst.source for inst in instances}
            if _has_instances(session, row.id, sources):
                n_skipped += 1
                continue
            n_instances += add_frame_instances(
                session, frame_id=row.id, instances=instances
            )
            n_frames += 1
    return TransferReport(n_frames, n_instances, n_skipped)


def _has_instances(session: Session, frame_id: int, sources: Collection[str]) -> bool:
    query = select(InstanceRow.id).where(
        InstanceRow.frame_id == frame_id, InstanceRow.source.in_(sources)
    )
    return session.scalars(query.limit(1)).first() is not None


def _cache_video_frames(
    project: Project, video: Video, frame_inds: list[int], report: Reporter
) -> dict[int, Path]:
    with (
        open_video(project.resolve(video.path)) as reader,
        report(
            f"Extracting frames of {Path(video.path).name}", len(frame_inds)
        ) as advance,
    ):
        return extract_frames(
            reader, frame_inds, project.frame_dir(video.sha256), progress=advance
        )


def frame_image_paths(
    project: Project, frame_ids: Collection[int], *, report: Reporter = silent
) -> dict[int, Path]:
    """The image file of each frame, extracting video frames to the cache if needed.

    A frame's stored image is used when it exists; frames of video files without
    one are decoded in one forward pass per video and cached as PNG.
    """
    with project.store.session() as session:
        rows = session.execute(
            select(Frame.id, Frame.frame_idx, Frame.image_path, Video)
            .join(Video, Frame.video_id == Video.id)
            .where(Frame.id.in_(list(frame_ids)))
            .order_by(Video.id, Frame.frame_idx)
        ).all()
        session.expunge_all()
    paths: dict[int, Path] = {}
    missing: dict[int, list[tuple[int, int]]] = defaultdict(list)
    videos: dict[int, Video] = {}
    for frame_id, frame_idx, image_path, video in rows:
        stored = None if image_path is None else project.resolve(image_path)
        if stored is not None and stored.is_file():
            paths[frame_id] = stored
        else:
            missing[video.id].append((frame_id, frame_idx))
            videos[video.id] = video
    for video_id, frames in missing.items():
        cached = _cache_video_frames(
            project, videos[video_id], [idx for _, idx in frames], report
        )
        paths.update({frame_id: cached[idx] for frame_id, idx in frames})
    return paths


def project_label_set(
    project: Project,
    *,
    with_images: bool,
    frame_ids: Collection[int] | None = None,
    sources: Collection[Source] = SOURCES,
    report: Reporter = silent,
) -> tuple[LabelSet, dict[tuple[int, int], Path]]:
    """Frames with instances as a `LabelSet`, and each frame's image if asked.

    With `with_images`, frames of video files are extracted to the frame cache
    (one decode pass per video) so that image-based formats can be written.

    Args:
        project: The open project.
        with_images: Also give (and cache) each frame's image.
        frame_ids: Only these frames (default: every frame).
        sources: Only instances from these sources; frames left without any
            are left out.
        report: Progress reporter.
    """
    with project.store.session() as session:
        labeled = select(InstanceRow.frame_id).where(InstanceRow.source.in_(sources))
        query = (
            select(Frame, Video)
            .join(Video, Frame.video_id == Video.id)
            .where(Frame.id.in_(labeled))
            .order_by(Video.id, Frame.frame_idx)
        )
        if frame_ids is not None:
            query = query.where(Frame.id.in_(frame_ids))
        rows = session.execute(query).all()
        instances = load_instances_by_frame(
            session, frame_ids=frame_ids, sources=sources
        )
        by_video: dict[int, list[Frame]] = defaultdict(list)
        videos: dict[int, Video] = {}
        for frame, video in rows:
            by_video[video.id].append(frame)
            videos[video.id] = video
    refs: list[VideoRef] = []
    frames: list[FrameLabels] = []
    images: dict[tuple[int, int], Path] = {}
    for video_idx, (video_id, video_frames) in enumerate(by_video.items()):
        video = videos[video_id]
        cache = project.frame_dir(video.sha256)
        if video.image_files is not None:
            refs.append(
                VideoRef(str(cache), [str(cache / n) for n in video.image_files])
            )
        else:
            refs.append(VideoRef(str(project.resolve(video.path))))
            if with_images:
                inds = [f.frame_idx for f in video_frames]
                cached = _cache_video_frames(project, video, inds, report)
                images.update({(video_idx, i): p for i, p in cached.items()})
        frames.extend(
            FrameLabels(video_idx, f.frame_idx, instances[f.id]) for f in video_frames
        )
    return LabelSet(project.skeleton, refs, frames), images


IMAGE_FORMATS = ("coco", "yolo", "dlc")


def export_labels(
    project: Project, out: Path, *, format: str, report: Reporter = silent
) -> TransferReport:
    """Write every labeled frame of the project to `out` in `format`."""
    labels, images = project_label_set(
        project, with_images=format in IMAGE_FORMATS, report=report
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_labels(labels, out, format, images=images)
    return TransferReport(len(labels.frames), labels.n_instances)
