from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.errors import FormatError
from etholoop.io.boris import read_boris, time_to_frame

HEADER = (
    "Observation id,x,,,,,,,\n,,,,,,,,\n"
    "Time,Media file path,Total length,FPS,Subject,Behavior,Behavioral category,"
    "Comment,Status\n"
)


def write(tmp_path: Path, events: list[tuple[float, str, str, str]]) -> Path:
    path = tmp_path / "events.csv"
    rows = [f"{t},v.avi,10.0,30.0,{s},{b},,,{status}" for t, s, b, status in events]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_real_session_gives_662_frames(shared_data: Path) -> None:
    boris = shared_data / "ethome_two_mice_interaction" / "boris"
    path = boris / "e3v813a-20210610T122332-122642_reencode.csv"
    labels = read_boris(path, fps=30, n_frames=5700)
    assert list(labels) == [("adult", "interact")]
    assert int(labels[("adult", "interact")].sum()) == 662


def test_rounding_halves_up_and_stop_is_exclusive(tmp_path: Path) -> None:
    assert time_to_frame(29.85, 30) == 896  # 895.5 -> 896
    assert time_to_frame(41.95, 30) == 1259  # 1258.5 -> 1259, not 1258
    path = write(
        tmp_path,
        [
            (0.05, "a", "x", "START"),
            (0.2, "a", "x", "STOP"),
            (0.1, "b", "x", "START"),
            (0.5, "b", "x", "STOP"),
        ],
    )
    labels = read_boris(path, fps=10, n_frames=4)
    assert labels[("a", "x")].tolist() == [False, True, False, False]
    assert labels[("b", "x")].tolist() == [False, True, True, True]  # cut at 4


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            [(1, "a", "x", "START"), (2, "a", "x", "START"), (3, "a", "x", "STOP")],
            "overlapping",
        ),
        ([(1, "a", "x", "STOP")], "without a START"),
        ([(1, "a", "x", "START")], "has no STOP"),
        ([(2, "a", "x", "START"), (1, "a", "x", "STOP")], "before its START"),
        ([(1, "a", "x", "POINT")], "expected START or STOP"),
    ],
)
def test_bad_events_are_one_line_errors(
    tmp_path: Path, events: list[tuple[float, str, str, str]], message: str
) -> None:
    path = write(tmp_path, events)
    with pytest.raises(FormatError, match=message) as info:
        read_boris(path, fps=30, n_frames=100)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_other_subject_may_overlap(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            (0.0, "a", "x", "START"),
            (0.1, "b", "x", "START"),
            (0.2, "a", "x", "STOP"),
            (0.3, "b", "x", "STOP"),
        ],
    )
    labels = read_boris(path, fps=10, n_frames=5)
    assert np.flatnonzero(labels[("b", "x")]).tolist() == [1, 2]


def test_no_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="no BORIS header"):
        read_boris(path, fps=30, n_frames=10)
