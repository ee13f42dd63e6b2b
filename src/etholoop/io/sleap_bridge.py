"""The one place where `sleap_io.Labels` and our `LabelSet` are converted.

Visibility: SLEAP points carry only a `visible` flag next to their xy, and
sleap-io keeps the xy of invisible points through `.slp` save and load (float64,
exactly). So our three visibility levels map as

- 2 (visible)             <-> visible=True, finite xy
- 1 (labeled, not visible) <-> visible=False, finite xy
- 0 (not labeled)          <-> NaN xy (visible=False)

which is also how the SLEAP GUI shows an occluded but placed point. Instance
boxes travel as sleap-io `BoundingBox`es linked to their instance; a predicted
instance's `box_score` is also its `PredictedInstance.score`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from etholoop.errors import FormatError
from etholoop.io._common import (
    visible_keypoints,
)
from etholoop.types import (
    NOT_LABELED,
    NOT_VISIBLE,
    VISIBLE,
    FrameLabels,
    Instance,
    LabelSet,
    Skeleton,
    VideoRef,
)


def _sleap_video(video: VideoRef) -> Any:
    """A closed sleap-io `Video` for a `VideoRef`."""
    import sleap_io as sio

    if not video.is_image_sequence:
        return sio.Video(filename=video.path, open_backend=False)
    files = list(video.image_files)
    # A closed image list needs the ImageVideo record that sleap-io would write for
    # an open one, else its .slp reader takes the list for a single path.
    meta = {"type": "ImageVideo", "filename": files[0], "filenames": files}
    return sio.Video(filename=files, backend_metadata=meta, open_backend=False)


def to_sleap(labels: LabelSet) -> Any:
    """Convert a `LabelSet` to a `sleap_io.Labels` (videos are not opened).

    Returns:
        A `sleap_io.Labels` with one skeleton, one `Video` per `VideoRef` (an
        image list for image sequences) and one `Track` per track name.
    """
    import sleap_io as sio

    sk = labels.skeleton
    skeleton = sio.Skeleton(nodes=list(sk.keypoints), edges=[list(e) for e in sk.edges])
    if sk.symmetry:
        skeleton.add_symmetries([tuple(p) for p in sk.symmetry])
    videos = [_sleap_video(v) for v in labels.videos]
    tracks = [sio.Track(name=name) for name in labels.track_names]
    frames = []
    for frame in labels.frames:
        instances = []
        bboxes = []
        for inst in frame.instances:
            xy, vis = visible_keypoints(inst)
            track = tracks[inst.track_id] if inst.track_id is not None else None
            if inst.source == "predicted":
                scores = (
                    inst.keypoint_scores
                    if inst.keypoint_scores is not None
                    else np.full(len(xy), np.nan)
                )
                score = math.nan if inst.box_score is None else inst.box_score
                sinst = sio.PredictedInstance.from_numpy(
                    points_data=xy,
                    skeleton=skeleton,
                    point_scores=scores,
                    score=score,
                    track=track,
                )
            else:
                sinst = sio.Instance.from_numpy(
                    points_data=xy, skeleton=skeleton, track=track
                )
            sinst.points["visible"] = vis == VISIBLE
            instances.append(sinst)
            if inst.box is not None:
                x1, y1, x2, y2 = (float(v) for v in inst.box)
                if inst.box_score is not None:
                    box = sio.PredictedBoundingBox(
                        x1=x1, y1=y1, x2=x2, y2=y2, score=inst.box_score
                    )
                else:
                    box = sio.UserBoundingBox(x1=x1, y1=y1, x2=x2, y2=y2)
                box.instance = sinst
                box.track = track
                bboxes.append(box)
        lf = sio.LabeledFrame(
            video=videos[frame.video], frame_idx=frame.frame_idx, instances=instances
        )
        lf.bboxes.extend(bboxes)
        frames.append(lf)
    return sio.Labels(
        labeled_frames=frames, videos=videos, skeletons=[skeleton], tracks=tracks
    )


def _video_ref(video: Any, base: Path | None) -> VideoRef:
    """A `VideoRef` for a sleap-io `Video`; relative paths resolve against `base`."""

    def resolve(name: str) -> str:
        path = Path(name)
        if base is not None and not path.is_absolute() and (base / path).exists():
            return str(base / path)
        return name

    filename = video.filename
    if isinstance(filename, list):
        files = [resolve(str(f)) for f in filename]
        folder = str(Path(files[0]).parent) if files else ""
        return VideoRef(path=folder, image_files=tuple(files))
    return VideoRef(path=resolve(str(filename)))


def from_sleap(labels: Any, source: Path) -> LabelSet:
    """Convert a `sleap_io.Labels` to a `LabelSet`.

    Args:
        labels: A `sleap_io.Labels` with exactly one skeleton.
        source: The file it came from, for error messages and to resolve
            relative video paths.

    Raises:
        FormatError: if the labels hold no skeleton or more than one.
    """
    import sleap_io as sio

    if len(labels.skeletons) != 1:
        raise FormatError(
            f"{source}: expected one skeleton, found {len(labels.skeletons)}"
        )
    sk = labels.skeletons[0]
    try:
        skeleton = Skeleton(
            keypoints=tuple(sk.node_names),
            edges=sk.edge_inds,
            symmetry=sk.symmetry_inds,
        )
    except ValueError as exc:
        raise FormatError(f"{source}: invalid skeleton: {exc}") from exc
    base = source.parent
    video_index = {id(v): i for i, v in enumerate(labels.videos)}
    videos = [_video_ref(v, base) for v in labels.videos]
    track_index = {id(t): i for i, t in enumerate(labels.tracks)}
    frames = []
    for lf in labels.labeled_frames:
        boxes = {id(b.instance): b for b in lf.bboxes if b.instance is not None}
        instances = []
        for sinst in lf.instances:
            if sinst.skeleton is not sk:
                raise FormatError(f"{source}: instance of an unknown skeleton")
            points = sinst.points
            xy = np.asarray(points["xy"], dtype=np.float64)
            finite = np.asarray(np.isfinite(xy).all(axis=1), dtype=bool)
            visible = np.asarray(points["visible"], dtype=bool)
            vis = np.where(
                finite, np.where(visible, VISIBLE, NOT_VISIBLE), NOT_LABELED
            ).astype(np.uint8)
            box = boxes.get(id(sinst))
            predicted = isinstance(sinst, sio.PredictedInstance)
            scores = (
                np.asarray(points["score"], dtype=np.float64) if predicted else None
            )
            if scores is not None and np.isnan(scores).all():
                scores = None
            box_score: float | None = None
            if box is not None and isinstance(box, sio.PredictedBoundingBox):
                box_score = float(box.score)
            elif predicted and sinst.score is not None and math.isfinite(sinst.score):
                box_score = float(sinst.score)
            instances.append(
                Instance(
                    keypoints=np.where(finite[:, None], xy, np.nan),
                    visibility=vis,
                    box=None if box is None else [box.x1, box.y1, box.x2, box.y2],
                    box_score=box_score,
                    keypoint_scores=scores,
                    source="predicted" if predicted else "manual",
                    track_id=(
                        None if sinst.track is None else track_index[id(sinst.track)]
                    ),
                )
            )
        frames.append(
            FrameLabels(
                video=video_index[id(lf.video)],
                frame_idx=int(lf.frame_idx),
                instances=instances,
            )
        )
    return LabelSet(
        skeleton=skeleton,
        videos=videos,
        frames=frames,
        tracks=tuple(t.name for t in labels.tracks),
    )
