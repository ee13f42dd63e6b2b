"""Ultralytics YOLO pose datasets: `data.yaml`, `images/<split>/`, `labels/<split>/`.

Our own reader and writer, not `sleap_io.load_ultralytics`/`save_ultralytics`,
because sleap-io 0.9.5 writes normalized coordinates with 6 decimals (up to
3e-4 px error at 640 px), turns visibility 1 into 2 or 0, writes an identity
`flip_idx`, uses a `<split>/images` layout and splits frames at random.

A label line is `class cx cy w h x1 y1 v1 ... xK yK vK`, all normalized by the
image width and height; we write them with `repr`, so keypoints survive a round
trip to about 1e-13 px. Unlabeled keypoints are `0 0 0`. YOLO has no track ids,
scores or label source: they are not written, and instances read back are
`manual` with no track.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from etholoop.errors import FormatError
from etholoop.io._common import (
    IMAGE_SUFFIXES,
    ImageMap,
    copy_image,
    export_image_names,
    frame_images,
    image_size,
    instance_box,
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
    VideoRef,
)

DATA_YAML = "data.yaml"
SPLIT_KEYS = ("train", "val", "test")
CLASS_NAME = "animal"


def _dataset_dir(path: Path) -> Path:
    return path.parent if path.suffix.lower() in (".yaml", ".yml") else path


@register_writer("yolo", takes_images=True)
def write_yolo(
    labels: LabelSet,
    path: str | os.PathLike[str],
    images: ImageMap | None = None,
    *,
    split: str = "train",
    margin: float = 0.0,
    pad_fraction: float = 0.0,
) -> None:
    """Write one split of an Ultralytics pose dataset and its `data.yaml`.

    Images are copied to `images/<split>/` (names from `export_image_names`),
    labels written to `labels/<split>/`, one `.txt` per image (empty for a
    frame without instances). `data.yaml` gets `kpt_shape: [K, 3]`, `flip_idx`
    from the skeleton's symmetry, `names`, `kpt_names` and the skeleton edges
    (`skeleton`, 0-based); `val` points at `train` until a `val` split is
    written. Writing another split into the same folder adds it.

    Args:
        labels: The labels to write.
        path: The dataset folder (or its `data.yaml`).
        images: The image file of each frame by (video index, frame_idx); frames
            of image-sequence videos default to the video's own image files.
        split: Split name: "train", "val" or "test".
        margin: Px added around the keypoints of an instance without a box.
        pad_fraction: Share of the larger side of such a keypoints' box added
            on each side, when that is more than `margin`. The box is clipped
            to the image.

    Raises:
        FormatError: if a frame has no existing image, the split folders are
            not empty, or an existing `data.yaml` has other keypoints.
    """
    root = _dataset_dir(Path(path))
    yaml_path = root / DATA_YAML
    if split not in SPLIT_KEYS:
        raise FormatError(
            f"{root}: split must be one of {list(SPLIT_KEYS)}, got {split!r}"
        )
    image_dir, label_dir = root / "images" / split, root / "labels" / split
    for folder in (image_dir, label_dir):
        if folder.is_dir() and any(folder.iterdir()):
            raise FormatError(f"{folder}: not empty; write to a new folder or split")
    splits = _existing_splits(labels.skeleton, yaml_path)
    sources = frame_images(labels, images, yaml_path)
    names = export_image_names(labels, images)
    label_dir.mkdir(parents=True, exist_ok=True)
    for frame in labels.frames:
        key = (frame.video, frame.frame_idx)
        width, height = image_size(sources[key], yaml_path)
        name = names[key]
        copy_image(sources[key], image_dir / name)
        lines = [
            _line(inst, width, height, margin, pad_fraction) for inst in frame.instances
        ]
        text = "".join(line + "\n" for line in lines)
        (label_dir / Path(name).with_suffix(".txt").name).write_text(text)
    splits[split] = f"images/{split}"
    if split == "train" and splits.get("val") in (None, splits[split]):
        splits["val"] = splits[split]
    for needed in ("train", "val"):  # Ultralytics needs both
        splits.setdefault(needed, f"images/{split}")
    sk = labels.skeleton
    config: dict[str, Any] = {
        **{key: splits[key] for key in SPLIT_KEYS if key in splits},
        "names": {0: CLASS_NAME},
        "kpt_shape": [sk.n_keypoints, 3],
        "flip_idx": sk.flip_idx,
        "kpt_names": {0: list(sk.keypoints)},
        "skeleton": [list(e) for e in sk.edges],
    }
    with yaml_path.open("w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)


def _existing_splits(sk: Skeleton, yaml_path: Path) -> dict[str, Any]:
    """The split entries of an existing data.yaml for the same keypoints."""
    if not yaml_path.is_file():
        return {}
    old = _load_yaml(yaml_path)
    old_names = _keypoint_names(old, yaml_path)
    if old_names != list(sk.keypoints):
        raise FormatError(
            f"{yaml_path}: exists with keypoints {old_names}, "
            f"writing {list(sk.keypoints)}"
        )
    return {key: old[key] for key in SPLIT_KEYS if key in old}


def _line(
    inst: Instance, width: int, height: int, margin: float, pad_fraction: float
) -> str:
    xy, vis = visible_keypoints(inst)
    box = instance_box(
        inst, margin, pad_fraction=pad_fraction, image_size=(width, height)
    )
    if box is None:
        cx = cy = w = h = 0.0
    else:
        cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
        w, h = (box[2] - box[0]) / width, (box[3] - box[1]) / height
    parts = ["0", *(repr(float(v)) for v in (cx, cy, w, h))]
    for (x, y), v in zip(xy, vis, strict=True):
        if v == NOT_LABELED:
            parts += ["0", "0", "0"]
        else:
            parts += [repr(float(x / width)), repr(float(y / height)), str(int(v))]
    return " ".join(parts)


def _load_yaml(yaml_path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FormatError(f"{yaml_path}: cannot read YAML: {one_line(exc)}") from exc
    if not isinstance(data, dict):
        raise FormatError(f"{yaml_path}: not a YOLO data.yaml (not a mapping)")
    return data


def _kpt_shape(data: dict[str, Any], yaml_path: Path) -> tuple[int, int]:
    shape = data.get("kpt_shape")
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(n, int) for n in shape)
        or shape[0] < 1
        or shape[1] not in (2, 3)
    ):
        raise FormatError(
            f"{yaml_path}: not a YOLO pose data.yaml (kpt_shape must be [K, 2] or "
            f"[K, 3], got {shape!r})"
        )
    return int(shape[0]), int(shape[1])


def _keypoint_names(data: dict[str, Any], yaml_path: Path) -> list[str]:
    n_k, _ = _kpt_shape(data, yaml_path)
    raw = data.get("kpt_names")
    if isinstance(raw, dict) and raw:
        raw = raw.get(0, next(iter(raw.values())))
    if raw is None:
        return [f"kp{i}" for i in range(n_k)]
    if not isinstance(raw, list) or len(raw) != n_k:
        raise FormatError(f"{yaml_path}: kpt_names does not list {n_k} keypoints")
    return [str(n) for n in raw]


def _yolo_skeleton(data: dict[str, Any], yaml_path: Path) -> Skeleton:
    names = _keypoint_names(data, yaml_path)
    n_k = len(names)
    flip = data.get("flip_idx")
    symmetry: list[tuple[int, int]] = []
    if flip is not None:
        if (
            not isinstance(flip, list)
            or sorted(flip) != list(range(n_k))
            or any(flip[flip[i]] != i for i in range(n_k))
        ):
            raise FormatError(
                f"{yaml_path}: flip_idx is not a pairing of {n_k} keypoints"
            )
        symmetry = [(i, int(j)) for i, j in enumerate(flip) if i < j]
    edges = data.get("skeleton") or []
    try:
        return Skeleton(
            keypoints=tuple(names),
            edges=[(int(a), int(b)) for a, b in edges],
            symmetry=symmetry,
        )
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{yaml_path}: invalid keypoints: {one_line(exc)}") from exc


def _label_file(image: Path) -> Path:
    """Ultralytics' rule: the last `images` folder becomes `labels`, suffix .txt."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _split_dirs(data: dict[str, Any], root: Path, yaml_path: Path) -> list[Path]:
    base = root
    if isinstance(data.get("path"), str):
        candidate = root / data["path"]
        if candidate.is_dir():
            base = candidate
    dirs: list[Path] = []
    for key in SPLIT_KEYS:
        entries = data.get(key)
        if entries is None:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            folder = (base / str(entry)).resolve()
            if not folder.is_dir():
                raise FormatError(f"{yaml_path}: {key} folder {folder} does not exist")
            if folder not in dirs:
                dirs.append(folder)
    if not dirs:
        raise FormatError(f"{yaml_path}: names no train/val/test image folder")
    return dirs


@register_reader("yolo", suffixes=("/", ".yaml", ".yml"))
def read_yolo(path: str | os.PathLike[str]) -> LabelSet:
    """Read an Ultralytics pose dataset: every image of its train/val/test folders.

    Each split folder becomes one image-sequence `VideoRef` with its images sorted
    by path; an image without a label file is a frame without instances.

    Args:
        path: The dataset folder or its `data.yaml`.

    Raises:
        FormatError: if `data.yaml` is missing or not a pose dataset, a label line
            has the wrong number of values, or an image cannot be read.
    """
    path = Path(path)
    root = _dataset_dir(path)
    yaml_path = path if path.suffix.lower() in (".yaml", ".yml") else root / DATA_YAML
    if not yaml_path.is_file():
        raise FormatError(f"{root}: not a YOLO dataset (no {yaml_path.name})")
    data = _load_yaml(yaml_path)
    skeleton = _yolo_skeleton(data, yaml_path)
    n_k, ndim = _kpt_shape(data, yaml_path)
    videos: list[VideoRef] = []
    frames: list[FrameLabels] = []
    for folder in _split_dirs(data, root, yaml_path):
        files = sorted(
            p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )
        v = len(videos)
        videos.append(VideoRef(path=str(folder), image_files=tuple(map(str, files))))
        for frame_idx, image in enumerate(files):
            label = _label_file(image)
            instances = (
                _read_label_file(label, image, n_k, ndim) if label.is_file() else []
            )
            frames.append(
                FrameLabels(video=v, frame_idx=frame_idx, instances=instances)
            )
    return LabelSet(skeleton=skeleton, videos=videos, frames=frames)


def _read_label_file(label: Path, image: Path, n_k: int, ndim: int) -> list[Instance]:
    try:
        lines = label.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{label}: cannot read: {one_line(exc)}") from exc
    expected = 5 + n_k * ndim
    rows = []
    for lineno, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != expected:
            raise FormatError(
                f"{label}:{lineno}: expected {expected} values "
                f"(class, box, {n_k} keypoints x {ndim}), got {len(parts)}"
            )
        try:
            rows.append([float(p) for p in parts])
        except ValueError as exc:
            raise FormatError(f"{label}:{lineno}: non-numeric value") from exc
    if not rows:
        return []
    width, height = image_size(image, label)
    scale = np.array([width, height], dtype=np.float64)
    instances = []
    for lineno, row in enumerate(rows, start=1):
        cx, cy, w, h = row[1:5]
        kp = np.array(row[5:], dtype=np.float64).reshape(n_k, ndim)
        if ndim == 3:
            vis = kp[:, 2]
            if not np.isin(vis, (0, 1, 2)).all():
                raise FormatError(f"{label}:{lineno}: visibility must be 0, 1 or 2")
        else:
            vis = np.where((kp[:, :2] == 0).all(axis=1), NOT_LABELED, VISIBLE)
        labeled = vis > 0
        xy = np.where(labeled[:, None], kp[:, :2] * scale, np.nan)
        box = np.array(
            [
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            ]
        )
        instances.append(
            Instance(keypoints=xy, visibility=vis.astype(np.uint8), box=box)
        )
    return instances
