"""Strata of candidate frames: by video, experimental condition and time bin.

A stratum is one combination of the chosen factors that occurs, named like
"video=3|condition=saline|time=1". Time bins split each video into equal parts
of its length, so bin 0 is the first quarter of every video when there are 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

Factor = Literal["video", "condition", "time"]
FACTORS: tuple[Factor, ...] = get_args(Factor)
DEFAULT_STRATA: tuple[Factor, ...] = ("video", "time")
DEFAULT_TIME_BINS = 4
NO_CONDITION = "none"


def time_bins(
    frame_inds: NDArray[np.int64], n_frames: NDArray[np.int64], n_bins: int
) -> NDArray[np.int64]:
    """The time bin of each frame: `n_bins` equal parts of its video.

    Args:
        frame_inds: Frame index of each frame, shape (frames,).
        n_frames: Length of each frame's video in frames, shape (frames,).
        n_bins: Bins per video, >= 1.

    Returns:
        Bin index in [0, n_bins) of each frame, shape (frames,).
    """
    return np.minimum(frame_inds * n_bins // np.maximum(n_frames, 1), n_bins - 1)


def assign_strata(
    factors: Sequence[Factor],
    video_ids: NDArray[np.int64],
    conditions: Sequence[str | None],
    bins: NDArray[np.int64],
) -> tuple[NDArray[np.int64], tuple[str, ...]]:
    """Group frames into strata by the chosen factors.

    Args:
        factors: Which of "video", "condition", "time" define a stratum; none
            puts every frame in one stratum "all".
        video_ids: Video id of each frame, shape (frames,).
        conditions: Experimental condition of each frame (None if unknown).
        bins: Time bin of each frame, shape (frames,).

    Returns:
        The stratum index of each frame, shape (frames,), and the stratum names
        in order of their indices (sorted by the factor values).
    """
    if not factors:
        return np.zeros(len(video_ids), np.int64), ("all",)
    condition_names, condition_codes = np.unique(
        np.array([c or NO_CONDITION for c in conditions], dtype=object),
        return_inverse=True,
    )
    columns = {"video": video_ids, "condition": condition_codes, "time": bins}
    keys = np.stack([np.asarray(columns[f], dtype=np.int64) for f in factors], axis=1)
    rows, stratum_ids = np.unique(keys, axis=0, return_inverse=True)
    names = tuple(
        "|".join(
            f"{f}={condition_names[v] if f == 'condition' else v}"
            for f, v in zip(factors, row, strict=True)
        )
        for row in rows
    )
    return stratum_ids.reshape(-1).astype(np.int64), names
