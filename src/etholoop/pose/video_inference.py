"""A pose model over a whole video, streamed: frames in batches, detections out.

Frames are decoded in one pass and handed to the predictor `batch` at a time, so
memory holds one batch of frames whatever the video's length; what is kept is
the `Detections`, a few numbers per animal and frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from etholoop.pose.backend import PosePredictor, keep_best
from etholoop.progress import Reporter, silent
from etholoop.types import Detections, Instance

FRAMES_PER_BATCH = 16

F64 = NDArray[np.float64]
FrameRows = tuple[F64, F64, F64, F64]
"""One frame's (boxes, box_scores, keypoints, keypoint_scores)."""


def instance_rows(instances: Sequence[Instance], n_keypoints: int) -> FrameRows:
    """One frame's instances as (boxes, box_scores, keypoints, keypoint_scores).

    An instance without a box gets its keypoints' extent; one without scores
    gets 1 for every found keypoint.
    """
    n = len(instances)
    boxes = np.full((n, 4), np.nan)
    box_scores = np.ones(n)
    keypoints = np.full((n, n_keypoints, 2), np.nan)
    keypoint_scores = np.zeros((n, n_keypoints))
    for row, inst in enumerate(instances):
        keypoints[row] = inst.keypoints
        found = np.isfinite(inst.keypoints).all(axis=1)
        if inst.keypoint_scores is not None:
            keypoint_scores[row] = np.where(found, inst.keypoint_scores, 0.0)
        else:
            keypoint_scores[row] = found
        if inst.box is not None:
            boxes[row] = inst.box
        elif found.any():
            xy = inst.keypoints[found]
            boxes[row] = [*xy.min(axis=0), *xy.max(axis=0)]
        if inst.box_score is not None:
            box_scores[row] = inst.box_score
    return boxes, box_scores, keypoints, keypoint_scores


def _batches(
    frames: Iterable[NDArray[np.uint8]], size: int
) -> Iterator[list[NDArray[np.uint8]]]:
    batch: list[NDArray[np.uint8]] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def infer_detections(
    predictor: PosePredictor,
    frames: Iterable[NDArray[np.uint8]],
    *,
    n_frames: int,
    n_keypoints: int,
    max_animals: int,
    batch: int = FRAMES_PER_BATCH,
    report: Reporter = silent,
    description: str = "Finding animals",
) -> Detections:
    """The animals `predictor` finds in every frame, at most `max_animals` each.

    Args:
        predictor: A loaded pose model.
        frames: RGB frames in order (e.g. a reader's `iter_frames`), consumed once.
        n_frames: How many `frames` yields, for the progress bar.
        n_keypoints: Keypoints of the model's skeleton.
        max_animals: Most animals kept per frame, the best box scores.
        batch: Frames per predictor call.
        report: Progress reporter.
        description: The progress bar's label.
    """
    # one Detections per batch: a frame's four small arrays would cost more in
    # Python objects, over an hour of video, than the numbers they hold
    parts: list[Detections] = []
    with report(description, n_frames) as advance:
        for images in _batches(frames, batch):
            rows = [
                instance_rows(keep_best(found, max_animals), n_keypoints)
                for found in predictor.predict(images)
            ]
            parts.append(Detections.from_frames(rows, n_keypoints))
            advance(len(images))
    return Detections.concatenate(parts, n_keypoints)
