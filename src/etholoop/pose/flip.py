"""Mirroring instances left-right, as a horizontal flip of their image does.

Pure: instances in, new instances out. Test-time augmentation predicts on a
mirrored image and maps the result back with `flip_instances`; flip uncertainty
(`pose.uncertainty`) compares the two.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import evolve

from etholoop.types import Instance


def flip_instances(
    instances: Sequence[Instance], width: float, flip_idx: Sequence[int]
) -> list[Instance]:
    """The instances as they lie in the image mirrored left-right.

    A point at x goes to `width - x` (pixel edges: the image's left edge 0 maps
    onto its right edge `width`), y stays; a box's corners swap so that x1 < x2
    stays true. Keypoint k of the result is keypoint `flip_idx[k]` of the input
    (left and right swap), with its visibility and score. Mirroring twice with a
    symmetric `flip_idx` (pairs swapped, the rest fixed) gives the input back.

    Args:
        instances: Instances in the original image.
        width: The image width in px.
        flip_idx: Keypoint permutation of the flip (`Skeleton.flip_idx`), one
            entry per keypoint.

    Raises:
        ValueError: `flip_idx` is not a permutation of the instances' keypoints.
    """
    order = np.asarray(flip_idx, dtype=np.intp)
    flipped = []
    for inst in instances:
        if sorted(order.tolist()) != list(range(inst.n_keypoints)):
            raise ValueError(
                f"flip_idx {list(flip_idx)} is no permutation of "
                f"{inst.n_keypoints} keypoints"
            )
        keypoints = inst.keypoints[order].copy()
        keypoints[:, 0] = width - keypoints[:, 0]
        box = inst.box
        flipped.append(
            evolve(
                inst,
                keypoints=keypoints,
                visibility=inst.visibility[order],
                keypoint_scores=None
                if inst.keypoint_scores is None
                else inst.keypoint_scores[order],
                box=None
                if box is None
                else np.array([width - box[2], box[1], width - box[0], box[3]]),
            )
        )
    return flipped
