"""Square crops around an animal: the affine map image px -> crop px and its pixels.

Pixel convention (the project's, as in `pose.flip`): coordinates are continuous
with pixel edges at integers, so pixel (row i, column j) covers x in [j, j + 1),
y in [i, i + 1) and its centre is (j + 0.5, i + 0.5); an image of width W spans
x in [0, W]. Crop coordinates follow the same convention, so a crop of
`out_size` px spans [0, out_size] on both axes. `warp_crop` converts to OpenCV's
convention (pixel centres at integers) internally, so a pixel of the image lands
in the crop exactly where `map_points` puts its centre.

Matrices are (2, 3) affine maps [A | t] taking a point p to A @ p + t.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def crop_matrix(
    center: tuple[float, float],
    crop_size: float,
    out_size: int,
    *,
    angle: float = 0.0,
    scale: float = 1.0,
    flip: bool = False,
) -> NDArray[np.float64]:
    """The affine map from image px to crop px of a square crop around `center`.

    Without rotation or zoom, the square of side `crop_size` image px centred
    on `center` becomes the `out_size` x `out_size` crop. The image is then
    rotated by `angle` degrees about the centre (positive = counter-clockwise as
    displayed, OpenCV's `getRotationMatrix2D` sense), zoomed by `scale` (> 1
    makes the animal look bigger) and, when `flip`, mirrored left-right in the
    crop (crop x -> out_size - x, as `pose.flip.flip_instances` mirrors).

    Args:
        center: Crop centre (x, y) in image px.
        crop_size: Side of the cropped square in image px, > 0.
        out_size: Side of the crop in px, > 0.
        angle: Rotation in degrees.
        scale: Zoom factor, > 0.
        flip: Mirror the crop left-right.

    Returns:
        The (2, 3) matrix image px -> crop px.

    Raises:
        ValueError: `crop_size`, `out_size` or `scale` is not positive.
    """
    if not crop_size > 0:
        raise ValueError(f"crop_size must be positive, got {crop_size}")
    if out_size <= 0:
        raise ValueError(f"out_size must be positive, got {out_size}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    zoom = out_size / crop_size * scale
    rad = np.deg2rad(angle)
    cos, sin = np.cos(rad) * zoom, np.sin(rad) * zoom
    linear = np.array([[cos, sin], [-sin, cos]])
    if flip:
        linear[0] = -linear[0]
    half = out_size / 2.0
    offset = np.array([half, half]) - linear @ np.asarray(center, dtype=np.float64)
    return np.column_stack([linear, offset])


def invert_matrix(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """The inverse affine map (crop px -> image px for a crop matrix), shape (2, 3)."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.column_stack([linear, -linear @ matrix[:, 2]])


def map_points(
    points: NDArray[np.floating], matrix: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Points moved by an affine map.

    Args:
        points: Coordinates in px, shape (..., 2); NaN stays NaN.
        matrix: Affine map, shape (2, 3).

    Returns:
        The mapped coordinates, shape (..., 2).
    """
    xy = np.asarray(points, dtype=np.float64)
    return xy @ matrix[:, :2].T + matrix[:, 2]


def warp_crop(
    image: NDArray[np.uint8], matrix: NDArray[np.float64], out_size: int
) -> NDArray[np.uint8]:
    """The `out_size` x `out_size` crop that `matrix` (image px -> crop px) cuts.

    Bilinear interpolation. Outside the image the border pixels repeat
    (`BORDER_REPLICATE`): a constant black border would look like a dark animal
    at the image edge, and the same border is used in training and prediction.

    Args:
        image: Image, shape (H, W, 3) or (H, W).
        matrix: Affine map image px -> crop px, shape (2, 3).
        out_size: Side of the crop in px.

    Returns:
        The crop, shape (out_size, out_size, 3) or (out_size, out_size).
    """
    # OpenCV puts pixel centres at integers: shift by half a pixel on both sides.
    cv_matrix = matrix.copy()
    cv_matrix[:, 2] += matrix[:, :2] @ np.array([0.5, 0.5]) - 0.5
    crop = cv2.warpAffine(
        image,
        cv_matrix,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(crop, dtype=np.uint8)
