"""`etholoop behavior evaluate`: cross-validated scores of the behavior model.

The model is refit on each fold's training frames and scored on its test
frames, which are contiguous time blocks of every labeled session (`blocks`,
`gap` frames on each side left out of training) or whole sessions
(`videos`, leave-one-session-out); never random frames. `auto` leaves one
session out when two or more are labeled, else cuts time blocks. The split is
recorded with the run (`split.json`).

Scores, pooled over folds: per behavior frame precision, recall and F1 and bout
F1 (a predicted bout matches a true one of the same animal and behavior when
their frames overlap with IoU >= 0.2, one to one), macro and weighted (by true
frames) frame F1, and the share of labeled animal-frames whose whole label set
is right (exact-match accuracy).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from attrs import evolve, frozen
from numpy.typing import NDArray

from etholoop.behavior.model import LabeledVideo
from etholoop.behavior.splits import Fold, blocks_of_videos, check_fold, video_folds
from etholoop.behavior_ranges import one_hot, runs_of_true
from etholoop.behavior_runs.data import SessionData, behaviors_of, load_sessions
from etholoop.behavior_runs.plots import plot_confusion, plot_ethogram_raster
from etholoop.behavior_runs.records import failed_on_error, start_behavior_run
from etholoop.behavior_runs.train import BehaviorModelName, pose_model
from etholoop.errors import EtholoopError, ProjectError
from etholoop.evaluate.behavior import DEFAULT_MIN_IOU, Counts, score_behaviors
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run

if TYPE_CHECKING:
    from etholoop.behavior.clip3d import Variant
    from etholoop.behavior_runs.pixels import VideoSession

BEHAVIOR_EVALUATE = "behavior-evaluate"
"""Stage name of behavior evaluation runs in `model_runs`."""
SplitKind = Literal["auto", "blocks", "videos"]
SPLIT_KINDS: tuple[SplitKind, ...] = ("auto", "blocks", "videos")
DEFAULT_BLOCKS = 5
DEFAULT_GAP = 23
"""Half the longest default feature window (45 frames), rounded up."""


@frozen
class BehaviorEvaluation:
    """What `evaluate_behavior` measured and where it wrote it."""

    run_id: int
    run_dir: Path
    metrics: dict[str, Any]


@frozen(eq=False)
class _Pooled:
    """Per labeled (session, animal): truth and pooled test predictions."""

    session: str
    animal: int
    truth: NDArray[np.bool_]
    pred: NDArray[np.bool_]
    tested: NDArray[np.bool_]


def evaluate_behavior(
    project: Project,
    *,
    model: BehaviorModelName = "pose",
    split: SplitKind = "auto",
    n_blocks: int = DEFAULT_BLOCKS,
    gap: int = DEFAULT_GAP,
    sessions: Sequence[str] | None = None,
    report: Reporter = silent,
    variant: Variant = "light",
    epochs: int | None = None,
    imsize: int | None = None,
) -> BehaviorEvaluation:
    """Cross-validate a behavior model on the labeled sessions; write scores, plots.

    Pixel models (`clip3d`, `sequence`) are trained once per fold, in the run
    folder's `fold<k>/`, with `variant`, `epochs` and `imsize` as in training.

    Raises:
        ProjectError: no labeled session, or `videos` with fewer than two.
    """
    behaviors = behaviors_of(project)
    with project.store.session() as session:
        if model == "pose":
            data = load_sessions(session, project, sessions)
        else:
            from etholoop.behavior_runs.pixels import video_sessions

            videos = video_sessions(session, project, sessions)
    if model == "pose":
        labeled = [
            (s, v) for s in data if (v := s.labeled_video(behaviors)) is not None
        ]
        names = [s.name for s, _ in labeled]
        n_frames = [v.tracks.n_frames for _, v in labeled]
    else:
        labeled_videos = [
            v for v in videos if any(v.labeled(a).any() for a in range(v.n_animals))
        ]
        names = [v.name for v in labeled_videos]
        n_frames = [v.n_frames for v in labeled_videos]
    if not names:
        raise ProjectError(
            f"{project.root}: no manual behavior labels on a session "
            + ("with tracks " if model == "pose" else "with a video ")
            + "to evaluate on"
        )
    kind = ("videos" if len(names) > 1 else "blocks") if split == "auto" else split
    try:
        folds = (
            video_folds(n_frames)
            if kind == "videos"
            else blocks_of_videos(n_frames, n_blocks, gap)
        )
    except EtholoopError as error:
        raise ProjectError(f"{project.root}: {error}") from None
    for fold in folds:
        check_fold(fold, gap if kind == "blocks" else 0)
    split_record = _split_record(kind, n_blocks, gap, names, folds)
    run_id, run_dir = start_behavior_run(
        project, BEHAVIOR_EVALUATE, {"model": model, "split": split_record}
    )
    with failed_on_error(project, run_id):
        if model == "pose":
            pooled = _cross_validate(pose_model(project), labeled, folds, report)
        else:
            pooled = _cross_validate_pixels(
                model,
                labeled_videos,
                behaviors,
                folds,
                run_dir,
                report,
                {"variant": variant, "epochs": epochs, "imsize": imsize},
            )
        metrics = _metrics(pooled, behaviors)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "split.json").write_text(json.dumps(split_record, indent=1))
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
        plot_confusion(metrics["per_behavior"], run_dir / "confusion.png")
        plot_ethogram_raster(
            [
                (f"{p.session} animal{p.animal}", p.truth, p.pred, p.tested)
                for p in pooled
            ],
            behaviors,
            run_dir / "ethogram.png",
        )
    with project.store.session() as session:
        finish_run(session, run_id, status="done", metrics=metrics)
    return BehaviorEvaluation(run_id, run_dir, metrics)


def _cross_validate_pixels(
    model: BehaviorModelName,
    videos: Sequence[VideoSession],
    behaviors: Sequence[str],
    folds: Sequence[Fold],
    run_dir: Path,
    report: Reporter,
    settings: dict[str, Any],
) -> list[_Pooled]:
    """Train a pixel model per fold on its training frames; pool test predictions."""
    from etholoop.behavior_runs.pixels import (
        predict_clip3d,
        predict_sequence_run,
        train_clip3d_run,
        train_sequence_run,
    )

    pooled = {
        (v.name, a): _Pooled(
            v.name,
            a,
            one_hot(
                [r for r in v.ranges if r.source == "manual"],
                behaviors,
                n_frames=v.n_frames,
                individual=a,
            ).astype(bool),
            np.zeros((v.n_frames, len(behaviors)), bool),
            np.zeros(v.n_frames, bool),
        )
        for v in videos
        for a in range(v.n_animals)
        if v.labeled(a).any()
    }
    with report("cross-validating", len(folds)) as advance:
        for k, fold in enumerate(folds, 1):
            fold_dir = run_dir / f"fold{k}"
            train = [
                evolve(v, usable=t) for v, t in zip(videos, fold.train, strict=True)
            ]
            train = [
                v for v in train if any(v.labeled(a).any() for a in range(v.n_animals))
            ]
            if model == "clip3d":
                train_clip3d_run(fold_dir, train, behaviors, **settings)
                predict = predict_clip3d
            else:
                settings_ = {k: v for k, v in settings.items() if k != "variant"}
                train_sequence_run(fold_dir, train, behaviors, **settings_)
                predict = predict_sequence_run
            for v, test in zip(videos, fold.test, strict=True):
                if not test.any():
                    continue
                _, labels = predict(fold_dir, v, behaviors)
                for a in range(v.n_animals):
                    item = pooled.get((v.name, a))
                    cells = test & v.labeled(a)
                    if item is not None and cells.any():
                        item.pred[cells] = np.asarray(labels.values[:, a], bool)[cells]
                        item.tested[cells] = True
            advance(1)
    return list(pooled.values())


def _cross_validate(
    estimator: Any,
    labeled: Sequence[tuple[SessionData, LabeledVideo]],
    folds: Sequence[Fold],
    report: Reporter,
) -> list[_Pooled]:
    pooled = {
        (s.name, a): _Pooled(
            s.name,
            a,
            np.asarray(v.labels.values[:, a], bool),
            np.zeros(v.labels.values[:, a].shape, bool),
            np.zeros(v.tracks.n_frames, bool),
        )
        for s, v in labeled
        for a in range(v.labeled.shape[1])
        if v.labeled[:, a].any()
    }
    with report("cross-validating", len(folds)) as advance:
        for fold in folds:
            train = [
                LabeledVideo(v.tracks, v.labels, v.labeled & t[:, None], v.unknown)
                for (_, v), t in zip(labeled, fold.train, strict=True)
                if (v.labeled & t[:, None]).any()
            ]
            predictor = estimator.fit(train)
            for (s, v), test in zip(labeled, fold.test, strict=True):
                if not test.any():
                    continue
                pred = np.asarray(predictor.predict(v.tracks).values, bool)
                settled: NDArray[np.bool_] = np.all(v.known(), axis=2)
                for a in range(v.labeled.shape[1]):
                    if (s.name, a) in pooled:
                        item = pooled[(s.name, a)]
                        cells = test & settled[:, a]
                        item.pred[cells] = pred[cells, a]
                        item.tested[cells] = True
            advance(1)
    return list(pooled.values())


def _metrics(pooled: Sequence[_Pooled], behaviors: Sequence[str]) -> dict[str, Any]:
    frames = [Counts() for _ in behaviors]
    bouts = [Counts() for _ in behaviors]
    confusion = np.zeros((len(behaviors), 2, 2), np.int64)
    exact, total = 0, 0
    for item in pooled:
        for start, stop in runs_of_true(item.tested):
            truth, pred = item.truth[start:stop], item.pred[start:stop]
            for k, scores in enumerate(score_behaviors(truth, pred, behaviors)):
                frames[k] += scores.frames
                bouts[k] += scores.bouts
                for t in (0, 1):
                    for p in (0, 1):
                        confusion[k, t, p] += int(
                            ((truth[:, k] == t) & (pred[:, k] == p)).sum()
                        )
            exact += int((truth == pred).all(axis=1).sum())
            total += stop - start
    per_behavior = {
        b: {
            "precision": frames[k].precision,
            "recall": frames[k].recall,
            "f1": frames[k].f1,
            "support": frames[k].n_true,
            "bout_precision": bouts[k].precision,
            "bout_recall": bouts[k].recall,
            "bout_f1": bouts[k].f1,
            "true_bouts": bouts[k].n_true,
            "confusion": confusion[k].tolist(),
        }
        for k, b in enumerate(behaviors)
    }
    f1 = np.array([frames[k].f1 for k in range(len(behaviors))])
    bout_f1 = np.array([bouts[k].f1 for k in range(len(behaviors))])
    support = np.array([frames[k].n_true for k in range(len(behaviors))], float)
    defined = ~np.isnan(f1)
    weighted = (
        float(np.sum(f1[defined] * support[defined]) / support[defined].sum())
        if support[defined].sum()
        else float("nan")
    )
    metrics: dict[str, Any] = _finite(
        {
            "frames": total,
            "accuracy": exact / total if total else float("nan"),
            "macro_f1": float(np.nanmean(f1)) if defined.any() else float("nan"),
            "weighted_f1": weighted,
            "macro_bout_f1": float(np.nanmean(bout_f1))
            if (~np.isnan(bout_f1)).any()
            else float("nan"),
            "bout_min_iou": DEFAULT_MIN_IOU,
            "per_behavior": per_behavior,
        }
    )
    return metrics


def _finite(value: Any) -> Any:
    """NaN as None, so that the metrics are valid JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _split_record(
    kind: str,
    n_blocks: int,
    gap: int,
    names: Sequence[str],
    folds: Sequence[Fold],
) -> dict[str, Any]:
    return {
        "kind": kind,
        "n_blocks": n_blocks if kind == "blocks" else None,
        "gap": gap if kind == "blocks" else None,
        "sessions": list(names),
        "folds": [
            {
                name: [list(r) for r in runs_of_true(test)]
                for name, test in zip(names, fold.test, strict=True)
                if test.any()
            }
            for fold in folds
        ],
    }
