"""Frame-exact decoding of a video file from any frame on."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from etholoop.errors import VideoError
from etholoop.video.index import FrameIndex, open_container


class FrameDecoder:
    """Decodes one video stream from any frame on, exactly as a sequential decode does.

    Decoding starts at the last safe frame (`FrameIndex.safe_inds`) at or before the
    frame asked for. Packets that a seek lands on before that frame are dropped, so
    the decoder never starts on a picture that references earlier ones. Without
    timestamps or safe frames it decodes from the start of the file.

    Args:
        path: The video file.
        index: Its frame index, from `build_frame_index`.
        pts_to_idx: The display index of each timestamp, as another decoder of
            the same index has it (`FrameDecoder.pts_to_idx`); built from
            `index` when not given, which takes ~30 ms for an hour of video.
    """

    def __init__(
        self,
        path: Path,
        index: FrameIndex,
        *,
        pts_to_idx: Mapping[int, int] | None = None,
    ) -> None:
        self.path = path
        self.index = index
        if pts_to_idx is None and index.pts is not None:
            pts_to_idx = {int(p): i for i, p in enumerate(index.pts)}
        self.pts_to_idx = pts_to_idx
        self._container, self.stream = self._open()
        self._safe_inds = index.safe_inds
        self._frames: Iterator[tuple[int, VideoFrame]] | None = None
        self._last_idx = -1

    def frame(self, frame_idx: int) -> VideoFrame:
        """The frame at a display index.

        Keeps decoding forward from the previous call when no safe frame lies
        between it and `frame_idx`; otherwise seeks.

        Args:
            frame_idx: Display index, 0 <= frame_idx < n_frames.

        Returns:
            The decoded frame.

        Raises:
            VideoError: if the frame cannot be decoded.
        """
        start = self._safe_start(frame_idx)
        frames, self._frames = self._frames, None  # kept only after a success
        if frames is None or not start <= self._last_idx < frame_idx:
            frames = self.frames_from(frame_idx)
        for idx, frame in frames:
            self._last_idx = idx
            if idx == frame_idx:
                self._frames = frames
                return frame
            if idx > frame_idx:
                break
        raise VideoError(f"{self.path}: frame {frame_idx} could not be decoded")

    def frames_from(self, frame_idx: int) -> Iterator[tuple[int, VideoFrame]]:
        """Decoded frames from `frame_idx` on, with their display indices.

        If decoding from a safe frame does not reach `frame_idx` (a decoder that
        needs more than the container's keyframe, e.g. an MPEG-2 sequence
        header), that frame is no longer taken as safe and an earlier one is
        tried, down to the start of the file.

        Args:
            frame_idx: The first frame wanted.

        Yields:
            (display index, frame) pairs in display order, up to the end of the
            stream; the first is `frame_idx` unless even a decode from the start
            of the file skips it.

        Raises:
            VideoError: if FFmpeg fails to demux or decode the file.
        """
        self._last_idx = -1
        try:
            while True:
                start = self._safe_start(frame_idx)
                decoded = (
                    self._decode_after_seek(start)
                    if start > 0
                    else self._decode_from_start()
                )
                frames = ((i, f) for i, f in decoded if i >= frame_idx)
                first = next(frames, None)
                if start > 0 and (first is None or first[0] != frame_idx):
                    self._safe_inds = self._safe_inds[self._safe_inds != start]
                    continue
                if first is not None:
                    yield first
                    yield from frames
                return
        except av.FFmpegError as exc:
            raise VideoError(
                f"{self.path}: decoding failed near frame {frame_idx} ({exc.strerror})"
            ) from exc

    def close(self) -> None:
        """Close the file."""
        self._frames = None
        self._container.close()

    def _open(self) -> tuple[InputContainer, VideoStream]:
        container, stream = open_container(self.path)
        stream.thread_type = "AUTO"
        if self.index.x264_build is not None:
            stream.codec_context.options = {"x264_build": str(self.index.x264_build)}
        return container, stream

    def _safe_start(self, frame_idx: int) -> int:
        """The last safe frame at or before `frame_idx`; 0 (file start) if none."""
        pos = int(np.searchsorted(self._safe_inds, frame_idx, side="right")) - 1
        return int(self._safe_inds[pos]) if pos >= 0 else 0

    def _decode_after_seek(self, start: int) -> Iterator[tuple[int, VideoFrame]]:
        assert self.index.pts is not None
        target = int(self.index.pts[start])
        container, stream = self._container, self.stream
        container.seek(target, stream=stream, backward=True)
        packets = itertools.dropwhile(
            lambda packet: packet.pts != target, container.demux(stream)
        )
        yield from self._indexed(frame for p in packets for frame in p.decode())

    def _decode_from_start(self) -> Iterator[tuple[int, VideoFrame]]:
        self._container.close()
        self._container, self.stream = self._open()
        packets = self._container.demux(self.stream)
        yield from self._indexed(frame for p in packets for frame in p.decode())

    def _indexed(
        self, frames: Iterator[VideoFrame]
    ) -> Iterator[tuple[int, VideoFrame]]:
        if self.pts_to_idx is None:
            yield from enumerate(frames)
            return
        for frame in frames:
            idx = None if frame.pts is None else self.pts_to_idx.get(frame.pts)
            if idx is not None:
                yield idx, frame
