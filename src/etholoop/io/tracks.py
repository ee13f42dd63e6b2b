"""Identity tracks of whole videos in and out: SLEAP, movement netCDF, DLC CSV, NWB.

A `Tracks` (every frame, every named animal) is written in one of four formats,
and `read_tracks` reads any of them back, as well as SLEAP label or prediction
files and DeepLabCut tables made elsewhere:

- `slp`: SLEAP labels through sleap-io, one `Track` per individual named like
  it, one `PredictedInstance` (with point scores) per animal and frame where it
  has a keypoint; the frame count is kept in the file's provenance.
- `nc`: a netCDF in `movement`'s poses layout: `position` (time, space,
  keypoints, individuals) and `confidence` (time, keypoints, individuals),
  float64; `time` in s when the frame rate is known, else frame numbers.
- `csv`: a multi-animal DeepLabCut table (scorer, individuals, bodyparts,
  coords x/y/likelihood header rows), one row per frame, indexed by frame number.
- `nwb`: NWB with ndx-pose: one `PoseEstimation` per individual, one
  `PoseEstimationSeries` per keypoint with every frame of the video.

Reading: a missing keypoint is NaN with a NaN score, whatever the file held
there. Manual labels (ground truth) read with score 1. Skeleton edges travel in
`slp`, `nc` (an attribute) and `nwb`; a DLC table has none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, get_args

import h5py
import numpy as np
from numpy.typing import NDArray

from etholoop.atomic import written_atomically
from etholoop.errors import FormatError
from etholoop.io._common import one_line, visible_keypoints
from etholoop.io.dlc import _COORDS, _read_csv_table, _read_h5_table, _Table
from etholoop.io.dlc import _write_csv as write_dlc_csv
from etholoop.io.nwb import (
    CONTROL_DESCRIPTION,
    REFERENCE_FRAME,
    _nwb_name,
    new_pose_file,
    read_nwb,
)
from etholoop.io.sleap_bridge import to_sleap
from etholoop.io.slp import read_slp
from etholoop.types import (
    NOT_LABELED,
    VISIBLE,
    FrameLabels,
    Instance,
    LabelSet,
    Skeleton,
    Tracks,
    VideoRef,
)

TrackFormat = Literal["slp", "nc", "csv", "nwb"]
TRACK_FORMATS: tuple[TrackFormat, ...] = get_args(TrackFormat)
TRACK_SUFFIXES: dict[TrackFormat, str] = {
    "slp": ".slp",
    "nc": ".nc",
    "csv": ".csv",
    "nwb": ".nwb",
}
"""The file suffix of each track format."""

SOURCE_SOFTWARE = "etholoop"
PROVENANCE_KEY = "etholoop"
"""Key of our entry in a `.slp` file's provenance (it holds `n_frames`)."""
UNKNOWN_VIDEO = "unknown_video"
"""The video a `.slp` names when none is given (sleap-io cannot read back "")."""
SINGLE_ANIMAL = "individual_0"
"""The individual of a single-animal DLC table (movement's name for it)."""


def tracks_to_labels(tracks: Tracks, video_path: str | None = None) -> LabelSet:
    """Tracks as predicted labels of one video: an instance per animal per frame.

    Frames where an animal has no finite keypoint get no instance for it, and
    frames with no instance at all are left out. The instance score is the mean
    score of its keypoints.

    Args:
        tracks: The tracks.
        video_path: The video the tracks were made from; "" if None.
    """
    present = _present(tracks)
    xy = tracks.xy.astype(np.float64)
    scores = np.where(present, tracks.scores, np.nan).astype(np.float64)
    frames = []
    for t in np.flatnonzero(present.any(axis=(1, 2))):
        instances = []
        for i in np.flatnonzero(present[t].any(axis=1)):
            instances.append(
                Instance(
                    keypoints=xy[t, i],
                    visibility=np.where(present[t, i], VISIBLE, NOT_LABELED),
                    box_score=float(np.nanmean(scores[t, i])),
                    keypoint_scores=scores[t, i],
                    source="predicted",
                    track_id=int(i),
                )
            )
        frames.append(FrameLabels(video=0, frame_idx=int(t), instances=instances))
    return LabelSet(
        skeleton=tracks.skeleton,
        videos=[VideoRef(video_path or "")],
        frames=frames,
        tracks=tracks.individuals,
    )


def labels_to_tracks(
    labels: LabelSet, video: int = 0, n_frames: int | None = None
) -> Tracks:
    """The tracked instances of one video of a label set, as `Tracks`.

    Individuals are the label set's track names in order; instances without a
    track are dropped. Where a frame holds several instances of one track, a
    manual one is preferred over a predicted one, else the first is kept.
    Manual keypoints score 1, predicted ones their keypoint score (NaN if none).

    Args:
        labels: The labels.
        video: Index into `labels.videos` of the video to take.
        n_frames: Frames of the video; by default the last labeled frame + 1.

    Raises:
        ValueError: if a labeled frame lies at or beyond `n_frames`.
    """
    names = labels.track_names
    frames = [f for f in labels.frames if f.video == video]
    last = max((f.frame_idx for f in frames), default=-1)
    n = last + 1 if n_frames is None else n_frames
    if last >= n:
        raise ValueError(f"frame {last} is labeled, but the video has {n} frames")
    k = labels.skeleton.n_keypoints
    xy = np.full((n, len(names), k, 2), np.nan, dtype=np.float32)
    scores = np.full((n, len(names), k), np.nan, dtype=np.float32)
    for frame in frames:
        manual_slots: set[int] = set()
        filled: set[int] = set()
        for inst in frame.instances:
            i = inst.track_id
            manual = inst.source == "manual"
            if i is None or i in manual_slots or (i in filled and not manual):
                continue
            kxy, vis = visible_keypoints(inst)
            labeled = vis > NOT_LABELED
            if manual:
                point_scores = np.ones(k)
            elif inst.keypoint_scores is not None:
                point_scores = inst.keypoint_scores
            else:
                point_scores = np.full(k, np.nan)
            xy[frame.frame_idx, i] = kxy
            scores[frame.frame_idx, i] = np.where(labeled, point_scores, np.nan)
            filled.add(i)
            if manual:
                manual_slots.add(i)
    return Tracks(xy=xy, scores=scores, individuals=names, skeleton=labels.skeleton)


def write_tracks(
    tracks: Tracks,
    path: Path,
    fmt: str,
    *,
    video_path: str | None = None,
    fps: float | None = None,
) -> Path:
    """Write tracks in one of `TRACK_FORMATS`, replacing `path` only when complete.

    Args:
        tracks: The tracks to write.
        path: The file to write; its folder is created if missing.
        fmt: "slp", "nc", "csv" or "nwb" (see the module docstring).
        video_path: The video the tracks come from, recorded in the file (a
            `.slp` names `UNKNOWN_VIDEO` if None).
        fps: Frames per second of the video: netCDF times in s, NWB rates;
            None writes frame numbers (rate 1).

    Returns:
        `path`.

    Raises:
        FormatError: for an unknown format or a file that cannot be written.
    """
    writers = {"slp": _write_slp, "nc": _write_nc, "csv": _write_csv, "nwb": _write_nwb}
    if fmt not in TRACK_SUFFIXES:
        raise FormatError(
            f"{path}: unknown track format {fmt!r}; known: {', '.join(TRACK_FORMATS)}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # the partial name keeps the suffix the writer expects (pynwb warns otherwise)
        with written_atomically(path, TRACK_SUFFIXES[fmt]) as partial:
            writers[fmt](tracks, partial, video_path, fps)
    except (OSError, ValueError) as exc:
        message = f"{path}: cannot write {fmt} tracks: {one_line(exc)}"
        raise FormatError(message) from exc
    return path


def read_tracks(path: Path) -> Tracks:
    """Read tracks from a `.slp`, `.nc`, `.csv`, `.h5` (DeepLabCut) or `.nwb` file.

    Individuals are the file's track names in order (SLEAP instances without a
    track are dropped; a manual instance wins over a predicted one of the same
    track and frame). Frames run from 0 to the file's frame count (as `write_tracks`
    records it) or else to its last frame with an animal.

    Raises:
        FormatError: if the file is missing, its suffix unknown, it cannot be read
            or it holds no tracks.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    readers = {
        ".slp": _read_slp,
        ".nc": _read_nc,
        ".csv": _read_dlc,
        ".h5": _read_dlc,
        ".nwb": _read_nwb,
    }
    if suffix not in readers:
        raise FormatError(
            f"{path}: unknown track file suffix {suffix!r}; "
            f"expected one of {', '.join(readers)}"
        )
    tracks = readers[suffix](path)
    if not tracks.individuals:
        raise FormatError(f"{path}: no tracks in the file")
    return tracks


def _present(tracks: Tracks) -> NDArray[np.bool_]:
    """Where a keypoint has finite xy, shape (frames, individuals, keypoints)."""
    return np.asarray(np.isfinite(tracks.xy).all(axis=-1), dtype=bool)


def _with_nan_scores(tracks: Tracks) -> Tracks:
    """The tracks with NaN scores wherever a keypoint is missing."""
    scores = np.where(_present(tracks), tracks.scores, np.nan).astype(np.float32)
    return Tracks(tracks.xy, scores, tracks.individuals, tracks.skeleton)


# SLEAP


def _write_slp(
    tracks: Tracks, path: Path, video_path: str | None, fps: float | None
) -> None:
    """sleap-io writes the header; the frame, instance and point rows come from arrays.

    sleap-io's own writer builds a Python object per animal, frame and point, which
    for an hour of video costs more memory than the whole inference. Its header
    (skeleton, video, track names, provenance, format version) is written from a
    `Labels` without frames, then its empty row tables are replaced by the same
    structured arrays filled in numpy, in the dtypes sleap-io chose.
    """
    import sleap_io as sio

    header = LabelSet(
        skeleton=tracks.skeleton,
        videos=[VideoRef(video_path or UNKNOWN_VIDEO)],
        frames=[],
        tracks=tracks.individuals,
    )
    labels = to_sleap(header)
    labels.provenance[PROVENANCE_KEY] = {"n_frames": tracks.n_frames}
    if fps is not None:
        labels.provenance[PROVENANCE_KEY]["fps"] = float(fps)
    sio.save_slp(labels, str(path), embed=False, verbose=False)
    with h5py.File(path, "r+") as f:
        tables = ("frames", "instances", "pred_points")
        dtypes = {name: f[name].dtype for name in tables}
        rows = _slp_rows(tracks, dtypes)
        for name, data in rows.items():
            del f[name]
            f.create_dataset(name, data=data, dtype=data.dtype)


def _slp_rows(
    tracks: Tracks, dtypes: dict[str, np.dtype[Any]]
) -> dict[str, NDArray[np.void]]:
    """The `frames`, `instances` and `pred_points` rows of `tracks` for a `.slp`.

    Rows are what sleap-io writes for `tracks_to_labels(tracks)`: a frame per
    frame with an animal, a predicted instance per animal with a keypoint there
    (score: the mean of its keypoint scores; track: its individual), and every
    keypoint of it as a point, NaN and not visible where missing.
    """
    present = _present(tracks)
    has_instance: NDArray[np.bool_] = np.any(present, axis=2)
    frame_idx = np.flatnonzero(has_instance.any(axis=1))
    inst_t, inst_i = np.nonzero(has_instance)
    k = tracks.skeleton.n_keypoints
    n_inst = len(inst_t)
    per_frame = has_instance[frame_idx].sum(axis=1)
    ends = np.cumsum(per_frame)

    frames = np.zeros(len(frame_idx), dtype=dtypes["frames"])
    frames["frame_id"] = np.arange(len(frame_idx))
    frames["video"] = 0
    frames["frame_idx"] = frame_idx
    frames["instance_id_start"] = ends - per_frame
    frames["instance_id_end"] = ends

    inst_present = present[inst_t, inst_i]
    scores = np.where(
        inst_present, tracks.scores[inst_t, inst_i].astype(np.float64), np.nan
    )
    frame_of = np.zeros(tracks.n_frames, dtype=np.int64)
    frame_of[frame_idx] = np.arange(len(frame_idx))
    instances = np.zeros(n_inst, dtype=dtypes["instances"])
    instances["instance_id"] = np.arange(n_inst)
    instances["instance_type"] = 1  # sleap-io's InstanceType.PREDICTED
    instances["frame_id"] = frame_of[inst_t]
    instances["skeleton"] = 0
    instances["track"] = inst_i
    instances["from_predicted"] = -1
    instances["score"] = np.nanmean(scores, axis=1)
    instances["point_id_start"] = np.arange(n_inst) * k
    instances["point_id_end"] = np.arange(1, n_inst + 1) * k
    instances["tracking_score"] = np.nan

    xy = np.where(inst_present[..., None], tracks.xy[inst_t, inst_i], np.nan)
    points = np.zeros(n_inst * k, dtype=dtypes["pred_points"])
    points["x"] = xy[..., 0].ravel()
    points["y"] = xy[..., 1].ravel()
    points["visible"] = inst_present.ravel()
    points["complete"] = False
    points["score"] = scores.ravel()
    return {"frames": frames, "instances": instances, "pred_points": points}


def _slp_n_frames(path: Path) -> int | None:
    """The frame count `write_tracks` recorded in a `.slp` file, if any."""
    with h5py.File(path, "r") as f:
        meta = json.loads(f["metadata"].attrs["json"])
    entry = meta.get("provenance", {}).get(PROVENANCE_KEY, {})
    n = entry.get("n_frames") if isinstance(entry, dict) else None
    return int(n) if isinstance(n, int) else None


def _read_slp(path: Path) -> Tracks:
    labels = read_slp(path)
    return labels_to_tracks(labels, 0, _slp_n_frames(path))


# movement netCDF


def _write_nc(
    tracks: Tracks, path: Path, video_path: str | None, fps: float | None
) -> None:
    import xarray as xr

    frames = np.arange(tracks.n_frames)
    time = frames / fps if fps else frames
    attrs: dict[str, Any] = {
        "source_software": SOURCE_SOFTWARE,
        "source_file": video_path or "",
        "ds_type": "poses",
        "skeleton_edges": _flat_pairs(tracks.skeleton.edges),
        "skeleton_symmetry": _flat_pairs(tracks.skeleton.symmetry),
    }
    if fps:
        attrs["fps"] = float(fps)
    scores = np.where(_present(tracks), tracks.scores, np.nan)
    ds = xr.Dataset(
        data_vars={
            "position": (
                ("time", "space", "keypoints", "individuals"),
                tracks.xy.astype(np.float64).transpose(0, 3, 2, 1),
            ),
            "confidence": (
                ("time", "keypoints", "individuals"),
                scores.astype(np.float64).transpose(0, 2, 1),
            ),
        },
        coords={
            "time": time,
            "space": ["x", "y"],
            "keypoints": list(tracks.skeleton.keypoints),
            "individuals": list(tracks.individuals),
        },
        attrs=attrs,
    )
    ds.to_netcdf(path, engine="h5netcdf")


def _flat_pairs(pairs: tuple[tuple[int, int], ...]) -> NDArray[np.int64]:
    """Index pairs as one flat array (netCDF attributes hold 1-d arrays)."""
    return np.array(pairs, np.int64).reshape(-1)


def _pairs(flat: Any) -> list[list[int]]:
    """Index pairs from a flat attribute array; none if the attribute is absent."""
    return np.asarray([] if flat is None else flat, np.int64).reshape(-1, 2).tolist()


def _read_nc(path: Path) -> Tracks:
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            if "position" not in ds:
                raise FormatError(f"{path}: no 'position' variable (not a poses file)")
            position = ds["position"].transpose(
                "time", "individuals", "keypoints", "space"
            )
            xy = position.sel(space=["x", "y"]).to_numpy()
            if "confidence" in ds:
                conf = ds["confidence"].transpose("time", "individuals", "keypoints")
                scores = conf.to_numpy()
            else:
                scores = np.ones(xy.shape[:-1])
            keypoints = [str(k) for k in ds["keypoints"].to_numpy()]
            individuals = [str(i) for i in ds["individuals"].to_numpy()]
            edges = _pairs(ds.attrs.get("skeleton_edges"))
            symmetry = _pairs(ds.attrs.get("skeleton_symmetry"))
    except FormatError:
        raise
    except Exception as exc:  # xarray, h5netcdf and key errors on a foreign file
        raise FormatError(f"{path}: cannot read poses netCDF: {one_line(exc)}") from exc
    try:
        skeleton = Skeleton(keypoints, edges=edges, symmetry=symmetry)
    except ValueError as exc:
        raise FormatError(f"{path}: invalid skeleton: {one_line(exc)}") from exc
    return _with_nan_scores(
        Tracks(xy.astype(np.float32), scores.astype(np.float32), individuals, skeleton)
    )


# DeepLabCut


def _write_csv(
    tracks: Tracks, path: Path, video_path: str | None, fps: float | None
) -> None:
    scores = np.where(_present(tracks), tracks.scores, np.nan)
    # (frames, individuals, keypoints, [x, y, likelihood])
    values = np.concatenate([tracks.xy, scores[..., None]], axis=-1).astype(np.float64)
    columns = [
        (ind, part, coord)
        for ind in tracks.individuals
        for part in tracks.skeleton.keypoints
        for coord in _COORDS
    ]
    table = _Table(
        index=[str(t) for t in range(tracks.n_frames)],
        columns=columns,
        values=values.reshape(tracks.n_frames, len(columns)),
        scorer=SOURCE_SOFTWARE,
        multi_animal=True,
    )
    write_dlc_csv(table, path, n_index=1)


def _read_dlc(path: Path) -> Tracks:
    table = (
        _read_h5_table(path) if path.suffix.lower() == ".h5" else _read_csv_table(path)
    )
    if not all(label.strip().isdigit() for label in table.index):
        raise FormatError(
            f"{path}: rows are not frame numbers (a labeled-data table, not the "
            "tracks of a video)"
        )
    individuals: list[str] = []
    bodyparts: list[str] = []
    for ind, part, _ in table.columns:
        individuals += [ind] if ind not in individuals else []
        bodyparts += [part] if part not in bodyparts else []
    frame_inds = np.array([int(label) for label in table.index], dtype=np.int64)
    n = int(frame_inds.max()) + 1 if len(frame_inds) else 0
    data = np.full((n, len(individuals), len(bodyparts), 3), np.nan)
    has_likelihood = False
    for j, (ind, part, coord) in enumerate(table.columns):
        if coord not in _COORDS:
            raise FormatError(f"{path}: unknown DeepLabCut coordinate {coord!r}")
        c = _COORDS.index(coord)
        has_likelihood |= c == 2
        column = table.values[:, j]
        data[frame_inds, individuals.index(ind), bodyparts.index(part), c] = column
    if not has_likelihood:
        data[..., 2] = 1.0
    try:
        skeleton = Skeleton(bodyparts)
    except ValueError as exc:
        raise FormatError(f"{path}: invalid bodyparts: {one_line(exc)}") from exc
    names = [ind or SINGLE_ANIMAL for ind in individuals]
    xy = data[..., :2].astype(np.float32)
    xy[~np.isfinite(xy).all(axis=-1)] = np.nan
    return _with_nan_scores(
        Tracks(xy, data[..., 2].astype(np.float32), names, skeleton)
    )


# NWB


def _write_nwb(
    tracks: Tracks, path: Path, video_path: str | None, fps: float | None
) -> None:

    from ndx_pose import PoseEstimation, PoseEstimationSeries
    from pynwb import NWBHDF5IO
    from pynwb.image import ImageSeries

    rate = float(fps) if fps else 1.0
    description = "identity tracks written by etholoop"
    nwbfile, module, skeleton = new_pose_file(
        tracks.skeleton, description, None, module_description=description
    )
    source = None
    if video_path:
        source = ImageSeries(
            name="video0",
            description=f"frames of {video_path}",
            unit="n.a.",
            external_file=[video_path],
            format="external",
            starting_frame=[0],
            num_samples=tracks.n_frames,
            rate=rate,
            starting_time=0.0,
        )
        nwbfile.add_acquisition(source)
    present = _present(tracks)
    xy = tracks.xy.astype(np.float64)
    scores = np.where(present, tracks.scores, np.nan).astype(np.float64)
    control = np.where(present, VISIBLE, NOT_LABELED).astype(np.uint8)
    names = [_nwb_name(name) for name in tracks.individuals]
    if len(set(names)) != len(names):
        raise FormatError(f"{path}: individual names {names} repeat as NWB names")
    for i, name in enumerate(tracks.individuals):
        series = [
            PoseEstimationSeries(
                name=_nwb_name(kp),
                description=f"position of {kp}",
                data=xy[:, i, k],
                unit="pixels",
                reference_frame=REFERENCE_FRAME,
                rate=rate,
                starting_time=0.0,
                control=control[:, i, k],
                control_description=CONTROL_DESCRIPTION,
                confidence=scores[:, i, k],
                confidence_definition="keypoint score",
            )
            for k, kp in enumerate(tracks.skeleton.keypoints)
        ]
        module.add(
            PoseEstimation(
                name=names[i],
                description=f"etholoop track={name}",
                pose_estimation_series=series,
                skeleton=skeleton,
                source_video=source,
                source_software=SOURCE_SOFTWARE,
            )
        )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def _nwb_n_frames(path: Path) -> int:
    """The longest `PoseEstimationSeries` of an NWB file, in samples."""
    lengths = [0]

    def visit(name: str, node: Any) -> None:
        if (
            isinstance(node, h5py.Group)
            and node.attrs.get("neurodata_type") == "PoseEstimationSeries"
            and "data" in node
        ):
            lengths.append(len(node["data"]))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return max(lengths)


def _read_nwb(path: Path) -> Tracks:
    labels = read_nwb(path)
    n = _nwb_n_frames(path)
    last = max((f.frame_idx for f in labels.frames if f.video == 0), default=-1)
    return labels_to_tracks(labels, 0, max(n, last + 1))


__all__ = [
    "TRACK_FORMATS",
    "TRACK_SUFFIXES",
    "TrackFormat",
    "labels_to_tracks",
    "read_tracks",
    "tracks_to_labels",
    "write_tracks",
]
