"""The report's numbers, gathered from the store and the run folders.

What each section shows comes from where its stage left it:

- labeling: the frames per split of every cycle (`store.status`);
- pose training: each finished pose run's per-epoch records (its store row);
- pose metrics: the newest `runs/pose/<id>/evaluate/metrics.json`;
- active learning: every evaluated pose run's test metrics against the
  labeled frames it trained on (`config.data.frames` of its row);
- tracking: every video of every tracking run (`tracked_videos`, its quality);
- trajectories: each session's newest tracks (`sessions.load_session_tracks`),
  reduced to one centroid per animal and frame;
- ethograms: each session's newest predicted `.ethogram.nc` (of the newest
  `behavior predict` run that wrote one for it) and its manual ranges, which
  are the truth on the frames a person settled (`behavior_runs.data`);
- behavior confusion: the newest `behavior evaluate` run's `metrics.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import one_hot
from etholoop.behavior_runs.data import labeled_frames
from etholoop.behavior_runs.evaluate import BEHAVIOR_EVALUATE
from etholoop.behavior_runs.predict import BEHAVIOR_PREDICT
from etholoop.errors import FormatError
from etholoop.evaluate.tracking import keypoint_centroids
from etholoop.io.ethograms import read_labels
from etholoop.pose.metrics import PoseMetrics
from etholoop.pose.runs import POSE_TRAIN
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.report.numbers import NO_CONDITION, AnimalEthogram
from etholoop.sessions import list_sessions, load_session_tracks, session_name
from etholoop.status import UNASSIGNED, ProjectStatus, project_status
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.report import finished_runs, tracked_video_rows
from etholoop.store.session_tracks import latest_tracks_file
from etholoop.store.status import count_frames_by_split, list_cycles, list_runs
from etholoop.types import BehaviorRange

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from etholoop.store import ModelRun, Video


@frozen
class TrainingRun:
    """A finished pose training run.

    Attributes:
        id: Its run id.
        cycle: The index of the cycle it trained in, if known.
        backend: The pose backend.
        n_frames: Labeled frames it trained and validated on.
        epochs: One record per epoch, as the backend names its values.
    """

    id: int
    cycle: int | None
    backend: str
    n_frames: int
    epochs: tuple[dict[str, float], ...]


@frozen
class PoseEvaluation:
    """The newest pose evaluation: its run, metrics and `metrics.json`."""

    run_id: int
    metrics: PoseMetrics
    path: Path


@frozen
class BehaviorEvaluation:
    """The newest behavior evaluation: its run, metrics and `metrics.json`."""

    run_id: int
    metrics: dict[str, Any]
    path: Path


@frozen(eq=False)
class SessionTracks:
    """Where each animal of a session was.

    Attributes:
        name: The session's name.
        condition: Its condition (`NO_CONDITION` for none).
        width: Arena width in px.
        height: Arena height in px.
        fps: Frames per second, None if unknown.
        individuals: Animal names.
        centroids: Centroid of each animal's seen keypoints, shape (frames,
            individuals, 2) in px; NaN where it was not seen.
        path: The tracks file, as stored.
    """

    name: str
    condition: str
    width: int
    height: int
    fps: float | None
    individuals: tuple[str, ...]
    centroids: NDArray[np.float64]
    path: str


@frozen(eq=False)
class SessionEthogram:
    """A session's behaviors: manual truth and the newest prediction.

    Attributes:
        name: The session's name.
        condition: Its condition (`NO_CONDITION` for none).
        fps: Frames per second, None if unknown.
        behaviors: The project's behaviors, one per last-axis entry.
        individuals: Animal names.
        truth: Manual labels, shape (frames, individuals, behaviors).
        labeled: Frames a person settled, shape (frames, individuals); none for
            an animal without manual ranges.
        predicted: Predicted labels of the same shape as `truth`, None when no
            prediction was made for the session.
        path: The prediction file, as stored, if any.
    """

    name: str
    condition: str
    fps: float | None
    behaviors: tuple[str, ...]
    individuals: tuple[str, ...]
    truth: NDArray[np.bool_]
    labeled: NDArray[np.bool_]
    predicted: NDArray[np.bool_] | None
    path: str | None

    def animals(self) -> list[AnimalEthogram]:
        """Each animal's ethogram to count: its manual labels, else the prediction."""
        out = []
        for a, animal in enumerate(self.individuals):
            if self.labeled[:, a].any():
                source, labels, counted = "manual", self.truth[:, a], self.labeled[:, a]
            elif self.predicted is not None:
                labels = self.predicted[:, a]
                source, counted = "predicted", np.ones(len(labels), bool)
            else:
                continue
            out.append(
                AnimalEthogram(
                    self.name,
                    self.condition,
                    animal,
                    source,
                    self.fps,
                    self.behaviors,
                    labels,
                    counted,
                )
            )
        return out


@frozen(eq=False)
class ReportData:
    """Everything the report shows, section by section.

    Attributes:
        status: The project summary (`etholoop status`).
        runs: Every model run: id, stage, status, cycle, created.
        labeling: Per cycle and split: frames, frames with manual labels,
            manual instances, frames with predictions, predicted instances.
        training: Finished pose training runs, oldest first.
        pose_evaluation: The newest pose evaluation, if any.
        learning: Per evaluated pose run: cycle, labeled frames, test metrics.
        tracking: Per video of each tracking run: status, coverage, gaps, swaps.
        tracks: Sessions with tracks.
        ethograms: Sessions with manual or predicted behaviors.
        behavior_evaluation: The newest behavior evaluation, if any.
    """

    status: ProjectStatus
    runs: pd.DataFrame
    labeling: pd.DataFrame
    training: tuple[TrainingRun, ...]
    pose_evaluation: PoseEvaluation | None
    learning: pd.DataFrame
    tracking: pd.DataFrame
    tracks: tuple[SessionTracks, ...]
    ethograms: tuple[SessionEthogram, ...]
    behavior_evaluation: BehaviorEvaluation | None


def collect_report(project: Project, *, report: Reporter = silent) -> ReportData:
    """Gather every section's numbers of a project.

    Raises:
        FormatError: a metrics, tracks or ethogram file cannot be read.
        ProjectError: a session's tracks are longer than the session.
    """
    status = project_status(project)
    with project.store.session() as session:
        cycles = {c.id: c.index for c in list_cycles(session)}
        runs = _runs_table(session, cycles)
        labeling = _labeling_table(session)
        pose_runs = finished_runs(session, stage=POSE_TRAIN)
        training = tuple(_training_run(r, cycles) for r in reversed(pose_runs))
        evaluation = _pose_evaluation(project, pose_runs)
        learning = _learning_table(training, pose_runs)
        tracking = _tracking_table(session)
        predictions = _prediction_files(project, session)
        behavior_evaluation = _behavior_evaluation(project, session)
        videos = list_sessions(session)
        tracks, ethograms = [], []
        with report("Reading tracks and ethograms", len(videos)) as advance:
            for video in videos:
                stored = latest_tracks_file(session, video.id)
                if stored is not None:
                    tracks.append(_session_tracks(session, project, video, stored))
                ethogram = _session_ethogram(
                    project,
                    video,
                    session_name(session, video),
                    load_behavior_ranges(session, video.id),
                    predictions,
                )
                if ethogram is not None:
                    ethograms.append(ethogram)
                advance(1)
    return ReportData(
        status=status,
        runs=runs,
        labeling=labeling,
        training=training,
        pose_evaluation=evaluation,
        learning=learning,
        tracking=tracking,
        tracks=tuple(tracks),
        ethograms=tuple(ethograms),
        behavior_evaluation=behavior_evaluation,
    )


def _runs_table(session: Session, cycles: dict[int, int]) -> pd.DataFrame:
    rows = [
        {
            "run": run.id,
            "stage": run.stage,
            "status": run.status,
            "cycle": cycles.get(run.cycle_id) if run.cycle_id is not None else None,
            "created": run.created_at.strftime("%Y-%m-%d %H:%M"),
        }
        for run in list_runs(session)
    ]
    return pd.DataFrame(rows, columns=["run", "stage", "status", "cycle", "created"])


LABELING_COLUMNS = [
    "cycle",
    "split",
    "frames",
    "labeled_frames",
    "manual_instances",
    "predicted_frames",
    "predicted_instances",
]


def _labeling_table(session: Session) -> pd.DataFrame:
    """Frames and labels per split of every cycle (frames in none: `UNASSIGNED`)."""
    rows = [
        {
            "cycle": cycle.index,
            "split": counts.split or UNASSIGNED,
            "frames": counts.n_frames,
            "labeled_frames": counts.n_manual_frames,
            "manual_instances": counts.n_manual,
            "predicted_frames": counts.n_predicted_frames,
            "predicted_instances": counts.n_predicted,
        }
        for cycle in list_cycles(session)
        for counts in count_frames_by_split(session, cycle_id=cycle.id)
    ]
    table = pd.DataFrame(rows, columns=LABELING_COLUMNS)
    return table.groupby(["cycle", "split"], as_index=False, sort=True).sum()


def _training_run(run: ModelRun, cycles: dict[int, int]) -> TrainingRun:
    return TrainingRun(
        id=run.id,
        cycle=cycles.get(run.cycle_id) if run.cycle_id is not None else None,
        backend=str(run.config.get("backend", "")),
        n_frames=len((run.config.get("data") or {}).get("frames", ())),
        epochs=tuple((run.metrics or {}).get("epochs", ())),
    )


def _read_json(path: Path) -> dict[str, Any]:
    """A metrics file's content.

    Raises:
        FormatError: it is not JSON.
    """
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not a metrics file ({exc})") from None
    if not isinstance(content, dict):
        raise FormatError(f"{path}: not a metrics file (no JSON object)")
    return content


def _pose_evaluation(project: Project, runs: list[ModelRun]) -> PoseEvaluation | None:
    """The newest run's `evaluate/metrics.json`, if any run has one."""
    for run in runs:
        path = project.resolve(run.run_dir) / "evaluate" / "metrics.json"
        if path.is_file():
            try:
                metrics = PoseMetrics.from_dict(_read_json(path))
            except (KeyError, TypeError, AttributeError) as exc:
                raise FormatError(f"{path}: not a pose metrics file ({exc})") from None
            return PoseEvaluation(run.id, metrics, path)
    return None


LEARNING_COLUMNS = [
    "run",
    "cycle",
    "labeled_frames",
    "oks_map50_95",
    "oks_map50",
    "pck@0.1",
    "rmse_px",
]


def _learning_table(training: tuple[TrainingRun, ...], runs: list[Any]) -> pd.DataFrame:
    """Test metrics of every evaluated run against the labeled frames it had."""
    tests = {run.id: (run.metrics or {}).get("test") for run in runs}
    rows = [
        {
            "run": t.id,
            "cycle": t.cycle,
            "labeled_frames": t.n_frames,
            "oks_map50_95": test.get("oks_map50_95"),
            "oks_map50": test.get("oks_map50"),
            "pck@0.1": (test.get("pck") or {}).get("0.1"),
            "rmse_px": test.get("rmse"),
        }
        for t in training
        if (test := tests.get(t.id))
    ]
    return pd.DataFrame(rows, columns=LEARNING_COLUMNS)


TRACKING_COLUMNS = [
    "run",
    "video",
    "status",
    "frames",
    "all_found",
    "coverage",
    "frames_filled",
    "points_filled",
    "suspected_swaps",
    "error",
]


def _tracking_table(session: Session) -> pd.DataFrame:
    """Each tracked video's quality: coverage (every animal found), gaps, swaps."""
    rows = []
    for row, video in tracked_video_rows(session):
        quality = row.quality or {}
        n_frames = quality.get("n_frames")
        found = quality.get("frames_all_found")
        rows.append(
            {
                "run": row.run_id,
                "video": video.path,
                "status": row.status,
                "frames": n_frames,
                "all_found": found,
                "coverage": found / n_frames if n_frames else None,
                "frames_filled": quality.get("frames_filled"),
                "points_filled": quality.get("points_filled"),
                "suspected_swaps": len(quality.get("suspected_swaps", ()))
                if quality
                else None,
                "error": row.error,
            }
        )
    return pd.DataFrame(rows, columns=TRACKING_COLUMNS)


def _prediction_files(project: Project, session: Session) -> dict[str, str]:
    """Session name -> its newest predicted `.ethogram.nc` that is still there."""
    found: dict[str, str] = {}
    for run in finished_runs(session, stage=BEHAVIOR_PREDICT):
        for name, files in (run.config.get("outputs") or {}).items():
            path = (files or {}).get("netcdf")
            if name not in found and path and project.resolve(path).is_file():
                found[name] = path
    return found


def _behavior_evaluation(
    project: Project, session: Session
) -> BehaviorEvaluation | None:
    for run in finished_runs(session, stage=BEHAVIOR_EVALUATE):
        path = project.resolve(run.run_dir) / "metrics.json"
        if path.is_file():
            return BehaviorEvaluation(run.id, _read_json(path), path)
    return None


def _condition(video: Video) -> str:
    return video.condition or NO_CONDITION


def _session_tracks(
    session: Session, project: Project, video: Video, stored: str
) -> SessionTracks:
    tracks = load_session_tracks(session, project, video)
    return SessionTracks(
        name=session_name(session, video),
        condition=_condition(video),
        width=video.width,
        height=video.height,
        fps=video.fps,
        individuals=tracks.individuals,
        centroids=keypoint_centroids(
            tracks, tracks.skeleton.keypoints, tracks.n_frames
        ),
        path=stored,
    )


def _session_ethogram(
    project: Project,
    video: Video,
    name: str,
    ranges: list[BehaviorRange],
    predictions: dict[str, str],
) -> SessionEthogram | None:
    """Session `name`'s truth and prediction; None when it has neither."""
    stored = predictions.get(name)
    manual = [r for r in ranges if r.source == "manual"]
    if stored is None and not manual:
        return None
    behaviors = tuple(project.config.behaviors)
    n_frames = video.n_frames
    predicted = None
    if stored is not None:
        ethogram = read_labels(project.resolve(stored))
        individuals = ethogram.individuals
        predicted = np.zeros((n_frames, len(individuals), len(behaviors)), bool)
        shown = ethogram.values[:n_frames]
        for k, behavior in enumerate(behaviors):
            if behavior in ethogram.behaviors:
                column = ethogram.behaviors.index(behavior)
                predicted[: len(shown), :, k] = shown[:, :, column]
    else:
        n_animals = max(project.config.animals, *(r.individual + 1 for r in manual))
        individuals = tuple(f"animal{i}" for i in range(n_animals))
    animals = range(len(individuals))
    truth = np.stack(
        [
            one_hot(manual, behaviors, n_frames=n_frames, individual=a).astype(bool)
            for a in animals
        ],
        axis=1,
    )
    labeled = np.stack([labeled_frames(ranges, a, n_frames) for a in animals], axis=1)
    return SessionEthogram(
        name=name,
        condition=_condition(video),
        fps=video.fps,
        behaviors=behaviors,
        individuals=individuals,
        truth=truth,
        labeled=labeled,
        predicted=predicted,
        path=stored,
    )
