"""Choosing frames to label and splitting them for the active-learning loop.

Pure core: `strata` (video, condition, time bin), `embed` (tiny thumbnails),
`strategies` (the strategy registry: uniform, stratified, diverse), `reading`
(the order chosen frames are read in, and what replaces a near-duplicate),
`splits` (test / train+val / predict / reserve). Edges over project, store and
video: `sample.sample_frames` and `split.split_frames`, imported when first
used so that the strategy registry (which the CLI's `--help` lists) loads
without the project, store and video stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from etholoop.sampling.candidates import Candidates
from etholoop.sampling.strategies import (
    STRATEGIES,
    Strategy,
    get_strategy,
    register_strategy,
)

if TYPE_CHECKING:
    from etholoop.sampling.sample import SampleReport, sample_frames
    from etholoop.sampling.split import SplitReport, split_frames

_EDGES = {
    "SampleReport": "sample",
    "sample_frames": "sample",
    "SplitReport": "split",
    "split_frames": "split",
}


def __getattr__(name: str) -> Any:
    if name in _EDGES:
        return getattr(import_module(f"etholoop.sampling.{_EDGES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "STRATEGIES",
    "Candidates",
    "SampleReport",
    "SplitReport",
    "Strategy",
    "get_strategy",
    "register_strategy",
    "sample_frames",
    "split_frames",
]
