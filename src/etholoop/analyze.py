"""`analyze_videos`: videos in; tracks, ethograms, bouts and a report out.

Each video goes through four stages, each resumable:

1. add: registered (`ingest.add_videos`); one already registered is skipped.
2. normalize: when the project's videos have normalized copies, a video without
   one gets a copy (`ingest.preprocess_videos`) made with the settings of the
   newest copy, untrimmed, so that it is tracked at the scale and rate the pose
   model learned; skipped when it has a copy or the project has none.
3. track: whole-video pose and identities (`tracking.track_videos`) with the
   pose run; one tracked before with the same model and parameters is skipped.
4. predict: its ethogram (`behavior_runs.predict.predict_behavior`) with the
   behavior run; one whose files that run made from the same tracks is skipped.

Both runs are checked before any work. A video that fails a stage is recorded
with its one-line error and goes no further; the others go on. Each stage runs
once over all the videos that reached it (one tracking run, one prediction run),
then, when asked, the project report is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from attrs import define, field, frozen

from etholoop.behavior_runs.predict import find_train_run, predict_behavior
from etholoop.errors import EtholoopError
from etholoop.ingest import add_videos, preprocess_videos
from etholoop.pose.runs import find_pose_run
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.store.videos import list_videos, video_files_to_read
from etholoop.tracking import track_videos
from etholoop.video import PreprocessParams

Stage = Literal["add", "normalize", "track", "predict"]
STAGES: tuple[Stage, ...] = ("add", "normalize", "track", "predict")

TRIM_PARAMS = ("start_s", "duration_s")
"""`PreprocessParams` fields a new video's copy does not take from the project's."""


@frozen
class StageResult:
    """One stage of one video.

    Attributes:
        video: The video as given (as stored when none was given).
        stage: Which stage.
        status: "done", "skipped" (done before, nothing changed) or "failed".
        error: The one-line reason of a failure.
    """

    video: str
    stage: Stage
    status: str
    error: str | None = None


@frozen
class AnalyzedVideo:
    """What happened to one video.

    Attributes:
        video: The video as given (as stored when none was given).
        video_id: Its id in the store; None when it could not be added.
        stages: The stages it reached, in order; the last failed if any did.
        outputs: Kind -> file relative to the project: the tracks (`slp`, `nc`,
            `csv`, `nwb`, `quality`) and the behavior files (`probabilities`,
            `ethogram`, `netcdf`, `bouts`) of the stages it passed.
    """

    video: str
    video_id: int | None
    stages: tuple[StageResult, ...]
    outputs: dict[str, str]

    @property
    def stage(self) -> Stage:
        """The last stage it reached."""
        return self.stages[-1].stage

    @property
    def error(self) -> str | None:
        """Why it stopped, None if it passed every stage."""
        return self.stages[-1].error

    @property
    def failed(self) -> bool:
        """Whether a stage failed."""
        return self.stages[-1].status == "failed"

    def status(self, stage: Stage) -> str | None:
        """The status of `stage`, None when the video did not reach it."""
        return next((s.status for s in self.stages if s.stage == stage), None)


@frozen
class AnalyzeReport:
    """What `analyze_videos` did.

    Attributes:
        pose_run_id: The pose training run the videos were tracked with.
        behavior_run_id: The behavior training run that predicted them.
        videos: One entry per video, in the order given.
        track_run_id: The tracking run, None when no video reached tracking.
        report_path: The project report, when one was asked for and written.
        report_error: Why the report could not be written.
        normalize_params: The settings new copies are made with (the newest
            copy's, untrimmed); None when the project has no normalized videos.
    """

    pose_run_id: int
    behavior_run_id: int
    videos: tuple[AnalyzedVideo, ...]
    track_run_id: int | None = None
    report_path: Path | None = None
    report_error: str | None = None
    normalize_params: PreprocessParams | None = None

    @property
    def failed(self) -> bool:
        """Whether any video or the report failed."""
        return self.report_error is not None or any(v.failed for v in self.videos)


@define
class _Video:
    """A video on its way through the stages; `stored` once it is in the project."""

    video: str
    video_id: int | None = None
    stored: str | None = None
    stages: list[StageResult] = field(factory=list)
    outputs: dict[str, str] = field(factory=dict)


def _going(items: list[_Video]) -> list[tuple[_Video, str]]:
    """The videos in the project whose stages all passed, with their stored paths."""
    return [
        (item, item.stored)
        for item in items
        if item.stored is not None and item.stages[-1].status != "failed"
    ]


StageListener = Callable[[StageResult], None]


def analyze_videos(
    project: Project,
    videos: Sequence[Path] = (),
    *,
    pose_run_id: int | None,
    behavior_run_id: int | None,
    write_report: bool,
    report: Reporter = silent,
    on_stage: StageListener | None = None,
) -> AnalyzeReport:
    """Add, normalize, track and predict the behaviors of videos; optionally report.

    Args:
        project: An open project.
        videos: Video files (relative paths: to the working folder, as
            `add-videos` takes them); none means every video file of the
            project. A video given twice (or two files of the same content) is
            analyzed once.
        pose_run_id: The pose training run; None for the latest finished one.
        behavior_run_id: The behavior training run; None for the latest.
        write_report: Write the project report (`etholoop.report`) at the end.
        report: Progress reporter.
        on_stage: Called with each stage's result of each video as it is known.

    Raises:
        ProjectError: no such pose or behavior run (nothing is written), or a
            project-wide problem of a stage (e.g. the tracking config).
    """
    with project.store.session() as session:
        pose_id = find_pose_run(session, pose_run_id, str(project.root)).id
    train_id = find_train_run(project, behavior_run_id).id
    notify = on_stage or (lambda result: None)

    def record(item: _Video, stage: Stage, status: str, error: str | None) -> None:
        result = StageResult(item.video, stage, status, error)
        item.stages.append(result)
        notify(result)

    items = _add_stage(project, videos, record, report)
    normalize_params = _normalize_params(project)
    _normalize_stage(project, items, normalize_params, record, report)
    track_run_id = _track_stage(project, items, pose_id, record, report)
    _predict_stage(project, items, train_id, record, report)
    report_path, report_error = None, None
    if write_report:
        from etholoop.report import write_report as write_project_report

        try:
            report_path = write_project_report(project, report=report).html
        except EtholoopError as error:
            report_error = str(error)
    return AnalyzeReport(
        pose_id,
        train_id,
        tuple(
            AnalyzedVideo(i.video, i.video_id, tuple(i.stages), i.outputs)
            for i in items
        ),
        track_run_id,
        report_path,
        report_error,
        normalize_params,
    )


Record = Callable[[_Video, Stage, str, str | None], None]


def _add_stage(
    project: Project, videos: Sequence[Path], record: Record, report: Reporter
) -> list[_Video]:
    """Register each video; every raw video file of the project when none is given."""
    if not videos:
        with project.store.session() as session:
            known = [(raw.id, raw.path) for raw, _ in video_files_to_read(session)]
        items = [_Video(stored, video_id, stored) for video_id, stored in known]
        for item in items:
            record(item, "add", "skipped", None)
        return items
    items = []
    for path in videos:
        item = _Video(str(path))
        added = add_videos(project, [path], report=report)
        if added.failed:
            items.append(item)
            record(item, "add", "failed", added.failed[0].message)
            continue
        with project.store.session() as session:
            found = [
                (raw.id, raw.path)
                for raw, read in video_files_to_read(session)
                if (added.added and raw.id == added.added[0])
                or (
                    added.duplicates and added.duplicates[0][1] in (raw.path, read.path)
                )
            ]
        if not found:  # same content as an image sequence of the project
            items.append(item)
            record(item, "add", "failed", f"{path}: not a video file of the project")
            continue
        item.video_id, item.stored = found[0]
        if any(other.video_id == item.video_id for other in items):
            continue  # given twice, or two files of the same content
        items.append(item)
        record(item, "add", "done" if added.added else "skipped", None)
    return items


def _normalize_params(project: Project) -> PreprocessParams | None:
    """The settings of the project's newest normalized copy, without its trim.

    None when no video of the project has a normalized copy.
    """
    with project.store.session() as session:
        copies = list_videos(session, normalized=True)
    settings = copies[-1].params if copies else None
    if settings is None:
        return None
    kept = {key: value for key, value in settings.items() if key not in TRIM_PARAMS}
    return PreprocessParams(**kept)


def _normalize_stage(
    project: Project,
    items: list[_Video],
    params: PreprocessParams | None,
    record: Record,
    report: Reporter,
) -> None:
    """Give every video still going that has no normalized copy one under `params`.

    In one `preprocess_videos` call; all are skipped when `params` is None (the
    project has no normalized videos).
    """
    going = _going(items)
    todo: set[int] = set()
    failures: dict[str, str] = {}
    if params is not None:
        with project.store.session() as session:
            uncopied = {
                raw.id
                for raw, read in video_files_to_read(session)
                if read.id == raw.id
            }
        todo = uncopied.intersection(item.video_id for item, _ in going)
        if todo:
            result = preprocess_videos(project, params, video_ids=todo, report=report)
            failures = {failure.path: failure.message for failure in result.failed}
    for item, stored in going:
        if item.video_id not in todo:
            record(item, "normalize", "skipped", None)
            continue
        error = failures.get(str(project.resolve(stored)))
        record(item, "normalize", "done" if error is None else "failed", error)


def _track_stage(
    project: Project,
    items: list[_Video],
    pose_id: int,
    record: Record,
    report: Reporter,
) -> int | None:
    """Track every video still going, in one tracking run; its id."""
    going = _going(items)
    if not going:
        return None
    result = track_videos(
        project,
        [project.resolve(stored) for _, stored in going],
        pose_run_id=pose_id,
        report=report,
    )
    for (item, _), tracked in zip(going, result.videos, strict=True):
        item.outputs.update(tracked.outputs or {})
        record(item, "track", tracked.status, tracked.error)
    return result.run_id


def _predict_stage(
    project: Project,
    items: list[_Video],
    train_id: int,
    record: Record,
    report: Reporter,
) -> None:
    """Predict the behaviors of every video still going, in one prediction run.

    A failure that stops the whole run (a tracks file that cannot be read) is
    every one of its videos' failure.
    """
    going = _going(items)
    if not going:
        return
    try:
        result = predict_behavior(
            project, [stored for _, stored in going], run_id=train_id, report=report
        )
    except EtholoopError as error:
        for item, _ in going:
            record(item, "predict", "failed", str(error))
        return
    for (item, _), predicted in zip(going, result.sessions, strict=True):
        item.outputs.update(predicted.files or {})
        record(item, "predict", predicted.status, predicted.error)
