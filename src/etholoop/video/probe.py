"""What a video file or image sequence holds: size, rate, frame count and hash."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from etholoop.errors import VideoError
from etholoop.types import VideoInfo
from etholoop.video.reader import ImageSequenceReader, PyAVReader

_CHUNK = 1 << 20


def probe_video(path: Path, *, compute_hash: bool = True) -> VideoInfo:
    """Probe a video file: count its frames and prove that it decodes.

    The frame count comes from the file's packets, not from its headers, and the
    first frame is decoded.

    Args:
        path: The video file.
        compute_hash: Hash the file's bytes (sha256); if False, `sha256` is "".

    Returns:
        What the probe found.

    Raises:
        VideoError: if the file is missing, a folder, not a video, truncated, has
            no video stream, no decodable frame or no frame rate.
    """
    with PyAVReader(path) as reader:
        if len(reader) == 0:
            raise VideoError(f"{path}: has no video frames")
        reader.read_frame(0)
        if reader.fps is None:
            raise VideoError(f"{path}: frame rate unknown")
        return VideoInfo(
            path=str(path),
            sha256=hash_files([path]) if compute_hash else "",
            fps=reader.fps,
            n_frames=len(reader),
            width=reader.width,
            height=reader.height,
            codec=reader.codec,
            pix_fmt=reader.pix_fmt,
            duration_s=len(reader) / reader.fps,
        )


def probe_images(files: Sequence[Path]) -> VideoInfo:
    """Probe an image sequence; all images must have one size.

    Args:
        files: The image file of each frame, in order.

    Returns:
        What the probe found; `path` is the folder of the first image, `sha256`
        covers the bytes of all images in order, `fps` and `duration_s` are None.

    Raises:
        VideoError: if no file is given, one is missing or unreadable, or sizes differ.
    """
    with ImageSequenceReader(files) as reader:
        reader.read_frame(0)
        return VideoInfo(
            path=str(reader.path),
            sha256=hash_files(files),
            fps=None,
            n_frames=len(reader),
            width=reader.width,
            height=reader.height,
            codec=reader.codec,
            pix_fmt=reader.pix_fmt,
            duration_s=None,
        )


def hash_files(files: Sequence[Path]) -> str:
    """Hex sha256 of the bytes of files read one after the other, in chunks.

    Args:
        files: The files, in order.

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
