"""Tiny frame embeddings: a downsampled grayscale thumbnail, and distances on it.

Distances are root-mean-square differences of thumbnail pixels in [0, 1], so
0.005 means the thumbnails differ by 0.5 % of the gray range on average. Frames a
second apart of the empty chamber video in `../shared/data` differ by 0.003
(noise and compression); those of the DLC open-field mouse by 0.035 to 0.11.
Animals only a few thumbnail pixels large (the two-fly clip) barely register.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

EMBED_SIZE = (32, 24)  # width, height of the thumbnail
EMBED_DIMS = EMBED_SIZE[0] * EMBED_SIZE[1]
DUPLICATE_DISTANCE = 0.005  # frames closer than this are near-duplicates


def embed_frame(gray: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The embedding of one frame.

    Args:
        gray: Grayscale frame, uint8, shape (height, width).

    Returns:
        Area-averaged 32x24 thumbnail in [0, 1], flattened, shape (768,).
    """
    thumb = Image.fromarray(gray).resize(EMBED_SIZE, Image.Resampling.BOX)
    return (np.asarray(thumb, dtype=np.float32) / 255.0).reshape(-1)


def rms_distances(
    point: NDArray[np.float32], points: NDArray[np.float32]
) -> NDArray[np.float64]:
    """RMS distance from one embedding to each of others.

    Args:
        point: One embedding, shape (dims,).
        points: Embeddings, shape (n, dims).

    Returns:
        Distances, shape (n,).
    """
    diff = points.astype(np.float64) - point.astype(np.float64)
    distances: NDArray[np.float64] = np.sqrt(np.mean(diff * diff, axis=1))
    return distances


def mean_nearest_neighbour_distance(embeddings: NDArray[np.float32]) -> float:
    """Mean over frames of the RMS distance to the nearest other frame.

    Args:
        embeddings: Shape (n, dims), n >= 2.

    Returns:
        The mean nearest-neighbour distance: larger means a more spread set.
    """
    x = embeddings.astype(np.float64)
    sq = np.sum(x * x, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0) / x.shape[1]
    np.fill_diagonal(d2, np.inf)
    return float(np.mean(np.sqrt(d2.min(axis=1))))
