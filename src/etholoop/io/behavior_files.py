"""Behavior label files in and out: per-frame boolean labels of each animal.

Four forms, all CSV:

- `frame-action`: `Frame,Action`, one row per frame (0..n-1 in order), `Action`
  one behavior name or `none` (the 3D-CNN reference's files, with names).
  Exclusive: at most one behavior per frame; on writing, the first behavior going
  on (by the given order) is named.
- `onehot`: one 0/1 column per behavior, one row per frame, multi-label
  (DeepEthogram style). A leading `frame` column (or an unnamed index column) is
  optional and then must count 0..n-1; a `background` or `none` column is dropped.
  Written as `frame,<behavior>,...`.
- `boris`: a BORIS aggregated-events table (`io.boris`): START/STOP times in
  seconds, one subject per animal; bouts `[round(start*fps), round(stop*fps))`.
  Written with a short metadata block and the columns `Time,Media file path,
  Total length,FPS,Subject,Behavior,Behavioral category,Comment,Status`.
- `long`: `frame,individual,behavior`, one row per animal and frame (what
  `etholoop synth` writes as behaviors.csv), `none` where no behavior goes on;
  several rows of one animal and frame give several behaviors. Written
  frame-major, one row per behavior going on, or one `none` row.

Readers return a `FileLabels`: the behaviors the file speaks of and, per animal
name the file uses ("" for the single-animal forms), a `(frames, behaviors)`
boolean array. They check the frame count against the video's; mapping names
(`merge_behaviors`) and animals to the project is the caller's. Pure file I/O.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import NO_BEHAVIOR, frame_actions, runs_of_true
from etholoop.errors import FormatError
from etholoop.io.boris import read_boris

BehaviorFormat = Literal["frame-action", "onehot", "boris", "long"]
BEHAVIOR_FORMATS: tuple[BehaviorFormat, ...] = (
    "frame-action",
    "onehot",
    "boris",
    "long",
)
SINGLE_ANIMAL_FORMATS = ("frame-action", "onehot")
"""Forms that hold one animal's labels: its name in `FileLabels.animals` is ""."""
DROPPED_COLUMNS = (NO_BEHAVIOR, "background")
"""One-hot columns that mean "no behavior" (DeepEthogram's `background`)."""
BORIS_COLUMNS = (
    "Time",
    "Media file path",
    "Total length",
    "FPS",
    "Subject",
    "Behavior",
    "Behavioral category",
    "Comment",
    "Status",
)

Labels = NDArray[np.bool_]
"""Per-frame labels of one animal, shape (frames, behaviors)."""


@frozen
class FileLabels:
    """What a label file holds: per animal name, labels over `behaviors`."""

    behaviors: tuple[str, ...]
    animals: dict[str, Labels]


# --- reading ---------------------------------------------------------------


def read_behavior_file(
    path: str | Path,
    fmt: BehaviorFormat,
    *,
    n_frames: int,
    fps: float | None,
    classes: Sequence[str] | None = None,
) -> FileLabels:
    """Read a label file of a video with `n_frames` frames at `fps`.

    `classes` names the integer class ids a `Frame,Action` file may hold
    (id i is `classes[i]`).

    Raises:
        FormatError: the file is not of the form, or its frames are not the
            video's (BORIS: or the video has no frame rate).
    """
    path = Path(path)
    if fmt == "boris" and not fps:
        raise FormatError(f"{path}: BORIS times need the video's fps; it has none")
    if fmt == "frame-action":
        return read_frame_action(path, n_frames=n_frames, classes=classes)
    if fmt == "onehot":
        return read_onehot(path, n_frames=n_frames)
    if fmt == "boris":
        return read_boris_labels(path, n_frames=n_frames, fps=fps or 0.0)
    return read_long(path, n_frames=n_frames)


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows (with their line numbers) of a CSV."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise FormatError(f"{path}: cannot read it as CSV ({error})") from None
    if not rows:
        raise FormatError(f"{path}: empty file")
    body = [(line, row) for line, row in enumerate(rows[1:], 2) if any(row)]
    return [name.strip() for name in rows[0]], body


def _column(path: Path, header: list[str], name: str) -> int:
    matches = [i for i, h in enumerate(header) if h.lower() == name.lower()]
    if not matches:
        raise FormatError(f"{path}: no {name!r} column (columns: {header})")
    return matches[0]


def _int(path: Path, line: int, what: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FormatError(f"{path}:{line}: {what} {text!r} is not an integer") from None


def _check_frames(path: Path, frames: list[int], n_frames: int, what: str) -> None:
    """Frames must count 0..n_frames-1, each once, in order."""
    if len(frames) != n_frames:
        raise FormatError(
            f"{path}: {len(frames)} frames{what}; the video has {n_frames}"
        )
    if frames != list(range(n_frames)):
        bad = next(i for i, f in enumerate(frames) if f != i)
        raise FormatError(
            f"{path}: frame {frames[bad]} where frame {bad} is due{what} "
            "(frames must count 0, 1, 2, ... once each)"
        )


def read_frame_action(
    path: str | Path, *, n_frames: int, classes: Sequence[str] | None = None
) -> FileLabels:
    """A `Frame,Action` file: one behavior name, `none` or class id per frame.

    An integer Action is a class id, the 3D-CNN reference's form: id i is
    `classes[i]`, which must be given.
    """
    path = Path(path)
    header, rows = _rows(path)
    frame_col = _column(path, header, "Frame")
    action_col = _column(path, header, "Action")
    frames, actions = [], []
    for line, row in rows:
        if len(row) <= max(frame_col, action_col):
            raise FormatError(
                f"{path}:{line}: {len(row)} fields; expected Frame,Action"
            )
        frames.append(_int(path, line, "frame", row[frame_col].strip()))
        action = row[action_col].strip()
        if not action:
            raise FormatError(f"{path}:{line}: empty Action (use {NO_BEHAVIOR!r})")
        actions.append(_class_name(path, line, action, classes))
    _check_frames(path, frames, n_frames, "")
    behaviors = tuple(dict.fromkeys(a for a in actions if a != NO_BEHAVIOR))
    column = {b: i for i, b in enumerate(behaviors)}
    labels = np.zeros((n_frames, len(behaviors)), bool)
    for t, action in enumerate(actions):
        if action != NO_BEHAVIOR:
            labels[t, column[action]] = True
    return FileLabels(behaviors, {"": labels})


def _class_name(
    path: Path, line: int, action: str, classes: Sequence[str] | None
) -> str:
    """The behavior an Action names: itself, or the class of an integer id."""
    if not action.isdigit():
        return action
    if classes is None:
        raise FormatError(
            f"{path}:{line}: Action {action} is a class id; name the classes in "
            "order with --classes (e.g. none,walk,groom)"
        )
    if int(action) >= len(classes):
        raise FormatError(
            f"{path}:{line}: class id {action}, but --classes names "
            f"{len(classes)} ({list(classes)})"
        )
    return classes[int(action)]


def read_onehot(path: str | Path, *, n_frames: int) -> FileLabels:
    """A one-hot file: a 0/1 column per behavior, an optional frame column."""
    path = Path(path)
    header, rows = _rows(path)
    frame_col = next(
        (i for i, h in enumerate(header) if h.lower() == "frame" or (i == 0 and not h)),
        None,
    )
    columns = [
        (i, h)
        for i, h in enumerate(header)
        if i != frame_col and h.lower() not in DROPPED_COLUMNS
    ]
    if any(not h for _, h in columns):
        raise FormatError(f"{path}: a behavior column has no name (columns: {header})")
    if len({h for _, h in columns}) != len(columns):
        raise FormatError(f"{path}: behavior columns repeat (columns: {header})")
    labels = np.zeros((len(rows), len(columns)), bool)
    frames = []
    for t, (line, row) in enumerate(rows):
        if len(row) != len(header):
            raise FormatError(
                f"{path}:{line}: {len(row)} fields; the header has {len(header)}"
            )
        if frame_col is not None:
            frames.append(_int(path, line, "frame", row[frame_col].strip()))
        for j, (i, name) in enumerate(columns):
            try:
                value = float(row[i])
            except ValueError:
                value = math.nan
            if value not in (0.0, 1.0):
                raise FormatError(
                    f"{path}:{line}: {name} is {row[i]!r}; one-hot values are 0 or 1"
                )
            labels[t, j] = value == 1.0
    if frame_col is None:
        frames = list(range(len(rows)))
    _check_frames(path, frames, n_frames, "")
    return FileLabels(tuple(h for _, h in columns), {"": labels})


def read_long(path: str | Path, *, n_frames: int) -> FileLabels:
    """A `frame,individual,behavior` table: rows per animal and frame."""
    path = Path(path)
    header, rows = _rows(path)
    cols = [_column(path, header, name) for name in ("frame", "individual", "behavior")]
    seen: dict[str, dict[int, list[str]]] = {}
    for line, row in rows:
        if len(row) <= max(cols):
            raise FormatError(
                f"{path}:{line}: {len(row)} fields; expected frame,individual,behavior"
            )
        frame_text, individual, behavior = (row[c].strip() for c in cols)
        frame = _int(path, line, "frame", frame_text)
        if not behavior:
            raise FormatError(f"{path}:{line}: empty behavior (use {NO_BEHAVIOR!r})")
        seen.setdefault(individual, {}).setdefault(frame, []).append(behavior)
    if not seen:
        raise FormatError(f"{path}: no rows")
    names = [b for frames in seen.values() for bs in frames.values() for b in bs]
    behaviors = tuple(dict.fromkeys(b for b in names if b != NO_BEHAVIOR))
    column = {b: i for i, b in enumerate(behaviors)}
    animals = {}
    for individual, by_frame in seen.items():
        _check_frames(
            path, sorted(by_frame), n_frames, f" of individual {individual!r}"
        )
        labels = np.zeros((n_frames, len(behaviors)), bool)
        for frame, frame_behaviors in by_frame.items():
            for b in frame_behaviors:
                if b != NO_BEHAVIOR:
                    labels[frame, column[b]] = True
        animals[individual] = labels
    return FileLabels(behaviors, animals)


def read_boris_labels(path: str | Path, *, n_frames: int, fps: float) -> FileLabels:
    """A BORIS aggregated-events table; a bout past the video's end is an error."""
    path = Path(path)
    masks = read_boris(path, fps=fps, n_frames=n_frames, cut_at_end=False)
    behaviors = tuple(dict.fromkeys(b for _, b in masks))
    column = {b: i for i, b in enumerate(behaviors)}
    animals: dict[str, Labels] = {}
    for (subject, behavior), mask in masks.items():
        labels = animals.setdefault(subject, np.zeros((n_frames, len(behaviors)), bool))
        labels[:, column[behavior]] = mask
    return FileLabels(behaviors, animals)


# --- mapping ---------------------------------------------------------------


def parse_merge(items: Iterable[str]) -> dict[str, str]:
    """`--merge` items `a,b=c` (or several joined by `;`) as {a: c, b: c}.

    Raises:
        FormatError: an item is not of that form, or maps a name twice.
    """
    mapping: dict[str, str] = {}
    for item in items:
        for group in filter(None, (g.strip() for g in item.split(";"))):
            sources, sep, target = group.partition("=")
            names = [s.strip() for s in sources.split(",") if s.strip()]
            if not sep or not names or not target.strip():
                raise FormatError(
                    f"--merge {group!r}: expected NAME[,NAME...]=TARGET, e.g. "
                    "paw_guard,flinch=paw_withdraw"
                )
            for name in names:
                if mapping.get(name, target.strip()) != target.strip():
                    raise FormatError(f"--merge maps {name!r} twice")
                mapping[name] = target.strip()
    return mapping


def merge_behaviors(labels: FileLabels, mapping: Mapping[str, str]) -> FileLabels:
    """Rename behaviors by `mapping`; columns that meet are joined (logical or).

    A behavior mapped to `none` is dropped.
    """
    names = [mapping.get(b, b) for b in labels.behaviors]
    behaviors = tuple(dict.fromkeys(n for n in names if n != NO_BEHAVIOR))
    animals = {}
    for animal, values in labels.animals.items():
        merged = np.zeros((len(values), len(behaviors)), bool)
        for j, name in enumerate(names):
            if name != NO_BEHAVIOR:
                merged[:, behaviors.index(name)] |= values[:, j]
        animals[animal] = merged
    return FileLabels(behaviors, animals)


# --- writing ---------------------------------------------------------------


def write_frame_action(
    out: TextIO,
    labels: NDArray[np.generic],
    behaviors: Sequence[str],
    classes: Sequence[str] | None = None,
) -> None:
    """`Frame,Action` rows of one animal's (frames, behaviors) labels.

    With `classes`, each Action is written as its index there (a class id).

    Raises:
        FormatError: a behavior (or `none`) that occurs is not in `classes`.
    """
    actions: list[str | int] = list(frame_actions(labels.astype(np.uint8), behaviors))
    if classes is not None:
        missing = sorted(set(map(str, actions)) - set(classes))
        if missing:
            raise FormatError(f"--classes {list(classes)} lacks {missing}")
        actions = [list(classes).index(str(a)) for a in actions]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Frame", "Action"])
    writer.writerows(enumerate(actions))


def write_onehot(
    out: TextIO, labels: NDArray[np.generic], behaviors: Sequence[str]
) -> None:
    """`frame,<behavior>...` 0/1 rows of one animal's (frames, behaviors) labels."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["frame", *behaviors])
    rows = labels.astype(np.uint8).tolist()
    writer.writerows([t, *row] for t, row in enumerate(rows))


def write_long(
    out: TextIO, animals: Mapping[str, NDArray[np.generic]], behaviors: Sequence[str]
) -> None:
    """`frame,individual,behavior` rows, frame-major; `none` where nothing goes on."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["frame", "individual", "behavior"])
    arrays = {name: values.astype(bool) for name, values in animals.items()}
    n_frames = min((len(v) for v in arrays.values()), default=0)
    for t in range(n_frames):
        for name, values in arrays.items():
            going_on = [b for b, on in zip(behaviors, values[t], strict=True) if on]
            for behavior in going_on or [NO_BEHAVIOR]:
                writer.writerow([t, name, behavior])


def write_boris(
    out: TextIO,
    animals: Mapping[str, NDArray[np.generic]],
    behaviors: Sequence[str],
    *,
    fps: float,
    media: str = "",
    observation: str = "etholoop",
) -> None:
    """A BORIS aggregated-events table: a START and a STOP row per bout.

    Times are frame / fps in seconds (`read_boris_labels` reads them back to
    the same frames), rows by time, STOPs before STARTs at the same time.
    """
    n_frames = min((len(v) for v in animals.values()), default=0)
    writer = csv.writer(out, lineterminator="\n")
    blank = [""] * (len(BORIS_COLUMNS) - 2)
    for name, value in (
        ("Observation id", observation),
        ("Media file(s)", ""),
        ("Player #1", media),
        ("Time offset (s)", "0.0"),
    ):
        writer.writerow([name, value, *blank])
        writer.writerow(["", "", *blank])
    writer.writerow(BORIS_COLUMNS)
    events = []
    for subject, values in animals.items():
        for column, behavior in enumerate(behaviors):
            for start, stop in runs_of_true(values[:, column].astype(bool)):
                events.append((start, 1, subject, behavior, "START"))
                events.append((stop, 0, subject, behavior, "STOP"))
    total = f"{n_frames / fps:.3f}"
    for frame, _, subject, behavior, status in sorted(events):
        writer.writerow(
            [
                repr(frame / fps),
                media,
                total,
                f"{fps:g}",
                subject,
                behavior,
                "",
                "",
                status,
            ]
        )


def write_behavior_file(
    out: TextIO,
    fmt: BehaviorFormat,
    animals: Mapping[str, NDArray[np.generic]],
    behaviors: Sequence[str],
    *,
    fps: float | None,
    media: str = "",
    classes: Sequence[str] | None = None,
) -> None:
    """Write labels in `fmt`; the single-animal forms take exactly one animal.

    `classes`: frame-action Actions as class ids (see `write_frame_action`).

    Raises:
        FormatError: several animals for a single-animal form, or BORIS without
            a frame rate.
    """
    if fmt in SINGLE_ANIMAL_FORMATS:
        if len(animals) != 1:
            raise FormatError(f"{fmt}: holds one animal's labels, not {len(animals)}")
        (labels,) = animals.values()
        if fmt == "frame-action":
            write_frame_action(out, labels, behaviors, classes)
        else:
            write_onehot(out, labels, behaviors)
    elif fmt == "boris":
        if not fps:
            raise FormatError(f"boris: {media or 'the video'} has no frame rate")
        write_boris(out, animals, behaviors, fps=fps, media=media)
    else:
        write_long(out, animals, behaviors)
