"""Import label files into a project's store and export the store to label files.

Parsing and writing each format is `etholoop.io`'s job; this module maps keypoints
to the project skeleton, registers the videos or image sequences the labels refer
to, caches frame images in the project (`etholoop.frame_cache`) and moves instances
in and out of the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import evolve, frozen

from etholoop.errors import FormatError
from etholoop.frame_cache import cache_image_sequence, cache_video_frames
from etholoop.ingest import register_video
from etholoop.io import load_labels, map_to_skeleton, save_labels
from etholoop.io.dlc import DEFAULT_SCORER
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.relabel import MoveReport, move_labels_to_copies
from etholoop.store import (
    add_frame_instances,
    get_or_add_frame,
    load_instances_by_frame,
)
from etholoop.store.label_files import frames_with_videos, holds_instances
from etholoop.store.track_names import stored_track_names, track_ids_for
from etholoop.types import (
    SOURCES,
    FrameLabels,
    LabelSet,
    Source,
    VideoInfo,
    VideoRef,
)
from etholoop.video import probe_images, probe_video

if TYPE_CHECKING:
    from etholoop.store import Frame, Video


@frozen
class TransferReport:
    """Counts of what an import or export moved.

    `moves` says, per normalized copy of an imported video, where the labeled
    frames of its raw video went (see `etholoop.relabel`). `dropped` names the
    file keypoints an import left out (not in the project), `unlabeled` the
    project keypoints its file lacks; `scorer` is the one a DeepLabCut export
    wrote.
    """

    n_frames: int
    n_instances: int
    n_skipped: int = 0
    moves: tuple[MoveReport, ...] = ()
    dropped: tuple[str, ...] = ()
    unlabeled: tuple[str, ...] = ()
    scorer: str | None = None


def _probe_ref(ref: VideoRef, source: Path) -> VideoInfo:
    if ref.is_image_sequence:
        return probe_images([Path(f) for f in ref.image_files])
    path = Path(ref.path)
    if not path.is_file():
        raise FormatError(
            f"{source}: labels refer to video {ref.path}, which does not exist"
        )
    return probe_video(path)


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
        path: The label file, DeepLabCut `labeled-data/<video>/` or project
            folder, or YOLO dataset folder.
        format: "dlc", "slp", "coco", "yolo", "nwb" or "auto".
        keypoint_map: File keypoint name -> project keypoint name; with one, file
            keypoints it leaves out are dropped and project keypoints the file
            lacks stay unlabeled (see `io.match_keypoints`); both are reported.
        source: Mark every instance "manual" or "predicted"; None keeps the file's.
        author: Recorded on instances the file names no author for (DeepLabCut
            names its scorer); default "import:<file name>".
        report: Progress reporter.
    """
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    labels, match = map_to_skeleton(
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
            names = (
                cache_image_sequence(project, info, ref)
                if ref.is_image_sequence
                else None
            )
            video, _ = register_video(
                session,
                project,
                info,
                path=Path(ref.path),
                image_files=names,
            )
            video_ids.append(video.id)
            images.append(video.image_files)
        track_ids = track_ids_for(session, labels.track_names)
        for frame in labels.frames:
            advance(1)
            instances = [
                evolve(
                    inst,
                    source=source or inst.source,
                    author=inst.author or author,
                    track_id=None
                    if inst.track_id is None
                    else track_ids[inst.track_id],
                )
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
            if holds_instances(row, {inst.source for inst in instances}):
                n_skipped += 1
                continue
            n_instances += add_frame_instances(
                session, frame_id=row.id, instances=instances
            )
            n_frames += 1
    # Labels follow their video: onto the normalized copy, where one exists.
    # Frames whose copy frame holds these labels already count as skipped.
    with project.store.session() as session:
        moves = move_labels_to_copies(session, video_ids)
    n_same = sum(m.n_duplicates for m in moves)
    return TransferReport(
        n_frames - n_same,
        n_instances - sum(m.n_duplicate_instances for m in moves),
        n_skipped + n_same,
        moves,
        dropped=match.dropped,
        unlabeled=match.unlabeled,
    )


@frozen
class ProjectLabels:
    """Stored frames as a `LabelSet`, with the store id of each of its frames.

    `frame_ids[i]` is the stored frame of `labels.frames[i]`; `images` maps
    `(video index, frame index)` to the frame's image when images were asked for.
    """

    labels: LabelSet
    frame_ids: list[int]
    images: dict[tuple[int, int], Path]


def project_label_set(
    project: Project,
    *,
    with_images: bool,
    frame_ids: Collection[int] | None = None,
    sources: Collection[Source] = SOURCES,
    report: Reporter = silent,
) -> ProjectLabels:
    """Frames with instances as a `LabelSet`, and each frame's image if asked.

    With `with_images`, frames of video files are extracted to the frame cache
    (one decode pass per video) so that image-based formats can be written.
    An image sequence's `VideoRef` names the folder it was registered from
    (exports name it after that folder), its image files are the cached copies.

    Args:
        project: The open project.
        with_images: Also give (and cache) each frame's image.
        frame_ids: Only these frames (default: every frame).
        sources: Only instances from these sources; frames left without any
            are left out.
        report: Progress reporter.
    """
    return _label_set(project, with_images, frame_ids, sources, report)[0]


def _label_set(
    project: Project,
    with_images: bool,
    frame_ids: Collection[int] | None,
    sources: Collection[Source],
    report: Reporter,
) -> tuple[ProjectLabels, list[Video]]:
    """`project_label_set`, and the store's row of each of its videos."""
    with project.store.session() as session:
        rows = frames_with_videos(session, frame_ids, sources=sources)
        instances = load_instances_by_frame(
            session, frame_ids=frame_ids, sources=sources
        )
        named = stored_track_names(session)
        by_video: dict[int, list[Frame]] = defaultdict(list)
        videos: dict[int, Video] = {}
        for frame, video in rows:
            by_video[video.id].append(frame)
            videos[video.id] = video
    refs: list[VideoRef] = []
    frames: list[FrameLabels] = []
    stored_ids: list[int] = []
    images: dict[tuple[int, int], Path] = {}
    for video_idx, (video_id, video_frames) in enumerate(by_video.items()):
        video = videos[video_id]
        cache = project.frame_dir(video.sha256)
        if video.image_files is not None:
            refs.append(
                VideoRef(
                    str(project.resolve(video.path)),
                    [str(cache / n) for n in video.image_files],
                )
            )
        else:
            refs.append(VideoRef(str(project.resolve(video.path))))
            if with_images:
                inds = [f.frame_idx for f in video_frames]
                cached = cache_video_frames(project, video, inds, report)
                images.update({(video_idx, i): p for i, p in cached.items()})
        frames.extend(
            FrameLabels(video_idx, f.frame_idx, instances[f.id]) for f in video_frames
        )
        stored_ids.extend(f.id for f in video_frames)
    used = [i.track_id for f in frames for i in f.instances if i.track_id is not None]
    tracks = [named.get(t, f"track_{t}") for t in range(max([-1, *used]) + 1)]
    labels = LabelSet(project.skeleton, refs, frames, tracks=tracks)
    found = ProjectLabels(labels, stored_ids, images)
    return found, [videos[video_id] for video_id in by_video]


IMAGE_FORMATS = ("coco", "yolo", "dlc")
# authors etholoop writes itself: import:<file>, pose-run-<id>, etholoop.synth
_TOOL_AUTHORS = ("import:", "pose-run-", "etholoop")


def dlc_scorer(labels: LabelSet) -> str:
    """The DeepLabCut scorer to export under: the one labeler of the manual labels.

    A DeepLabCut import records the table's scorer as each instance's author,
    so a DLC project round-trips under its scorer. Authors that etholoop writes
    itself (`import:<file>`, `pose-run-<id>`, `etholoop.synth`) and instances
    without an author do not count; with no such labeler, or several, the
    scorer is "etholoop".
    """
    authors = {
        inst.author
        for frame in labels.frames
        for inst in frame.instances
        if inst.source == "manual"
        and inst.author
        and not inst.author.startswith(_TOOL_AUTHORS)
    }
    return authors.pop() if len(authors) == 1 else DEFAULT_SCORER


def export_labels(
    project: Project,
    out: Path,
    *,
    format: str,
    include_predictions: bool = False,
    scorer: str | None = None,
    report: Reporter = silent,
) -> TransferReport:
    """Write the project's labeled frames to `out` in `format`.

    Manual labels only, so that an export is the ground truth; with
    `include_predictions` predicted instances too (a frame with both gets
    both). Frames without any exported instance are left out. `out` may be a
    folder for every format (see `io.save_labels`); DeepLabCut then writes a
    DLC project's `labeled-data/<video>/` folders.

    Args:
        project: The open project.
        out: The file or folder to write.
        format: One of `io.FORMATS`.
        include_predictions: Also write predicted instances.
        scorer: DeepLabCut's scorer; default `dlc_scorer` of the labels.
        report: Progress reporter.

    Returns:
        The frames and instances written, and the DeepLabCut scorer used.

    Raises:
        FormatError: if `scorer` is given for another format than DeepLabCut,
            or the writer cannot write.
    """
    if scorer is not None and format != "dlc":
        raise FormatError(f"{out}: a scorer is written only by --format dlc")
    sources: tuple[Source, ...] = SOURCES if include_predictions else ("manual",)
    found, videos = _label_set(project, format in IMAGE_FORMATS, None, sources, report)
    labels = found.labels
    options: dict[str, Any] = {}
    if format == "dlc":
        scorer = scorer or dlc_scorer(labels)
        options = {"scorer": scorer, "n_frames": [v.n_frames for v in videos]}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_labels(labels, out, format, images=found.images, **options)
    return TransferReport(len(labels.frames), labels.n_instances, scorer=scorer)
