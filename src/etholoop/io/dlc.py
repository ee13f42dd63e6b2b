"""DeepLabCut label tables (CSV and the pandas HDF5 twin) and project folders.

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
  `predicted` with the likelihood as keypoint scores);
- the `.h5` in pandas' `table` layout (older DLC) or `fixed` layout (DLC >= 2.3),
  read with h5py alone (no pickled objects are loaded);
- a `labeled-data/<video>/` folder: its `CollectedData_<scorer>.csv`, else `.h5`;
  a DLC project folder: every `labeled-data/<video>/` folder that holds one.

The table's scorer (DLC's labeler) becomes each instance's `author`.

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
from collections.abc import Iterator, Sequence
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from attrs import evolve

from etholoop.errors import FormatError
from etholoop.io._common import (
    ImageMap,
    copy_image,
    frame_images,
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
LABELED_DATA = "labeled-data"
TABLE_PREFIX = "CollectedData_"
H5_KEY = "df_with_missing"
DEFAULT_SCORER = "etholoop"
_COORDS = ("x", "y", "likelihood")
_LEVELS = (
    ["scorer", "bodyparts", "coords"],
    ["scorer", "individuals", "bodyparts", "coords"],
)


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
    if header not in _LEVELS:
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
    """Read a pandas DataFrame that DLC wrote to HDF5, with h5py only.

    pandas would read it through PyTables, which unpickles the attributes of
    the `table` layout: a label file from elsewhere could run code.
    """
    import h5py

    if not h5py.is_hdf5(path):
        raise FormatError(f"{path}: not a DeepLabCut .h5 table (not HDF5)")
    try:
        with h5py.File(path, "r") as f:
            groups = [f[k] for k in f if isinstance(f[k], h5py.Group)]
            for group in groups:
                if "table" in group:
                    return _decode_h5_table(group, path)
            for group in groups:
                if _text(group.attrs.get("pandas_type")) == "frame":
                    return _decode_h5_frame(group, path)
            raise _not_dlc(path, "no pandas table in the HDF5 file")
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
    if names not in _LEVELS:
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


def _text(value: Any) -> str:
    """An HDF5 attribute or cell as text ("" for none)."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _h5_axis(group: Any, name: str) -> list[tuple[str, ...]]:
    """The labels of one axis of pandas' `fixed` layout, a tuple per label."""
    if _text(group.attrs.get(f"{name}_variety")) != "multi":
        return [(_text(v),) for v in group[name][()]]
    n_levels = int(group.attrs[f"{name}_nlevels"])
    levels = [
        [_text(v) for v in group[f"{name}_level{i}"][()]] for i in range(n_levels)
    ]
    codes = [group[f"{name}_label{i}"][()] for i in range(n_levels)]
    return [
        tuple(levels[i][c] if c >= 0 else "" for i, c in enumerate(row))
        for row in zip(*codes, strict=True)
    ]


def _decode_h5_frame(group: Any, path: Path) -> _Table:
    """Decode pandas' `fixed` DataFrame layout (DLC >= 2.3 writes it)."""
    names = [
        _text(group[f"axis0_level{i}"].attrs.get("name")).lower()
        for i in range(int(group.attrs.get("axis0_nlevels", 0)))
    ]
    if names not in _LEVELS:
        raise _not_dlc(path, f"column levels {names}")
    all_columns = _h5_axis(group, "axis0")
    order = {col: j for j, col in enumerate(all_columns)}
    rows = _h5_axis(group, "axis1")
    values = np.full((len(rows), len(all_columns)), np.nan)
    for b in range(int(group.attrs["nblocks"])):
        stored = group[f"block{b}_values"]
        # pandas stores a block (columns, rows) transposed, as rows x columns
        block = np.asarray(stored[()], dtype=np.float64)
        if not stored.attrs.get("transposed"):
            block = block.T
        for k, col in enumerate(_h5_axis(group, f"block{b}_items")):
            values[:, order[col]] = block[:, k]
    index = ["/".join(p for p in row if p) for row in rows]
    multi = len(names) == 4
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


def folder_tables(folder: Path) -> list[Path]:
    """The `CollectedData_<scorer>.csv` / `.h5` tables in a folder, by name."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(TABLE_PREFIX)
        and p.suffix.lower() in (".csv", ".h5")
        and p.is_file()
    )


def _folder_table(folder: Path) -> Path:
    """The table of a `labeled-data/<video>/` folder: its CSV, else its .h5."""
    tables = folder_tables(folder)
    if not tables:
        raise FormatError(
            f"{folder}: no {TABLE_PREFIX}<scorer>.csv or .h5 (not a DeepLabCut "
            "labeled-data folder)"
        )
    if len({p.stem for p in tables}) > 1:
        raise FormatError(
            f"{folder}: tables of several scorers "
            f"({', '.join(p.name for p in tables)}); import one of them"
        )
    return next((p for p in tables if p.suffix.lower() == ".csv"), tables[0])


def _read_project(root: Path) -> LabelSet:
    """Every `labeled-data/<video>/` table of a DLC project, as one label set."""
    folders = sorted(
        p for p in (root / LABELED_DATA).iterdir() if p.is_dir() and folder_tables(p)
    )
    if not folders:
        raise FormatError(
            f"{root}: no {LABELED_DATA}/<video>/{TABLE_PREFIX}<scorer> table"
        )
    tables = [_folder_table(folder) for folder in folders]
    parts = [read_dlc(table) for table in tables]
    keypoints = parts[0].skeleton.keypoints
    tracks: list[str] = []
    videos: list[VideoRef] = []
    frames: list[FrameLabels] = []
    for table, part in zip(tables, parts, strict=True):
        if part.skeleton.keypoints != keypoints:
            raise FormatError(
                f"{table}: bodyparts {list(part.skeleton.keypoints)} differ from "
                f"{list(keypoints)} in {tables[0]}"
            )
        tracks += [t for t in part.tracks if t not in tracks]
        ids = [tracks.index(t) for t in part.tracks]
        frames += [
            FrameLabels(
                f.video + len(videos),
                f.frame_idx,
                [
                    evolve(i, track_id=None if i.track_id is None else ids[i.track_id])
                    for i in f.instances
                ],
            )
            for f in part.frames
        ]
        videos += part.videos
    return LabelSet(parts[0].skeleton, videos, frames, tracks)


@register_reader("dlc", suffixes=(".csv", ".h5", ".hdf5"))
def read_dlc(path: str | os.PathLike[str]) -> LabelSet:
    """Read a DeepLabCut label or predictions table, or a folder of them.

    `path` is a `.csv` or `.h5` table, a `labeled-data/<video>/` folder (its
    `CollectedData_<scorer>.csv`, else `.h5`) or a DLC project folder (every
    `labeled-data/<video>/` folder with a table; their bodyparts must agree).
    Image paths in row labels are resolved against the DLC project root (two
    folders above a CSV in `labeled-data/<video>/`); each image folder becomes an
    image-sequence `VideoRef` whose files are the table's images (also those of
    rows without labels), sorted by name.
    A table indexed by frame number becomes one `VideoRef` naming the analysed
    video (found beside the table, or the table's folder plus the video stem).
    Every instance's `author` is the table's scorer.

    Raises:
        FormatError: if the path is missing or not a DLC table, or a folder
            holds no table or the tables of several scorers.
    """
    path = Path(path)
    if path.is_dir():
        if not folder_tables(path) and (path / LABELED_DATA).is_dir():
            return _read_project(path)
        path = _folder_table(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file or folder")
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
                    author=table.scorer or None,
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


def _is_multi_animal(labels: LabelSet) -> bool:
    """Tracks, or a frame with several or tracked instances, need `individuals`."""
    return (
        bool(labels.tracks)
        or any(len(f.instances) > 1 for f in labels.frames)
        or any(i.track_id is not None for f in labels.frames for i in f.instances)
    )


def _individuals(labels: LabelSet) -> list[str]:
    """Track names, then `animal<N>` for the most untracked instances of a frame."""
    individuals = labels.track_names
    n_tracks = len(individuals)
    max_untracked = max(
        [0] + [sum(i.track_id is None for i in f.instances) for f in labels.frames]
    )
    extra = 0
    while len(individuals) < n_tracks + max_untracked:
        name = f"animal{extra}"
        extra += 1
        if name not in individuals:
            individuals.append(name)
    return individuals


def _labels_to_table(
    labels: LabelSet,
    frames: Sequence[FrameLabels],
    row_labels: dict[tuple[int, int], str],
    scorer: str,
    multi_animal: bool,
) -> _Table:
    """The DLC table of some frames of `labels` (columns from all of `labels`)."""
    individuals = _individuals(labels) if multi_animal else [""]
    n_tracks = len(labels.tracks)
    predicted = any(i.source == "predicted" for f in labels.frames for i in f.instances)
    coords = _COORDS if predicted else _COORDS[:2]
    parts = labels.skeleton.keypoints
    columns = [(ind, part, c) for ind in individuals for part in parts for c in coords]
    # (rows, individuals, keypoints, coords)
    values = np.full((len(frames), len(individuals), len(parts), len(coords)), np.nan)
    for r, frame in enumerate(frames):
        untracked = n_tracks
        for inst in frame.instances:
            if not multi_animal:
                slot = 0
            elif inst.track_id is not None:
                slot = inst.track_id
            else:
                slot = untracked
                untracked += 1
            xy, _ = visible_keypoints(inst)
            values[r, slot, :, :2] = xy
            if predicted and inst.keypoint_scores is not None:
                labeled = np.isfinite(xy).all(axis=1)
                values[r, slot, labeled, 2] = inst.keypoint_scores[labeled]
    index = [row_labels[(f.video, f.frame_idx)] for f in frames]
    flat = values.reshape(len(frames), len(columns))
    return _Table(index, columns, flat, scorer, multi_animal)


def _write_csv(table: _Table, path: Path, n_index: int) -> None:
    """Write a table as DLC's CSV: one index column, or DLC >= 2.3's three."""
    pad = [""] * (n_index - 1)
    rows = [["scorer", *pad] + [table.scorer] * len(table.columns)]
    if table.multi_animal:
        rows.append(["individuals", *pad] + [c[0] for c in table.columns])
    rows.append(["bodyparts", *pad] + [c[1] for c in table.columns])
    rows.append(["coords", *pad] + [c[2] for c in table.columns])

    def body() -> Iterator[list[str]]:
        """Data rows one at a time, so an hour of tracks is never all text at once."""
        for label, row in zip(table.index, table.values, strict=True):
            index = label.split("/") if n_index > 1 else [label]
            # repr writes every float exactly; an empty cell is not labeled
            yield index + ["" if math.isnan(v) else repr(float(v)) for v in row]

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerows(rows)
        writer.writerows(body())


def _write_h5(table: _Table, path: Path) -> None:
    """Write a table as DLC >= 2.3 does: pandas, key `df_with_missing`."""
    import pandas as pd

    names = _LEVELS[1] if table.multi_animal else _LEVELS[0]
    columns = pd.MultiIndex.from_tuples(
        [(table.scorer, *(c if table.multi_animal else c[1:])) for c in table.columns],
        names=names,
    )
    index = pd.MultiIndex.from_tuples([tuple(i.split("/")) for i in table.index])
    data = pd.DataFrame(table.values, index=index, columns=columns)
    try:
        data.to_hdf(path, key=H5_KEY, mode="w")
    except ImportError as exc:  # PyTables missing
        raise FormatError(f"{path}: cannot write .h5: {one_line(exc)}") from exc


def _folder_names(labels: LabelSet) -> list[str]:
    """DLC's `labeled-data/<video>` name per video: image folder or video stem."""
    names: list[str] = []
    for video in labels.videos:
        path = Path(video.path)
        base = (path.name if video.is_image_sequence else path.stem) or "video"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def _write_project(
    labels: LabelSet,
    root: Path,
    images: ImageMap | None,
    scorer: str,
    multi_animal: bool,
    n_frames: Sequence[int | None] | None,
) -> None:
    """Write `root/labeled-data/<video>/` folders: images and their tables."""
    sources = frame_images(labels, images, root)
    names = _folder_names(labels)
    for v, video in enumerate(labels.videos):
        frames = sorted(
            (f for f in labels.frames if f.video == v), key=lambda f: f.frame_idx
        )
        if not frames:
            continue
        folder = root / LABELED_DATA / names[v]
        count = (n_frames[v] if n_frames else None) or frames[-1].frame_idx + 1
        width = len(str(max(count - 1, 0)))
        rows: dict[tuple[int, int], str] = {}
        for frame in frames:
            src = sources[(v, frame.frame_idx)]
            image = (
                src.name
                if video.is_image_sequence
                else f"img{frame.frame_idx:0{width}d}{src.suffix}"
            )
            row = f"{LABELED_DATA}/{names[v]}/{image}"
            if row in rows.values():
                raise FormatError(f"{folder}: two frames would share image {image}")
            copy_image(src, folder / image)
            rows[(v, frame.frame_idx)] = row
        table = _labels_to_table(labels, frames, rows, scorer, multi_animal)
        _write_csv(table, folder / f"{TABLE_PREFIX}{scorer}.csv", n_index=3)
        _write_h5(table, folder / f"{TABLE_PREFIX}{scorer}.h5")


@register_writer("dlc", takes_images=True)
def write_dlc(
    labels: LabelSet,
    path: str | os.PathLike[str],
    images: ImageMap | None = None,
    *,
    scorer: str = DEFAULT_SCORER,
    multi_animal: bool | None = None,
    n_frames: Sequence[int | None] | None = None,
) -> None:
    """Write a DeepLabCut project folder, or one CSV table.

    To a folder (any `path` not ending in `.csv`), as a DLC project holds its
    labels: per video `path/labeled-data/<video>/` (`<video>` the image
    folder's name, or the video file's stem) with the frames' images copied in
    (frames of video files named `img<frame>.png` like DLC's frame extraction,
    the frame zero-padded to the digits of the video's frame count) and
    `CollectedData_<scorer>.csv` and `.h5` as DLC >= 2.3 writes them: rows
    indexed by (`labeled-data`, video, image), the `.h5` pandas' under key
    `df_with_missing`.

    To a `.csv`, one table whose rows are labeled by the frame's image path
    (from `images`, else the image-sequence file) relative to the DLC project
    root (two folders above `path`), or absolute if the image lies outside it;
    the frames of a single video file without images are labeled by frame
    number, as in DLC's prediction tables. Images are not copied.

    Coordinates are written with `repr`, exactly. A `likelihood` column is added
    when any instance is predicted; keypoints that are not labeled are empty.

    Args:
        labels: The labels to write.
        path: The project folder, or the `.csv` file.
        images: Image file per (video index, frame_idx), for frames of video
            files (or to override an image sequence's files).
        scorer: Name for the `scorer` header row and the tables' file names.
        multi_animal: Write the 4-row `individuals` layout; by default when the
            labels have tracks or a frame with more than one instance. Individuals
            are the track names, then `animal<N>` for untracked instances.
        n_frames: Frame count per video, for the image names of video-file
            frames in a folder; by default the highest labeled frame's.

    Raises:
        FormatError: for frames without images (a folder, or several videos in
            a `.csv`), or for more than one instance per frame in a
            single-animal table.
    """
    path = Path(path)
    if Path(scorer).name != scorer or not scorer:
        raise FormatError(f"{path}: scorer {scorer!r} is not a plain name")
    if multi_animal is None:
        multi_animal = _is_multi_animal(labels)
    if not multi_animal and max([0] + [len(f.instances) for f in labels.frames]) > 1:
        raise FormatError(f"{path}: a single-animal table holds one instance per frame")
    if path.suffix.lower() != ".csv":
        _write_project(labels, path, images, scorer, multi_animal, n_frames)
        return
    frames = sorted(labels.frames, key=lambda f: (f.video, f.frame_idx))
    rows = _row_labels(labels, images, path)
    _write_csv(_labels_to_table(labels, frames, rows, scorer, multi_animal), path, 1)
