"""`evaluate_run`: a pose model's accuracy on the fixed test split, saved and recorded.

The model predicts on the test frames' images (nothing is written to the
labels), keeping animals down to `MAP_MIN_SCORE` for mAP; PCK, RMSE and counts
use those scored `MIN_BOX_SCORE` or more, at most the project's number of
animals per frame: the ones `predict` would store. The
predictions are scored against the manual labels of those frames
(`pose.metrics`). `metrics.json` and a plot go to the run's folder and the
metrics into the run's store record under "test"; a metric with nothing to
measure is null in both, and "n/a" in the plot.
"""

from __future__ import annotations

import json
from pathlib import Path

from attrs import frozen

from etholoop.errors import ProjectError
from etholoop.pose.backend import MIN_BOX_SCORE
from etholoop.pose.dataset import MANUAL
from etholoop.pose.metrics import PoseMetrics, evaluate_pose
from etholoop.pose.plots import plot_pose_metrics
from etholoop.pose.predict import load_predictor, predict_images
from etholoop.pose.runs import find_pose_run
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import record_metrics
from etholoop.sampling.split import subset_frames
from etholoop.store import load_instances_by_frame
from etholoop.store.pose import frame_sizes
from etholoop.types import Instance

MAP_MIN_SCORE = 0.001
"""Lowest score kept for mAP, which ranks every detection (as COCO does)."""


@frozen
class EvaluationReport:
    """What `evaluate_run` measured and where it wrote it."""

    run_id: int
    metrics: PoseMetrics
    metrics_json: Path
    plot: Path


@frozen
class _TestFrames:
    frame_ids: list[int]
    truth: list[list[Instance]]
    sizes: list[tuple[int, int]]


def _labeled_test_frames(project: Project) -> _TestFrames:
    """Test frames with manual labels, their truth instances and image sizes."""
    test = subset_frames(project, "test")
    with project.store.session() as session:
        truth = load_instances_by_frame(session, frame_ids=test, sources=MANUAL)
        frame_ids = sorted(truth)
        sizes = frame_sizes(session, frame_ids)
    return _TestFrames(
        frame_ids, [truth[f] for f in frame_ids], [sizes[f] for f in frame_ids]
    )


def evaluate_run(
    project: Project, *, run_id: int | None = None, report: Reporter = silent
) -> EvaluationReport:
    """Score a training run (default: the latest) on the labeled test frames.

    Raises:
        ProjectError: no finished run, no splits, or no labeled test frames.
    """
    found_id, predictor = load_predictor(project, run_id, min_score=MAP_MIN_SCORE)
    test = _labeled_test_frames(project)
    if not test.frame_ids:
        raise ProjectError(
            f"{project.root}: the test split has no manually labeled frames to "
            "evaluate on; label some (etholoop serve) or import labels"
        )
    found = predict_images(project, predictor, test.frame_ids, report=report)
    config = project.config
    metrics = evaluate_pose(
        test.truth,
        [found[f] for f in test.frame_ids],
        keypoint_names=config.skeleton.keypoints,
        sigmas=config.skeleton.oks_sigmas(),
        expected_animals=config.animals,
        image_sizes=test.sizes,
        min_score=MIN_BOX_SCORE,
        max_animals=config.animals,
    )
    with project.store.session() as session:
        run = find_pose_run(session, found_id, str(project.root))
        out_dir = project.resolve(run.run_dir) / "evaluate"
        record_metrics(session, found_id, {"test": metrics.to_dict()})
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_json = out_dir / "metrics.json"
    metrics_json.write_text(json.dumps(metrics.to_dict(), indent=2) + "\n")
    plot = plot_pose_metrics(metrics, out_dir / "metrics.png")
    return EvaluationReport(found_id, metrics, metrics_json, plot)
