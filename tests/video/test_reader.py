from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from etholoop.errors import VideoError
from etholoop.video import ImageSequenceReader, PyAVReader, open_video
from etholoop.video.reader import rgb_to_gray

Decode = Callable[..., dict[int, NDArray[np.uint8]]]

# Scrambled order with backward seeks, into and across the 8-frame GOPs.
SYNTHETIC_ORDER = [40, 7, 8, 9, 47, 16, 15, 0, 33, 24, 23, 3, 46, 1, 17, 31, 32]

# name: write_video keyword arguments. Each variant makes seeking matter another way.
VARIANTS: dict[str, dict[str, Any]] = {
    # closed GOPs: every keyframe is an IDR, B-frames reorder display order
    "closed_gop.mp4": {},
    # keyframes are non-IDR I-frames whose B-frames reference the previous GOP
    "open_gop.mp4": {"options": {"x264-params": "open-gop=1"}},
    # Annex-B packets (start codes) instead of length-prefixed NAL units
    "annexb.ts": {"options": {"x264-params": "open-gop=1"}},
    # HEVC CRA keyframes with leading (RASL) pictures
    "hevc_cra.mp4": {
        "codec": "libx265",
        "options": {
            "x265-params": "keyint=8:min-keyint=8:bframes=2:scenecut=0:"
            "open-gop=1:crf=12:log-level=error"
        },
    },
    # raw H.264 without timestamps: frames found by decoding from the start
    "no_pts.h264": {},
    # MPEG-2 in a program stream: keyframes without a sequence header
    "mpeg2.mpg": {"codec": "mpeg2video"},
}


def check_reads(
    reader: PyAVReader, reference: dict[int, NDArray[np.uint8]], order: list[int]
) -> None:
    for i in order:
        frame = reader.read_frame(i)
        assert frame.dtype == np.uint8
        assert frame.shape == (reader.height, reader.width, 3)
        np.testing.assert_array_equal(frame, reference[i], err_msg=f"frame {i}")


@pytest.mark.parametrize("name", VARIANTS)
def test_read_frame_equals_sequential_decode_synthetic(
    name: str, make_video: Callable[..., Path], sequential_decode: Decode
) -> None:
    path = make_video(name, **VARIANTS[name])
    reference = sequential_decode(path)
    with PyAVReader(path) as reader:
        assert len(reader) == len(reference) == 48
        check_reads(reader, reference, SYNTHETIC_ORDER)
        for i, frame in reader.iter_frames(5, 30):
            np.testing.assert_array_equal(frame, reference[i], err_msg=f"frame {i}")


def test_frames_show_their_number(
    synthetic_mp4: Path, frame_number: Callable[[NDArray[np.uint8]], int]
) -> None:
    with PyAVReader(synthetic_mp4) as reader:
        for i in SYNTHETIC_ORDER:
            assert frame_number(reader.read_frame(i)) == i
        assert [i for i, _ in reader.iter_frames()] == list(range(48))


def test_iter_frames_range_and_gray(synthetic_mp4: Path) -> None:
    with PyAVReader(synthetic_mp4) as reader:
        got = list(reader.iter_frames(9, 12, gray=True))
        assert [i for i, _ in got] == [9, 10, 11]
        for i, frame in got:
            assert frame.shape == (48, 64)
            np.testing.assert_array_equal(frame, reader.read_frame(i, gray=True))
        assert list(reader.iter_frames(4, 4)) == []


def test_gray_is_luma_of_rgb(synthetic_mp4: Path) -> None:
    with PyAVReader(synthetic_mp4) as reader:
        rgb = reader.read_frame(10)
        gray = reader.read_frame(10, gray=True)
    assert gray.shape == (48, 64)
    np.testing.assert_array_equal(gray, rgb_to_gray(rgb))


def test_rgb_to_gray_keeps_gray_levels() -> None:
    levels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(rgb_to_gray(np.stack([levels] * 3, axis=-1)), levels)


def test_getitem_len_shape_and_close(synthetic_mp4: Path) -> None:
    reader = open_video(synthetic_mp4)
    assert isinstance(reader, PyAVReader)
    with reader:
        assert len(reader) == 48
        assert reader.shape == (48, 48, 64, 3)
        assert reader.fps == 25
        np.testing.assert_array_equal(reader[5], reader.read_frame(5))
        stack = reader[10:16:2]
        assert stack.shape == (3, 48, 64, 3)
        np.testing.assert_array_equal(stack[1], reader.read_frame(12))
        assert reader[50:].shape == (0, 48, 64, 3)
    with pytest.raises(ValueError, match="closed"):
        reader.read_frame(0)


@pytest.fixture(scope="module")
def dlc_reference(
    shared_data: Path, sequential_decode: Decode
) -> tuple[Path, dict[int, NDArray[np.uint8]]]:
    """Chosen frames of one sequential decode of the whole DLC video (2330 frames)."""
    path = shared_data / "dlc_openfield_mouse/videos/m3v1mp4.mp4"
    keep = {0, 1, 2, 100, 181, 182, 183, 184, 190, 365, 366, 367, 368, 1000, 1500}
    keep |= {2000, 2328, 2329, *range(176, 190)}
    return path, sequential_decode(path, keep=keep)


def test_read_frame_exact_on_dlc_video(
    dlc_reference: tuple[Path, dict[int, NDArray[np.uint8]]],
) -> None:
    # H.264 High 4:4:4 by x264 build 148: a timestamp seek to its (IDR) keyframes
    # 182 and 366 decodes garbage unless the decoder is told the x264 build.
    path, reference = dlc_reference
    order = [2329, 182, 183, 0, 367, 366, 1500, 181, 2328, 184, 1000, 365, 368]
    order += [2, 190, 100, 2000, 1, 183, 182]
    with PyAVReader(path) as reader:
        assert len(reader) == 2330
        check_reads(reader, reference, order)
        for i, frame in reader.iter_frames(176, 190):
            np.testing.assert_array_equal(frame, reference[i], err_msg=f"frame {i}")


@pytest.mark.parametrize(
    ("relpath", "order"),
    [
        # 1024x1024 grey H.264, 25 fps, IDR every 250 frames
        (
            "sleap_two_flies_tracks/clip.mp4",
            [520, 250, 251, 0, 499, 500, 260, 249, 10, 501],
        ),
        # 1350x360 H.264, 15 fps, IDR every 250 frames
        (
            "bsoid_behavior_clips/body_groom_hstacked.mp4",
            [838, 250, 251, 0, 499, 500, 260, 249, 10, 501, 750, 749],
        ),
        # WMV3 in ASF, 320x240, keyframes at 0 and 240
        (
            "eztrack_empty_chamber_video/Freezing_calibration.wmv",
            [297, 240, 241, 0, 239, 100, 242, 5, 296],
        ),
    ],
)
def test_read_frame_exact_on_real_videos(
    relpath: str, order: list[int], shared_data: Path, sequential_decode: Decode
) -> None:
    path = shared_data / relpath
    reference = sequential_decode(path, keep=order)
    with PyAVReader(path) as reader:
        check_reads(reader, reference, order)


def write_images(folder: Path, n: int, size: tuple[int, int] = (32, 24)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    files = []
    for i in range(n):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        files.append(folder / f"img{i:04d}.png")
        Image.fromarray(pixels).save(files[-1])
    return files


def test_image_sequence_reader(tmp_path: Path) -> None:
    files = write_images(tmp_path / "imgs", 4)
    Image.fromarray(np.full((24, 32), 77, np.uint8)).save(files[2])  # a gray image
    reader = open_video(files)
    assert isinstance(reader, ImageSequenceReader)
    with reader:
        assert reader.shape == (4, 24, 32, 3)
        assert reader.fps is None
        assert reader.path == tmp_path / "imgs"
        np.testing.assert_array_equal(reader[1], np.asarray(Image.open(files[1])))
        assert (reader.read_frame(2) == 77).all()
        assert (reader.read_frame(2, gray=True) == 77).all()
        assert [i for i, _ in reader.iter_frames(1, 3)] == [1, 2]


def test_image_sequence_errors(tmp_path: Path) -> None:
    files = write_images(tmp_path, 3)
    odd = write_images(tmp_path / "odd", 1, size=(30, 24))[0]
    with pytest.raises(VideoError, match=r"odd.*30x24 differs.*32x24"):
        ImageSequenceReader([*files, odd])
    with pytest.raises(VideoError, match="no image files"):
        ImageSequenceReader([])
    missing = tmp_path / "nope.png"
    with pytest.raises(VideoError, match=f"{missing}: no such image file"):
        ImageSequenceReader([*files, missing])
    with pytest.raises(VideoError, match=r"frame index 3 out of range \[0, 3\)"):
        ImageSequenceReader(files).read_frame(3)
