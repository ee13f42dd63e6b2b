"""SLEAP `.slp` label files, read and written through sleap-io."""

from __future__ import annotations

import os
from pathlib import Path

import h5py

from etholoop.errors import FormatError
from etholoop.io._common import one_line
from etholoop.io._registry import register_reader, register_writer
from etholoop.io.sleap_bridge import from_sleap, to_sleap
from etholoop.types import LabelSet


@register_reader("slp", suffixes=(".slp",))
def read_slp(path: str | os.PathLike[str]) -> LabelSet:
    """Read a SLEAP labels file.

    Videos are not opened; relative video paths are resolved against the file's
    folder when the video is there. Visibility follows `sleap_bridge`.

    Raises:
        FormatError: if the file is missing, not HDF5 or not a SLEAP labels file.
    """
    import sleap_io as sio

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise FormatError(f"{path}: not a SLEAP .slp file (not HDF5)")
    with h5py.File(path, "r") as f:
        if "metadata" not in f:
            raise FormatError(f"{path}: not a SLEAP .slp file (no 'metadata')")
    try:
        labels = sio.load_slp(str(path), open_videos=False)
    except Exception as exc:  # sleap-io raises many kinds on a damaged file
        raise FormatError(f"{path}: cannot read SLEAP file: {one_line(exc)}") from exc
    return from_sleap(labels, path)


@register_writer("slp", file_name="labels.slp")
def write_slp(labels: LabelSet, path: str | os.PathLike[str]) -> None:
    """Write a SLEAP labels file (no embedded images; videos are referenced).

    Raises:
        FormatError: if sleap-io cannot write the file.
    """
    import sleap_io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        sio.save_slp(to_sleap(labels), str(path), embed=False, verbose=False)
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot write SLEAP file: {one_line(exc)}") from exc
