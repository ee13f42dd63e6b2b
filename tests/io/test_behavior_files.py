"""Behavior label files: each form reads back what it writes; bad files are refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from etholoop.errors import FormatError
from etholoop.io.behavior_files import (
    merge_behaviors,
    parse_merge,
    read_behavior_file,
    write_behavior_file,
)

BEHAVIORS = ["rest", "walk", "groom"]
N = 40


def _labels(seed: int, *, exclusive: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if exclusive:
        states = np.repeat(rng.integers(-1, len(BEHAVIORS), 8), N // 8)
        return states[:, None] == np.arange(len(BEHAVIORS))[None, :]
    return np.repeat(rng.random((8, len(BEHAVIORS))) < 0.4, N // 8, axis=0)


def _write(path: Path, fmt: str, animals: dict[str, np.ndarray], fps: float) -> Path:
    out = io.StringIO()
    write_behavior_file(out, fmt, animals, BEHAVIORS, fps=fps)  # type: ignore[arg-type]
    path.write_text(out.getvalue())
    return path


def _columns(labels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Labels over BEHAVIORS of a file's columns `names`."""
    full = np.zeros((len(labels), len(BEHAVIORS)), bool)
    for j, name in enumerate(names):
        full[:, BEHAVIORS.index(name)] = labels[:, j]
    return full


@pytest.mark.parametrize(
    ("fmt", "exclusive", "n_animals"),
    [
        ("frame-action", True, 1),
        ("onehot", False, 1),
        ("boris", False, 2),
        ("long", False, 2),
        ("long", True, 2),
    ],
)
@pytest.mark.parametrize("fps", [25.0, 29.97, 30.0])
def test_written_labels_read_back_frame_for_frame(
    tmp_path: Path, fmt: str, exclusive: bool, n_animals: int, fps: float
) -> None:
    animals = {
        f"animal{i}": _labels(i + 3, exclusive=exclusive) for i in range(n_animals)
    }
    path = _write(tmp_path / f"labels.{fmt}.csv", fmt, animals, fps)
    read = read_behavior_file(path, fmt, n_frames=N, fps=fps)  # type: ignore[arg-type]
    names = list(read.animals) if n_animals > 1 else ["animal0"]
    assert sorted(names) == sorted(animals)
    for name, labels in zip(names, read.animals.values(), strict=True):
        np.testing.assert_array_equal(_columns(labels, read.behaviors), animals[name])


def test_frame_action_reads_names_and_none(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Frame,Action\n0,none\n1,walk\n2,walk\n3,rest\n")
    read = read_behavior_file(path, "frame-action", n_frames=4, fps=30)
    assert read.behaviors == ("walk", "rest")
    np.testing.assert_array_equal(read.animals[""], [[0, 0], [1, 0], [1, 0], [0, 1]])


def test_deepethogram_onehot_with_index_and_background(tmp_path: Path) -> None:
    path = tmp_path / "deg.csv"
    path.write_text(",background,walk,groom\n0,1,0,0\n1,0,1,1\n2,0,0,1\n")
    read = read_behavior_file(path, "onehot", n_frames=3, fps=30)
    assert read.behaviors == ("walk", "groom")
    np.testing.assert_array_equal(read.animals[""], [[0, 0], [1, 1], [0, 1]])
    path.write_text("walk,groom\n0,0\n1,1\n0,1\n")
    assert read_behavior_file(path, "onehot", n_frames=3, fps=30).behaviors == (
        "walk",
        "groom",
    )


def test_synth_long_table_reads_per_individual(tmp_path: Path) -> None:
    path = tmp_path / "behaviors.csv"
    path.write_text(
        "frame,individual,behavior\n0,mouse0,walk\n0,mouse1,rest\n"
        "1,mouse0,walk\n1,mouse1,walk\n"
    )
    read = read_behavior_file(path, "long", n_frames=2, fps=30)
    assert read.behaviors == ("walk", "rest")
    np.testing.assert_array_equal(read.animals["mouse0"], [[1, 0], [1, 0]])
    np.testing.assert_array_equal(read.animals["mouse1"], [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        ("frame-action", "Frame,Action\n0,walk\n1,walk\n", "2 frames; the video has 3"),
        ("frame-action", "Frame,Action\n0,walk\n2,walk\n1,rest\n", "frame 2 where"),
        ("frame-action", "Frame,Label\n0,walk\n", "no 'Action' column"),
        ("onehot", "walk,rest\n0,1\n1,0\n", "2 frames; the video has 3"),
        ("onehot", "walk,rest\n0,1\n1,0\n2,0\n", "one-hot values are 0 or 1"),
        ("long", "frame,individual,behavior\n0,a,walk\n1,a,walk\n", "of individual"),
        (
            "boris",
            "Time,Subject,Behavior,Status\n0.0,a,walk,START\n0.02,a,walk,START\n"
            "0.05,a,walk,STOP\n",
            "overlapping START/STOP pairs",
        ),
        (
            "boris",
            "Time,Subject,Behavior,Status\n0.0,a,walk,START\n9.0,a,walk,STOP\n",
            "past the video's end",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_file(
    tmp_path: Path, fmt: str, text: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as error:
        read_behavior_file(path, fmt, n_frames=3, fps=30)  # type: ignore[arg-type]
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_merge_joins_columns_and_drops_none() -> None:
    mapping = parse_merge(["paw_guard,flinch=paw_withdraw", "twitch=none"])
    assert mapping == {
        "paw_guard": "paw_withdraw",
        "flinch": "paw_withdraw",
        "twitch": "none",
    }
    from etholoop.io.behavior_files import FileLabels

    labels = FileLabels(
        ("paw_guard", "rest", "flinch", "twitch"),
        {"": np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], bool)},
    )
    merged = merge_behaviors(labels, mapping)
    assert merged.behaviors == ("paw_withdraw", "rest")
    np.testing.assert_array_equal(merged.animals[""], [[1, 0], [0, 1], [1, 0], [0, 0]])
    with pytest.raises(FormatError, match="NAME"):
        parse_merge(["paw_guard"])
