"""`etholoop behavior train`: fit a behavior model on the project's manual labels.

A run folder `PROJECT/runs/behavior/<id>/` holds the model (`model.json`) and
`split.json`: which frames of which sessions it learned from and how thresholds
and bout rules were chosen (contiguous inner blocks of those frames).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior.model import BoostParams, PoseFeatureModel, PosePredictor
from etholoop.behavior.persist import save_predictor
from etholoop.behavior_ranges import runs_of_true
from etholoop.behavior_runs.data import SessionData, behaviors_of, load_sessions
from etholoop.behavior_runs.records import (
    failed_on_error,
    run_folder,
    start_behavior_run,
)
from etholoop.errors import ProjectError
from etholoop.project import Project
from etholoop.runs import finish_run, resume_run
from etholoop.store.runs import get_model_run

if TYPE_CHECKING:
    from etholoop.behavior.clip3d import Variant

BEHAVIOR_TRAIN = "behavior-train"
"""Stage name of behavior training runs in `model_runs`."""
BehaviorModelName = Literal["pose", "clip3d", "sequence"]
BEHAVIOR_MODELS: tuple[BehaviorModelName, ...] = ("pose", "clip3d", "sequence")
MODEL_FILE = "model.json"


@frozen
class BehaviorTrainReport:
    """What `train_behavior` did.

    Attributes:
        run_id: The training run.
        run_dir: Its folder.
        sessions: Name and labeled frames (animal-frames) of each session learned from.
        positives: Labeled positive animal-frames per behavior.
        bout_params: Per behavior, the tuned threshold and bout rules.
    """

    run_id: int
    run_dir: Path
    sessions: tuple[tuple[str, int], ...]
    positives: dict[str, int]
    bout_params: dict[str, dict[str, Any]]


def pose_model(project: Project) -> PoseFeatureModel:
    """The pose-feature model with the project's `behavior:` settings."""
    settings = project.config.behavior
    return PoseFeatureModel(
        features=settings.feature_params(), boost=BoostParams(n_trees=settings.trees)
    )


def train_behavior(
    project: Project,
    *,
    model: BehaviorModelName = "pose",
    sessions: Sequence[str] | None = None,
    variant: Variant = "light",
    epochs: int | None = None,
    imsize: int | None = None,
    resume: int | None = None,
) -> BehaviorTrainReport:
    """Fit a behavior model on the manual labels of the sessions (default: all).

    `variant`, `epochs` and `imsize` are the pixel networks' (see
    `behavior_runs.pixels`); the pose model ignores them. `resume` continues
    an unfinished pixel-model run in its folder, with its model and variant:
    clip3d from its last epoch, sequence from its first unfinished stage.

    Raises:
        ProjectError: no behaviors in the config, a named session without
            tracks (pose) or without a video (clip3d), or no manual labels.
    """
    behaviors = behaviors_of(project)
    if resume is not None:
        model, variant = _resumed(project, resume)
    if model != "pose":
        return _train_pixels(
            project, model, behaviors, sessions, variant, epochs, imsize, resume
        )
    with project.store.session() as session:
        data = load_sessions(session, project, sessions)
    labeled = [(s, s.labeled_video(behaviors)) for s in data]
    training = [(s, v) for s, v in labeled if v is not None]
    if not training:
        raise ProjectError(
            f"{project.root}: no manual behavior labels on a session with tracks; "
            "import some with `etholoop behavior import` or label them in "
            "`etholoop serve`"
        )
    estimator = pose_model(project)
    videos = [v for _, v in training]
    positives = {
        b: int(sum(v.labels.values[..., k][v.known()[..., k]].sum() for v in videos))
        for k, b in enumerate(behaviors)
    }
    summary = tuple((s.name, int(v.labeled.sum())) for s, v in training)
    config = {
        "model": model,
        "behaviors": list(behaviors),
        "sessions": [
            {"id": s.video_id, "name": s.name, "labeled_frames": n}
            for (s, _), (_, n) in zip(training, summary, strict=True)
        ],
        "features": attrs.asdict(estimator.features),
        "boost": attrs.asdict(estimator.boost),
        "n_inner": estimator.n_inner,
        "gap": estimator.gap,
    }
    run_id, run_dir = start_behavior_run(project, BEHAVIOR_TRAIN, config)
    with failed_on_error(project, run_id):
        predictor = estimator.fit(videos)
        run_dir.mkdir(parents=True, exist_ok=True)
        save_predictor(predictor, run_dir / MODEL_FILE)
        _write_split(run_dir / "split.json", training, estimator)
    bout_params = _bout_params(predictor)
    with project.store.session() as session:
        finish_run(
            session,
            run_id,
            status="done",
            metrics={"positives": positives, "bout_params": bout_params},
        )
    return BehaviorTrainReport(run_id, run_dir, summary, positives, bout_params)


def _train_pixels(
    project: Project,
    model: BehaviorModelName,
    behaviors: Sequence[str],
    sessions: Sequence[str] | None,
    variant: Variant,
    epochs: int | None,
    imsize: int | None,
    resume: int | None,
) -> BehaviorTrainReport:
    from etholoop.behavior_runs.pixels import (
        frame_classes,
        train_clip3d_run,
        train_sequence_run,
        video_sessions,
    )

    with project.store.session() as session:
        data = video_sessions(session, project, sessions)
    classes = [
        [frame_classes(s, behaviors, a) for a in range(s.n_animals)] for s in data
    ]
    labeled = [sum(int(mask.sum()) for _, mask in animals) for animals in classes]
    if not any(labeled):
        raise ProjectError(
            f"{project.root}: no manual behavior labels on a session with a video; "
            "import some with `etholoop behavior import`"
        )
    config = {
        "model": model,
        "behaviors": list(behaviors),
        "sessions": [{"id": s.video_id, "name": s.name} for s in data],
        **({"variant": variant} if model == "clip3d" else {}),
    }
    if resume is None:
        run_id, run_dir = start_behavior_run(project, BEHAVIOR_TRAIN, config)
    else:
        with project.store.session() as session:
            resume_run(session, resume)
        run_id, run_dir = resume, run_folder(project, resume)
    with failed_on_error(project, run_id):
        if model == "clip3d":
            metrics = train_clip3d_run(
                run_dir,
                data,
                behaviors,
                variant=variant,
                epochs=epochs,
                imsize=imsize,
            )
        else:
            metrics = train_sequence_run(
                run_dir, data, behaviors, epochs=epochs, imsize=imsize
            )
    with project.store.session() as session:
        finish_run(session, run_id, status="done", metrics=metrics)
    positives = {
        b: sum(
            int((c[mask] == k + 1).sum()) for animals in classes for c, mask in animals
        )
        for k, b in enumerate(behaviors)
    }
    return BehaviorTrainReport(
        run_id,
        run_dir,
        tuple((s.name, n) for s, n in zip(data, labeled, strict=True) if n),
        positives,
        {},
    )


def _resumed(project: Project, run_id: int) -> tuple[BehaviorModelName, Variant]:
    """The model and variant of an unfinished pixel-model training run.

    Raises:
        ProjectError: no such run, a finished one, or a pose run (it is quick
            to train again).
    """
    with project.store.session() as session:
        run = get_model_run(session, run_id)
        if run is None or run.stage != BEHAVIOR_TRAIN:
            raise ProjectError(
                f"{project.root}: --resume {run_id}: no behavior training run"
            )
        model, status = run.config.get("model", "pose"), run.status
        variant = run.config.get("variant", "light")
    if status == "done":
        raise ProjectError(f"{project.root}: --resume {run_id}: that run finished")
    if model not in ("clip3d", "sequence"):
        raise ProjectError(
            f"{project.root}: --resume {run_id}: a {model} run is trained again, "
            "not resumed"
        )
    return model, variant


def _bout_params(predictor: PosePredictor) -> dict[str, dict[str, Any]]:
    return {
        b: attrs.asdict(p)
        for b, p in zip(predictor.behaviors, predictor.bout_params, strict=True)
    }


def _write_split(
    path: Path,
    training: Sequence[tuple[SessionData, Any]],
    estimator: PoseFeatureModel,
) -> None:
    """Which frames were learned from, and how the bout rules were chosen."""
    split = {
        "kind": "all labeled frames; thresholds and bout rules tuned on "
        f"{estimator.n_inner} contiguous inner blocks of them, "
        f"{estimator.gap} frames left out around each",
        "sessions": [
            {
                "name": s.name,
                "animals": {
                    str(animal): _runs(video.labeled[:, animal])
                    for animal in range(video.labeled.shape[1])
                    if video.labeled[:, animal].any()
                },
            }
            for s, video in training
        ],
    }
    path.write_text(json.dumps(split, indent=1), encoding="utf-8")


def _runs(mask: NDArray[np.bool_]) -> list[list[int]]:
    return [[a, b] for a, b in runs_of_true(mask)]
