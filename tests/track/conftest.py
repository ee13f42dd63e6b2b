"""Scripted detections for the tracker tests: animals moving on straight lines."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from etholoop.types import Detections, Skeleton

SKELETON = Skeleton(("nose", "earL", "earR", "tailB"))
LAYOUT = np.array([[20.0, 0.0], [8.0, -6.0], [8.0, 6.0], [-20.0, 0.0]])
"""Keypoint offsets of an animal heading along +x, px."""


def pose(centre: NDArray[np.float64], heading: float) -> NDArray[np.float64]:
    """Keypoints (4, 2) of an animal at `centre` heading at angle `heading`."""
    c, s = np.cos(heading), np.sin(heading)
    return centre + LAYOUT @ np.array([[c, s], [-s, c]])


def detections_from_poses(
    kp: NDArray[np.float64], order_seed: int | None = None
) -> Detections:
    """Detections from keypoints (frames, animals, K, 2); NaN animals are dropped.

    Boxes are the keypoints' extent padded by 5 px; rows are shuffled within
    each frame when `order_seed` is given.
    """
    rng = np.random.default_rng(order_seed)
    frames = []
    for t in range(len(kp)):
        here = kp[t][np.isfinite(kp[t]).all(axis=(1, 2))]
        if order_seed is not None:
            here = here[rng.permutation(len(here))]
        lo, hi = here.min(axis=1) - 5, here.max(axis=1) + 5
        boxes = np.concatenate([lo, hi], axis=1)
        frames.append((boxes, np.ones(len(here)), here, np.ones(here.shape[:2])))
    return Detections.from_frames(frames, kp.shape[2])


def crossing(n_frames: int = 60, gap: float = 0.0) -> NDArray[np.float64]:
    """Two animals crossing an X at the middle frame, (frames, 2, 4, 2).

    Animal 0 runs from upper left to lower right, animal 1 from lower left to
    upper right, both at 4 px/frame; `gap` px separates their paths vertically
    at the crossing.
    """
    t = np.arange(n_frames, dtype=np.float64) - n_frames / 2
    kp = np.empty((n_frames, 2, 4, 2))
    for a, sign in enumerate((1.0, -1.0)):
        heading = np.arctan2(sign * 3.0, 3.0)
        for f in range(n_frames):
            centre = np.array([200 + 3 * t[f], 200 + sign * (3 * t[f] - gap / 2)])
            kp[f, a] = pose(centre, heading)
    return kp
