"""Malformed input gives a one-line FormatError that names the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from etholoop.errors import FormatError
from etholoop.io import FORMATS, load_labels, save_labels
from etholoop.types import LabelSet

DLC_HEADER = "scorer,me,me\nbodyparts,nose,nose\ncoords,x,y\n"
COCO_OK = {
    "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "keypoints": [1, 2, 2, 3, 4, 1]}
    ],
    "categories": [{"id": 1, "name": "m", "keypoints": ["a", "b"], "skeleton": []}],
}


def text(content: str) -> Callable[[Path], None]:
    return lambda p: p.write_text(content)


def coco(**changes: object) -> Callable[[Path], None]:
    return lambda p: p.write_text(json.dumps({**COCO_OK, **changes}))


def hdf5_without_metadata(p: Path) -> None:
    with h5py.File(p, "w") as f:
        f["x"] = np.zeros(3)


def yolo(data_yaml: str | None, label: str | None = None) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        from tests.io.helpers import write_images

        p.mkdir()
        write_images(p / "images" / "train", (16, 16), 1)
        if data_yaml is not None:
            (p / "data.yaml").write_text(data_yaml)
        if label is not None:
            (p / "labels" / "train").mkdir(parents=True)
            (p / "labels" / "train" / "img0000.txt").write_text(label)

    return make


POSE_YAML = "train: images/train\nval: images/train\nkpt_shape: [2, 3]\n"

CASES = {
    "csv not DLC": ("t.csv", text("a,b\n1,2\n"), "not a DeepLabCut table"),
    "DLC header only scorer": ("t.csv", text("scorer,me\nfoo,bar\n"), "coords"),
    "DLC non-numeric": ("t.csv", text(DLC_HEADER + "img.png,1.0,abc\n"), "non-numeric"),
    "DLC short row": ("t.csv", text(DLC_HEADER + "img.png,1.0\n"), "expected 3 values"),
    "DLC h5 not HDF5": ("t.h5", text("hello"), "not HDF5"),
    "DLC h5 without table": ("t.h5", hdf5_without_metadata, "not a DeepLabCut"),
    "json not JSON": ("t.json", text("{nope"), "not JSON"),
    "json not COCO": ("t.json", text('{"foo": 1}'), "not a COCO keypoints file"),
    "json list": ("t.json", text("[1, 2]"), "not a COCO keypoints file"),
    "COCO without keypoints": (
        "t.json",
        coco(categories=[{"id": 1, "name": "m"}]),
        "no category with 'keypoints'",
    ),
    "COCO wrong keypoint count": (
        "t.json",
        coco(
            annotations=[{"id": 7, "image_id": 1, "category_id": 1, "keypoints": [1]}]
        ),
        "annotation 7 has 1 keypoint values, expected 6",
    ),
    "COCO bad visibility": (
        "t.json",
        coco(
            annotations=[
                {
                    "id": 7,
                    "image_id": 1,
                    "category_id": 1,
                    "keypoints": [1, 2, 5, 0, 0, 0],
                }
            ]
        ),
        "visibility must be 0, 1 or 2",
    ),
    "COCO unknown image": (
        "t.json",
        coco(
            annotations=[
                {"id": 7, "image_id": 9, "category_id": 1, "keypoints": [0] * 6}
            ]
        ),
        "unknown image 9",
    ),
    "slp not HDF5": ("t.slp", text("not hdf5"), "not HDF5"),
    "slp HDF5 without metadata": ("t.slp", hdf5_without_metadata, "no 'metadata'"),
    "nwb not HDF5": ("t.nwb", text("x"), "not HDF5"),
    "YOLO folder without data.yaml": ("ds", yolo(None), "no data.yaml"),
    "YOLO yaml not pose": ("ds", yolo("train: images/train\n"), "kpt_shape"),
    "YOLO yaml not a mapping": ("ds", yolo("- 1\n"), "not a mapping"),
    "YOLO missing split folder": (
        "ds",
        yolo("train: images/nope\nkpt_shape: [2, 3]\n"),
        "does not exist",
    ),
    "YOLO label wrong count": (
        "ds",
        yolo(POSE_YAML, "0 0.5 0.5 0.2 0.2 0.1 0.1 2\n"),
        "img0000.txt:1: expected 11 values",
    ),
    "YOLO label not numeric": (
        "ds",
        yolo(POSE_YAML, "0 0.5 0.5 0.2 0.2 0.1 0.1 2 x 0.2 2\n"),
        "non-numeric",
    ),
    "unknown suffix": ("t.xyz", text("hello"), "cannot tell the label format"),
    "missing file": ("missing.csv", None, "no such file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_input(case: str, tmp_path: Path) -> None:
    name, make, expected = CASES[case]
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(FormatError) as info:
        load_labels(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_unknown_format_lists_the_known_ones(
    toy_labels: LabelSet, tmp_path: Path
) -> None:
    for call in (
        lambda: load_labels(tmp_path, "mat"),
        lambda: save_labels(toy_labels, tmp_path / "x.mat", "mat"),
    ):
        with pytest.raises(FormatError, match="unknown label format 'mat'") as info:
            call()
        assert all(fmt in str(info.value) for fmt in FORMATS)


def test_dlc_writer_refuses_two_video_files(tmp_path: Path) -> None:
    from etholoop.types import FrameLabels, Instance, VideoRef
    from tests.io.helpers import SKELETON

    inst = Instance(keypoints=np.ones((4, 2)))
    labels = LabelSet(
        SKELETON,
        [VideoRef("a.mp4"), VideoRef("b.mp4")],
        [FrameLabels(0, 0, [inst]), FrameLabels(1, 0, [inst])],
    )
    with pytest.raises(FormatError, match="frames of one video"):
        save_labels(labels, tmp_path / "x.csv")
