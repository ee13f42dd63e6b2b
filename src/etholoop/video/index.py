"""Opening a video file and indexing its frames without decoding them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from attrs import frozen
from av.container import InputContainer
from av.video.stream import VideoStream
from numpy.typing import NDArray

from etholoop.errors import VideoError
from etholoop.video.nal import find_x264_build, is_random_access, nal_length_size


@frozen(eq=False)
class FrameIndex:
    """Where each frame of a video stream lies, from its packets.

    Attributes:
        n_frames: Number of frames a sequential decode yields.
        pts: Presentation timestamp of each frame in display order, in the
            stream's time base, shape (frames,); None when the packets lack unique
            timestamps, in which case frames are found by decoding from the start.
        safe_inds: Display indices of the frames decoding can start from and be
            exact (IDR/IRAP pictures, or keyframes of other codecs), ascending.
        x264_build: Build of the x264 encoder that wrote the stream, or None.
    """

    n_frames: int
    pts: NDArray[np.int64] | None
    safe_inds: NDArray[np.int64]
    x264_build: int | None


def open_container(path: Path) -> tuple[InputContainer, VideoStream]:
    """Open a video file for reading.

    Args:
        path: The video file.

    Returns:
        The container and its first video stream.

    Raises:
        VideoError: if the file is missing, a folder, unreadable, or has no video.
    """
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({exc.strerror})") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: has no video stream")
    return container, container.streams.video[0]


def build_frame_index(path: Path) -> FrameIndex:
    """Index the frames of a video file by demuxing its packets (no decoding).

    Args:
        path: The video file.

    Returns:
        The frame index of its first video stream.

    Raises:
        VideoError: if the file cannot be opened or demuxed.
    """
    container, stream = open_container(path)
    codec = stream.codec_context.name
    length_size = nal_length_size(codec, stream.codec_context.extradata)
    pts: list[int | None] = []
    safe_pts: list[int | None] = []
    x264_build = None
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            if not pts and codec == "h264":
                x264_build = find_x264_build(bytes(packet))
            pts.append(packet.pts)
            if packet.is_keyframe and is_random_access(
                codec, bytes(packet), length_size
            ):
                safe_pts.append(packet.pts)
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: cannot read packets ({exc.strerror})") from exc
    finally:
        container.close()
    if None in pts or len(set(pts)) != len(pts):
        return FrameIndex(len(pts), None, np.zeros(0, np.int64), x264_build)
    sorted_pts = np.sort(np.array(pts, dtype=np.int64))
    safe_inds = np.searchsorted(sorted_pts, np.array(safe_pts, dtype=np.int64))
    return FrameIndex(len(pts), sorted_pts, safe_inds.astype(np.int64), x264_build)
