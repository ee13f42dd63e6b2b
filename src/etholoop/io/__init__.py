"""Label file formats: read any of them into a `LabelSet`, write a `LabelSet` out.

One module per format (`dlc`, `slp`, `coco`, `yolo`, `nwb`), each with
`read_<fmt>(path) -> LabelSet` and `write_<fmt>(labels, path, ...)`, registered
by name; `load_labels` and `save_labels` dispatch on it. `map_to_skeleton` then
fits imported labels to the project skeleton by keypoint name.

    >>> labels = load_labels("labeled-data/m4s1")  # its CollectedData_*.csv
    >>> labels, match = map_to_skeleton(labels, project_skeleton, {"snout": "nose"})
    >>> save_labels(labels, "export/coco", "coco")  # export/coco/labels.json
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from etholoop.errors import FormatError
from etholoop.io import coco, dlc, nwb, slp, yolo  # noqa: F401  (registers formats)
from etholoop.io._common import ImageMap, export_image_names
from etholoop.io._registry import REGISTRY, LabelFormat, suffix_of
from etholoop.io.coco import read_coco, write_coco
from etholoop.io.dlc import read_dlc, write_dlc
from etholoop.io.nwb import read_nwb, write_nwb
from etholoop.io.skeleton_map import KeypointMatch, map_to_skeleton, match_keypoints
from etholoop.io.slp import read_slp, write_slp
from etholoop.io.tracks import (
    TRACK_FORMATS,
    labels_to_tracks,
    read_tracks,
    tracks_to_labels,
    write_tracks,
)
from etholoop.io.yolo import read_yolo, write_yolo
from etholoop.types import LabelSet

_PREFERRED_ORDER = ("dlc", "slp", "coco", "yolo", "nwb")
FORMATS: tuple[str, ...] = tuple(
    sorted(REGISTRY, key=lambda n: (_PREFERRED_ORDER + (n,)).index(n))
)
"""Names of the known label formats."""

__all__ = [
    "FORMATS",
    "TRACK_FORMATS",
    "ImageMap",
    "KeypointMatch",
    "LabelFormat",
    "detect_format",
    "export_image_names",
    "labels_to_tracks",
    "load_labels",
    "map_to_skeleton",
    "match_keypoints",
    "read_coco",
    "read_dlc",
    "read_nwb",
    "read_slp",
    "read_tracks",
    "read_yolo",
    "save_labels",
    "tracks_to_labels",
    "write_coco",
    "write_dlc",
    "write_nwb",
    "write_slp",
    "write_tracks",
    "write_yolo",
]


def _format(name: str, path: Path) -> LabelFormat:
    if name not in REGISTRY:
        raise FormatError(
            f"{path}: unknown label format {name!r}; "
            f"known formats: {', '.join(FORMATS)}"
        )
    return REGISTRY[name]


def _sniff_hdf5(path: Path) -> str | None:
    import h5py

    try:
        if not h5py.is_hdf5(path):
            return None
        with h5py.File(path, "r") as f:
            if "nwb_version" in f.attrs:
                return "nwb"
            if "metadata" in f and "frames" in f:
                return "slp"
            return "dlc"
    except OSError:
        return None


def _sniff_text(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            head = f.read(256).lstrip()
    except OSError:
        return None
    if head.startswith(b"{"):
        return "coco"
    if head.lower().startswith(b"scorer"):
        return "dlc"
    return None


def _sniff_folder(path: Path) -> str | None:
    """The format a folder holds by its contents (see `detect_format`), or None."""
    if dlc.folder_tables(path) or (path / dlc.LABELED_DATA).is_dir():
        return "dlc"
    if any((path / name).exists() for name in ("data.yaml", "labels", "images")):
        return "yolo"
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of a label file or folder, from its suffix, else its content.

    `.csv` is DeepLabCut, `.slp` SLEAP, `.json` COCO, `.nwb` NWB, a `data.yaml`
    YOLO; an `.h5` is SLEAP, NWB or (otherwise) DeepLabCut by its content, and a
    file with another suffix is sniffed. A folder holding `CollectedData_*.csv`
    or `.h5` (DLC's `labeled-data/<video>/`) or `labeled-data/` (a DLC
    project) is DeepLabCut, one holding `data.yaml`, `labels/` or `images/` YOLO.

    Raises:
        FormatError: if the path does not exist or its format is not recognized.
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    if path.is_dir():
        found = _sniff_folder(path)
        if found is None:
            raise FormatError(
                f"{path}: cannot tell the label format of this folder: no "
                "CollectedData_*.csv/.h5 or labeled-data/ (DeepLabCut), no "
                "data.yaml (YOLO); pass a label file"
            )
        return found
    suffix = suffix_of(path)
    if suffix in (".h5", ".hdf5"):
        return _sniff_hdf5(path) or "dlc"
    for fmt in REGISTRY.values():
        if suffix in fmt.suffixes and fmt.reader is not None:
            return fmt.name
    found = _sniff_hdf5(path) or _sniff_text(path)
    if found is None:
        raise FormatError(
            f"{path}: cannot tell the label format from suffix {suffix!r} or content; "
            f"pass one of: {', '.join(FORMATS)}"
        )
    return found


def load_labels(path: str | os.PathLike[str], format: str = "auto") -> LabelSet:
    """Read a label file (or DeepLabCut or YOLO folder) into a `LabelSet`.

    Args:
        path: The label file or folder.
        format: One of `FORMATS`, or "auto" to detect it (see `detect_format`).

    Raises:
        FormatError: for an unknown format or a missing, malformed or
            unreadable file.
    """
    path = Path(path)
    name = detect_format(path) if format == "auto" else format
    fmt = _format(name, path)
    if fmt.reader is None:
        readable = [f.name for f in REGISTRY.values() if f.reader is not None]
        raise FormatError(
            f"{path}: format {name!r} cannot be read; readable: {', '.join(readable)}"
        )
    return fmt.reader(path)


_WRITE_SUFFIXES = {".csv": "dlc", ".slp": "slp", ".json": "coco", ".nwb": "nwb"}


def save_labels(
    labels: LabelSet,
    path: str | os.PathLike[str],
    format: str = "auto",
    *,
    images: ImageMap | None = None,
    **options: Any,
) -> None:
    """Write labels in a format.

    Args:
        labels: The labels to write.
        path: The file to write, or a folder: YOLO and DeepLabCut write their
            folder layouts into it, the others `labels.<suffix>` (COCO with
            `images/` beside it). A path without the format's file suffix is
            taken for a folder.
        format: One of `FORMATS`, or "auto": `.csv` DLC, `.slp` SLEAP, `.json`
            COCO, `.nwb` NWB, a folder or `.yaml` YOLO.
        images: Image file per (video index, frame_idx): COCO and YOLO copy
            them (image sequences default to their own files), DLC names its
            rows by them; SLP and NWB ignore them.
        **options: Passed to the format's writer (e.g. `fps` for NWB, `split`
            for YOLO, `scorer` for DLC).

    Raises:
        FormatError: for an unknown format or when the writer cannot write.
    """
    path = Path(path)
    if format == "auto":
        suffix = path.suffix.lower()
        name = _WRITE_SUFFIXES.get(suffix, "yolo" if suffix in ("", ".yaml") else "")
        if not name:
            raise FormatError(
                f"{path}: cannot tell the label format from suffix {suffix!r}; "
                f"pass one of: {', '.join(FORMATS)}"
            )
    else:
        name = format
    fmt = _format(name, path)
    if fmt.writer is None:
        writable = [f.name for f in REGISTRY.values() if f.writer is not None]
        raise FormatError(
            f"{path}: format {name!r} cannot be written; "
            f"writable: {', '.join(writable)}"
        )
    if fmt.file_name and path.suffix.lower() != Path(fmt.file_name).suffix:
        path = path / fmt.file_name
    if fmt.takes_images:
        fmt.writer(labels, path, images=images, **options)
    else:
        fmt.writer(labels, path, **options)
