"""Keypoint heatmaps: training targets, and reading peaks back out of them.

Cell convention: a heatmap at `stride` has `out_size // stride` cells a side;
cell c covers crop px [c * stride, (c + 1) * stride) and its centre is crop px
(c + 0.5) * stride (crop px as in `geometry`: pixel edges at integers). Peak
positions in cells put cell centres at integers, so crop px = (cell + 0.5) *
stride (`cells_to_crop`). `keypoint_heatmaps` and `refine_peaks` are exact
inverses for a noise-free Gaussian.

Sub-pixel refinement fits a parabola through the log of the maximum cell and
its two neighbours on each axis (exact for a Gaussian, whose log is quadratic),
clipped to half a cell; a maximum on the heatmap's border keeps its cell centre
on that axis.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

_LOG_FLOOR = 1e-10  # values at or below it count as this in the log fit


def cells_to_crop(cells: NDArray[np.number], stride: int) -> NDArray[np.float64]:
    """Heatmap cell coordinates (centres at integers) as crop px, shape kept."""
    return (np.asarray(cells, dtype=np.float64) + 0.5) * stride


def keypoint_heatmaps(
    points: NDArray[np.floating],
    labeled: NDArray[np.bool_],
    out_size: int,
    stride: int,
    sigma: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Target heatmaps and loss weights for one instance's keypoints in a crop.

    A labeled keypoint inside the crop gets a Gaussian of `sigma` crop px whose
    peak, 1.0, lies at the keypoint (a cell holds the Gaussian's value at its
    centre); a labeled keypoint outside the crop gets an all-zero map (it truly
    is not there) and weight 1; an unlabeled keypoint gets an all-zero map and
    weight 0, so that it does not train as background.

    Args:
        points: Keypoints in crop px, shape (K, 2); NaN where unlabeled.
        labeled: Which keypoints carry a label, shape (K,).
        out_size: Side of the crop in px; a multiple of `stride`.
        stride: Crop px per heatmap cell.
        sigma: Gaussian standard deviation in crop px.

    Returns:
        Heatmaps, shape (K, out_size // stride, out_size // stride), and
        weights, shape (K,).

    Raises:
        ValueError: `stride` does not divide `out_size`.
    """
    if out_size % stride:
        raise ValueError(f"out_size {out_size} is not a multiple of stride {stride}")
    size = out_size // stride
    xy = np.asarray(points, dtype=np.float64)
    is_labeled = np.asarray(labeled, dtype=bool)
    inside = (
        is_labeled
        & np.isfinite(xy).all(axis=1)
        & (xy >= 0).all(axis=1)
        & (xy < out_size).all(axis=1)
    )
    centres = cells_to_crop(np.arange(size), stride)
    xy = np.where(inside[:, None], xy, 0.0)
    # Separable Gaussian: (K, 1, size) x (K, size, 1).
    gx = np.exp(-((centres[None, :] - xy[:, :1]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((centres[None, :] - xy[:, 1:]) ** 2) / (2 * sigma**2))
    maps = gy[:, :, None] * gx[:, None, :] * inside[:, None, None]
    return maps.astype(np.float32), is_labeled.astype(np.float32)


def _subpixel_offsets(
    maps: NDArray[np.floating],
    map_inds: NDArray[np.intp],
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sub-cell (dx, dy) of maxima at (map_inds, rows, cols) of maps (M, h, w)."""
    _, h, w = maps.shape

    def log_at(r: NDArray[np.intp], c: NDArray[np.intp]) -> NDArray[np.float64]:
        values = maps[map_inds, r, c].astype(np.float64)
        return np.log(np.maximum(values, _LOG_FLOOR))

    def offset(
        before: NDArray[np.float64], at: NDArray[np.float64], after: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        curvature = before - 2 * at + after
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(curvature < 0, 0.5 * (before - after) / curvature, 0.0)
        return np.clip(shift, -0.5, 0.5)

    at = log_at(rows, cols)
    left = log_at(rows, np.maximum(cols - 1, 0))
    right = log_at(rows, np.minimum(cols + 1, w - 1))
    up = log_at(np.maximum(rows - 1, 0), cols)
    down = log_at(np.minimum(rows + 1, h - 1), cols)
    dx = np.where((cols > 0) & (cols < w - 1), offset(left, at, right), 0.0)
    dy = np.where((rows > 0) & (rows < h - 1), offset(up, at, down), 0.0)
    return dx, dy


def refine_peaks(
    heatmaps: NDArray[np.floating], stride: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The sub-pixel maximum of each heatmap, in crop px, and its value.

    Args:
        heatmaps: Heatmaps, shape (N, K, h, w).
        stride: Crop px per heatmap cell.

    Returns:
        Keypoints in crop px, shape (N, K, 2), and scores (the maximum cell's
        value), shape (N, K).
    """
    n, k, h, w = heatmaps.shape
    flat = np.asarray(heatmaps).reshape(n * k, h, w)
    best = flat.reshape(n * k, -1).argmax(axis=1)
    rows, cols = np.unravel_index(best, (h, w))
    inds = np.arange(n * k)
    dx, dy = _subpixel_offsets(flat, inds, rows, cols)
    cells = np.stack([cols + dx, rows + dy], axis=1)
    scores = flat[inds, rows, cols].astype(np.float64)
    return cells_to_crop(cells, stride).reshape(n, k, 2), scores.reshape(n, k)


def find_peaks(
    heatmap: NDArray[np.floating],
    *,
    threshold: float,
    min_distance: int,
    max_peaks: int,
) -> list[tuple[float, float, float]]:
    """Local maxima of one heatmap, strongest first (several animals' centres).

    A cell is a peak when its value is at least `threshold` and no cell within
    `min_distance` cells (on each axis) is higher; of equal peaks that close
    (a plateau) the first in row-major order is kept.

    Args:
        heatmap: Heatmap, shape (h, w).
        threshold: Least value of a peak.
        min_distance: Least distance between two peaks, in cells (per axis).
        max_peaks: Most peaks returned.

    Returns:
        (x, y, value) per peak, x and y sub-pixel refined in heatmap cells
        (cell centres at integers; `cells_to_crop` turns them into crop px).
    """
    values = np.asarray(heatmap, dtype=np.float32)
    kernel = np.ones((2 * min_distance + 1, 2 * min_distance + 1), dtype=np.uint8)
    neighbourhood_max = cv2.dilate(values, kernel, borderType=cv2.BORDER_REPLICATE)
    rows, cols = np.nonzero((values >= neighbourhood_max) & (values >= threshold))
    order = np.argsort(-values[rows, cols], kind="stable")
    kept: list[int] = []
    for i in order:
        if len(kept) == max_peaks:
            break
        if all(
            max(abs(rows[i] - rows[j]), abs(cols[i] - cols[j])) > min_distance
            for j in kept
        ):
            kept.append(int(i))
    if not kept:
        return []
    rows, cols = rows[kept], cols[kept]
    dx, dy = _subpixel_offsets(values[None], np.zeros_like(rows), rows, cols)
    return [
        (float(c + ox), float(r + oy), float(values[r, c]))
        for r, c, ox, oy in zip(rows, cols, dx, dy, strict=True)
    ]
