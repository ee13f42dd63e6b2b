"""Clips of video frames around a frame: their indices, pixel statistics, decoding.

A clip of `length` frames centred on frame `c` holds frames `c - length // 2`
to `c - length // 2 + length - 1`: for 16 frames `c - 8 ... c + 7` (the centre
is the 9th), for an odd length as many on each side. Indices outside the
video are replaced by the nearest end frame (edge replication), so every
frame of every video, a video shorter than a clip included, has a clip of the
full length.

Frames are read as luma (`PyAVReader`, frame-exact), resized to an `imsize`
square (`cv2.INTER_AREA`, aspect ratio not kept) and normalized by the pixel
mean and standard deviation of their video (`video_mean_std`), giving float32
clips of shape (1, length, imsize, imsize). `ClipDataset` decodes the clips of
chosen frames on the fly, for training; `iter_video_clips` decodes a whole
video in one sequential pass for the clips of every `stride`-th frame, and
`spread_to_frames` gives each frame the output of its nearest centre. Memory
stays constant in the video's length: neither ever holds the whole video.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor
from torch.utils.data import Dataset

from etholoop.errors import ConfigError
from etholoop.progress import Reporter, silent
from etholoop.video.reader import PyAVReader

STATS_FRAMES = 32
"""Frames, evenly spaced over the video, that `video_mean_std` reads."""
MIN_STD = 1.0
"""Floor of a video's pixel standard deviation in gray levels, so that a flat
video normalizes to zeros instead of dividing by ~0."""
CACHE_FRAMES = 256
"""Resized frames a `ClipDataset` keeps per worker (6.4 MB at 112 px)."""
OPEN_READERS = 4
"""Videos a `ClipDataset` keeps open per worker."""
CLIP_CACHE_BYTES = 2 * 1024**3
"""Largest on-disk clip cache `ClipDataset.cache_on_disk` writes (uint8 frames)."""

Stats = tuple[float, float]
"""Pixel mean and standard deviation of a video in gray levels (0-255)."""


Boxes = NDArray[np.int64]
"""Square crop windows of one animal, shape (frames, 4): x0, y0, x1, y1 in px."""


class ClipItem(NamedTuple):
    """One training example: the clip centred on a frame, and its class.

    Attributes:
        path: The video file.
        frame_idx: The clip's centre frame (0-based).
        class_idx: The class of the centre frame.
        animal: Whose crop window the clip is cut from, when the dataset has
            crops for (path, animal); else the whole frame.
    """

    path: Path
    frame_idx: int
    class_idx: int
    animal: int = 0


def crop_boxes(
    centers: NDArray[np.floating], side: int, width: int, height: int
) -> Boxes:
    """Square windows of `side` px around each frame's centre, inside the frame.

    A frame without a centre (NaN) takes the nearest earlier one, else the
    nearest later one, else the frame's middle; a window that would leave the
    frame is shifted back in (and cut to the frame where `side` exceeds it).

    Args:
        centers: Shape (frames, 2), x and y in px.
        side: Window side in px.
        width: Frame width in px.
        height: Frame height in px.
    """
    xy = np.asarray(centers, np.float64).copy()
    known = np.isfinite(xy).all(axis=1)
    if not known.any():
        xy[:] = (width / 2, height / 2)
    else:
        index = np.where(known, np.arange(len(xy)), -1)
        earlier = np.maximum.accumulate(index)
        first = int(np.flatnonzero(known)[0])
        xy = xy[np.where(earlier >= 0, earlier, first)]
    w, h = min(side, width), min(side, height)
    x0 = np.clip(np.rint(xy[:, 0] - w / 2), 0, width - w).astype(np.int64)
    y0 = np.clip(np.rint(xy[:, 1] - h / 2), 0, height - h).astype(np.int64)
    return np.stack([x0, y0, x0 + w, y0 + h], axis=1)


def crop_frame(gray: NDArray[np.uint8], box: NDArray[np.int64]) -> NDArray[np.uint8]:
    """The part of a gray frame (H, W) inside `box` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    return gray[y0:y1, x0:x1]


def check_clip_length(length: int) -> None:
    """Raise ConfigError unless `length` is a positive number of frames."""
    if length < 1:
        raise ConfigError(
            f"clip length: want a positive number of frames, got {length}"
        )


def clip_indices(center: int, n_frames: int, length: int) -> NDArray[np.int64]:
    """Frame indices of the clip centred on `center`, ends replicated.

    Args:
        center: Centre frame, 0 <= center < n_frames.
        n_frames: Frames in the video.
        length: Frames in the clip.

    Returns:
        `length` indices, ascending: `center - length // 2` onwards, each
        clipped to [0, n_frames - 1].

    Raises:
        ConfigError: if `length` is not positive.
        ValueError: if `center` lies outside the video.
    """
    check_clip_length(length)
    if not 0 <= center < n_frames:
        raise ValueError(f"clip centre {center} outside the video's [0, {n_frames})")
    start = center - length // 2
    return np.clip(np.arange(start, start + length, dtype=np.int64), 0, n_frames - 1)


def video_mean_std(path: Path | str, n_samples: int = STATS_FRAMES) -> Stats:
    """Mean and standard deviation of a video's gray pixels, from a sample of frames.

    Reads `n_samples` frames evenly spaced from the first to the last (every
    frame of a shorter video) at full resolution.

    Args:
        path: The video file.
        n_samples: Frames to read.

    Returns:
        (mean, std) in gray levels; std is at least `MIN_STD`.

    Raises:
        VideoError: if the video cannot be read.
    """
    with PyAVReader(path) as reader:
        inds = np.unique(
            np.linspace(0, reader.n_frames - 1, min(n_samples, reader.n_frames))
            .round()
            .astype(np.int64)
        )
        total = square = 0.0
        n_pixels = 0
        for frame_idx in inds:
            gray = reader.read_frame(int(frame_idx), gray=True).astype(np.float64)
            total += float(gray.sum())
            square += float(np.square(gray).sum())
            n_pixels += gray.size
    mean = total / n_pixels
    std = math.sqrt(max(square / n_pixels - mean**2, 0.0))
    return mean, max(std, MIN_STD)


def resize_frame(gray: NDArray[np.uint8], imsize: int) -> NDArray[np.uint8]:
    """A gray frame (H, W) resized to (imsize, imsize) with area interpolation."""
    return np.asarray(
        cv2.resize(gray, (imsize, imsize), interpolation=cv2.INTER_AREA), np.uint8
    )


def normalize_clip(frames: NDArray[np.uint8], stats: Stats) -> NDArray[np.float32]:
    """Frames (T, S, S) as a normalized clip (1, T, S, S): (pixel - mean) / std."""
    mean, std = stats
    clip = (frames.astype(np.float32) - np.float32(mean)) / np.float32(std)
    return clip[None]


def strided_centers(n_frames: int, stride: int) -> NDArray[np.int64]:
    """Centres of stride inference: frames 0, stride, 2 stride, ... below n_frames.

    Raises:
        ConfigError: if `stride` is not positive.
    """
    if stride < 1:
        raise ConfigError(f"stride: want a positive number of frames, got {stride}")
    return np.arange(0, n_frames, stride, dtype=np.int64)


def spread_to_frames(
    centers: NDArray[np.int64], values: NDArray[np.float32], n_frames: int
) -> NDArray[np.float32]:
    """Per-centre values spread to every frame: each frame takes its nearest centre's.

    A frame halfway between two centres takes the earlier one's.

    Args:
        centers: Centre frames, ascending, shape (centers,).
        values: One row per centre, shape (centers, ...).
        n_frames: Frames of the video.

    Returns:
        Shape (n_frames, ...).
    """
    if not len(centers):
        raise ValueError("spread_to_frames: no centres")
    frames = np.arange(n_frames)
    after = np.clip(np.searchsorted(centers, frames), 0, len(centers) - 1)
    before = np.clip(after - 1, 0, len(centers) - 1)
    nearer_before = np.abs(frames - centers[before]) <= np.abs(centers[after] - frames)
    return values[np.where(nearer_before, before, after)]


class ClipDataset(Dataset[tuple[Tensor, int]]):
    """Clips of chosen frames, decoded when asked for, with their classes.

    Each worker process opens its own readers (at most `OPEN_READERS` videos at
    a time) and keeps the last `cache_frames` resized frames, so clips that
    overlap decode their shared frames once; frames of a clip are read in
    ascending order, which decodes forward from the previous one.

    Args:
        items: (video, centre frame, class) of each example.
        clip_length: Frames per clip.
        imsize: Side of the resized frames in px.
        stats: Pixel (mean, std) of the videos by path; a video missing here is
            measured with `video_mean_std` when first read.
        cache_frames: Frames kept per worker.
        crops: Crop windows by (video, animal): an item with one is cut from
            its animal's window at the clip's centre frame (the same window for
            every frame of the clip, so the animal's motion shows), then resized.

    Raises:
        ConfigError: if `clip_length` is not positive.
    """

    def __init__(
        self,
        items: Sequence[ClipItem | tuple[Path | str, int, int]],
        *,
        clip_length: int,
        imsize: int,
        stats: Mapping[Path, Stats] | None = None,
        cache_frames: int = CACHE_FRAMES,
        crops: Mapping[tuple[Path, int], Boxes] | None = None,
    ) -> None:
        check_clip_length(clip_length)
        self.items = [
            ClipItem(Path(i[0]), int(i[1]), int(i[2]), int(i[3]) if len(i) > 3 else 0)
            for i in items
        ]
        self.crops = {(Path(p), a): b for (p, a), b in (crops or {}).items()}
        self.clip_length = clip_length
        self.imsize = imsize
        self.stats = {Path(p): s for p, s in (stats or {}).items()}
        self.cache_frames = cache_frames
        self.cache_path: Path | None = None
        self._reset()

    def _reset(self) -> None:
        """Forget readers and frames (in a new worker process)."""
        self._pid = os.getpid()
        self._readers: OrderedDict[Path, PyAVReader] = OrderedDict()
        self._frames: OrderedDict[tuple[Path, int], NDArray[np.uint8]] = OrderedDict()
        self._cached: NDArray[np.uint8] | None = None

    def __getstate__(self) -> dict[str, object]:
        """Pickle without open readers nor cached frames (for spawned workers)."""
        state = self.__dict__.copy()
        state["_readers"], state["_frames"] = OrderedDict(), OrderedDict()
        state["_cached"] = None
        return state

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        """The normalized clip (1, clip_length, imsize, imsize) and the class."""
        item = self.items[index]
        if self.cache_path is not None:
            if self._pid != os.getpid() or self._cached is None:
                self._pid = os.getpid()
                self._cached = np.load(self.cache_path, mmap_mode="r")
            frames = np.asarray(self._cached[index])
            clip = normalize_clip(frames, self._stats(item.path))
        else:
            clip = self.clip(item.path, item.frame_idx, item.animal)
        return torch.from_numpy(clip), item.class_idx

    def cache_bytes(self) -> int:
        """Bytes of the clips as uint8 frames: the size `cache_on_disk` writes."""
        return len(self.items) * self.clip_length * self.imsize**2

    def cache_on_disk(self, folder: Path, report: Reporter = silent) -> Path:
        """Decode every item's clip once into a uint8 `.npy` in `folder`; read from it.

        The videos are read sequentially, once per (video, animal), and the
        file is memory-mapped, so memory stays constant and an epoch costs no
        decoding. Its name is a hash of the items, clip length, size and crop
        windows: a later dataset of the same clips (a resumed run) reuses it.
        The clips are the same pixels `clip` gives.

        Returns:
            The cache file.
        """
        key = hashlib.sha1(repr((self.clip_length, self.imsize, self.items)).encode())
        for (path, animal), boxes in sorted(self.crops.items()):
            key.update(f"{path}:{animal}".encode() + boxes.tobytes())
        out = Path(folder) / f"clips-{key.hexdigest()[:16]}.npy"
        shape = (len(self.items), self.clip_length, self.imsize, self.imsize)
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            partial = out.with_name(out.stem + ".partial.npy")
            rows = np.lib.format.open_memmap(
                partial, mode="w+", dtype=np.uint8, shape=shape
            )
            groups: dict[tuple[Path, int | None], list[int]] = {}
            for index, item in enumerate(self.items):
                cropped = (item.path, item.animal) in self.crops
                group = (item.path, item.animal if cropped else None)
                groups.setdefault(group, []).append(index)
            with report("decoding training clips once", len(self.items)) as advance:
                for (path, who), indices in groups.items():
                    order = sorted(indices, key=lambda i: self.items[i].frame_idx)
                    centers = np.array(
                        [self.items[i].frame_idx for i in order], np.int64
                    )
                    clips = iter_raw_clips(
                        path,
                        centers,
                        clip_length=self.clip_length,
                        imsize=self.imsize,
                        boxes=None if who is None else self.crops[path, who],
                    )
                    for index, (_, frames) in zip(order, clips, strict=True):
                        rows[index] = frames
                    advance(len(order))
            rows.flush()
            del rows
            os.replace(partial, out)
        self.cache_path = out
        self._cached = None
        return out

    def clip(self, path: Path, center: int, animal: int = 0) -> NDArray[np.float32]:
        """The normalized clip (1, clip_length, imsize, imsize) centred on `center`."""
        if self._pid != os.getpid():
            self._reset()
        reader = self._reader(path)
        inds = clip_indices(center, reader.n_frames, self.clip_length)
        boxes = self.crops.get((path, animal))
        if boxes is not None:
            stacked = np.stack(
                [
                    resize_frame(
                        crop_frame(self._gray(path, i), boxes[center]), self.imsize
                    )
                    for i in inds.tolist()
                ]
            )
            return normalize_clip(stacked, self._stats(path))
        frames = {}
        for frame_idx in np.unique(inds).tolist():
            key = (path, frame_idx)
            frame = self._frames.get(key)
            if frame is None:
                frame = resize_frame(
                    reader.read_frame(frame_idx, gray=True), self.imsize
                )
                self._frames[key] = frame
                if len(self._frames) > self.cache_frames:
                    self._frames.popitem(last=False)
            else:
                self._frames.move_to_end(key)
            frames[frame_idx] = frame
        stacked = np.stack([frames[i] for i in inds.tolist()])
        return normalize_clip(stacked, self._stats(path))

    def _gray(self, path: Path, frame_idx: int) -> NDArray[np.uint8]:
        """A whole gray frame, from the cache (frames of crop windows)."""
        key = (path, -1 - frame_idx)  # apart from the resized whole frames
        frame = self._frames.get(key)
        if frame is None:
            frame = self._reader(path).read_frame(frame_idx, gray=True)
            self._frames[key] = frame
            if len(self._frames) > self.cache_frames:
                self._frames.popitem(last=False)
        else:
            self._frames.move_to_end(key)
        return frame

    def _reader(self, path: Path) -> PyAVReader:
        reader = self._readers.get(path)
        if reader is None:
            reader = PyAVReader(path)
            self._readers[path] = reader
            if len(self._readers) > OPEN_READERS:
                self._readers.popitem(last=False)[1].close()
        else:
            self._readers.move_to_end(path)
        return reader

    def _stats(self, path: Path) -> Stats:
        if path not in self.stats:
            self.stats[path] = video_mean_std(path)
        return self.stats[path]


def iter_video_clips(
    path: Path | str,
    stride: int,
    *,
    clip_length: int,
    imsize: int,
    stats: Stats | None = None,
    batch_size: int = 32,
    boxes: Boxes | None = None,
) -> Iterator[tuple[NDArray[np.int64], Tensor]]:
    """Clips of every `stride`-th frame of a video, decoded in one sequential pass.

    Only the frames of the clips still to come are kept (a rolling window of
    at most `clip_length + stride` frames); frames no clip needs (a stride
    longer than a clip) are decoded but not converted.

    Args:
        path: The video file.
        stride: Frames between centres (`strided_centers`).
        clip_length: Frames per clip.
        imsize: Side of the resized frames in px.
        stats: Pixel (mean, std) of the video; None: `video_mean_std`.
        batch_size: Clips per yielded batch (the last may be smaller).
        boxes: One animal's crop windows (`crop_boxes`): each clip is cut from
            the window of its centre frame, as `ClipDataset` does; None: whole
            frames.

    Yields:
        (centre frames (B,), clips (B, 1, clip_length, imsize, imsize) float32),
        the centres ascending over the batches.

    Raises:
        ConfigError: if `stride` or `clip_length` is not positive.
        VideoError: if the video cannot be read.
    """
    check_clip_length(clip_length)
    path = Path(path)
    stats = video_mean_std(path) if stats is None else stats
    with PyAVReader(path) as reader:
        centers = strided_centers(reader.n_frames, stride)
    batch_centers: list[int] = []
    batch_clips: list[NDArray[np.float32]] = []
    for center, frames in iter_raw_clips(
        path, centers, clip_length=clip_length, imsize=imsize, boxes=boxes
    ):
        batch_centers.append(center)
        batch_clips.append(normalize_clip(frames, stats))
        if len(batch_centers) == batch_size:
            yield _batch(batch_centers, batch_clips)
            batch_centers, batch_clips = [], []
    if batch_centers:
        yield _batch(batch_centers, batch_clips)


def iter_raw_clips(
    path: Path,
    centers: NDArray[np.int64],
    *,
    clip_length: int,
    imsize: int,
    boxes: Boxes | None = None,
) -> Iterator[tuple[int, NDArray[np.uint8]]]:
    """The resized gray frames (clip_length, imsize, imsize) of each clip, in one pass.

    `centers` must be ascending (repeats allowed); see `iter_video_clips`.
    """
    with PyAVReader(path) as reader:
        n_frames = reader.n_frames
        before, after = clip_length // 2, clip_length - 1 - clip_length // 2
        needed = np.zeros(n_frames, bool)
        for center in np.unique(centers).tolist():
            needed[max(center - before, 0) : center + after + 1] = True
        window: dict[int, NDArray[np.uint8]] = {}
        oldest, next_center = 0, 0
        for frame_idx, gray in reader.iter_frames(
            gray=True, wanted=lambda i: bool(needed[i])
        ):
            window[frame_idx] = (
                gray if boxes is not None else resize_frame(gray, imsize)
            )
            while (
                next_center < len(centers)
                and min(int(centers[next_center]) + after, n_frames - 1) <= frame_idx
            ):
                center = int(centers[next_center])
                inds = clip_indices(center, n_frames, clip_length).tolist()
                yield (
                    center,
                    np.stack(
                        [
                            window[i]
                            if boxes is None
                            else resize_frame(
                                crop_frame(window[i], boxes[center]), imsize
                            )
                            for i in inds
                        ]
                    ),
                )
                next_center += 1
            lowest = (
                int(centers[next_center]) - before
                if next_center < len(centers)
                else n_frames
            )
            while oldest < lowest:
                window.pop(oldest, None)
                oldest += 1


def _batch(
    centers: list[int], clips: list[NDArray[np.float32]]
) -> tuple[NDArray[np.int64], Tensor]:
    return np.array(centers, np.int64), torch.from_numpy(np.stack(clips))
