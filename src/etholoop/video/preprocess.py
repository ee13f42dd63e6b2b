"""Re-encoding a video to a chosen rate, size, colour and time range as H.264 mp4."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from attrs import converters, field, frozen
from attrs.validators import ge, gt, instance_of, le, optional
from numpy.typing import NDArray

from etholoop.errors import VideoError
from etholoop.types import VideoInfo
from etholoop.video.probe import probe_video
from etholoop.video.reader import PyAVReader

# Tolerance, in frames, when mapping output times onto input frames.
_EPS = 1e-6
# FFmpeg's codes for BT.601 YUV (SMPTE 170M) in limited (MPEG) range: what
# swscale's RGB to YUV conversion produces.
_BT601, _LIMITED_RANGE = 6, 1
# ~3x faster than x264's default "medium" at the same crf, for a somewhat larger file.
_X264_PRESET = "veryfast"


@frozen
class PreprocessParams:
    """How `preprocess_video` re-encodes a video.

    Attributes:
        fps: Output frame rate; None keeps the source rate.
        size: Longest output side in px (aspect kept, dimensions rounded to even);
            None keeps the source size.
        gray: Encode luma only (neutral chroma).
        start_s: Start of the kept range in s from the start of the video.
        duration_s: Length of the kept range in s; None keeps up to the end.
        crf: x264 constant rate factor, 0 (lossless) to 51; 18 looks lossless.
        keyframe_interval: Frames between keyframes (GOP length).
    """

    fps: float | None = field(
        default=None, converter=converters.optional(float), validator=optional(gt(0))
    )
    size: int | None = field(
        default=None, validator=optional([instance_of(int), ge(2)])
    )
    gray: bool = False
    start_s: float = field(default=0.0, converter=float, validator=ge(0))
    duration_s: float | None = field(
        default=None, converter=converters.optional(float), validator=optional(gt(0))
    )
    crf: int = field(default=18, validator=[instance_of(int), ge(0), le(51)])
    keyframe_interval: int = field(default=30, validator=[instance_of(int), ge(1)])


def plan_output_size(width: int, height: int, size: int | None) -> tuple[int, int]:
    """Output frame size for a longest side of `size` px, keeping the aspect ratio.

    Args:
        width: Source width in px.
        height: Source height in px.
        size: Longest output side in px; None keeps the source size.

    Returns:
        (width, height), each rounded to an even number of px (H.264 4:2:0 needs it).
    """
    scale = 1.0 if size is None else size / max(width, height)
    return _even(width * scale), _even(height * scale)


def plan_source_frames(
    n_frames: int, src_fps: float, params: PreprocessParams
) -> NDArray[np.int64]:
    """Source frame shown at each output frame: the nearest earlier one in time.

    Output frame k is shown at `start_s + k / fps`, like FFmpeg's fps filter,
    until the end of the range or of the video.

    Args:
        n_frames: Number of source frames.
        src_fps: Source frame rate.
        params: The output rate and time range.

    Returns:
        Source frame indices, shape (output frames,), non-decreasing.
    """
    out_fps = params.fps or src_fps
    end_s = n_frames / src_fps
    if params.duration_s is not None:
        end_s = min(end_s, params.start_s + params.duration_s)
    n_out = max(0, math.ceil((end_s - params.start_s) * out_fps - _EPS))
    times = params.start_s + np.arange(n_out) / out_fps
    inds = np.floor(times * src_fps + _EPS).astype(np.int64)
    return np.minimum(inds, n_frames - 1)


def preprocess_video(
    src: Path,
    dst: Path,
    params: PreprocessParams,
    *,
    progress: Callable[[int], None] | None = None,
) -> VideoInfo:
    """Re-encode a video as H.264 (yuv420p, no B-frames) in an mp4 file.

    Writes `dst.with_suffix(".partial.mp4")` and renames it to `dst` at the end, so
    an interrupted run leaves nothing at `dst`.

    Args:
        src: The source video file.
        dst: The output file; must end in ".mp4".
        params: Rate, size, colour, time range and encoder settings.
        progress: Called with the number of frames written since its last call.

    Returns:
        The probe of the written file.

    Raises:
        VideoError: if the source cannot be read, `dst` is not an mp4 path or is the
            source, or the time range holds no frame.
    """
    if dst.suffix.lower() != ".mp4":
        raise VideoError(f"{dst}: output must be an .mp4 file")
    if dst.resolve() == src.resolve():
        raise VideoError(f"{dst}: output would overwrite the source video")
    with PyAVReader(src) as reader:
        if reader.fps is None:
            raise VideoError(f"{src}: frame rate unknown")
        src_inds = plan_source_frames(len(reader), reader.fps, params)
        if len(src_inds) == 0:
            raise VideoError(
                f"{src}: no frames from {params.start_s} s on; "
                f"the video lasts {len(reader) / reader.fps:.3f} s"
            )
        dst.parent.mkdir(parents=True, exist_ok=True)
        partial = dst.with_suffix(".partial.mp4")
        try:
            n_written = _encode(reader, src_inds, partial, params, progress)
            if n_written < len(src_inds):
                raise VideoError(
                    f"{src}: only {n_written} of {len(src_inds)} frames decoded"
                )
            os.replace(partial, dst)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return probe_video(dst)


def _encode(
    reader: PyAVReader,
    src_inds: NDArray[np.int64],
    path: Path,
    params: PreprocessParams,
    progress: Callable[[int], None] | None,
) -> int:
    """Encode the source frames `src_inds` to `path`; return the frames written."""
    assert reader.fps is not None
    rate = Fraction(params.fps or reader.fps).limit_denominator(1001)
    width, height = plan_output_size(reader.width, reader.height, params.size)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = params.keyframe_interval
        stream.codec_context.max_b_frames = 0
        stream.codec_context.colorspace = _BT601
        stream.codec_context.color_range = _LIMITED_RANGE
        stream.codec_context.options = {
            "crf": str(params.crf),
            "preset": _X264_PRESET,
            "sc_threshold": "0",  # keyframes exactly every keyframe_interval frames
        }
        n_written = 0
        frames = reader.iter_frames(
            int(src_inds[0]), int(src_inds[-1]) + 1, gray=params.gray
        )
        for frame_idx, pixels in frames:
            n_due = int(np.searchsorted(src_inds, frame_idx, side="right")) - n_written
            if n_due <= 0:
                continue
            frame = av.VideoFrame.from_ndarray(
                pixels, format="gray" if params.gray else "rgb24"
            ).reformat(width, height, format="yuv420p", interpolation="AREA")
            frame.time_base = 1 / rate
            for out_idx in range(n_written, n_written + n_due):
                frame.pts = out_idx
                container.mux(stream.encode(frame))
            n_written += n_due
            if progress is not None:
                progress(n_due)
        container.mux(stream.encode(None))
    return n_written


def _even(x: float) -> int:
    return max(2, 2 * round(x / 2))
