"""`etholoop behavior predict`: ethograms of sessions, as files and predicted ranges.

Files go to `PROJECT/behavior/<train run id>/` (see `io.ethograms`), for every
animal. In the store, each session's earlier predicted ranges are replaced by
new ones for the animals nobody labeled yet (no manual range), which the
timeline view shows hatched until a person confirms or corrects them. Animals
with manual ranges get none: their frames are labels already. Manual ranges
are never touched.

Beside a session's files, `<session>.predicted-from.json` records what they
were made from: the training run, the tracks file (path, size, modification
time) and the animals with manual ranges, on which the predicted ranges depend.
A session whose files are all there and whose record matches is skipped, so a
re-run does no work twice; one whose tracks changed is predicted again, and
deleting its files has it predicted again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from attrs import frozen

from etholoop.atomic import written_atomically
from etholoop.behavior.persist import load_predictor
from etholoop.behavior_ranges import scored_ranges
from etholoop.behavior_runs.data import SessionData, load_sessions
from etholoop.behavior_runs.train import BEHAVIOR_TRAIN, MODEL_FILE
from etholoop.errors import EtholoopError, ProjectError
from etholoop.io.ethograms import write_ethogram_files
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run, require_run, start_run
from etholoop.store.behaviors import load_behavior_ranges, save_behavior_ranges
from etholoop.store.runs import set_run_dir
from etholoop.store.session_tracks import latest_tracks_file
from etholoop.types import BehaviorRange, Ethogram

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from etholoop.behavior_runs.pixels import VideoSession

BEHAVIOR_PREDICT = "behavior-predict"
"""Stage name of behavior prediction runs in `model_runs`."""
SOURCE_SUFFIX = ".predicted-from.json"
"""Beside a session's files: what they were made from (see the module doc)."""


@frozen
class PredictedSession:
    """One session's predictions: its files and predicted ranges, or its error.

    `status` is "done", "skipped" (its files were made from the same tracks by
    the same run) or "failed".
    """

    name: str
    status: str
    error: str | None = None
    files: dict[str, str] | None = None
    n_ranges: int = 0


@frozen
class BehaviorPredictReport:
    """What `predict_behavior` did: the training run used and each session."""

    run_id: int
    train_run_id: int
    out_dir: Path
    sessions: tuple[PredictedSession, ...]


@frozen
class TrainRun:
    """A finished behavior training run: its id, model family, folder, behaviors."""

    id: int
    model: str
    run_dir: Path
    behaviors: tuple[str, ...]


def find_train_run(project: Project, run_id: int | None) -> TrainRun:
    """The finished behavior training run `run_id`, or the latest one.

    Raises:
        ProjectError: there is no such run, or it predicts behaviors that are
            not the project's.
    """
    with project.store.session() as session:
        run = require_run(
            session,
            stage=BEHAVIOR_TRAIN,
            run_id=run_id,
            where=str(project.root),
            what="behavior training run",
            how="train one with `etholoop behavior train`",
        )
        train = TrainRun(
            run.id,
            str(run.config.get("model", "pose")),
            project.resolve(run.run_dir),
            tuple(run.config.get("behaviors", ())),
        )
    if not set(train.behaviors) <= set(project.config.behaviors):
        raise ProjectError(
            f"{project.config_path}: run {train.id} predicts "
            f"{list(train.behaviors)}, not all of them the project's behaviors"
        )
    return train


def predict_behavior(
    project: Project,
    sessions: Sequence[str] | None = None,
    *,
    run_id: int | None = None,
    report: Reporter = silent,
) -> BehaviorPredictReport:
    """Predict the ethogram of each named session (default: every one with tracks).

    A session that fails (e.g. its tracks file cannot be read) is reported and
    the rest go on. A session whose files this run made from the same tracks
    is skipped (see the module doc).

    Raises:
        ProjectError: no training run, a named session that does not exist or
            has no tracks, or a model whose behaviors are not the project's.
    """
    train = find_train_run(project, run_id)
    train_id = train.id
    predict_one = (
        _pose_predictor(train) if train.model == "pose" else _pixel_predictor(train)
    )
    with project.store.session() as session:
        if train.model != "pose":
            from etholoop.behavior_runs.pixels import video_sessions

            data: Sequence[SessionData | VideoSession] = video_sessions(
                session, project, sessions
            )
        else:
            data = load_sessions(session, project, sessions)
        sources = [_made_from(session, project, train_id, item) for item in data]
        run = start_run(
            session,
            stage=BEHAVIOR_PREDICT,
            config={"train_run": train_id, "sessions": [s.name for s in data]},
            cycle_id=None,
        )
        predict_id = run.id
        out_dir = project.root / "behavior" / f"{train_id:04d}"
        set_run_dir(session, predict_id, project.relative(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with report("predicting behaviors", len(data)) as advance:
        for item, source in zip(data, sources, strict=True):
            files = _unchanged_files(project, out_dir / item.name, source)
            if files is not None:
                n_predicted = sum(r.source == "predicted" for r in item.ranges)
                results.append(
                    PredictedSession(item.name, "skipped", None, files, n_predicted)
                )
            else:
                try:
                    probabilities, labels = predict_one(item)
                    results.append(
                        _record(project, item, probabilities, labels, out_dir, source)
                    )
                except EtholoopError as error:
                    results.append(PredictedSession(item.name, "failed", str(error)))
            advance(1)
    outputs = {r.name: r.files for r in results if r.files}
    with project.store.session() as session:
        finish_run(
            session,
            predict_id,
            status="done",
            config={"outputs": outputs},
            metrics={
                status: sum(r.status == status for r in results)
                for status in ("failed", "skipped")
            },
        )
    return BehaviorPredictReport(predict_id, train_id, out_dir, tuple(results))


Predict = Callable[[Any], tuple[Ethogram, Ethogram]]
"""A session's probabilities and labels, shape (frames, individuals, behaviors)."""


def _pose_predictor(train: TrainRun) -> Predict:
    predictor = load_predictor(train.run_dir / MODEL_FILE)

    def predict(item: SessionData) -> tuple[Ethogram, Ethogram]:
        if not np.isfinite(item.tracks.xy).any():
            raise ProjectError(
                f"session {item.name}: its tracks hold no animal in any frame; "
                "nothing to predict behaviors from"
            )
        return predictor.predict_proba(item.tracks), predictor.predict(item.tracks)

    return predict


def _pixel_predictor(train: TrainRun) -> Predict:
    from etholoop.behavior_runs.pixels import predict_clip3d, predict_sequence_run

    run = predict_clip3d if train.model == "clip3d" else predict_sequence_run

    def predict(item: VideoSession) -> tuple[Ethogram, Ethogram]:
        return run(train.run_dir, item, train.behaviors)

    return predict


def _made_from(
    session: Session, project: Project, train_id: int, item: SessionData | VideoSession
) -> dict[str, Any]:
    """What a session's predictions depend on: the run, its tracks, labeled animals.

    The tracks file is named by path, size and modification time; a pixel
    model's single animal without tracks reads the video alone.
    """
    stored = latest_tracks_file(session, item.video_id)
    tracks = None
    if stored is not None:
        stat = project.resolve(stored).stat()
        tracks = {"path": stored, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    manual = sorted({r.individual for r in item.ranges if r.source == "manual"})
    return {"train_run": train_id, "tracks": tracks, "manual_animals": manual}


def _unchanged_files(
    project: Project, stem: Path, source: dict[str, Any]
) -> dict[str, str] | None:
    """The files predicted earlier beside `stem` from `source`, if all are there."""
    try:
        record = json.loads(stem.with_name(stem.name + SOURCE_SUFFIX).read_text())
    except (OSError, ValueError):
        return None
    files: dict[str, str] = record.get("files") or {}
    if record.get("made_from") != source or not files:
        return None
    if not all(project.resolve(path).is_file() for path in files.values()):
        return None
    return files


def _record(
    project: Project,
    item: SessionData | VideoSession,
    probabilities: Ethogram,
    labels: Ethogram,
    out_dir: Path,
    source: dict[str, Any],
) -> PredictedSession:
    """Write a session's files, replace its predicted ranges, record the source.

    The record goes first and comes back last, so that files of an interrupted
    session are never taken for finished ones.
    """
    record = out_dir / f"{item.name}{SOURCE_SUFFIX}"
    record.unlink(missing_ok=True)
    paths = write_ethogram_files(out_dir / item.name, probabilities, labels, item.fps)
    with project.store.session() as session:
        stored = load_behavior_ranges(session, item.video_id)
        new = predicted_ranges(probabilities, labels, stored)
        kept = [r for r in stored if r.source != "predicted"]
        save_behavior_ranges(
            session,
            video_id=item.video_id,
            ranges=[*kept, *new],
            base_versions={r.id: r.version for r in stored if r.id and r.version},
        )
    files = {kind: project.relative(path) for kind, path in paths.items()}
    with written_atomically(record) as partial:
        text = json.dumps({"made_from": source, "files": files}, indent=1)
        partial.write_text(text + "\n", encoding="utf-8")
    return PredictedSession(item.name, "done", None, files, len(new))


def predicted_ranges(
    probabilities: Ethogram, labels: Ethogram, stored: Sequence[BehaviorRange]
) -> list[BehaviorRange]:
    """Predicted ranges of `labels` for the animals without manual ranges."""
    labeled = {r.individual for r in stored if r.source == "manual"}
    return [
        r
        for animal in range(labels.values.shape[1])
        if animal not in labeled
        for r in scored_ranges(
            np.asarray(labels.values[:, animal], bool),
            np.asarray(probabilities.values[:, animal], np.float64),
            labels.behaviors,
            animal,
        )
    ]
