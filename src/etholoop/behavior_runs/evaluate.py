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
from typing import Any, Literal

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior.model import LabeledVideo
from etholoop.behavior.splits import Fold, blocks_of_videos, check_fold, video_folds
from etholoop.behavior_ranges import runs_of_true
from etholoop.behavior_runs.data import SessionData, behaviors_of, load_sessions
from etholoop.behavior_runs.plots import plot_confusion, plot_ethogram_raster
from etholoop.behavior_runs.train import pose_model
from etholoop.errors import EtholoopError, ProjectError
from etholoop.evaluate.behavior import DEFAULT_MIN_IOU, Counts, score_behaviors
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run, start_run
from etholoop.store.runs import set_run_dir

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
    split: SplitKind = "auto",
    n_blocks: int = DEFAULT_BLOCKS,
    gap: int = DEFAULT_GAP,
    sessions: Sequence[str] | None = None,
    report: Reporter = silent,
) -> BehaviorEvaluation:
    """Cross-validate the pose model on the labeled sessions; write scores and plots.

    Raises:
        ProjectError: no labeled session with tracks, or `videos` with fewer
            than two.
    """
    behaviors = behaviors_of(project)
    with project.store.session() as session:
        data = load_sessions(session, project, sessions)
    labeled = [(s, v) for s in data if (v := s.labeled_video(behaviors)) is not None]
    if not labeled:
        raise ProjectError(
            f"{project.root}: no manual behavior labels on a session with tracks "
            "to evaluate on"
        )
    kind = ("videos" if len(labeled) > 1 else "blocks") if split == "auto" else split
    n_frames = [v.tracks.n_frames for _, v in labeled]
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
    estimator = pose_model(project)
    split_record = _split_record(kind, n_blocks, gap, labeled, folds)
    with project.store.session() as session:
        run = start_run(
            session,
            stage=BEHAVIOR_EVALUATE,
            config={"model": "pose", "split": split_record},
            cycle_id=None,
        )
        run_id = run.id
        run_dir = project.runs_dir / "behavior" / f"{run_id:04d}"
        set_run_dir(session, run_id, project.relative(run_dir))
    try:
        pooled = _cross_validate(estimator, labeled, folds, report)
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
    except (EtholoopError, ValueError, OSError):
        with project.store.session() as session:
            finish_run(session, run_id, status="failed")
        raise
    with project.store.session() as session:
        finish_run(session, run_id, status="done", metrics=metrics)
    return BehaviorEvaluation(run_id, run_dir, metrics)


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
    labeled: Sequence[tuple[SessionData, LabeledVideo]],
    folds: Sequence[Fold],
) -> dict[str, Any]:
    return {
        "kind": kind,
        "n_blocks": n_blocks if kind == "blocks" else None,
        "gap": gap if kind == "blocks" else None,
        "sessions": [s.name for s, _ in labeled],
        "folds": [
            {
                s.name: [list(r) for r in runs_of_true(test)]
                for (s, _), test in zip(labeled, fold.test, strict=True)
                if test.any()
            }
            for fold in folds
        ],
    }
