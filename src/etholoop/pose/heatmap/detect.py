"""The centroid detector that centres the keypoint crops, in the manner of SLEAP.

A `HeatmapNet` with one output channel looks at the whole frame, letterboxed
into a square of `input_size` px (the frame's longer side fits it, centred;
`centroid_matrix`), and draws a Gaussian at each animal's centre, the mean of
its labeled keypoints (`samples.instance_center`, where the keypoint crops
are centred in training). Local maxima of that map (`targets.find_peaks`) are
the animals: any number per frame, each scored by its peak value, which
becomes the instance's box score.

Sizes scale with the animals: the Gaussian's sigma is `SIGMA_FRACTION` and the
least distance between two centres `MIN_DISTANCE_FRACTION` of the keypoint
crop's side, both measured in the letterboxed frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from etholoop.pose.heatmap.geometry import (
    crop_matrix,
    invert_matrix,
    map_points,
    warp_crop,
)
from etholoop.pose.heatmap.network import STRIDE, HeatmapNet, run_model
from etholoop.pose.heatmap.samples import Augmentation, Jitter, photometric_jitter
from etholoop.pose.heatmap.targets import cells_to_crop, find_peaks, keypoint_heatmaps

SIGMA_FRACTION = 0.08
"""The centre Gaussian's sigma as a share of the keypoint crop's side."""
MIN_SIGMA = 2.0
"""Least sigma of the centre Gaussian, in input px."""
MIN_DISTANCE_FRACTION = 0.25
"""Least distance between two detected centres, as a share of the crop's side."""

NO_JITTER = Jitter()
"""The plain letterbox, for prediction."""

Detection = tuple[float, float, float]
"""An animal's centre (x, y) in image px and its score (the heatmap's peak)."""


def centroid_matrix(
    width: int, height: int, input_size: int, jitter: Jitter = NO_JITTER
) -> NDArray[np.float64]:
    """The map image px -> centroid input px: the whole frame, letterboxed.

    A `jitter` (training) shifts, rotates, zooms and mirrors it about the
    frame's centre, as `geometry.crop_matrix` does.
    """
    dx, dy = jitter.shift
    return crop_matrix(
        (width / 2.0 + dx, height / 2.0 + dy),
        float(max(width, height)),
        input_size,
        angle=jitter.angle,
        scale=jitter.scale,
        flip=jitter.flip,
    )


def _zoom(width: int, height: int, input_size: int) -> float:
    """Input px per image px of the letterboxed frame."""
    return input_size / max(width, height)


def centroid_sigma(crop_size: float, zoom: float) -> float:
    """Sigma of the centre Gaussian in input px, for animals of `crop_size` px."""
    return max(MIN_SIGMA, SIGMA_FRACTION * crop_size * zoom)


def centroid_sample(
    image: NDArray[np.uint8],
    centers: NDArray[np.float64],
    *,
    input_size: int,
    crop_size: float,
    augmentation: Augmentation,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """One training example of the centroid model.

    The frame is letterboxed (randomly rotated, zoomed and mirrored about its
    centre as `augmentation` allows, then jittered photometrically), and the
    target holds a Gaussian at each centre: the maximum of one map per animal.

    Args:
        image: RGB frame, shape (H, W, 3).
        centers: The animals' centres (x, y) in image px, shape (animals, 2).
        input_size: Side of the centroid model's input in px.
        crop_size: Side of the keypoint crop in image px (sets sigma).
        augmentation: Random changes allowed.
        rng: Source of the random changes.

    Returns:
        Input (3, S, S) in 0..1, heatmap (1, S/2, S/2), weight (1,) = 1.
    """
    height, width = image.shape[:2]
    jitter = augmentation.draw(rng, crop_size=float(max(width, height)))
    matrix = centroid_matrix(width, height, input_size, jitter)
    pixels = photometric_jitter(warp_crop(image, matrix, input_size), augmentation, rng)
    points = map_points(np.asarray(centers, dtype=np.float64).reshape(-1, 2), matrix)
    sigma = centroid_sigma(crop_size, _zoom(width, height, input_size) * jitter.scale)
    maps, _ = keypoint_heatmaps(
        points, np.ones(len(points), dtype=bool), input_size, STRIDE, sigma
    )
    size = input_size // STRIDE
    target = maps.max(axis=0, keepdims=True) if len(maps) else np.zeros((1, size, size))
    inputs = pixels.transpose(2, 0, 1).astype(np.float32) / np.float32(255.0)
    return inputs, target.astype(np.float32), np.ones(1, dtype=np.float32)


def detect_centers(
    model: HeatmapNet,
    images: Sequence[NDArray[np.uint8]],
    *,
    input_size: int,
    crop_size: float,
    threshold: float,
    max_peaks: int,
    device: torch.device,
) -> list[list[Detection]]:
    """The animals' centres in each RGB image, best scored first.

    Args:
        model: The centroid network.
        images: RGB frames, each (H, W, 3).
        input_size: Side of the centroid model's input in px.
        crop_size: Side of the keypoint crop in image px (sets the least
            distance between two centres).
        threshold: Least peak value of a centre.
        max_peaks: Most centres per image.
        device: Where the network runs.
    """
    matrices = [
        centroid_matrix(img.shape[1], img.shape[0], input_size) for img in images
    ]
    inputs = np.stack(
        [warp_crop(img, m, input_size) for img, m in zip(images, matrices, strict=True)]
    )
    heatmaps = run_model(model, inputs, device)
    found = []
    for img, matrix, heatmap in zip(images, matrices, heatmaps, strict=True):
        zoom = _zoom(img.shape[1], img.shape[0], input_size)
        distance = max(1, round(MIN_DISTANCE_FRACTION * crop_size * zoom / STRIDE))
        peaks = find_peaks(
            heatmap[0], threshold=threshold, min_distance=distance, max_peaks=max_peaks
        )
        cells = np.array([(x, y) for x, y, _ in peaks], dtype=np.float64)
        centers = map_points(
            cells_to_crop(cells.reshape(-1, 2), STRIDE), invert_matrix(matrix)
        )
        found.append(
            [
                (float(x), float(y), float(score))
                for (x, y), (_, _, score) in zip(centers, peaks, strict=True)
            ]
        )
    return found
