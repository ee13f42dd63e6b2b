from __future__ import annotations

import hashlib
import re
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from etholoop.errors import VideoError
from etholoop.video import PyAVReader, probe_images, probe_video


def expected_sha256(data_dir: Path, relpath: str) -> str:
    for line in (data_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if name.lstrip("*") == relpath:
            return digest
    raise KeyError(relpath)


def test_probe_dlc_video(shared_data: Path) -> None:
    folder = shared_data / "dlc_openfield_mouse"
    info = probe_video(folder / "videos/m3v1mp4.mp4")
    assert (info.width, info.height, info.n_frames) == (640, 480, 2330)
    assert info.fps == pytest.approx(30, rel=1e-4)
    assert info.duration_s == pytest.approx(77.67, abs=0.01)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv444p")
    assert info.sha256 == expected_sha256(folder, "videos/m3v1mp4.mp4")
    assert info.path == str(folder / "videos/m3v1mp4.mp4")


@pytest.mark.parametrize(
    ("relpath", "figures"),
    [
        ("sleap_two_flies_tracks/clip.mp4", (1024, 1024, 25, 1500, "h264")),
        ("bsoid_behavior_clips/face_groom_hstacked.mp4", (1350, 360, 15, 73, "h264")),
        (
            "eztrack_empty_chamber_video/Freezing_calibration.wmv",
            (320, 240, 30, 298, "wmv3"),
        ),
    ],
)
def test_probe_real_videos(
    relpath: str, figures: tuple[int, int, int, int, str], shared_data: Path
) -> None:
    info = probe_video(shared_data / relpath, compute_hash=False)
    width, height, fps, n_frames, codec = figures
    assert (info.width, info.height, info.n_frames, info.codec) == (
        width,
        height,
        n_frames,
        codec,
    )
    assert info.fps == pytest.approx(fps)
    assert info.sha256 == ""


def test_probe_synthetic_video(synthetic_mp4: Path) -> None:
    info = probe_video(synthetic_mp4)
    assert (info.width, info.height, info.n_frames, info.fps) == (64, 48, 48, 25)
    assert info.duration_s == pytest.approx(48 / 25)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.sha256 == hashlib.sha256(synthetic_mp4.read_bytes()).hexdigest()


def test_probe_images(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        files.append(tmp_path / f"{i}.png")
        Image.fromarray(np.full((24, 32, 3), i * 50, np.uint8)).save(files[-1])
    info = probe_images(files)
    assert (info.width, info.height, info.n_frames) == (32, 24, 3)
    assert (info.codec, info.pix_fmt, info.fps, info.duration_s) == (
        "png",
        "rgb24",
        None,
        None,
    )
    assert info.path == str(tmp_path)
    whole = b"".join(f.read_bytes() for f in files)
    assert info.sha256 == hashlib.sha256(whole).hexdigest()


# Each case makes a bad input in tmp_path and returns its path and the problem.
def missing(tmp_path: Path, video: Path) -> tuple[Path, str]:
    return tmp_path / "missing.mp4", "no such file"


def folder(tmp_path: Path, video: Path) -> tuple[Path, str]:
    (tmp_path / "folder.mp4").mkdir()
    return tmp_path / "folder.mp4", "is a folder"


def text_file(tmp_path: Path, video: Path) -> tuple[Path, str]:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n")
    return path, "not a readable video"


def truncated(tmp_path: Path, video: Path) -> tuple[Path, str]:
    path = tmp_path / "half.mp4"
    data = video.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # PyAV writes the moov atom last
    return path, "not a readable video"


def audio_only(tmp_path: Path, video: Path) -> tuple[Path, str]:
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(1600))
    return path, "has no video stream"


def undecodable(tmp_path: Path, video: Path) -> tuple[Path, str]:
    path = tmp_path / "zeroed.mp4"
    data = bytearray(video.read_bytes())
    start = data.find(b"mdat") + 4
    size = int.from_bytes(data[start - 8 : start - 4], "big") - 8
    data[start : start + size] = bytes(size)  # every packet's bytes zeroed
    path.write_bytes(data)
    return path, "decoding failed near frame 0"


@pytest.mark.parametrize(
    "make_bad", [missing, folder, text_file, truncated, audio_only, undecodable]
)
def test_probe_errors(
    make_bad: Callable[[Path, Path], tuple[Path, str]],
    tmp_path: Path,
    synthetic_mp4: Path,
) -> None:
    path, problem = make_bad(tmp_path, synthetic_mp4)
    with pytest.raises(VideoError, match=f"^{re.escape(str(path))}: {problem}") as err:
        probe_video(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("frame_idx", [48, -1, 1000])
def test_out_of_range_index(synthetic_mp4: Path, frame_idx: int) -> None:
    problem = f"frame index {frame_idx} out of range [0, 48)"
    with PyAVReader(synthetic_mp4) as reader:
        with pytest.raises(VideoError, match=re.escape(f"{synthetic_mp4}: {problem}")):
            reader.read_frame(frame_idx)
        with pytest.raises(VideoError, match=re.escape(f"{synthetic_mp4}: {problem}")):
            reader[frame_idx]


def test_out_of_range_iteration(synthetic_mp4: Path) -> None:
    with (
        PyAVReader(synthetic_mp4) as reader,
        pytest.raises(VideoError, match=re.escape("[40, 50) out of range [0, 48)")),
    ):
        list(reader.iter_frames(40, 50))
