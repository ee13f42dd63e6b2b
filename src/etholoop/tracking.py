"""`track_videos`: whole videos through a pose run and the tracker, files out.

A tracking run is one pose run with one set of tracker parameters; its folder,
`PROJECT/tracks/<run id>/`, holds every video tracked that way, and the store
records each video's status, error, files and quality (`tracked_videos`). A
video already `done` in the run is not tracked again; one that failed or was
interrupted is tracked from the start.

Per video: `<name>.slp`, `.nc`, `.csv`, `.nwb` (`io.tracks.TRACK_SUFFIXES`),
`<name>.quality.json` and, when asked, `<name>.overlay.mp4`. Each file is
written under a temporary name and renamed when complete, so a killed run
leaves no half-written output under a final name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from attrs import asdict, frozen

from etholoop.atomic import written_atomically
from etholoop.config import ProjectConfig
from etholoop.errors import EtholoopError, ProjectError
from etholoop.io.tracks import TRACK_SUFFIXES, write_tracks
from etholoop.pose.backend import MIN_BOX_SCORE
from etholoop.pose.predict import load_predictor
from etholoop.pose.video_inference import infer_detections
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run, resume_run, start_run
from etholoop.store.runs import set_run_dir
from etholoop.store.tracking import (
    TRACK_STAGE,
    find_track_run,
    finish_tracked_video,
    start_tracked_video,
    tracked_videos,
)
from etholoop.store.videos import video_files_to_read
from etholoop.track import TrackerParams, track_identities
from etholoop.video.overlay import write_overlay
from etholoop.video.reader import open_video


@frozen
class TrackedVideoReport:
    """What happened to one video.

    Attributes:
        video_id: The raw video's id in the store.
        path: The file that was read (the normalized copy where there is one).
        status: "done", "skipped" (done earlier with the same run) or "failed".
        error: The one-line reason of a failure.
        outputs: Format name -> file, relative to the project.
        quality: The tracker's quality summary.
    """

    video_id: int
    path: str
    status: str
    error: str | None = None
    outputs: dict[str, str] | None = None
    quality: dict[str, Any] | None = None


@frozen
class TrackRunReport:
    """What `track_videos` did.

    Attributes:
        run_id: The tracking run.
        run_dir: Its folder.
        pose_run_id: The pose run whose model found the animals.
        videos: One report per video asked for, in order.
    """

    run_id: int
    run_dir: Path
    pose_run_id: int
    videos: list[TrackedVideoReport]


def tracker_params(
    config: ProjectConfig, *, max_ids: int | None = None
) -> TrackerParams:
    """The tracker's parameters from the project config; `max_ids` overrides it.

    Raises:
        ProjectError: `max_ids` (given or configured) is below 1.
    """
    settings = config.tracking.model_dump()
    configured = settings.pop("max_ids")
    ids = next(n for n in (max_ids, configured, config.animals) if n is not None)
    if ids < 1:
        raise ProjectError(f"max_ids must be at least 1, got {ids}")
    return TrackerParams(max_ids=ids, **settings)


def identity_names(n: int) -> list[str]:
    """Names of the tracked animals, in identity order."""
    return [f"animal{i}" for i in range(n)]


def _videos_to_track(project: Project, paths: Sequence[Path]) -> list[tuple[int, Path]]:
    """(raw video id, file to read) of each video asked for; all when none is.

    Raises:
        ProjectError: a path is not a video of the project.
    """
    with project.store.session() as session:
        pairs = [
            (raw.id, project.resolve(raw.path), project.resolve(read.path))
            for raw, read in video_files_to_read(session)
        ]
    if not paths:
        return [(video_id, read) for video_id, _, read in pairs]
    chosen = []
    for path in paths:
        wanted = Path(path).resolve()
        match = [
            (video_id, read)
            for video_id, raw, read in pairs
            if wanted in (raw.resolve(), read.resolve())
        ]
        if not match:
            raise ProjectError(
                f"{path}: not a video of this project; add it with "
                "`etholoop add-videos` first"
            )
        chosen.append(match[0])
    return chosen


def _outputs_present(project: Project, outputs: dict[str, str] | None) -> bool:
    """Whether every file a finished video recorded is still there.

    A user deletes them to have the video tracked again.
    """
    return bool(outputs) and all(
        project.resolve(path).is_file() for path in (outputs or {}).values()
    )


def _output_stems(videos: Sequence[tuple[int, Path]]) -> dict[int, str]:
    """A file name stem per video: its own, with its id where two would clash."""
    stems = [read.stem for _, read in videos]
    return {
        video_id: stem if stems.count(stem) == 1 else f"{stem}-{video_id}"
        for (video_id, _), stem in zip(videos, stems, strict=True)
    }


def _track_one(
    project: Project,
    predictor: Any,
    read_path: Path,
    out_dir: Path,
    stem: str,
    params: TrackerParams,
    *,
    overlay: bool,
    report: Reporter,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Track one video into `out_dir`; (format -> file, quality summary)."""
    skeleton = project.skeleton
    with open_video(read_path) as reader:
        n_frames, fps = reader.n_frames, reader.fps
        frames = (frame for _, frame in reader.iter_frames())
        detections = infer_detections(
            predictor,
            frames,
            n_frames=n_frames,
            n_keypoints=skeleton.n_keypoints,
            max_animals=params.max_ids,
            report=report,
            description=f"Tracking {read_path.name}",
        )
    result = track_identities(
        detections, params, identity_names(params.max_ids), skeleton
    )
    outputs: dict[str, str] = {}
    for fmt, suffix in TRACK_SUFFIXES.items():
        final = write_tracks(
            result.tracks,
            out_dir / f"{stem}{suffix}",
            fmt,
            video_path=str(read_path),
            fps=fps,
        )
        outputs[fmt] = project.relative(final)
    quality = asdict(result.quality)
    final = out_dir / f"{stem}.quality.json"
    with written_atomically(final) as partial:
        partial.write_text(json.dumps(quality, indent=2) + "\n", encoding="utf-8")
    outputs["quality"] = project.relative(final)
    if overlay:
        final = out_dir / f"{stem}.overlay.mp4"
        with (
            open_video(read_path) as reader,
            report(f"Drawing {final.name}", n_frames) as advance,
        ):

            def frames_drawn() -> Iterator[Any]:
                for _, frame in reader.iter_frames():
                    yield frame
                    advance(1)

            write_overlay(frames_drawn(), result.tracks, final, fps=fps or 30.0)
        outputs["overlay"] = project.relative(final)
    return outputs, quality


def track_videos(
    project: Project,
    paths: Sequence[Path] = (),
    *,
    pose_run_id: int | None = None,
    max_ids: int | None = None,
    min_score: float = MIN_BOX_SCORE,
    overlay: bool = False,
    report: Reporter = silent,
) -> TrackRunReport:
    """Track whole videos of a project with a pose run (default: the latest).

    Everything a user can get wrong is checked before a file is written. A
    video that fails is recorded with its one-line error and the others go on.

    Args:
        project: An open project.
        paths: Videos of the project to track (raw files or their normalized
            copies); none means every video file.
        pose_run_id: The pose training run; None for the latest finished one.
        max_ids: Identities to keep; None for the config's (or `animals`).
        min_score: Least box score of a detection the tracker sees.
        overlay: Also write each video with ids, boxes, keypoints and trails.
        report: Progress reporter.

    Raises:
        ProjectError: no such pose run, a path that is not a project video, or
            `max_ids` below 1.
    """
    params = tracker_params(project.config, max_ids=max_ids)
    videos = _videos_to_track(project, paths)
    pose_id, predictor = load_predictor(project, pose_run_id, min_score=min_score)
    key = {"pose_run": pose_id, "min_score": min_score, "tracker": asdict(params)}
    with project.store.session() as session:
        run = find_track_run(session, key)
        if run is None:
            run = start_run(session, stage=TRACK_STAGE, config=key, cycle_id=None)
            run_dir = project.root / "tracks" / f"{run.id:04d}"
            set_run_dir(session, run.id, project.relative(run_dir))
        else:
            resume_run(session, run.id)
            run_dir = project.resolve(run.run_dir)
        run_id = run.id
        done = {
            video_id: (row.outputs, row.quality)
            for video_id, row in tracked_videos(session, run_id).items()
            if row.status == "done" and _outputs_present(project, row.outputs)
        }
    run_dir.mkdir(parents=True, exist_ok=True)
    stems = _output_stems(videos)
    reports = []
    for video_id, read_path in videos:
        shown = project.relative(read_path)
        if video_id in done:
            outputs, quality = done[video_id]
            reports.append(
                TrackedVideoReport(video_id, shown, "skipped", None, outputs, quality)
            )
            continue
        with project.store.session() as session:
            start_tracked_video(session, run_id, video_id)
        try:
            outputs, quality = _track_one(
                project,
                predictor,
                read_path,
                run_dir,
                stems[video_id],
                params,
                overlay=overlay,
                report=report,
            )
        except EtholoopError as error:
            reports.append(TrackedVideoReport(video_id, shown, "failed", str(error)))
        else:
            reports.append(
                TrackedVideoReport(video_id, shown, "done", None, outputs, quality)
            )
        last = reports[-1]
        with project.store.session() as session:
            finish_tracked_video(
                session,
                run_id,
                video_id,
                status=last.status,
                error=last.error,
                outputs=last.outputs,
                quality=last.quality,
            )
    failed = sum(r.status == "failed" for r in reports)
    with project.store.session() as session:
        finish_run(
            session,
            run_id,
            status="done",
            metrics={"videos_failed": failed, "videos": len(reports)},
        )
    return TrackRunReport(run_id, run_dir, pose_id, reports)
