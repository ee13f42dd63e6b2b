"""Choosing frames to label and splitting them for the active-learning loop.

Pure core: `strata` (video, condition, time bin), `embed` (tiny thumbnails),
`strategies` (the strategy registry: uniform, stratified, diverse), `reading`
(the order chosen frames are read in, and what replaces a near-duplicate),
`splits` (test / train+val / predict / reserve). Edges over project, store and
video: `sample.sample_frames` and `split.split_frames`.
"""

from etholoop.sampling.candidates import Candidates
from etholoop.sampling.sample import SampleReport, sample_frames
from etholoop.sampling.split import SplitReport, split_frames
from etholoop.sampling.strategies import (
    STRATEGIES,
    Strategy,
    get_strategy,
    register_strategy,
)

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
