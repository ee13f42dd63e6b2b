"""How unsure a pose model is about a frame, from what it predicts.

Four signals, each in [0, 1], averaged: low box confidence, low keypoint
confidence, disagreement between the prediction on the frame and on its mirror
image (keypoints of matched animals apart, relative to the animal's size), and a
number of animals other than expected. A frame with no detection at all scores
high on every signal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from etholoop.pose.metrics import match_frame
from etholoop.types import Instance


def _mean(values: list[float], *, empty: float) -> float:
    return float(np.mean(values)) if values else empty


def flip_disagreement(plain: Sequence[Instance], flipped: Sequence[Instance]) -> float:
    """Mean keypoint distance between matched plain and mirrored predictions.

    Distances are divided by the diagonal of the plain prediction's box and
    clipped to 1; an animal found in only one of the two counts 1.
    """
    pairs = match_frame(plain, flipped)
    per_animal = [1.0] * (max(len(plain), len(flipped)) - len(pairs))
    for i, j in pairs:
        a, b = plain[i], flipped[j]
        box = a.box
        scale = (
            1.0 if box is None else float(np.hypot(box[2] - box[0], box[3] - box[1]))
        )
        distance = np.nanmean(np.linalg.norm(a.keypoints - b.keypoints, axis=1))
        per_animal.append(min(float(distance) / max(scale, 1.0), 1.0))
    return _mean(per_animal, empty=1.0)


def frame_uncertainty(
    plain: Sequence[Instance], flipped: Sequence[Instance], expected_animals: int
) -> float:
    """A score in [0, 1]: higher means the model is less sure of this frame."""
    box_doubt = 1 - _mean([i.box_score or 0.0 for i in plain], empty=0.0)
    keypoint_doubt = 1 - _mean(
        [
            float(np.nanmean(i.keypoint_scores))
            for i in plain
            if i.keypoint_scores is not None
        ],
        empty=0.0,
    )
    wrong_count = float(len(plain) != expected_animals)
    signals = (
        box_doubt,
        keypoint_doubt,
        flip_disagreement(plain, flipped),
        wrong_count,
    )
    return float(np.mean(signals))
