"""BORIS "aggregated events" tables in: per-frame behavior labels of each subject.

A BORIS export holds a block of metadata rows, then a header row starting with
`Time` that names (at least) `Subject`, `Behavior` and `Status`, then one row per
event edge: a START and a STOP per state event, times in seconds.

A bout from START time `a` to STOP time `b` covers frames
`[round(a * fps), round(b * fps))`, rounding halves up (`floor(x + 0.5)`, not
Python's round-half-to-even), and is cut at `n_frames` (or refused). On the
ethome session `e3v813a-20210610T122332-122642` this gives 662 "interact"
frames at 30 fps.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from etholoop.errors import FormatError

BorisKey = tuple[str, str]
"""(subject, behavior)."""

_REQUIRED = ("Time", "Subject", "Behavior", "Status")


def time_to_frame(seconds: float, fps: float) -> int:
    """The frame a time falls on: `seconds * fps` rounded half up."""
    return math.floor(seconds * fps + 0.5)


def read_boris(
    path: str | Path, *, fps: float, n_frames: int, cut_at_end: bool = True
) -> dict[BorisKey, NDArray[np.bool_]]:
    """Per-frame labels of every (subject, behavior) in a BORIS aggregated table.

    Args:
        path: The BORIS CSV export.
        fps: Frame rate of the video the labels go with.
        n_frames: Number of frames of that video.
        cut_at_end: Cut bouts that stop past `n_frames`; if False, such a bout
            is an error (the file does not belong to the video).

    Returns:
        For each (subject, behavior) that has an event, a boolean array of shape
        (n_frames,): True where the behavior is going on.

    Raises:
        FormatError: no header row, a row that is not START/STOP, a START while
            the same subject's behavior is already going on (overlap), a STOP
            without a START, a START without a STOP, a STOP before its START, or
            (unless `cut_at_end`) a STOP past the video's end.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header_idx = next(
        (i for i, row in enumerate(rows) if row and row[0] == "Time"), None
    )
    if header_idx is None:
        raise FormatError(f"{path}: no BORIS header row starting with 'Time'")
    header = rows[header_idx]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise FormatError(f"{path}: BORIS header lacks columns {missing}")
    col = {name: header.index(name) for name in _REQUIRED}

    open_since: dict[BorisKey, tuple[float, int]] = {}
    labels: dict[BorisKey, NDArray[np.bool_]] = {}
    for line, row in enumerate(rows[header_idx + 1 :], start=header_idx + 2):
        if not any(row):
            continue
        key = (row[col["Subject"]], row[col["Behavior"]])
        status = row[col["Status"]]
        try:
            time = float(row[col["Time"]])
        except ValueError:
            raise FormatError(
                f"{path}:{line}: time {row[col['Time']]!r} is not a number"
            ) from None
        if status == "START":
            if key in open_since:
                raise FormatError(
                    f"{path}:{line}: {key[0]} {key[1]!r} starts again at {time} s "
                    f"while the bout started at {open_since[key][0]} s (line "
                    f"{open_since[key][1]}) is open (overlapping START/STOP pairs)"
                )
            open_since[key] = (time, line)
        elif status == "STOP":
            if key not in open_since:
                raise FormatError(
                    f"{path}:{line}: STOP of {key[0]} {key[1]!r} at {time} s "
                    "without a START"
                )
            start, _ = open_since.pop(key)
            if time < start:
                raise FormatError(
                    f"{path}:{line}: STOP of {key[0]} {key[1]!r} at {time} s is "
                    f"before its START at {start} s"
                )
            stop_frame = time_to_frame(time, fps)
            if stop_frame > n_frames and not cut_at_end:
                raise FormatError(
                    f"{path}:{line}: a bout stops at {time} s (frame {stop_frame}), "
                    f"past the video's end ({n_frames} frames at {fps:g} fps)"
                )
            mask = labels.setdefault(key, np.zeros(n_frames, bool))
            first = max(time_to_frame(start, fps), 0)
            mask[first:stop_frame] = True
        else:
            raise FormatError(
                f"{path}:{line}: status {status!r}; expected START or STOP"
            )
    if open_since:
        key, (time, line) = next(iter(open_since.items()))
        raise FormatError(
            f"{path}:{line}: START of {key[0]} {key[1]!r} at {time} s has no STOP"
        )
    return labels
