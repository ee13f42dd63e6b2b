"""Canaries: the sleap-io 0.9.5 defects for which etholoop reads and writes formats.

The module docstrings of `etholoop.io.dlc`, `coco`, `nwb` and `yolo` name the
defects that made us write our own reader or writer. Each test here uses
sleap-io alone, asserts what etholoop needs, and is expected to fail
(`xfail(strict=True)`). When a sleap-io release fixes a defect its test passes,
which strict xfail reports as a failure: then the hand-written code named in
the reason may give way to sleap-io (and the canary goes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sleap_io as sio
import yaml
from PIL import Image

# Coordinates with more digits than float32 (about 3e-5 px at 600 px) or six
# decimals of a normalized coordinate (about 3e-4 px at 640 px) keep.
FINE_X, FINE_Y = 600.123456789, 234.567890123
TOL = 1e-6


def _canary(
    defect: str, ours: str, raises: type[Exception] = AssertionError
) -> pytest.MarkDecorator:
    """Expect the test to fail with `raises`, the defect; any other error fails."""
    return pytest.mark.xfail(
        strict=True, raises=raises, reason=f"sleap-io 0.9.5 {defect}; we use {ours}"
    )


def _images(
    folder: Path, names: list[str], size: tuple[int, int] = (64, 48)
) -> list[str]:
    """Write black RGB images of `size` (w, h) named `names` into `folder`; paths."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", size).save(folder / name)
    return [str(folder / name) for name in names]


def _image_video(files: list[str], *, open_backend: bool = True) -> Any:
    """A sleap-io video of an image sequence, open or closed.

    Closed, it is what `etholoop.io.sleap_bridge` makes (whose ImageVideo record
    the .slp writer needs).
    """
    if open_backend:
        return sio.Video.from_filename(files)
    meta = {"type": "ImageVideo", "filename": files[0], "filenames": files}
    return sio.Video(filename=files, backend_metadata=meta, open_backend=False)


def _instance(skeleton: Any, xy: Any, visible: list[bool]) -> Any:
    """A sleap-io user instance; a point not visible keeps its xy."""
    inst = sio.Instance.from_numpy(np.asarray(xy, float), skeleton=skeleton)
    inst.points["visible"] = visible
    return inst


# --- DeepLabCut: etholoop.io.dlc -------------------------------------------------

DLC = "our DLC reader and writer (etholoop.io.dlc)"


def _dlc_table(path: Path, header: list[str], rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*header, *rows]) + "\n")
    return path


@_canary("sorts the bodyparts alphabetically", DLC)
def test_dlc_keeps_the_file_s_bodypart_order(tmp_path: Path) -> None:
    folder = tmp_path / "labeled-data" / "m4s1"
    _images(folder, ["img0.png"])
    table = _dlc_table(
        folder / "CollectedData_me.csv",
        ["scorer,,,me,me,me,me", "bodyparts,,,snout,snout,ear,ear", "coords,,,x,y,x,y"],
        ["labeled-data,m4s1,img0.png,1.5,2.5,3.25,4.125"],
    )
    labels = sio.load_dlc(str(table))
    assert labels.skeleton.node_names == ["snout", "ear"]


@_canary("drops the rows whose image it cannot find (a video's predictions)", DLC)
def test_dlc_reads_a_predictions_table_of_a_video(tmp_path: Path) -> None:
    table = _dlc_table(
        tmp_path / "videoDLC_resnet50.csv",
        [
            "scorer,me,me,me,me,me,me",
            "bodyparts,snout,snout,snout,ear,ear,ear",
            "coords,x,y,likelihood,x,y,likelihood",
        ],
        [f"{k},{1.5 + k},2.5,0.9,3.25,4.125,0.4" for k in range(3)],
    )
    labels = sio.load_dlc(str(table))
    assert [lf.frame_idx for lf in labels.labeled_frames] == [0, 1, 2]


@_canary("ignores the likelihood columns", DLC)
def test_dlc_reads_likelihoods_as_predicted_scores(tmp_path: Path) -> None:
    folder = tmp_path / "labeled-data" / "m4s1"
    _images(folder, ["img0.png"])
    table = _dlc_table(
        folder / "CollectedData_me.csv",
        [
            "scorer,me,me,me,me,me,me",
            "bodyparts,ear,ear,ear,snout,snout,snout",
            "coords,x,y,likelihood,x,y,likelihood",
        ],
        ["labeled-data/m4s1/img0.png,1.5,2.5,0.9,3.25,4.125,0.4"],
    )
    (inst,) = sio.load_dlc(str(table)).labeled_frames[0].instances
    assert isinstance(inst, sio.PredictedInstance)
    np.testing.assert_allclose(inst.points["score"], [0.9, 0.4])


@_canary("writes invented image names (img{frame:04d}.png)", DLC)
def test_dlc_writes_the_real_image_names(tmp_path: Path) -> None:
    files = _images(tmp_path / "m4s1", ["a.png", "b.png", "c.png"])
    skeleton = sio.Skeleton(["snout", "ear"])
    inst = _instance(skeleton, [[1.0, 2.0], [3.0, 4.0]], [True, True])
    # an open image sequence fails sooner: its writer takes Path(list of files)
    video = _image_video(files, open_backend=False)
    frame = sio.LabeledFrame(video=video, frame_idx=2, instances=[inst])
    out = tmp_path / "out.csv"
    sio.save_csv(sio.Labels([frame]), str(out), format="dlc")
    row = out.read_text().splitlines()[3]
    assert row.startswith(("labeled-data/m4s1/c.png,", "labeled-data,m4s1,c.png,"))


# --- COCO: etholoop.io.coco ------------------------------------------------------

COCO = "our COCO reader and writer (etholoop.io.coco)"


def _read_coco(tmp_path: Path, keypoints: list[float]) -> Any:
    """The one instance sleap-io reads from a one-annotation COCO file."""
    _images(tmp_path, ["a.png"], (640, 480))
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 640, "height": 480}],
        "categories": [{"id": 1, "name": "mouse", "keypoints": ["snout", "ear"]}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 640, 480],
                "num_keypoints": 2,
                "keypoints": keypoints,
            }
        ],
    }
    (tmp_path / "labels.json").write_text(json.dumps(data))
    (inst,) = sio.load_coco(str(tmp_path / "labels.json")).labeled_frames[0].instances
    return inst


@pytest.fixture
def coco_written(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """What `save_coco` writes for one tracked instance with a box.

    The instance's second keypoint is placed but not visible; its box is
    (10, 20) - (300, 400).
    """
    files = _images(tmp_path / "src", ["a.png"], (640, 480))
    skeleton = sio.Skeleton(["snout", "ear"])
    track = sio.Track("mouseA")
    inst = _instance(skeleton, [[FINE_X, FINE_Y], [50.25, 60.125]], [True, False])
    inst.track = track
    frame = sio.LabeledFrame(video=_image_video(files), frame_idx=0, instances=[inst])
    box = sio.UserBoundingBox(x1=10.0, y1=20.0, x2=300.0, y2=400.0)
    box.instance = inst
    frame.bboxes.append(box)
    out = tmp_path / "out" / "labels.json"
    out.parent.mkdir()
    sio.save_coco(sio.Labels([frame], tracks=[track]), str(out))
    (annotation,) = json.loads(out.read_text())["annotations"]
    return out, annotation


@_canary("decodes keypoints to float32", COCO)
def test_coco_reads_keypoints_in_double_precision(tmp_path: Path) -> None:
    inst = _read_coco(tmp_path, [FINE_X, FINE_Y, 2, 50.25, 60.125, 2])
    np.testing.assert_allclose(inst.numpy()[0], [FINE_X, FINE_Y], atol=TOL, rtol=0)


@_canary("reads visibility 1 (labeled, not visible) as visible", COCO)
def test_coco_reads_visibility_1_as_not_visible(tmp_path: Path) -> None:
    inst = _read_coco(tmp_path, [100.5, 200.5, 2, 50.25, 60.125, 1])
    assert inst.points["visible"].tolist() == [True, False]
    np.testing.assert_allclose(inst.numpy()[1], [50.25, 60.125])


@_canary("writes a placed but invisible point as unlabeled (0, 0, 0)", COCO)
def test_coco_writes_an_invisible_point_with_its_xy(
    coco_written: tuple[Path, dict[str, Any]],
) -> None:
    _, annotation = coco_written
    assert annotation["keypoints"][3:] == [50.25, 60.125, 1]


@_canary("writes track ids under attributes.object_id", COCO)
def test_coco_writes_the_track_id(coco_written: tuple[Path, dict[str, Any]]) -> None:
    _, annotation = coco_written
    assert annotation.get("track_id") == 0


@_canary("always derives the box from the keypoints", COCO)
def test_coco_writes_the_instance_s_box(
    coco_written: tuple[Path, dict[str, Any]],
) -> None:
    _, annotation = coco_written
    assert annotation["bbox"] == [10.0, 20.0, 290.0, 380.0]


@_canary("copies no images", COCO)
def test_coco_writes_the_images_beside_the_json(
    coco_written: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = coco_written
    assert [p.name for p in out.parent.rglob("*.png")] == ["a.png"]


# --- NWB (ndx-pose PoseEstimation): etholoop.io.nwb ------------------------------

NWB = "our NWB reader and writer on pynwb + ndx-pose (etholoop.io.nwb)"


def _pose_labels(video: Any, frame_inds: list[int], *, predicted: bool = True) -> Any:
    """One tracked animal on the given frames, predicted or manual."""
    skeleton = sio.Skeleton(["snout", "ear"], name="mouse")
    track = sio.Track("mouseA")
    xy = np.array([[FINE_X, FINE_Y], [3.0, 4.0]])
    frames = []
    for frame_idx in frame_inds:
        if predicted:
            inst = sio.PredictedInstance.from_numpy(
                xy, skeleton=skeleton, point_scores=np.array([0.9, 0.8]), track=track
            )
        else:
            inst = sio.Instance.from_numpy(xy, skeleton=skeleton, track=track)
        frames.append(
            sio.LabeledFrame(video=video, frame_idx=frame_idx, instances=[inst])
        )
    return sio.Labels(frames)


def _video_file(path: Path) -> Any:
    return sio.Video(filename=str(path), open_backend=False)


@_canary("writes only predicted instances into PoseEstimation", NWB, raises=ValueError)
def test_nwb_pose_estimation_holds_manual_labels(
    tmp_path: Path, synthetic_mp4: Path
) -> None:
    labels = _pose_labels(_video_file(synthetic_mp4), [0, 1, 2], predicted=False)
    sio.save_nwb(labels, str(tmp_path / "labels.nwb"), "predictions")
    read = sio.load_nwb(str(tmp_path / "labels.nwb"))
    assert [lf.frame_idx for lf in read.labeled_frames] == [0, 1, 2]


@_canary("cannot name an image sequence's video (a list)", NWB, raises=TypeError)
def test_nwb_writes_labels_of_an_image_sequence(tmp_path: Path) -> None:
    files = _images(tmp_path / "src", ["a.png", "b.png", "c.png"])
    sio.save_nwb(
        _pose_labels(_image_video(files), [0, 1, 2]),
        str(tmp_path / "labels.nwb"),
        "predictions",
    )
    read = sio.load_nwb(str(tmp_path / "labels.nwb"))
    assert len(read.labeled_frames) == 3


@_canary(
    "indexes its timestamps by frame number (sparse labels fail)",
    NWB,
    raises=IndexError,
)
def test_nwb_writes_sparse_labels(tmp_path: Path, synthetic_mp4: Path) -> None:
    labels = _pose_labels(_video_file(synthetic_mp4), [3, 11])
    sio.save_nwb(labels, str(tmp_path / "labels.nwb"), "predictions")
    read = sio.load_nwb(str(tmp_path / "labels.nwb"))
    assert len(read.labeled_frames) == 2


@_canary("multiplies frame numbers by the sample rate instead of dividing", NWB)
def test_nwb_frame_times_are_frame_numbers_over_the_rate(
    tmp_path: Path, synthetic_mp4: Path
) -> None:
    from pynwb import NWBHDF5IO
    from sleap_io.io import nwb_predictions

    labels = _pose_labels(_video_file(synthetic_mp4), [0, 1, 2])
    path = tmp_path / "labels.nwb"
    nwb_predictions.write_nwb(
        labels, path, pose_estimation_metadata={"video_sample_rate": 25.0}
    )
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        series = [
            s
            for module in nwbfile.processing.values()
            for container in module.data_interfaces.values()
            for s in getattr(container, "pose_estimation_series", {}).values()
        ]
        assert series
        for s in series:
            if s.timestamps is not None:
                times = np.asarray(s.timestamps[:])
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    times = s.starting_time + np.arange(len(s.data)) / s.rate
            np.testing.assert_allclose(times, [0.0, 0.04, 0.08])


@_canary("reads coordinates back as float32", NWB)
def test_nwb_reads_coordinates_in_double_precision(
    tmp_path: Path, synthetic_mp4: Path
) -> None:
    labels = _pose_labels(_video_file(synthetic_mp4), [0, 1, 2])
    sio.save_nwb(labels, str(tmp_path / "labels.nwb"), "predictions")
    read = sio.load_nwb(str(tmp_path / "labels.nwb"))
    xy = read.labeled_frames[0].instances[0].numpy()
    np.testing.assert_allclose(xy[0], [FINE_X, FINE_Y], atol=TOL, rtol=0)


# --- Ultralytics YOLO pose: etholoop.io.yolo -------------------------------------

YOLO = "our YOLO reader and writer (etholoop.io.yolo)"


def _yolo_labels(folder: Path, n_frames: int = 1) -> Any:
    """One animal per frame, 640x480 images; earL/earR a symmetry pair.

    The second keypoint is placed but not visible; frame k's animal is k px
    lower than frame 0's, so that every frame's label line differs.
    """
    files = _images(folder, [f"f{k:02d}.png" for k in range(n_frames)], (640, 480))
    skeleton = sio.Skeleton(["snout", "earL", "earR"], name="mouse")
    skeleton.add_symmetries([("earL", "earR")])
    video = _image_video(files)
    xy = np.array([[FINE_X, FINE_Y], [300.5, 200.25], [310.75, 205.125]])
    return sio.Labels(
        [
            sio.LabeledFrame(
                video=video,
                frame_idx=k,
                instances=[_instance(skeleton, xy + [0, k], [True, False, True])],
            )
            for k in range(n_frames)
        ]
    )


def _save_yolo(labels: Any, out: Path, **kwargs: Any) -> Path:
    sio.save_ultralytics(labels, str(out), verbose=False, **kwargs)
    return out


def _label_line(out: Path) -> list[float]:
    (label_file,) = out.glob("**/labels/*.txt")
    return [float(v) for v in label_file.read_text().split()]


@_canary("writes normalized coordinates with 6 decimals", YOLO)
def test_yolo_writes_coordinates_that_survive_a_round_trip(tmp_path: Path) -> None:
    out = _save_yolo(
        _yolo_labels(tmp_path / "src"), tmp_path / "out", split_ratios={"train": 1.0}
    )
    x, y = _label_line(out)[5:7]
    np.testing.assert_allclose([x * 640, y * 480], [FINE_X, FINE_Y], atol=TOL, rtol=0)


@_canary("turns visibility 1 into 2 or 0", YOLO)
def test_yolo_writes_a_placed_invisible_point_as_visibility_1(tmp_path: Path) -> None:
    out = _save_yolo(
        _yolo_labels(tmp_path / "src"), tmp_path / "out", split_ratios={"train": 1.0}
    )
    x, y, v = _label_line(out)[8:11]
    assert v == 1
    np.testing.assert_allclose([x * 640, y * 480], [300.5, 200.25], atol=1e-3)


@_canary("writes an identity flip_idx", YOLO)
def test_yolo_flip_idx_swaps_the_symmetry_pairs(tmp_path: Path) -> None:
    out = _save_yolo(
        _yolo_labels(tmp_path / "src"), tmp_path / "out", split_ratios={"train": 1.0}
    )
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["flip_idx"] == [0, 2, 1]


@_canary("writes <split>/images, not the Ultralytics layout images/<split>", YOLO)
def test_yolo_writes_images_and_labels_per_split(tmp_path: Path) -> None:
    out = _save_yolo(
        _yolo_labels(tmp_path / "src"), tmp_path / "out", split_ratios={"train": 1.0}
    )
    assert (out / "images" / "train").is_dir() and (out / "labels" / "train").is_dir()


@_canary("splits the frames at random, differently on every call", YOLO)
def test_yolo_puts_the_same_frames_in_the_same_split(tmp_path: Path) -> None:
    labels = _yolo_labels(tmp_path / "src", n_frames=40)

    def val_lines(out: Path) -> set[str]:
        return {p.read_text() for p in out.glob("**/val/**/*.txt")}

    first = val_lines(_save_yolo(labels, tmp_path / "first"))
    second = val_lines(_save_yolo(labels, tmp_path / "second"))
    assert first and first == second
