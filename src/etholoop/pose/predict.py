"""`predict_frames`: a pose model's predictions, stored as editable instances."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from PIL import Image

from etholoop.frame_cache import frame_image_paths
from etholoop.pose.backend import MIN_BOX_SCORE, PosePredictor, get_backend, keep_best
from etholoop.pose.runs import find_pose_run
from etholoop.pose.train import run_weights
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.sampling.split import subset_frames
from etholoop.store import (
    load_frame_instances,
    manually_labeled,
    save_frame_instances,
)
from etholoop.types import Instance, Subset

IMAGES_PER_STEP = 32


@frozen
class PredictReport:
    """What `predict_frames` did.

    Attributes:
        run_id: The model run that predicted.
        n_frames: Frames that got at least one predicted instance.
        n_instances: Predicted instances stored.
        n_empty: Frames predicted on that got none (earlier predictions removed).
        n_manual: Frames left alone because they hold manual labels (also those
            labeled while the model predicted).
    """

    run_id: int
    n_frames: int
    n_instances: int
    n_empty: int
    n_manual: int


def load_predictor(
    project: Project, run_id: int | None, *, min_score: float = MIN_BOX_SCORE
) -> tuple[int, PosePredictor]:
    """The predictor of a finished training run (default: the latest)."""
    with project.store.session() as session:
        run = find_pose_run(session, run_id, str(project.root))
        weights = run_weights(project, run)
        backend, imgsz = run.config["backend"], int(run.config["params"]["imgsz"])
        found_id = run.id
    predictor = get_backend(backend).load(
        weights, imgsz=imgsz, flip_idx=project.skeleton.flip_idx, min_score=min_score
    )
    return found_id, predictor


def predict_images(
    project: Project,
    predictor: PosePredictor,
    frame_ids: Sequence[int],
    *,
    flip: bool = False,
    report: Reporter = silent,
) -> dict[int, list[Instance]]:
    """Predicted instances of each frame, read from the frame cache in batches."""
    paths = frame_image_paths(project, frame_ids, report=report)
    found: dict[int, list[Instance]] = {}
    with report("Predicting poses", len(frame_ids)) as advance:
        for start in range(0, len(frame_ids), IMAGES_PER_STEP):
            batch = frame_ids[start : start + IMAGES_PER_STEP]
            images = [np.asarray(Image.open(paths[f]).convert("RGB")) for f in batch]
            found.update(zip(batch, predictor.predict(images, flip=flip), strict=True))
            advance(len(batch))
    return found


def predict_frames(
    project: Project,
    *,
    run_id: int | None = None,
    subset: Subset = "predict",
    min_score: float = MIN_BOX_SCORE,
    report: Reporter = silent,
) -> PredictReport:
    """Predict poses on a subset of frames and store them as `predicted` instances.

    Frames holding any manual instance are left alone (a prediction never
    replaces or joins a human label); earlier predictions on the other frames
    are replaced, each frame in one transaction.

    Animals scored below `min_score` are dropped, and of the others only the
    project's number of animals with the best box scores are kept.

    Raises:
        ProjectError: no finished training run (or not `run_id`), or no splits.
    """
    found_id, predictor = load_predictor(project, run_id, min_score=min_score)
    frame_ids = subset_frames(project, subset)
    with project.store.session() as session:
        manual = manually_labeled(session)
    todo = [f for f in frame_ids if f not in manual]
    predictions = predict_images(project, predictor, todo, report=report)
    author = f"pose-run-{found_id}"
    animals = project.config.animals
    n_instances = n_frames = n_empty = 0
    n_manual = len(frame_ids) - len(todo)
    for frame_id, found in predictions.items():
        instances = keep_best(found, animals)
        with project.store.session() as session:
            stored = load_frame_instances(session, frame_id)
            if any(inst.source == "manual" for inst in stored):
                n_manual += 1  # an annotator got there first
                continue
            save_frame_instances(
                session,
                frame_id=frame_id,
                instances=instances,
                base_versions={i.id: i.version for i in stored if i.id and i.version},
                author=author,
            )
        n_instances += len(instances)
        if instances:
            n_frames += 1
        else:
            n_empty += 1
    return PredictReport(found_id, n_frames, n_instances, n_empty, n_manual)
