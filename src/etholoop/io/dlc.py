"""DeepLabCut label tables: CSV (and the pandas HDF5 twin, read only).

Our own parser, not `sleap_io.load_dlc`, because sleap-io 0.9.5 sorts the
bodyparts alphabetically (losing the file's keypoint order), drops every row
whose image file it cannot find (so a predictions table of a video yields
nothing), ignores the likelihood columns and, on writing, invents image names
(`img{frame:04d}.png`) instead of keeping the real ones.

Layouts read:

- single animal: 3 header rows `scorer`, `bodyparts`, `coords`;
- multi animal: 4 header rows `scorer`, `individuals`, `bodyparts`, `coords`;
- the row label is an image path relative to the DLC project root (one column
  `labeled-data/<video>/img.png`, or DLC >= 2.3's three columns), or a frame
  number for a predictions table of a video;
- `coords` `x, y` (labels) or `x, y, likelihood` (predictions: instances become
  `predicted` with the likelihood as keypoint scores).

DLC has no visibility: a finite x, y is visibility 2, an empty cell 0 (and
visibility 1 is written as a plain label). An individual with no finite keypoint
in a row is no instance, and a row with no instance is no frame (DLC cannot tell
an unlabeled frame from an empty one), though its image stays in the VideoRef.
The skeleton is the union of all bodyparts in column order, so DLC's `single`
individual of unique bodyparts becomes one more track with only those labeled.
"""

from __future__ import annotations

import csv
import math
import os
import pickle
import re
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from etholoop.errors import FormatError
from etholoop.io._common import (
    ImageMap,
    one_line,
    visible_keypoints,
)
from etholoop.io._registry import register_reader, register_writer
from etholoop.types import (
    NOT_LABELED,
    VISIBLE,
    FrameLabels,
    Instance,
    LabelSet,
    Skeleton,
    Source,
    VideoRef,
)

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".wmv", ".mpg", ".mpeg", ".m4v")
_COORDS = ("x", "y", "likelihood")


class _Table:
    """A DLC table split into its parts.

    Attributes:
        index: Row labels, one string per row (image path or frame number).
        columns: (individual, bodypart, coord) per value column; individual is
            "" for a single-animal table.
        values: Values, shape (rows, columns), NaN for empty cells.
        scorer: The scorer named in the first header row.
        multi_animal: True for the 4-header-row layout.
    """

    def __init__(
        self,
        index: list[str],
        columns: list[tuple[str, str, str]],
        values: np.ndarray[Any, np.dtype[np.float64]],
        scorer: str,
        multi_animal: bool,
    ) -> None:
        self.index = index
        self.columns = columns
        self.values = values
        self.scorer = scorer
        self.multi_animal = multi_animal


def _not_dlc(path: Path, why: str) -> FormatError:
    return FormatError(f"{path}: not a DeepLabCut table ({why})")


def _parse_header(path: Path, rows: list[list[str]]) -> tuple[int, int, list[str]]:
    """Header row count, index column count and header names of a DLC CSV."""
    if not rows or not rows[0] or rows[0][0].strip().lower() != "scorer":
        raise _not_dlc(path, "first cell is not 'scorer'")
    names = [r[0].strip().lower() if r else "" for r in rows]
    if "coords" not in names:
        raise _not_dlc(path, "no 'coords' header row")
    n_header = names.index("coords") + 1
    header = names[:n_header]
    if header not in (
        ["scorer", "bodyparts", "coords"],
        ["scorer", "individuals", "bodyparts", "coords"],
    ):
        raise _not_dlc(path, f"header rows {header}")
    coords = rows[n_header - 1]
    n_index = next(
        (i for i, c in enumerate(coords) if c.strip() in _COORDS), len(coords)
    )
    if n_index == 0 or n_index == len(coords):
        raise _not_dlc(path, "no x/y columns")
    return n_header, n_index, header


def _read_csv_table(path: Path) -> _Table:
    # The csv module and float() parse every number exactly (pandas' default
    # float parser may be off by an ulp, and its exact mode is deprecated).
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FormatError(f"{path}: cannot read CSV: {one_line(exc)}") from exc
    n_header, n_index, header = _parse_header(path, rows[:5])
    head, body = rows[:n_header], [r for r in rows[n_header:] if r]
    width = len(head[-1])
    if any(len(r) != width for r in head):
        raise _not_dlc(path, "header rows differ in length")
    multi = len(header) == 4
    columns = [
        (
            head[1][j].strip() if multi else "",
            head[-2][j].strip(),
            head[-1][j].strip(),
        )
        for j in range(n_index, width)
    ]
    for lineno, row in enumerate(body, start=n_header + 1):
        if len(row) != width:
            raise FormatError(
                f"{path}:{lineno}: expected {width} values like the header, "
                f"got {len(row)}"
            )
    try:
        values = np.array(
            [[c.strip() or "nan" for c in r[n_index:]] for r in body], dtype=np.float64
        ).reshape(len(body), width - n_index)
    except ValueError as exc:
        raise FormatError(f"{path}: non-numeric coordinate: {one_line(exc)}") from exc
    index = ["/".join(c.strip() for c in r[:n_index] if c.strip()) for r in body]
    return _Table(index, columns, values, head[0][n_index].strip(), multi)


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles only plain data (lists, tuples, strings, numbers)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _attr(group: Any, name: str) -> Any:
    raw = group.attrs[name]
    return _SafeUnpickler(BytesIO(bytes(raw))).load()


def _read_h5_table(path: Path) -> _Table:
    """Read the pandas/PyTables `table` layout that DLC writes, with h5py only.

    Reading it through pandas would need PyTables, which is not a dependency.
    """
    import h5py

    if not h5py.is_hdf5(path):
        raise FormatError(f"{path}: not a DeepLabCut .h5 table (not HDF5)")
    try:
        with h5py.File(path, "r") as f:
            keys = [k for k in f if isinstance(f[k], h5py.Group) and "table" in f[k]]
            if not keys:
                raise _not_dlc(path, "no pandas table in the HDF5 file")
            return _decode_h5_table(f[keys[0]], path)
    except FormatError:
        raise
    except Exception as exc:  # h5py, pickle, key and shape errors on a foreign file
        raise _not_dlc(path, one_line(exc)) from exc


def _decode_h5_table(group: Any, path: Path) -> _Table:
    table = group["table"][()]
    info = _attr(group, "info")
    axes = _attr(group, "non_index_axes")
    blocks = _attr(group, "values_cols")
    kinds = [_attr(group["table"], f"{b}_kind") for b in blocks]
    names = [str(n).lower() for n in info.get(1, {}).get("names", [])]
    if names not in (
        ["scorer", "bodyparts", "coords"],
        ["scorer", "individuals", "bodyparts", "coords"],
    ):
        raise _not_dlc(path, f"column levels {names}")
    multi = len(names) == 4
    all_columns = [tuple(str(c) for c in col) for col in axes[0][1]]
    order = {col: j for j, col in enumerate(all_columns)}
    values = np.full((len(table), len(all_columns)), np.nan)
    for block, kind in zip(blocks, kinds, strict=True):
        data = np.asarray(table[block], dtype=np.float64).reshape(len(table), -1)
        for k, col in enumerate(kind):
            values[:, order[tuple(str(c) for c in col)]] = data[:, k]
    # one "index" field, or DLC >= 2.3's three index levels as separate fields
    index_fields = [n for n in table.dtype.names if n not in blocks]
    parts = [
        [i.decode() if isinstance(i, bytes) else str(i) for i in table[name]]
        for name in index_fields
    ]
    index = ["/".join(p for p in row if p) for row in zip(*parts, strict=True)]
    columns = [(c[1] if multi else "", c[-2], c[-1]) for c in all_columns]
    return _Table(index, columns, values, all_columns[0][0], multi)


def _video_stem(path: Path) -> str:
    """The analysed video's stem: DLC names outputs `<video>DLC_<scorer>.csv`."""
    match = re.match(r"^(.*?)DLC_", path.stem)
    return match.group(1) if match and match.group(1) else path.stem


def _project_root(path: Path) -> Path:
    """The DLC project root: two folders above a CSV in `labeled-data/<video>/`."""
    return path.resolve().parent.parent.parent


def _resolve_image(label: str, path: Path) -> Path:
    """The image file a row label names (relative to the project root)."""
    rel = Path(label.replace("\\", "/"))
    if rel.is_absolute():
        return rel
    root = _project_root(path)
    candidates = [
        root / rel,
        path.resolve().parent / rel,
        path.resolve().parent / rel.name,
    ]
    return next((c for c in candidates if c.exists()), root / rel)


def _find_video(path: Path) -> str:
    """A video beside a predictions table, else the folder plus the video stem."""
    stem = _video_stem(path)
    folder = path.resolve().parent
    for suffix in VIDEO_SUFFIXES:
        if (folder / f"{stem}{suffix}").is_file():
            return str(folder / f"{stem}{suffix}")
    return str(folder / stem)


@register_reader("dlc", suffixes=(".csv", ".h5", ".hdf5"))
def read_dlc(path: str | os.PathLike[str]) -> LabelSet:
    """Read a DeepLabCut label or predictions table (`.csv`, or `.h5`).

    Image paths in row labels are resolved against the DLC project root (two
    folders above a CSV in `labeled-data/<video>/`); each image folder becomes an
    image-sequence `VideoRef` whose files are the table's images (also those of
    rows without labels), sorted by name.
    A table indexed by frame number becomes one `VideoRef` naming the analysed
    video (found beside the table, or the table's folder plus the video stem).

    Raises:
        FormatError: if the file is missing or not a DLC table.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    table = (
        _read_h5_table(path)
        if path.suffix.lower() in (".h5", ".hdf5")
        else _read_csv_table(path)
    )
    return _table_to_labels(table, path)


def _table_to_labels(table: _Table, path: Path) -> LabelSet:
    bodyparts: list[str] = []
    individuals: list[str] = []
    for ind, part, coord in table.columns:
        if coord not in _COORDS:
            raise _not_dlc(path, f"unknown coordinate {coord!r}")
        if part not in bodyparts:
            bodyparts.append(part)
        if ind not in individuals:
            individuals.append(ind)
    try:
        skeleton = Skeleton(keypoints=tuple(bodyparts))
    except ValueError as exc:
        raise _not_dlc(path, one_line(exc)) from exc
    n_rows, n_k = len(table.index), len(bodyparts)
    n_i = len(individuals)
    # (rows, individuals, keypoints, [x, y, likelihood])
    data = np.full((n_rows, n_i, n_k, 3), np.nan)
    has_likelihood = False
    for j, (ind, part, coord) in enumerate(table.columns):
        c = _COORDS.index(coord)
        has_likelihood |= c == 2
        data[:, individuals.index(ind), bodyparts.index(part), c] = table.values[:, j]
    for ind in individuals:
        i = individuals.index(ind)
        columns = {(p, c) for q, p, c in table.columns if q == ind}
        for part in bodyparts:
            if (part, "x") in columns and (part, "y") not in columns:
                raise _not_dlc(path, f"{ind or 'bodypart'} {part} has x but no y")

    videos, frame_of_row = _row_frames(table.index, path)
    tracks = tuple(individuals) if table.multi_animal else ()
    source: Source = "predicted" if has_likelihood else "manual"
    frames: list[FrameLabels] = []
    finite = np.isfinite(data[..., :2]).all(axis=-1)
    for r in range(n_rows):
        instances = []
        for i in range(n_i):
            if not finite[r, i].any():
                continue
            xy = np.where(finite[r, i][:, None], data[r, i, :, :2], np.nan)
            scores = data[r, i, :, 2] if has_likelihood else None
            instances.append(
                Instance(
                    keypoints=xy,
                    visibility=np.where(finite[r, i], VISIBLE, NOT_LABELED),
                    keypoint_scores=scores,
                    source=source,
                    track_id=i if table.multi_animal else None,
                )
            )
        if instances:
            video, frame_idx = frame_of_row[r]
            frames.append(
                FrameLabels(video=video, frame_idx=frame_idx, instances=instances)
            )
    return LabelSet(skeleton=skeleton, videos=videos, frames=frames, tracks=tracks)


def _row_frames(
    index: Sequence[str], path: Path
) -> tuple[list[VideoRef], list[tuple[int, int]]]:
    """The videos of a table and the (video, frame_idx) of each row."""
    if all(re.fullmatch(r"\d+", label.strip()) for label in index):
        video = VideoRef(path=_find_video(path))
        return [video], [(0, int(label)) for label in index]
    images = [_resolve_image(label, path) for label in index]
    folders: dict[Path, list[Path]] = {}
    for image in images:
        folders.setdefault(image.parent, []).append(image)
    videos: list[VideoRef] = []
    position: dict[Path, tuple[int, int]] = {}
    for v, (folder, files) in enumerate(folders.items()):
        ordered = sorted(set(files), key=lambda p: p.name)
        videos.append(VideoRef(path=str(folder), image_files=tuple(map(str, ordered))))
        position.update({p: (v, k) for k, p in enumerate(ordered)})
    if len(position) != len(images):
        dup = next(p for p in images if images.count(p) > 1)
        raise FormatError(f"{path}: image {dup} appears in more than one row")
    return videos, [position[p] for p in images]


def _row_labels(
    labels: LabelSet, images: ImageMap | None, path: Path
) -> dict[tuple[int, int], str]:
    """The row label of every frame: its image path, else its frame number."""
    root = _project_root(path)
    rows: dict[tuple[int, int], str] = {}
    numbered = []
    for frame in labels.frames:
        key = (frame.video, frame.frame_idx)
        video = labels.videos[frame.video]
        if images is not None and key in images:
            image: Path | None = Path(images[key])
        elif video.is_image_sequence and frame.frame_idx < len(video.image_files):
            image = Path(video.image_files[frame.frame_idx])
        else:
            image = None
        if image is None:
            rows[key] = str(frame.frame_idx)
            numbered.append(frame.video)
            continue
        image = image.resolve()
        try:
            rows[key] = PurePosixPath(image.relative_to(root)).as_posix()
        except ValueError:
            rows[key] = image.as_posix()
    if numbered and (len(set(numbered)) > 1 or len(numbered) < len(rows)):
        raise FormatError(
            f"{path}: rows of a DeepLabCut table are images or the frames of one "
            "video; pass images={(video, frame): path} for the frames of "
            f"{len(labels.videos)} videos"
        )
    if len(set(rows.values())) != len(rows):
        raise FormatError(f"{path}: two frames would share one row (same image)")
    return rows


@register_writer("dlc", takes_images=True)
def write_dlc(
    labels: LabelSet,
    path: str | os.PathLike[str],
    images: ImageMap | None = None,
    *,
    scorer: str = "etholoop",
    multi_animal: bool | None = None,
) -> None:
    """Write a DeepLabCut CSV table.

    A row is labeled by its frame's image path (from `images`, else the
    image-sequence file) relative to the DLC project root (two folders above
    `path`), or absolute if the image lies outside it; the frames of a single
    video file without images are labeled by frame number, as in DLC's
    prediction tables. Images are not copied. Coordinates are written with
    `repr`, exactly.
    A `likelihood` column is added when any instance is predicted; keypoints
    that are not labeled are empty cells.

    Args:
        labels: The labels to write.
        path: The `.csv` file to write.
        images: Image file per (video index, frame_idx), for frames of video
            files (or to override an image sequence's files).
        scorer: Name for the `scorer` header row.
        multi_animal: Write the 4-row `individuals` layout; by default when the
            labels have tracks or a frame with more than one instance. Individuals
            are the track names, then `animal<N>` for untracked instances.

    Raises:
        FormatError: for a path not ending in `.csv`, for frames of several
            videos without images, or for more than one instance per frame in a
            single-animal table.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise FormatError(f"{path}: DeepLabCut tables are written as .csv")
    row_labels = _row_labels(labels, images, path)
    max_untracked = max(
        [0] + [sum(i.track_id is None for i in f.instances) for f in labels.frames]
    )
    if multi_animal is None:
        multi_animal = (
            bool(labels.tracks)
            or any(len(f.instances) > 1 for f in labels.frames)
            or any(i.track_id is not None for f in labels.frames for i in f.instances)
        )
    if not multi_animal and max([0] + [len(f.instances) for f in labels.frames]) > 1:
        raise FormatError(f"{path}: a single-animal table holds one instance per frame")
    individuals = labels.track_names
    n_tracks = len(individuals)
    extra = 0
    while len(individuals) < n_tracks + max_untracked:
        name = f"animal{extra}"
        extra += 1
        if name not in individuals:
            individuals.append(name)
    if not multi_animal:
        individuals = [""]
    predicted = any(i.source == "predicted" for f in labels.frames for i in f.instances)
    coords = ["x", "y", "likelihood"] if predicted else ["x", "y"]
    parts = labels.skeleton.keypoints
    n_c = len(coords)
    width = len(individuals) * len(parts) * n_c

    rows: list[list[str]] = [
        ["scorer"] + [scorer] * width,
    ]
    if multi_animal:
        rows.append(
            ["individuals"]
            + [ind for ind in individuals for _ in parts for _ in coords]
        )
    rows.append(["bodyparts"] + [p for _ in individuals for p in parts for _ in coords])
    rows.append(["coords"] + coords * (len(individuals) * len(parts)))

    def cell(value: float) -> str:
        return "" if math.isnan(value) else repr(float(value))

    frames = sorted(labels.frames, key=lambda f: (f.video, f.frame_idx))
    for frame in frames:
        row = [""] * width
        untracked = n_tracks
        for inst in frame.instances:
            if not multi_animal:
                slot = 0
            elif inst.track_id is not None:
                slot = inst.track_id
            else:
                slot = untracked
                untracked += 1
            xy, vis = visible_keypoints(inst)
            scores = inst.keypoint_scores
            for k in range(len(parts)):
                base = (slot * len(parts) + k) * n_c
                if vis[k] == NOT_LABELED:
                    continue
                row[base] = cell(xy[k, 0])
                row[base + 1] = cell(xy[k, 1])
                if predicted:
                    score = math.nan if scores is None else float(scores[k])
                    row[base + 2] = cell(score)
        rows.append([row_labels[(frame.video, frame.frame_idx)], *row])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
