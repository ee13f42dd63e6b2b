"""Writing chosen frames of a video as lossless PNG files."""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from etholoop.video.reader import Frame, VideoReader


def frame_png(out_dir: Path, frame_idx: int) -> Path:
    """Where frame `frame_idx` of a video is kept as PNG in its folder `out_dir`."""
    return out_dir / f"{frame_idx:06d}.png"


def extract_frames(
    reader: VideoReader,
    frame_inds: Sequence[int],
    out_dir: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> dict[int, Path]:
    """Write frames as `out_dir/{frame_idx:06d}.png`, RGB, lossless.

    Frames are read in one forward pass over the sorted indices; a frame whose
    file already exists is skipped. Each file is written to a temporary name and
    renamed, so an interrupted run leaves no partial PNG.

    Args:
        reader: The video.
        frame_inds: Frame indices to write, in any order; repeats are ignored.
        out_dir: Output folder, created if missing.
        progress: Called with the number of frames done (written or found)
            since its last call.

    Returns:
        The PNG path of each requested frame index, in ascending index order.

    Raises:
        VideoError: if an index is out of range (before anything is written) or a
            frame cannot be read.
    """
    inds = sorted({operator.index(i) for i in frame_inds})
    for frame_idx in inds[:1] + inds[-1:]:
        reader.check_index(frame_idx)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {i: frame_png(out_dir, i) for i in inds}
    for frame_idx, path in paths.items():
        if not path.exists():
            write_png(reader.read_frame(frame_idx), path)
        if progress is not None:
            progress(1)
    return paths


def write_png(pixels: Frame, path: Path) -> None:
    """Write an image as PNG (fast, compression level 1) atomically.

    Args:
        pixels: uint8 array, (H, W, 3) RGB or (H, W) grayscale.
        path: Output file; written as `.{name}.partial` and renamed.
    """
    partial = path.with_name(f".{path.name}.partial")
    try:
        Image.fromarray(pixels).save(partial, format="PNG", compress_level=1)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
