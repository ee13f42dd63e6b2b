"""Every format writes and reads back a generated label set faithfully."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from etholoop.errors import FormatError
from etholoop.io import (
    FORMATS,
    detect_format,
    export_image_names,
    load_labels,
    save_labels,
)
from etholoop.types import FrameLabels, Instance, LabelSet, VideoRef
from tests.io.helpers import SKELETON, assert_same_instances, by_image, image_of

# where each format is written, relative to tmp_path
TARGETS = {
    "dlc": "dlc/labeled-data/mix/CollectedData_test.csv",
    "slp": "out/labels.slp",
    "coco": "coco/labels.json",
    "yolo": "yolo",
    "nwb": "out/labels.nwb",
}
KEEPS_TRACKS = {"dlc", "slp", "coco", "nwb"}
COPIES_IMAGES = {"coco", "yolo"}


def test_formats_are_registered() -> None:
    assert FORMATS == ("dlc", "slp", "coco", "yolo", "nwb")


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt: str, toy_labels: LabelSet, tmp_path: Path) -> None:
    target = tmp_path / TARGETS[fmt]
    save_labels(toy_labels, target, fmt)
    assert detect_format(target) == fmt
    back = load_labels(target)
    assert back.skeleton.keypoints == SKELETON.keypoints
    assert len(back.frames) == len(toy_labels.frames)
    if fmt in COPIES_IMAGES:
        # images were copied under unique names; match frames by those names
        names = export_image_names(toy_labels)
        assert len(set(names.values())) == len(names)
        got = by_image(back, "name")
        pairs = [(got[names[(f.video, f.frame_idx)]], f) for f in toy_labels.frames]
        for frame in back.frames:
            assert Path(image_of(back, frame)).is_file()
    else:
        got = by_image(back, "path")
        pairs = [
            (got[str(Path(image_of(toy_labels, f)).resolve())], f)
            for f in toy_labels.frames
        ]
    for got_frame, want_frame in pairs:
        assert_same_instances(
            got_frame,
            want_frame,
            back,
            toy_labels,
            tracks=fmt in KEEPS_TRACKS,
            visibility=fmt != "dlc",
            where=f"{fmt} {image_of(toy_labels, want_frame)}",
        )


@pytest.mark.parametrize("fmt", ["slp", "coco", "yolo"])
def test_empty_frame_survives(fmt: str, toy_labels: LabelSet, tmp_path: Path) -> None:
    labels = LabelSet(
        toy_labels.skeleton,
        toy_labels.videos,
        [*toy_labels.frames, FrameLabels(video=1, frame_idx=2, instances=[])],
        toy_labels.tracks,
    )
    target = tmp_path / TARGETS[fmt]
    save_labels(labels, target, fmt)
    back = load_labels(target)
    assert len(back.frames) == len(labels.frames)
    assert sum(not f.instances for f in back.frames) == 1


@pytest.mark.parametrize("fmt", ["dlc", "slp", "coco", "nwb"])
def test_predicted_scores_round_trip(fmt: str, tmp_path: Path) -> None:
    from tests.io.helpers import write_images

    files = write_images(tmp_path / "src" / "v", (32, 32), 2)
    inst = Instance(
        keypoints=[[1.5, 2.25], [3.125, 4.0], [np.nan, np.nan], [7.75, 8.5]],
        visibility=[2, 2, 0, 2],
        keypoint_scores=[0.9, 0.8, np.nan, 0.25],
        source="predicted",
    )
    labels = LabelSet(
        SKELETON,
        [VideoRef(str(files[0].parent), map(str, files))],
        [FrameLabels(0, 1, [inst])],
    )
    target = tmp_path / TARGETS[fmt]
    save_labels(labels, target, fmt)
    (got,) = load_labels(target).frames[0].instances
    assert got.source == "predicted"
    assert got.keypoint_scores is not None
    np.testing.assert_allclose(got.keypoint_scores[[0, 1, 3]], [0.9, 0.8, 0.25])
    np.testing.assert_allclose(got.keypoints, inst.keypoints, atol=1e-6)


def test_slp_keeps_xy_of_invisible_points(toy_labels: LabelSet, tmp_path: Path) -> None:
    import sleap_io as sio

    target = tmp_path / "labels.slp"
    save_labels(toy_labels, target)
    raw = sio.load_slp(str(target), open_videos=False)
    want = toy_labels.frames[0].instances
    for sinst, inst in zip(raw.labeled_frames[0].instances, want, strict=True):
        points = sinst.points
        np.testing.assert_array_equal(points["visible"], inst.visibility == 2)
        not_visible = inst.visibility == 1
        np.testing.assert_array_equal(
            points["xy"][not_visible], inst.keypoints[not_visible]
        )


def test_coco_layout(toy_labels: LabelSet, tmp_path: Path) -> None:
    target = tmp_path / "coco" / "labels.json"
    save_labels(toy_labels, target)
    data = json.loads(target.read_text())
    (category,) = data["categories"]
    assert category["keypoints"] == list(SKELETON.keypoints)
    assert category["skeleton"] == [[a + 1, b + 1] for a, b in SKELETON.edges]
    names = [im["file_name"] for im in data["images"]]
    assert len(set(names)) == len(names) == len(toy_labels.frames)
    assert all((target.parent / "images" / n).is_file() for n in names)
    assert {im["width"] for im in data["images"]} == {64, 80}
    ann = data["annotations"][0]
    inst = toy_labels.frames[0].instances[0]
    assert len(ann["keypoints"]) == 3 * SKELETON.n_keypoints
    assert ann["keypoints"][2::3] == inst.visibility.tolist()
    x1, y1, x2, y2 = inst.bounding_box()
    assert ann["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1])
    assert ann["track_id"] == 0
    assert [t["name"] for t in data["tracks"]] == ["mouseA", "mouseB"]


def test_yolo_layout(toy_labels: LabelSet, tmp_path: Path) -> None:
    root = tmp_path / "yolo"
    save_labels(toy_labels, root, "yolo", margin=2.0)
    config = yaml.safe_load((root / "data.yaml").read_text())
    assert config["kpt_shape"] == [4, 3]
    assert config["flip_idx"] == [0, 2, 1, 3]
    assert config["kpt_names"] == {0: list(SKELETON.keypoints)}
    assert config["names"] == {0: "animal"}
    assert config["train"] == config["val"] == "images/train"
    labels = sorted((root / "labels" / "train").glob("*.txt"))
    images = sorted((root / "images" / "train").glob("*.png"))
    assert len(labels) == len(images) == len(toy_labels.frames)
    lines = labels[0].read_text().splitlines()
    assert len(lines) == 2
    values = [float(v) for v in lines[0].split()]
    assert len(values) == 5 + 3 * SKELETON.n_keypoints
    assert all(0 <= v <= 1.1 for v in values[1:5])
    # a second split joins the same data.yaml
    save_labels(toy_labels, root, "yolo", split="val")
    config = yaml.safe_load((root / "data.yaml").read_text())
    assert (config["train"], config["val"]) == ("images/train", "images/val")
    assert len(load_labels(root).videos) == 2


def test_yolo_refuses_a_filled_split(toy_labels: LabelSet, tmp_path: Path) -> None:
    save_labels(toy_labels, tmp_path / "yolo", "yolo")
    with pytest.raises(FormatError, match="not empty"):
        save_labels(toy_labels, tmp_path / "yolo", "yolo")


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_video_file_frames_need_images(fmt: str, tmp_path: Path) -> None:
    from tests.io.helpers import random_instance, write_images

    rng = np.random.default_rng(1)
    labels = LabelSet(
        SKELETON,
        [VideoRef(str(tmp_path / "clip.mp4"))],
        [FrameLabels(0, 7, [random_instance(rng, (32, 24), None)])],
    )
    target = tmp_path / TARGETS[fmt]
    with pytest.raises(FormatError, match="no image for frame 7"):
        save_labels(labels, target, fmt)
    (image,) = write_images(tmp_path / "frames", (32, 24), 1)
    save_labels(labels, target, fmt, images={(0, 7): image})
    (frame,) = load_labels(target).frames
    assert_same_instances(frame, labels.frames[0], labels, labels, tracks=False)


def test_export_image_names_prefix_only_clashes(toy_labels: LabelSet) -> None:
    names = export_image_names(toy_labels)
    assert names[(0, 0)] == "vidA_img0000.png"
    assert names[(1, 3)] == "vidB_img0003.png"
    single = LabelSet(SKELETON, toy_labels.videos[:1], toy_labels.frames[:3])
    assert export_image_names(single)[(0, 1)] == "img0001.png"


def test_boxes_round_trip_through_slp_and_coco(tmp_path: Path) -> None:
    from tests.io.helpers import write_images

    files = write_images(tmp_path / "src" / "v", (40, 40), 1)
    inst = Instance(
        keypoints=[[10.1, 10.2], [12.3, 11.4], [np.nan, np.nan], [20.5, 25.25]],
        visibility=[2, 1, 0, 2],
        box=[5.5, 6.25, 30.125, 33.0],
    )
    labels = LabelSet(
        SKELETON,
        [VideoRef(str(files[0].parent), map(str, files))],
        [FrameLabels(0, 0, [inst])],
    )
    for fmt in ("slp", "coco", "yolo"):
        target = tmp_path / TARGETS[fmt]
        save_labels(labels, target, fmt)
        (got,) = load_labels(target).frames[0].instances
        assert got.box is not None, fmt
        np.testing.assert_allclose(got.box, inst.box, atol=1e-6, err_msg=fmt)


@pytest.mark.parametrize(
    ("fmt", "written"),
    [
        ("coco", "labels.json"),
        ("slp", "labels.slp"),
        ("nwb", "labels.nwb"),
        ("yolo", "data.yaml"),
        ("dlc", "labeled-data/vidA/CollectedData_etholoop.csv"),
    ],
)
def test_every_format_writes_into_a_folder(
    fmt: str, written: str, toy_labels: LabelSet, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    save_labels(toy_labels, out, fmt)
    assert (out / written).is_file()
    if fmt == "coco":
        assert (out / "images").is_dir()
    back = load_labels(out / written if fmt in ("coco", "slp", "nwb") else out)
    assert len(back.frames) == len(toy_labels.frames)
