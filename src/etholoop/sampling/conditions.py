"""Experimental conditions of videos: from a regex on file names or a CSV table."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

from etholoop.errors import SamplingError


def conditions_from_regex(names: Sequence[str], pattern: str) -> list[str]:
    """The condition in each file name: the regex's first group, else its match.

    Args:
        names: Video file names, e.g. "Gabbia1-D6-eCig(1)-pre.mp4".
        pattern: A Python regex searched in each name, e.g. "-(saline|drug)-".

    Returns:
        One condition per name.

    Raises:
        SamplingError: the regex is invalid or does not match a name.
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise SamplingError(
            f"--condition-from {pattern!r}: bad regex ({exc})"
        ) from None
    conditions = []
    for name in names:
        match = regex.search(name)
        if match is None:
            raise SamplingError(
                f"--condition-from {pattern!r}: matches nothing in video file {name}"
            )
        conditions.append(match.group(1) if regex.groups else match.group(0))
    return conditions


def conditions_from_csv(path: Path, names: Sequence[str]) -> list[str]:
    """The condition of each file name from a table with columns `video,condition`.

    Args:
        path: CSV file; `video` holds a file name (or a path ending in one).
        names: Video file names to look up.

    Returns:
        One condition per name.

    Raises:
        SamplingError: the file is missing, lacks the columns or a video.
    """
    if not path.is_file():
        raise SamplingError(f"{path}: no such conditions file")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if not {"video", "condition"} <= set(reader.fieldnames or ()):
            raise SamplingError(f"{path}: needs the columns video,condition")
        table = {Path(row["video"]).name: row["condition"] for row in reader}
    missing = [name for name in names if name not in table]
    if missing:
        raise SamplingError(f"{path}: no condition for video {missing[0]}")
    return [table[name] for name in names]
