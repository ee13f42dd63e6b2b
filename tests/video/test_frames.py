from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from etholoop.errors import VideoError
from etholoop.video import PyAVReader, extract_frames


def test_extract_frames_writes_exact_pngs(synthetic_mp4: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "frames"
    done: list[int] = []
    with PyAVReader(synthetic_mp4) as reader:
        paths = extract_frames(
            reader, [40, 3, 17, 3, 16], out_dir, progress=done.append
        )
        assert list(paths) == [3, 16, 17, 40]
        assert paths[17] == out_dir / "000017.png"
        for frame_idx, path in paths.items():
            with Image.open(path) as image:
                assert image.format == "PNG"
                pixels = np.asarray(image)
            np.testing.assert_array_equal(pixels, reader.read_frame(frame_idx))
    assert sum(done) == 4
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "000003.png",
        "000016.png",
        "000017.png",
        "000040.png",
    ]


def test_extract_frames_skips_existing_files(
    synthetic_mp4: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "000005.png"
    existing.write_bytes(b"kept as is")
    done: list[int] = []
    with PyAVReader(synthetic_mp4) as reader:
        paths = extract_frames(reader, [5, 6], tmp_path, progress=done.append)
    assert paths == {5: existing, 6: tmp_path / "000006.png"}
    assert existing.read_bytes() == b"kept as is"
    assert paths[6].stat().st_size > 0
    assert sum(done) == 2


def test_extract_frames_checks_range_first(synthetic_mp4: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "frames"
    with (
        PyAVReader(synthetic_mp4) as reader,
        pytest.raises(
            VideoError, match=rf"{synthetic_mp4}: frame index 48 out of range \[0, 48\)"
        ),
    ):
        extract_frames(reader, [2, 48], out_dir)
    assert not out_dir.exists()
