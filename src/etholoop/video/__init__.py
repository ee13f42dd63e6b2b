"""Video access: frame-exact reading, probing, re-encoding and frame extraction."""

from etholoop.video.frames import extract_frames
from etholoop.video.preprocess import (
    PreprocessParams,
    plan_output_size,
    preprocess_video,
)
from etholoop.video.probe import probe_images, probe_video
from etholoop.video.reader import (
    ImageSequenceReader,
    PyAVReader,
    VideoReader,
    open_video,
)

__all__ = [
    "ImageSequenceReader",
    "PreprocessParams",
    "PyAVReader",
    "VideoReader",
    "extract_frames",
    "open_video",
    "plan_output_size",
    "preprocess_video",
    "probe_images",
    "probe_video",
]
