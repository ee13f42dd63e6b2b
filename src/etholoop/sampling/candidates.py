"""The frames a strategy chooses from: `Candidates`, arrays with one entry per frame."""

from __future__ import annotations

from typing import Any

import numpy as np
from attrs import field, frozen
from numpy.typing import NDArray

from etholoop.types import str_tuple


def _int_array(value: Any) -> NDArray[np.int64]:
    return np.asarray(value, dtype=np.int64)


def _optional_array(value: Any) -> NDArray[Any] | None:
    return None if value is None else np.asarray(value)


def _optional_bools(value: Any) -> NDArray[np.bool_] | None:
    return None if value is None else np.asarray(value, dtype=bool)


@frozen(eq=False)
class Candidates:
    """Candidate frames, ordered by video then frame index.

    Attributes:
        video_ids: Store id of each frame's video, shape (frames,).
        frame_inds: Frame index in its video, shape (frames,).
        stratum_ids: Index into `stratum_names` of each frame's stratum,
            shape (frames,).
        stratum_names: Name of each stratum, e.g. "video=3|time=1".
        embeddings: Per-frame feature vectors, shape (frames, dims), or None.
        scores: Per-frame scores (higher = more worth labeling), shape (frames,),
            or None.
        picked: Marks frames chosen in an earlier round, shape (frames,), or
            None: a strategy counts them as chosen and returns only new ones.
    """

    video_ids: NDArray[np.int64] = field(converter=_int_array)
    frame_inds: NDArray[np.int64] = field(converter=_int_array)
    stratum_ids: NDArray[np.int64] = field(converter=_int_array)
    stratum_names: tuple[str, ...] = field(converter=str_tuple)
    embeddings: NDArray[np.float32] | None = field(
        default=None, converter=_optional_array
    )
    scores: NDArray[np.float64] | None = field(default=None, converter=_optional_array)
    picked: NDArray[np.bool_] | None = field(default=None, converter=_optional_bools)

    def __attrs_post_init__(self) -> None:
        """Check that every per-frame array has one entry per frame."""
        n = len(self.video_ids)
        for name in ("frame_inds", "stratum_ids", "embeddings", "scores", "picked"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(
                    f"Candidates.{name}: expected {n} entries, got {len(value)}"
                )
        if n and not 0 <= self.stratum_ids.min() <= self.stratum_ids.max() < len(
            self.stratum_names
        ):
            raise ValueError("Candidates.stratum_ids: index outside stratum_names")

    def __len__(self) -> int:
        return len(self.video_ids)

    def subset(
        self,
        inds: NDArray[np.int64],
        embeddings: NDArray[np.float32] | None = None,
        picked: NDArray[np.bool_] | None = None,
    ) -> Candidates:
        """The candidates at `inds` (ascending), optionally with new arrays."""
        if embeddings is None and self.embeddings is not None:
            embeddings = self.embeddings[inds]
        if picked is None and self.picked is not None:
            picked = self.picked[inds]
        return Candidates(
            video_ids=self.video_ids[inds],
            frame_inds=self.frame_inds[inds],
            stratum_ids=self.stratum_ids[inds],
            stratum_names=self.stratum_names,
            embeddings=embeddings,
            scores=None if self.scores is None else self.scores[inds],
            picked=picked,
        )

    def groups(self, keys: NDArray[np.int64]) -> list[NDArray[np.int64]]:
        """Positions of the candidates sharing each value of `keys`, per value."""
        order = np.argsort(keys, kind="stable")
        bounds = np.flatnonzero(np.diff(keys[order])) + 1
        return [g for g in np.split(order, bounds) if len(g)]
