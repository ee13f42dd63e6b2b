"""A video of the tracks drawn over the frames: who is who, at a glance.

Each individual keeps one colour throughout: its name above its box, its
keypoints joined by the skeleton's edges, and a trail of its centroid over the
last frames. Frames are drawn and encoded one at a time, so memory does not
grow with the video's length.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from etholoop.atomic import written_atomically
from etholoop.errors import VideoError
from etholoop.types import Tracks

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.video.stream import VideoStream

PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
    (127, 127, 127),
)
"""RGB colour of individual i (modulo its length): matplotlib's tab10."""
CRF = 23
"""x264 quality: an overlay is for viewing, not for measuring."""
PRESET = "veryfast"
_BT601, _LIMITED_RANGE = 6, 1
_BOX_PAD = 4.0
"""Px added around the keypoints' extent when no boxes are given."""


def write_overlay(
    frames: Iterable[NDArray[np.uint8]],
    tracks: Tracks,
    path: Path,
    *,
    fps: float,
    boxes: NDArray[np.floating] | None = None,
    trail: int = 15,
) -> Path:
    """Encode the frames with the tracks drawn on them as an H.264 mp4.

    Frames beyond the tracks' last are written undrawn. The file appears at
    `path` only once complete.

    Args:
        frames: The video's frames in order, (H, W, 3) RGB or (H, W) gray; read
            one at a time.
        tracks: The tracks to draw; frame t of `tracks` on frame t.
        path: The `.mp4` file to write.
        fps: Frame rate of the output.
        boxes: Boxes x1, y1, x2, y2 in px, shape (frames, individuals, 4), NaN
            where none; by default each individual's keypoint extent.
        trail: Frames of centroid history drawn behind each individual; 0 for none.

    Returns:
        `path`.

    Raises:
        VideoError: if `frames` is empty, frames change size, or `boxes` does
            not match the tracks.
    """
    n_frames, n_ind = tracks.xy.shape[:2]
    if boxes is not None and np.shape(boxes) != (n_frames, n_ind, 4):
        raise VideoError(
            f"{path}: boxes have shape {np.shape(boxes)}, expected "
            f"{(n_frames, n_ind, 4)} for these tracks"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(path, ".mp4") as partial:
        _encode(frames, tracks, partial, path, fps, boxes, trail)
    return path


def _encode(
    frames: Iterable[NDArray[np.uint8]],
    tracks: Tracks,
    partial: Path,
    path: Path,
    fps: float,
    boxes: NDArray[np.floating] | None,
    trail: int,
) -> None:
    """Draw and encode every frame into `partial`; errors name `path`."""
    rate = Fraction(fps).limit_denominator(1001)
    history: list[deque[tuple[float, float] | None]] = [
        deque(maxlen=max(trail, 1)) for _ in tracks.individuals
    ]
    size: tuple[int, int] | None = None
    with av.open(str(partial), mode="w", format="mp4") as container:
        stream = None
        for t, pixels in enumerate(frames):
            rgb = _rgb(pixels)
            if size is None:
                size = rgb.shape[1], rgb.shape[0]
                stream = _open_stream(container, rate, _even(size[0]), _even(size[1]))
            elif (rgb.shape[1], rgb.shape[0]) != size:
                raise VideoError(
                    f"{path}: frame {t} is {rgb.shape[1]}x{rgb.shape[0]}, "
                    f"the first was {size[0]}x{size[1]}"
                )
            if t < tracks.n_frames:
                frame_boxes = None if boxes is None else boxes[t]
                _draw(rgb, tracks, t, frame_boxes, history, trail)
            canvas = _pad_even(rgb)
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(
                format="yuv420p"
            )
            frame.pts = t
            frame.time_base = 1 / rate
            assert stream is not None
            container.mux(stream.encode(frame))
        if stream is None:
            raise VideoError(f"{path}: no frames to write")
        container.mux(stream.encode(None))


def _open_stream(
    container: OutputContainer, rate: Fraction, width: int, height: int
) -> VideoStream:
    """An H.264 yuv420p stream without B-frames, BT.601 limited range."""
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.max_b_frames = 0
    stream.codec_context.colorspace = _BT601
    stream.codec_context.color_range = _LIMITED_RANGE
    stream.codec_context.options = {"crf": str(CRF), "preset": PRESET}
    return stream


def _draw(
    rgb: NDArray[np.uint8],
    tracks: Tracks,
    t: int,
    boxes: NDArray[np.floating] | None,
    history: list[deque[tuple[float, float] | None]],
    trail: int,
) -> None:
    """Draw frame t of every individual onto `rgb`, in place."""
    height, width = rgb.shape[:2]
    thickness = max(1, round(min(width, height) / 240))
    radius = thickness + 1
    font_scale = max(0.3, min(width, height) / 800)
    for i, name in enumerate(tracks.individuals):
        colour = PALETTE[i % len(PALETTE)]
        xy = tracks.xy[t, i]
        found = np.isfinite(xy).all(axis=1)
        centroid = xy[found].mean(axis=0) if found.any() else None
        history[i].append(None if centroid is None else (centroid[0], centroid[1]))
        if trail > 0:
            _draw_trail(rgb, history[i], colour, thickness)
        for a, b in tracks.skeleton.edges:
            if found[a] and found[b]:
                cv2.line(rgb, _pt(xy[a]), _pt(xy[b]), colour, thickness, cv2.LINE_AA)
        for k in np.flatnonzero(found):
            cv2.circle(rgb, _pt(xy[k]), radius, colour, -1, cv2.LINE_AA)
        box = boxes[i] if boxes is not None else None
        if box is None or not np.isfinite(box).all():
            if not found.any():
                continue
            lo, hi = xy[found].min(axis=0) - _BOX_PAD, xy[found].max(axis=0) + _BOX_PAD
            box = np.concatenate([lo, hi])
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        cv2.rectangle(rgb, (x1, y1), (x2, y2), colour, thickness)
        cv2.putText(
            rgb,
            name,
            (x1, max(y1 - 3 * thickness, 10)),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            colour,
            thickness,
            cv2.LINE_AA,
        )


def _draw_trail(
    rgb: NDArray[np.uint8],
    points: deque[tuple[float, float] | None],
    colour: tuple[int, int, int],
    thickness: int,
) -> None:
    """Join consecutive centroids that both exist."""
    previous = None
    for point in points:
        if previous is not None and point is not None:
            cv2.line(rgb, _pt(previous), _pt(point), colour, thickness, cv2.LINE_AA)
        previous = point


def _pt(xy: NDArray[np.floating] | tuple[float, float]) -> tuple[int, int]:
    return round(float(xy[0])), round(float(xy[1]))


def _rgb(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A writable, contiguous RGB copy of a frame."""
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.repeat(pixels[:, :, None], 3, axis=2))
    return np.ascontiguousarray(pixels[:, :, :3], dtype=np.uint8).copy()


def _even(n: int) -> int:
    return n + n % 2


def _pad_even(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Repeat the last row or column where a side is odd (yuv420p needs even)."""
    height, width = rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
