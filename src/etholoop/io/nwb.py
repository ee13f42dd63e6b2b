"""NWB files with ndx-pose `PoseEstimation` containers.

Our own writer and reader on pynwb + ndx-pose, not `sleap_io.save_nwb`/`load_nwb`,
because sleap-io 0.9.5 writes only predicted instances into `PoseEstimation`
(manual ones go to a `PoseTraining` layout that needs an open video), cannot name
an image sequence's video (it hashes the list of files), indexes its timestamp
array by frame number (failing on sparse labels), multiplies frame numbers by the
sample rate instead of dividing, and reads coordinates back as float32.

Layout: processing module `behavior` holds a `Skeletons` container and one
`PoseEstimation` per (video, animal), named by the track (`video<i>_` prefixed
when there are several videos). Each keypoint is a `PoseEstimationSeries` with
one row per frame `0 .. n-1` of the video (NaN where not labeled), `rate` = fps
(1.0 when unknown, so that time in s is the frame index) and `starting_time` 0.
Visibility 0/1/2 is the series' `control` (a per-time-point label that NWB
`TimeSeries` define for exactly this). Keypoint scores are the `confidence`;
an instance with a finite confidence reads back as predicted. The frames'
source is an `ImageSeries` in `acquisition` with the video file or the image
files as `external_file`, linked as `source_video`.
"""

from __future__ import annotations

import datetime
import os
import re
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from etholoop.errors import FormatError
from etholoop.io._common import (
    IMAGE_SUFFIXES,
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

MODULE = "behavior"
UNTRACKED = "etholoop untracked"
CONTROL_DESCRIPTION = ["not labeled", "labeled but not visible", "visible"]
REFERENCE_FRAME = "(0, 0) is the top-left corner of the image; x right, y down, in px"


def _nwb_name(name: str) -> str:
    """A container name NWB accepts (no '/' or ':')."""
    return re.sub(r"[/:]", "_", name) or "animal"


def new_pose_file(
    skeleton: Skeleton,
    session_description: str,
    session_start_time: datetime.datetime | None,
    *,
    module_description: str,
) -> tuple[Any, Any, Any]:
    """A new NWB file with the behavior module and its ndx-pose skeleton.

    Returns:
        The `NWBFile`, its processing module (`MODULE`) and the ndx-pose
        `Skeleton` that pose containers name.
    """
    from ndx_pose import Skeleton as NwbSkeleton
    from ndx_pose import Skeletons
    from pynwb import NWBFile

    nwbfile = NWBFile(
        session_description=session_description,
        identifier=str(uuid.uuid4()),
        session_start_time=session_start_time or datetime.datetime.now(datetime.UTC),
    )
    module = nwbfile.create_processing_module(
        name=MODULE, description=module_description
    )
    edges = np.array(skeleton.edges, dtype=np.uint16).reshape(-1, 2)
    nwb_skeleton = NwbSkeleton(
        name="skeleton", nodes=list(skeleton.keypoints), edges=edges
    )
    module.add(Skeletons(skeletons=[nwb_skeleton]))
    return nwbfile, module, nwb_skeleton


@register_writer("nwb", file_name="labels.nwb")
def write_nwb(
    labels: LabelSet,
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    session_description: str = "pose labels exported by etholoop",
    session_start_time: datetime.datetime | None = None,
) -> None:
    """Write the labels as ndx-pose `PoseEstimation` containers in a new NWB file.

    Args:
        labels: The labels to write.
        path: The `.nwb` file to write (overwritten).
        fps: Frame rate of the videos; None writes rate 1.0, i.e. time in s is the
            frame index.
        session_description: NWB session description.
        session_start_time: NWB session start; default now (UTC).

    Raises:
        FormatError: if the file cannot be written.
    """
    from ndx_pose import PoseEstimation, PoseEstimationSeries
    from pynwb import NWBHDF5IO
    from pynwb.image import ImageSeries

    path = Path(path)
    rate = float(fps) if fps else 1.0
    nwbfile, module, skeleton = new_pose_file(
        labels.skeleton,
        session_description,
        session_start_time,
        module_description="pose labels exported by etholoop",
    )
    several = len(labels.videos) > 1
    for v, video in enumerate(labels.videos):
        frames = [f for f in labels.frames if f.video == v]
        n_frames = max([len(video.image_files), *(f.frame_idx + 1 for f in frames)])
        files = list(video.image_files) or [video.path]
        source = ImageSeries(
            name=f"video{v}",
            description=f"frames of {video.path}",
            unit="n.a.",
            external_file=files,
            format="external",
            starting_frame=list(range(len(files))) if video.is_image_sequence else [0],
            num_samples=n_frames,
            rate=rate,
            starting_time=0.0,
        )
        nwbfile.add_acquisition(source)
        for name, slot in _slots(labels, frames, n_frames).items():
            xy, vis, conf, tracked = slot
            series = [
                PoseEstimationSeries(
                    name=_nwb_name(kp),
                    description=f"position of {kp}",
                    data=xy[:, k],
                    unit="pixels",
                    reference_frame=REFERENCE_FRAME,
                    rate=rate,
                    starting_time=0.0,
                    control=vis[:, k],
                    control_description=CONTROL_DESCRIPTION,
                    **(
                        {
                            "confidence": conf[:, k],
                            "confidence_definition": "keypoint score",
                        }
                        if conf is not None
                        else {}
                    ),
                )
                for k, kp in enumerate(labels.skeleton.keypoints)
            ]
            module.add(
                PoseEstimation(
                    name=_nwb_name(f"video{v}_{name}" if several else name),
                    description=f"etholoop track={name}" if tracked else UNTRACKED,
                    pose_estimation_series=series,
                    skeleton=skeleton,
                    source_video=source,
                    source_software="etholoop",
                )
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwbfile)
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot write NWB file: {one_line(exc)}") from exc


_Slot = tuple[
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.uint8]],
    np.ndarray[Any, np.dtype[np.float64]] | None,
    bool,
]


def _slots(
    labels: LabelSet, frames: list[FrameLabels], n_frames: int
) -> dict[str, _Slot]:
    """Dense per-animal arrays of one video: xy, visibility, confidence, tracked."""
    n_k = labels.skeleton.n_keypoints
    names: dict[tuple[bool, int], str] = {}
    track_names = labels.track_names
    for f in frames:
        untracked = 0
        for inst in f.instances:
            if inst.track_id is not None:
                names[(True, inst.track_id)] = track_names[inst.track_id]
            else:
                names[(False, untracked)] = f"animal{untracked}"
                untracked += 1
    keys = sorted(names, key=lambda k: (not k[0], k[1]))  # tracked first
    used: set[str] = set()
    unique: dict[tuple[bool, int], str] = {}
    for key in keys:
        name, n = names[key], 1
        while name in used:
            name, n = f"{names[key]}_{n}", n + 1
        used.add(name)
        unique[key] = name
    xy = {key: np.full((n_frames, n_k, 2), np.nan) for key in keys}
    vis = {key: np.zeros((n_frames, n_k), dtype=np.uint8) for key in keys}
    Scores = np.ndarray[Any, np.dtype[np.float64]]
    conf: dict[tuple[bool, int], Scores | None] = dict.fromkeys(keys)
    for f in frames:
        untracked = 0
        for inst in f.instances:
            if inst.track_id is not None:
                key = (True, inst.track_id)
            else:
                key = (False, untracked)
                untracked += 1
            kxy, kvis = visible_keypoints(inst)
            xy[key][f.frame_idx] = kxy
            vis[key][f.frame_idx] = kvis
            if inst.keypoint_scores is not None:
                if conf[key] is None:
                    conf[key] = np.full((n_frames, n_k), np.nan)
                scores = conf[key]
                assert scores is not None
                scores[f.frame_idx] = inst.keypoint_scores
    return {unique[k]: (xy[k], vis[k], conf[k], k[0]) for k in keys}


@register_reader("nwb", suffixes=(".nwb",))
def read_nwb(path: str | os.PathLike[str]) -> LabelSet:
    """Read the ndx-pose `PoseEstimation` containers of an NWB file.

    Reads files written by `write_nwb` exactly. For other files: every
    `PoseEstimation` in any processing module is one animal (its name the
    track), frames come from `rate`/`starting_time` (or the rank of each
    timestamp), visibility from finite coordinates unless `control` holds it.

    Raises:
        FormatError: if the file is missing, not NWB, or holds no PoseEstimation.
    """
    import h5py
    from ndx_pose import PoseEstimation
    from pynwb import NWBHDF5IO

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise FormatError(f"{path}: not an NWB file (not HDF5)")
    try:
        with NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
            with warnings.catch_warnings():
                # files of older ndx-pose versions use now-deprecated fields
                warnings.simplefilter("ignore", DeprecationWarning)
                nwbfile = io.read()
            containers = [
                c
                for module in nwbfile.processing.values()
                for c in module.data_interfaces.values()
                if isinstance(c, PoseEstimation)
            ]
            if not containers:
                raise FormatError(f"{path}: no ndx-pose PoseEstimation in the file")
            return _read_containers(containers, path)
    except FormatError:
        raise
    except Exception as exc:  # pynwb/hdmf raise many kinds on a foreign file
        raise FormatError(f"{path}: cannot read NWB file: {one_line(exc)}") from exc


def _video_of(container: Any) -> VideoRef:
    source = container.source_video
    if source is not None and source.external_file is not None:
        files = [str(f) for f in source.external_file[:]]
        if len(files) > 1 or (
            files and Path(files[0]).suffix.lower() in IMAGE_SUFFIXES
        ):
            return VideoRef(path=str(Path(files[0]).parent), image_files=tuple(files))
        if files:
            return VideoRef(path=files[0])
    originals = container.original_videos
    if originals is not None and len(originals):
        return VideoRef(path=str(originals[0]))
    return VideoRef(path=container.name)


def _timestamps(series: Any) -> NDArray[np.float64] | None:
    if series.rate is not None:
        return None
    return np.asarray(series.timestamps[:], dtype=np.float64)


def _frame_indices(series: Any, clock: NDArray[np.float64]) -> NDArray[np.int64]:
    """Frame index of each row: from rate and start, else the timestamp's rank.

    Args:
        series: A PoseEstimationSeries.
        clock: Sorted unique timestamps of every timestamped series of the video.
    """
    n = len(series.data)
    if series.rate is not None:
        start = round((series.starting_time or 0.0) * series.rate)
        return np.arange(start, start + n, dtype=np.int64)
    stamps = np.asarray(series.timestamps[:], dtype=np.float64)
    return np.searchsorted(clock, stamps).astype(np.int64)


def _read_containers(containers: list[Any], path: Path) -> LabelSet:
    first = containers[0]
    if first.skeleton is not None:
        names = [str(n) for n in first.skeleton.nodes[:]]
        edges = [(int(a), int(b)) for a, b in first.skeleton.edges[:]]
    else:
        names, edges = list(first.pose_estimation_series), []
    try:
        skeleton = Skeleton(keypoints=tuple(names), edges=edges)
    except ValueError as exc:
        raise FormatError(f"{path}: invalid skeleton: {one_line(exc)}") from exc
    n_k = len(names)
    videos: list[VideoRef] = []
    columns_of: list[tuple[int, Any, list[Any]]] = []
    for c in containers:
        video = _video_of(c)
        if video not in videos:
            videos.append(video)
        series_by_name = {s.name: s for s in c.pose_estimation_series.values()}
        missing = [n for n in names if _nwb_name(n) not in series_by_name]
        if missing:
            raise FormatError(f"{path}: {c.name} lacks keypoints {missing}")
        columns = [series_by_name[_nwb_name(n)] for n in names]
        columns_of.append((videos.index(video), c, columns))
    clocks: dict[int, NDArray[np.float64]] = {}
    for v, _, columns in columns_of:
        stamps = [t for s in columns if (t := _timestamps(s)) is not None]
        clocks[v] = np.unique(np.concatenate([clocks.get(v, np.empty(0)), *stamps]))

    tracks: list[str] = []
    per_frame: dict[tuple[int, int], list[Instance]] = {}
    for v, c, columns in columns_of:
        track_id: int | None = None
        if c.description != UNTRACKED:
            prefix = f"video{v}_"
            name = c.name[len(prefix) :] if c.name.startswith(prefix) else c.name
            match = re.fullmatch(r"etholoop track=(.*)", c.description or "")
            # ours say "etholoop track=<name>"; sleap-io names them "track=<name>"
            name = match.group(1) if match else re.sub(r"^track=", "", name)
            if name not in tracks:
                tracks.append(name)
            track_id = tracks.index(name)
        inds = [_frame_indices(s, clocks[v]) for s in columns]
        frame_inds = np.unique(np.concatenate(inds))
        xy = np.full((len(frame_inds), n_k, 2), np.nan)
        vis = np.zeros((len(frame_inds), n_k), dtype=np.uint8)
        conf = np.full((len(frame_inds), n_k), np.nan)
        has_conf = False
        for k, (s, ind) in enumerate(zip(columns, inds, strict=True)):
            rows = np.searchsorted(frame_inds, ind)
            data = np.asarray(s.data[:], dtype=np.float64).reshape(len(ind), -1)[:, :2]
            finite = np.asarray(np.isfinite(data).all(axis=1), dtype=bool)
            xy[rows, k] = np.where(finite[:, None], data, np.nan)
            if s.control is not None and list(s.control_description or []) == (
                CONTROL_DESCRIPTION
            ):
                vis[rows, k] = np.where(finite, np.asarray(s.control[:]), NOT_LABELED)
            else:
                vis[rows, k] = np.where(finite, VISIBLE, NOT_LABELED)
            if s.confidence is not None:
                conf[rows, k] = np.asarray(s.confidence[:], dtype=np.float64)
                has_conf = True
        for row in np.flatnonzero((vis > NOT_LABELED).any(axis=1)):
            predicted = has_conf and bool(np.isfinite(conf[row]).any())
            inst = Instance(
                keypoints=xy[row],
                visibility=vis[row],
                keypoint_scores=conf[row] if predicted else None,
                source="predicted" if predicted else "manual",
                track_id=track_id,
            )
            per_frame.setdefault((v, int(frame_inds[row])), []).append(inst)

    def order(inst: Instance) -> tuple[bool, int]:
        return (inst.track_id is None, inst.track_id or 0)

    frames = [
        FrameLabels(
            video=v, frame_idx=f, instances=sorted(per_frame[(v, f)], key=order)
        )
        for v, f in sorted(per_frame)
    ]
    return LabelSet(skeleton=skeleton, videos=videos, frames=frames, tracks=tracks)
