"""COCO keypoints JSON (images, annotations, categories with keypoint names).

Our own reader and writer, not `sleap_io.load_coco`/`save_coco`, because
sleap-io 0.9.5 decodes keypoints to float32 (about 3e-5 px error at 640 px),
reads visibility 1 as visible (losing 0/1/2), writes the xy of invisible
points as unlabeled, stores track ids under `attributes.object_id`, always
derives the box from the keypoints and copies no images.

Layout written: `<name>.json` with `images/` beside it holding a copy of every
labeled frame's image (`file_name` is the bare image name, see
`export_image_names`). Beyond standard COCO, annotations carry `track_id` when
the instance has one, `source` (manual|predicted), `score` (box score) and
`keypoint_scores` when set, and
the top level carries `tracks` (`[{"id", "name"}]`); categories carry
`symmetry` (1-based keypoint pairs, like `skeleton`). Other tools ignore these.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from attrs import evolve

from etholoop.errors import FormatError
from etholoop.io._common import (
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
    SOURCES,
    FrameLabels,
    Instance,
    LabelSet,
    Skeleton,
    Source,
    VideoRef,
)

IMAGES_DIR = "images"
CATEGORY_NAME = "animal"


@register_writer("coco", takes_images=True, file_name="labels.json")
def write_coco(
    labels: LabelSet,
    path: str | os.PathLike[str],
    images: ImageMap | None = None,
    *,
    margin: float = 0.0,
) -> None:
    """Write a COCO keypoints JSON and copy the frames' images to `images/` beside it.

    Coordinates are JSON floats, which Python writes and reads back exactly.

    Args:
        labels: The labels to write; every frame becomes an image, also frames
            without instances.
        path: The `.json` file to write.
        images: The image file of each frame by (video index, frame_idx); frames
            of image-sequence videos default to the video's own image files.
        margin: Px added around the keypoints of an instance without a box.

    Raises:
        FormatError: if a frame has no existing image.
    """
    path = Path(path)
    sources = frame_images(labels, images, path)
    names = export_image_names(labels, images)
    sk = labels.skeleton
    category: dict[str, Any] = {
        "id": 1,
        "name": CATEGORY_NAME,
        "supercategory": CATEGORY_NAME,
        "keypoints": list(sk.keypoints),
        "skeleton": [[a + 1, b + 1] for a, b in sk.edges],
    }
    if sk.symmetry:
        category["symmetry"] = [[a + 1, b + 1] for a, b in sk.symmetry]
    coco_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    image_dir = path.parent / IMAGES_DIR
    for image_id, frame in enumerate(labels.frames, start=1):
        key = (frame.video, frame.frame_idx)
        width, height = image_size(sources[key], path)
        copy_image(sources[key], image_dir / names[key])
        coco_images.append(
            {"id": image_id, "file_name": names[key], "width": width, "height": height}
        )
        for inst in frame.instances:
            annotations.append(
                _annotation(inst, len(annotations) + 1, image_id, margin)
            )
    data: dict[str, Any] = {
        "info": {"description": "written by etholoop"},
        "images": coco_images,
        "annotations": annotations,
        "categories": [category],
    }
    if track_names := labels.track_names:
        data["tracks"] = [{"id": t, "name": n} for t, n in enumerate(track_names)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, allow_nan=False), encoding="utf-8")


def _annotation(
    inst: Instance, ann_id: int, image_id: int, margin: float
) -> dict[str, Any]:
    xy, vis = visible_keypoints(inst)
    flat: list[float | int] = []
    for (x, y), v in zip(xy, vis, strict=True):
        flat += [0, 0, 0] if v == NOT_LABELED else [float(x), float(y), int(v)]
    box = instance_box(inst, margin)
    if box is None:
        x1 = y1 = w = h = 0.0
    else:
        x1, y1 = float(box[0]), float(box[1])
        w, h = float(box[2] - box[0]), float(box[3] - box[1])
    ann: dict[str, Any] = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "keypoints": flat,
        "num_keypoints": int((vis > NOT_LABELED).sum()),
        "bbox": [x1, y1, w, h],
        "area": w * h,
        "iscrowd": 0,
    }
    if inst.track_id is not None:
        ann["track_id"] = inst.track_id
    ann["source"] = inst.source
    if inst.box_score is not None and math.isfinite(inst.box_score):
        ann["score"] = float(inst.box_score)
    if inst.keypoint_scores is not None:
        ann["keypoint_scores"] = [
            None if math.isnan(s) else float(s) for s in inst.keypoint_scores
        ]
    return ann


def _bad(path: Path, why: str) -> FormatError:
    return FormatError(f"{path}: not a COCO keypoints file ({why})")


@register_reader("coco", suffixes=(".json",))
def read_coco(path: str | os.PathLike[str]) -> LabelSet:
    """Read a COCO keypoints JSON.

    Each image becomes a frame (also images without annotations); images are
    grouped into one image-sequence `VideoRef` per folder, in the JSON's image
    order. `file_name` is looked up beside the JSON, then in `images/`.
    Visibility 0 gives NaN keypoints; 1 and 2 keep x, y. Track ids come from
    `track_id` (or sleap-io's `attributes.object_id`); names from `tracks` if
    present, else the ids as text.

    Raises:
        FormatError: if the file is missing, not JSON, or not COCO keypoints.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not JSON: {one_line(exc)}") from exc
    if not isinstance(data, dict):
        raise _bad(path, "top level is not an object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise _bad(path, f"no '{key}' list")
    skeleton, categories = _skeleton(data["categories"], path)
    n_k = skeleton.n_keypoints

    image_ids: dict[Any, int] = {}
    files: list[Path] = []
    for image in data["images"]:
        if not isinstance(image, dict) or "id" not in image or "file_name" not in image:
            raise _bad(path, "an image lacks 'id' or 'file_name'")
        if image["id"] in image_ids:
            raise FormatError(f"{path}: image id {image['id']} repeats")
        image_ids[image["id"]] = len(files)
        files.append(_resolve(path, str(image["file_name"])))

    raw_tracks = data.get("tracks")
    named_tracks: dict[int, str] = {}
    if isinstance(raw_tracks, list):
        for t in raw_tracks:
            if isinstance(t, dict) and isinstance(t.get("id"), int):
                named_tracks[int(t["id"])] = str(t.get("name", t["id"]))

    per_image: list[list[tuple[Instance, Any]]] = [[] for _ in files]
    for ann in data["annotations"]:
        if not isinstance(ann, dict):
            raise _bad(path, "an annotation is not an object")
        if ann.get("category_id") not in categories:
            continue  # a category without our keypoints (e.g. detection only)
        if ann.get("image_id") not in image_ids:
            raise FormatError(
                f"{path}: annotation {ann.get('id')} names unknown image "
                f"{ann.get('image_id')}"
            )
        inst, track = _instance(ann, n_k, path)
        per_image[image_ids[ann["image_id"]]].append((inst, track))

    used = sorted(
        {t for anns in per_image for _, t in anns if t is not None}, key=_track_key
    )
    if named_tracks and all(isinstance(t, int) and t in named_tracks for t in used):
        ids = {t: t for t in used}
        n_tracks = max([*named_tracks, -1]) + 1
        tracks = tuple(named_tracks.get(t, f"track_{t}") for t in range(n_tracks))
    else:
        ids = {t: i for i, t in enumerate(used)}
        tracks = tuple(str(t) for t in used)

    folders: dict[Path, list[int]] = {}
    for i, file in enumerate(files):
        folders.setdefault(file.parent, []).append(i)
    videos: list[VideoRef] = []
    frames: list[FrameLabels] = []
    for v, (folder, members) in enumerate(folders.items()):
        videos.append(
            VideoRef(
                path=str(folder), image_files=tuple(str(files[i]) for i in members)
            )
        )
        for frame_idx, i in enumerate(members):
            instances = [
                inst if t is None else evolve(inst, track_id=ids[t])
                for inst, t in per_image[i]
            ]
            frames.append(
                FrameLabels(video=v, frame_idx=frame_idx, instances=instances)
            )
    return LabelSet(skeleton=skeleton, videos=videos, frames=frames, tracks=tracks)


def _track_key(track: Any) -> tuple[int, str]:
    return (0, f"{track:020d}") if isinstance(track, int) else (1, str(track))


def _resolve(path: Path, file_name: str) -> Path:
    rel = Path(file_name.replace("\\", "/"))
    if rel.is_absolute():
        return rel
    base = path.resolve().parent
    for candidate in (
        base / rel,
        base / IMAGES_DIR / rel,
        base / IMAGES_DIR / rel.name,
    ):
        if candidate.exists():
            return candidate
    return base / rel


def _skeleton(categories: list[Any], path: Path) -> tuple[Skeleton, set[Any]]:
    """The skeleton of the keypoint categories, and their ids."""
    keyed = [
        c
        for c in categories
        if isinstance(c, dict) and isinstance(c.get("keypoints"), list)
    ]
    if not keyed:
        raise _bad(path, "no category with 'keypoints'")
    first = keyed[0]
    names = [str(n) for n in first["keypoints"]]
    for c in keyed[1:]:
        if [str(n) for n in c["keypoints"]] != names:
            raise FormatError(
                f"{path}: categories {first.get('name')!r} and {c.get('name')!r} "
                "have different keypoints; one skeleton per file is supported"
            )

    def pairs(key: str) -> list[tuple[int, int]]:
        raw = first.get(key) or []
        try:
            return [(int(a) - 1, int(b) - 1) for a, b in raw]
        except (TypeError, ValueError) as exc:
            raise _bad(path, f"category '{key}' is not a list of pairs") from exc

    try:
        skeleton = Skeleton(
            keypoints=tuple(names), edges=pairs("skeleton"), symmetry=pairs("symmetry")
        )
    except ValueError as exc:
        raise FormatError(
            f"{path}: invalid keypoint category: {one_line(exc)}"
        ) from exc
    return skeleton, {c.get("id") for c in keyed}


def _instance(ann: dict[str, Any], n_k: int, path: Path) -> tuple[Instance, Any]:
    """An annotation's instance (without track) and its raw track id."""
    ann_id = ann.get("id")
    flat = ann.get("keypoints")
    if not isinstance(flat, list) or len(flat) != 3 * n_k:
        got = len(flat) if isinstance(flat, list) else type(flat).__name__
        raise FormatError(
            f"{path}: annotation {ann_id} has {got} keypoint values, expected {3 * n_k}"
        )
    try:
        values = np.array(flat, dtype=np.float64).reshape(n_k, 3)
    except (TypeError, ValueError) as exc:
        raise FormatError(
            f"{path}: annotation {ann_id}: non-numeric keypoints"
        ) from exc
    vis = values[:, 2]
    if not np.isin(vis, (0, 1, 2)).all():
        raise FormatError(
            f"{path}: annotation {ann_id}: visibility must be 0, 1 or 2, "
            f"got {sorted(set(vis.tolist()))}"
        )
    labeled = vis > 0
    xy = np.where(labeled[:, None], values[:, :2], np.nan)
    box = None
    bbox = ann.get("bbox")
    if bbox is not None:
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise FormatError(f"{path}: annotation {ann_id}: bbox is not [x, y, w, h]")
        x, y, w, h = (float(b) for b in bbox)
        box = np.array([x, y, x + w, y + h])
    raw_source = ann.get("source")
    source: Source = (
        raw_source
        if raw_source in SOURCES
        else ("predicted" if "score" in ann else "manual")
    )
    raw_scores = ann.get("keypoint_scores")
    scores = (
        np.array([np.nan if s is None else s for s in raw_scores], dtype=np.float64)
        if isinstance(raw_scores, list) and len(raw_scores) == n_k
        else None
    )
    score = ann.get("score")
    track = ann.get("track_id")
    if track is None and isinstance(ann.get("attributes"), dict):
        track = ann["attributes"].get("object_id")
    if track is not None and not isinstance(track, int | str):
        raise FormatError(
            f"{path}: annotation {ann_id}: track_id {track!r} is not an id"
        )
    inst = Instance(
        keypoints=xy,
        visibility=vis.astype(np.uint8),
        box=box,
        box_score=None if score is None else float(score),
        keypoint_scores=scores,
        source=source,
    )
    return inst, track
