"""Frame-exact access to the frames of a video file or an image sequence.

`VideoReader` handles length, shape, grayscale, slicing and bounds errors; a
backend implements only `_read_frame(i)` and `_iter_frames(start, stop)`, both
returning RGB frames.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, overload

import numpy as np
from av.video.frame import VideoFrame
from numpy.typing import NDArray
from PIL import Image

from etholoop.errors import VideoError
from etholoop.video.decoder import FrameDecoder
from etholoop.video.index import build_frame_index

Frame = NDArray[np.uint8]

# PIL image modes as FFmpeg pixel format names.
_PIX_FMTS = {
    "1": "monob",
    "L": "gray",
    "LA": "ya8",
    "P": "pal8",
    "RGB": "rgb24",
    "RGBA": "rgba",
    "CMYK": "cmyk",
    "I;16": "gray16le",
    "I": "gray32le",
    "F": "grayf32le",
}


class VideoReader(ABC):
    """Frames of one video by index, as RGB or grayscale uint8 arrays.

    Use as a context manager, or call `close()`.

    Args:
        path: The video file (the folder for an image sequence); named in errors.
        n_frames: Number of frames.
        width: Frame width in px.
        height: Frame height in px.
        fps: Frames per second; None if unknown (image sequences).
    """

    def __init__(
        self, path: Path, n_frames: int, width: int, height: int, fps: float | None
    ) -> None:
        self.path = path
        self.n_frames = n_frames
        self.width = width
        self.height = height
        self.fps = fps
        self.closed = False

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(frames, height, width, 3) of the RGB frames."""
        return self.n_frames, self.height, self.width, 3

    def __len__(self) -> int:
        return self.n_frames

    @overload
    def __getitem__(self, key: int) -> Frame: ...

    @overload
    def __getitem__(self, key: slice) -> Frame: ...

    def __getitem__(self, key: int | slice) -> Frame:
        """One RGB frame (H, W, 3), or a slice of frames stacked (N, H, W, 3)."""
        if isinstance(key, slice):
            inds = range(*key.indices(self.n_frames))
            frames = [self.read_frame(i) for i in inds]
            return (
                np.stack(frames) if frames else np.zeros((0, *self.shape[1:]), np.uint8)
            )
        return self.read_frame(key)

    @property
    def seek_points(self) -> NDArray[np.int64]:
        """Frames decoding can start at, ascending from 0.

        Reading a frame decodes every frame from the last seek point at or
        before it; an image sequence can start at any frame.
        """
        return np.arange(self.n_frames, dtype=np.int64)

    def check_index(self, frame_idx: int) -> None:
        """Check that a frame index lies in [0, n_frames).

        Raises:
            VideoError: naming the file, the index and the valid range.
        """
        if not 0 <= frame_idx < self.n_frames:
            raise VideoError(
                f"{self.path}: frame index {frame_idx} out of range "
                f"[0, {self.n_frames})"
            )

    def read_frame(self, frame_idx: int, gray: bool = False) -> Frame:
        """The frame at an index, exactly as a sequential decode yields it.

        Args:
            frame_idx: 0-based frame index.
            gray: Return luma (H, W) instead of RGB (H, W, 3).

        Returns:
            uint8 array, (H, W, 3) RGB or (H, W) grayscale.

        Raises:
            VideoError: if the index is out of range or the frame cannot be read.
        """
        frame_idx = operator.index(frame_idx)
        self.check_index(frame_idx)
        self._check_open()
        rgb = self._read_frame(frame_idx)
        return rgb_to_gray(rgb) if gray else rgb

    def iter_frames(
        self,
        start: int = 0,
        stop: int | None = None,
        gray: bool = False,
        wanted: Callable[[int], bool] | None = None,
    ) -> Iterator[tuple[int, Frame]]:
        """Frames `start` to `stop - 1` in order, in one decoding pass.

        Args:
            start: First frame index.
            stop: One past the last frame index; None for the end of the video.
            gray: Yield luma (H, W) instead of RGB (H, W, 3).
            wanted: Asked of each index as it is reached; a frame it declines is
                decoded (a video must be) but not converted nor yielded.

        Yields:
            (frame index, uint8 frame) pairs.

        Raises:
            VideoError: if the range is out of bounds or a frame cannot be read.
        """
        stop = self.n_frames if stop is None else stop
        if not 0 <= start <= stop <= self.n_frames:
            raise VideoError(
                f"{self.path}: frame range [{start}, {stop}) out of range "
                f"[0, {self.n_frames})"
            )
        self._check_open()
        if start == stop:
            return
        for frame_idx, rgb in self._iter_frames(start, stop, wanted or _every):
            yield frame_idx, rgb_to_gray(rgb) if gray else rgb

    def close(self) -> None:
        """Release the file; reading afterwards raises ValueError."""
        self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"{self.path}: reader is closed")

    @abstractmethod
    def _read_frame(self, frame_idx: int) -> Frame:
        """RGB frame (H, W, 3) at a valid index."""

    @abstractmethod
    def _iter_frames(
        self, start: int, stop: int, wanted: Callable[[int], bool]
    ) -> Iterator[tuple[int, Frame]]:
        """(index, RGB frame) of the wanted frames in [start, stop), start < stop."""


class PyAVReader(VideoReader):
    """A video file read with PyAV (FFmpeg), frame-exact under random access.

    Opening demuxes every packet once (no decoding) to count the frames and to
    find where decoding can start; see `FrameDecoder`.

    Args:
        path: The video file.

    Raises:
        VideoError: if the file is missing, unreadable or has no video stream.
    """

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        index = build_frame_index(path)
        self._decoder = FrameDecoder(path, index)
        stream = self._decoder.stream
        rate = stream.average_rate or stream.guessed_rate
        super().__init__(
            path,
            index.n_frames,
            stream.codec_context.width,
            stream.codec_context.height,
            fps=None if rate is None else float(rate),
        )
        self.codec = stream.codec_context.name
        self.pix_fmt = stream.codec_context.pix_fmt or "unknown"

    @property
    def seek_points(self) -> NDArray[np.int64]:
        """Frames decoding can start at: the safe frames, and the file start."""
        return np.union1d([0], self._decoder.index.safe_inds).astype(np.int64)

    def close(self) -> None:
        """Close the file."""
        super().close()
        self._decoder.close()

    def _read_frame(self, frame_idx: int) -> Frame:
        return _to_rgb(self._decoder.frame(frame_idx))

    def _iter_frames(
        self, start: int, stop: int, wanted: Callable[[int], bool]
    ) -> Iterator[tuple[int, Frame]]:
        decoder = FrameDecoder(
            self.path, self._decoder.index, pts_to_idx=self._decoder.pts_to_idx
        )
        try:
            for frame_idx, frame in decoder.frames_from(start):
                if frame_idx >= stop:
                    return
                if wanted(frame_idx):
                    yield frame_idx, _to_rgb(frame)
                if frame_idx == stop - 1:
                    return
        finally:
            decoder.close()


class ImageSequenceReader(VideoReader):
    """Frames stored as image files of one size, one file per frame.

    Args:
        files: The image file of each frame, in order.

    Raises:
        VideoError: if no files are given, one is missing or unreadable, or the
            sizes differ.
    """

    def __init__(self, files: Sequence[Path | str]) -> None:
        if not files:
            raise VideoError("image sequence: no image files given")
        self.files = [Path(f) for f in files]
        (width, height), codec, mode = _image_header(self.files[0])
        for file in self.files[1:]:
            w, h = _image_header(file)[0]
            if (w, h) != (width, height):
                raise VideoError(
                    f"{file}: size {w}x{h} differs from the first image "
                    f"{self.files[0].name} ({width}x{height})"
                )
        super().__init__(self.files[0].parent, len(self.files), width, height, fps=None)
        self.codec = codec
        self.pix_fmt = _PIX_FMTS.get(mode, mode.lower())

    def _read_frame(self, frame_idx: int) -> Frame:
        file = self.files[frame_idx]
        try:
            with Image.open(file) as image:
                return np.asarray(image.convert("RGB"))
        except OSError as exc:
            raise VideoError(f"{file}: not a readable image ({exc})") from exc

    def _iter_frames(
        self, start: int, stop: int, wanted: Callable[[int], bool]
    ) -> Iterator[tuple[int, Frame]]:
        for frame_idx in range(start, stop):
            if wanted(frame_idx):
                yield frame_idx, self._read_frame(frame_idx)


def open_video(path_or_image_files: Path | str | Sequence[Path | str]) -> VideoReader:
    """Open a video file, or a list of image files as one video.

    Args:
        path_or_image_files: A video file, or the image file of each frame in order.

    Returns:
        A `PyAVReader` for a file, an `ImageSequenceReader` for a list of images.

    Raises:
        VideoError: if the video or an image cannot be read.
    """
    if isinstance(path_or_image_files, str | Path):
        return PyAVReader(path_or_image_files)
    return ImageSequenceReader(path_or_image_files)


def rgb_to_gray(rgb: Frame) -> Frame:
    """Luma of RGB frames with BT.601 weights, in integers (gray stays gray).

    Args:
        rgb: uint8 array (..., 3).

    Returns:
        uint8 array (...).
    """
    r, g, b = (rgb[..., c].astype(np.uint16) for c in range(3))
    return ((r * 77 + g * 150 + b * 29 + 128) >> 8).astype(np.uint8)


def _every(frame_idx: int) -> bool:
    return True


def _to_rgb(frame: VideoFrame) -> Frame:
    return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def _image_header(file: Path) -> tuple[tuple[int, int], str, str]:
    """Size (width, height), format and mode of an image, from its header."""
    if not file.is_file():
        raise VideoError(f"{file}: no such image file")
    try:
        with Image.open(file) as image:
            return image.size, (image.format or "unknown").lower(), image.mode
    except OSError as exc:
        raise VideoError(f"{file}: not a readable image ({exc})") from exc
