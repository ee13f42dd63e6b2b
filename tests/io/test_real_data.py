"""Reading the real third-party label files in ../shared/data, and converting them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.io import (
    detect_format,
    export_image_names,
    load_labels,
    read_dlc,
    save_labels,
)
from etholoop.types import LabelSet
from tests.io.helpers import assert_same_instances, by_image

DLC_CSV = "dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv"
MULTI_CSV = (
    "ethome_two_mice_interaction/pose/e3v813a-20210610T122332-122642"
    "DLC_dlcrnetms5_pilot_studySep24shuffle1_100000_el_filtered.csv"
)
CLIP_SLP = "sleap_two_flies_tracks/clip.slp"


@pytest.fixture
def openfield(shared_data: Path) -> LabelSet:
    return load_labels(shared_data / DLC_CSV)


def test_dlc_single_animal_csv(openfield: LabelSet, shared_data: Path) -> None:
    labels = openfield
    assert labels.skeleton.keypoints == ("snout", "leftear", "rightear", "tailbase")
    assert len(labels.frames) == 116
    assert all(len(f.instances) == 1 for f in labels.frames)
    assert labels.tracks == ()
    (video,) = labels.videos
    assert Path(video.path) == (shared_data / DLC_CSV).parent
    assert len(video.image_files) == 116
    assert all(Path(p).is_file() for p in video.image_files)
    for frame in labels.frames:
        (inst,) = frame.instances
        assert inst.source == "manual"
        assert inst.track_id is None
        assert (inst.visibility == 2).all()
        assert np.isfinite(inst.keypoints).all()
    # the first row of the file, exactly
    first = labels.frames[0]
    assert Path(video.image_files[first.frame_idx]).name == "img0000.png"
    np.testing.assert_array_equal(
        first.instances[0].keypoints,
        [
            [21.521, 265.428],
            [33.819, 265.941],
            [19.984, 250.05599999999998],
            [87.11, 152.69799999999998],
        ],
    )


def test_dlc_h5_twin_matches_csv(openfield: LabelSet, shared_data: Path) -> None:
    h5 = read_dlc(shared_data / DLC_CSV.replace(".csv", ".h5"))
    assert h5.skeleton == openfield.skeleton
    assert h5.videos == openfield.videos
    for a, b in zip(h5.frames, openfield.frames, strict=True):
        assert (a.video, a.frame_idx) == (b.video, b.frame_idx)
        assert_same_instances(a, b, h5, openfield)


def test_dlc_labeled_data_folder(openfield: LabelSet, shared_data: Path) -> None:
    folder = (shared_data / DLC_CSV).parent
    assert detect_format(folder) == "dlc"
    got = load_labels(folder)
    assert got.videos == openfield.videos
    for a, b in zip(got.frames, openfield.frames, strict=True):
        assert (a.video, a.frame_idx) == (b.video, b.frame_idx)
        assert_same_instances(a, b, got, openfield)
    assert {i.author for f in got.frames for i in f.instances} == {"Pranav"}


@pytest.mark.parametrize("fmt", ["coco", "slp", "yolo", "dlc", "nwb"])
def test_dlc_converts_to_every_format(
    fmt: str, openfield: LabelSet, tmp_path: Path
) -> None:
    target = (
        tmp_path
        / {
            "coco": "coco/labels.json",
            "slp": "labels.slp",
            "yolo": "yolo",
            "dlc": "proj/labeled-data/m4s1/CollectedData_me.csv",
            "nwb": "labels.nwb",
        }[fmt]
    )
    save_labels(openfield, target, fmt)
    back = load_labels(target)
    assert back.skeleton.keypoints == openfield.skeleton.keypoints
    got = by_image(back, "name")
    names = export_image_names(openfield)
    assert len(got) == 116
    for frame in openfield.frames:
        name = names[(frame.video, frame.frame_idx)]
        assert_same_instances(got[name], frame, back, openfield, where=name)


def test_dlc_multi_animal_predictions(shared_data: Path) -> None:
    path = shared_data / MULTI_CSV
    labels = load_labels(path)
    assert labels.skeleton.keypoints == (
        "nose",
        "leftear",
        "rightear",
        "neck",
        "lefthip",
        "righthip",
        "tail",
    )
    assert labels.tracks == ("adult", "juvenile")
    assert len(labels.frames) == 5700
    assert [f.frame_idx for f in labels.frames] == list(range(5700))
    assert all([i.track_id for i in f.instances] == [0, 1] for f in labels.frames)
    (video,) = labels.videos
    assert not video.is_image_sequence
    assert Path(video.path).name == "e3v813a-20210610T122332-122642"
    inst = labels.frames[0].instances[0]
    assert inst.source == "predicted"
    assert inst.keypoint_scores is not None
    assert inst.keypoint_scores[0] == pytest.approx(0.8888099789619446)
    assert inst.keypoints[0].tolist() == [606.248, 718.07]


def test_sleap_tracks(shared_data: Path) -> None:
    labels = load_labels(shared_data / CLIP_SLP)
    assert len(labels.frames) == 1500
    assert labels.tracks == ("female", "male")
    assert labels.skeleton.n_keypoints == 13
    assert labels.skeleton.keypoints[:3] == ("head", "thorax", "abdomen")
    assert len(labels.skeleton.edges) == 12
    assert all(sorted(i.track_id for i in f.instances) == [0, 1] for f in labels.frames)
    (video,) = labels.videos
    assert Path(video.path) == shared_data / "sleap_two_flies_tracks" / "clip.mp4"
    inst = labels.frames[0].instances[0]
    assert inst.source == "manual"
    assert (inst.visibility == 2).all()
