"""Where a raw video's frames and pixel positions are in its normalized copy.

A copy made by `preprocess_video` shows source frame `plan_source_frames(...)[k]`
at its frame k and is the source resized, so labels carry over frame-exactly by
index (a raw frame shown nowhere in the copy has no place there) and
positions by the ratio of the frame sizes: the resize maps the image's extent
`[0, width] x [0, height]` onto the copy's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

NOT_SHOWN = -1
"""`copy_frame_inds` of a raw frame that the copy does not show."""


def copy_frame_inds(source_inds: ArrayLike, frame_inds: ArrayLike) -> NDArray[np.int64]:
    """The copy frame that shows each raw frame exactly.

    Args:
        source_inds: Raw frame shown at each copy frame, shape (copy frames,),
            non-decreasing (`plan_source_frames`).
        frame_inds: Raw frame indices to place, shape (n,).

    Returns:
        Copy frame indices, shape (n,): the first copy frame showing that raw
        frame (a copy at a higher rate shows some several times), or `NOT_SHOWN`
        where the copy shows it nowhere (between its frames or outside its time
        range).
    """
    shown = np.asarray(source_inds, dtype=np.int64)
    wanted = np.asarray(frame_inds, dtype=np.int64)
    first = np.searchsorted(shown, wanted, side="left")
    found = first < len(shown)
    found[found] = shown[first[found]] == wanted[found]
    return np.where(found, first, NOT_SHOWN).astype(np.int64)


def size_scale(
    src_size: tuple[int, int], dst_size: tuple[int, int]
) -> tuple[float, float]:
    """(x, y) factors from pixel positions in a frame of `src_size` to `dst_size`.

    Args:
        src_size: (width, height) of the raw video in px.
        dst_size: (width, height) of the copy in px.
    """
    return dst_size[0] / src_size[0], dst_size[1] / src_size[1]


def scale_xy(xy: ArrayLike, scale: tuple[float, float]) -> NDArray[np.float64]:
    """Pixel positions moved to a resized frame; NaN (unlabeled) stays NaN.

    Args:
        xy: Positions in px, shape (..., 2) as (x, y); a box (x1, y1, x2, y2)
            reshaped to (2, 2) works too.
        scale: (x, y) factors, from `size_scale`.

    Returns:
        A new array of the same shape.
    """
    return np.asarray(xy, dtype=np.float64) * np.asarray(scale, dtype=np.float64)
