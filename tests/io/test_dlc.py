"""DeepLabCut table layouts beyond the real files: DLC >= 2.3 index columns, gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.errors import FormatError
from etholoop.io import detect_format, load_labels, read_dlc, save_labels
from etholoop.types import LabelSet
from tests.io.helpers import assert_same_instances, write_images

MULTI_NEW_LAYOUT = """\
scorer,,,me,me,me,me,me,me,me,me
individuals,,,m1,m1,m1,m1,m2,m2,m2,m2
bodyparts,,,nose,nose,tail,tail,nose,nose,tail,tail
coords,,,x,y,x,y,x,y,x,y
labeled-data,sess1,img0001.png,1.5,2.5,,,10.25,20.125,30.0,40.0
labeled-data,sess1,img0000.png,,,,,5.0,6.0,7.0,8.0
labeled-data,sess1,img0002.png,,,,,,,,
"""


def test_multi_animal_with_three_index_columns(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write_images(project / "labeled-data" / "sess1", (16, 16), 3)
    csv = project / "labeled-data" / "sess1" / "CollectedData_me.csv"
    csv.write_text(MULTI_NEW_LAYOUT)
    labels = load_labels(csv)
    assert labels.skeleton.keypoints == ("nose", "tail")
    assert labels.tracks == ("m1", "m2")
    (video,) = labels.videos
    # images sorted by name; the all-empty row (img0002) is an image, not a frame
    names = [Path(p).name for p in video.image_files]
    assert names == ["img0000.png", "img0001.png", "img0002.png"]
    assert all(Path(p).is_file() for p in video.image_files)
    first, second = labels.frames
    assert (first.frame_idx, second.frame_idx) == (1, 0)
    m1, m2 = first.instances
    assert (m1.track_id, m2.track_id) == (0, 1)
    np.testing.assert_array_equal(m1.visibility, [2, 0])
    np.testing.assert_array_equal(m1.keypoints[0], [1.5, 2.5])
    assert np.isnan(m1.keypoints[1]).all()
    (only_m2,) = second.instances
    assert only_m2.track_id == 1
    # written back next to the images, rows are relative to the project root
    out = project / "labeled-data" / "sess1" / "CollectedData_copy.csv"
    save_labels(labels, out)
    rows = out.read_text().splitlines()
    assert rows[1].startswith("individuals,m1,m1")
    assert rows[4].startswith("labeled-data/sess1/img0000.png,,,,,5.0,6.0")
    again = load_labels(out)
    assert again.videos[0].image_files == video.image_files[:2]
    assert [len(f.instances) for f in again.frames] == [1, 2]


def test_predictions_table_names_its_video(tmp_path: Path) -> None:
    csv = tmp_path / "mouse1DLC_resnet50_testOct1shuffle1_1000.csv"
    csv.write_text(
        "scorer,net,net,net\nbodyparts,nose,nose,nose\ncoords,x,y,likelihood\n"
        "0,1.0,2.0,0.5\n3,4.0,5.0,0.75\n"
    )
    (tmp_path / "mouse1.avi").write_bytes(b"")
    labels = load_labels(csv)
    (video,) = labels.videos
    assert Path(video.path) == tmp_path / "mouse1.avi"
    assert [f.frame_idx for f in labels.frames] == [0, 3]
    inst = labels.frames[1].instances[0]
    assert inst.source == "predicted"
    assert inst.keypoint_scores is not None
    assert inst.keypoint_scores.tolist() == [0.75]


def test_frames_of_video_files_are_written_as_their_images(tmp_path: Path) -> None:
    from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, VideoRef

    frames_a = write_images(tmp_path / "cache" / "a", (16, 16), 2)
    frames_b = write_images(tmp_path / "cache" / "b", (16, 16), 1)
    inst = Instance(keypoints=[[1.25, 2.5]])
    labels = LabelSet(
        Skeleton(("nose",)),
        [VideoRef("a.mp4"), VideoRef("b.mp4")],
        [
            FrameLabels(0, 10, [inst]),
            FrameLabels(0, 20, [inst]),
            FrameLabels(1, 5, [inst]),
        ],
    )
    images = {(0, 10): frames_a[0], (0, 20): frames_a[1], (1, 5): frames_b[0]}
    out = tmp_path / "labeled-data" / "all" / "CollectedData_me.csv"
    save_labels(labels, out, images=images)
    back = load_labels(out)
    assert [v.image_files for v in back.videos] == [
        tuple(map(str, frames_a)),
        tuple(map(str, frames_b)),
    ]
    assert [(f.video, f.frame_idx) for f in back.frames] == [(0, 0), (0, 1), (1, 0)]


SINGLE = """\
scorer,me,me,me,me
bodyparts,nose,nose,tail,tail
coords,x,y,x,y
labeled-data/sess1/img0000.png,1.5,2.5,3.25,4.0
labeled-data/sess1/img0002.png,5.0,6.0,,
"""


def labeled_data_folder(root: Path, scorers: tuple[str, ...] = ("me",)) -> Path:
    """A DLC `labeled-data/sess1/` folder: 3 images, a table per scorer."""
    folder = root / "labeled-data" / "sess1"
    write_images(folder, (16, 16), 3)
    for scorer in scorers:
        (folder / f"CollectedData_{scorer}.csv").write_text(
            SINGLE.replace(",me", f",{scorer}")
        )
    return folder


def write_h5_as_deeplabcut(csv: Path) -> Path:
    """The .h5 twin the way DeepLabCut >= 2.3 writes it (pandas fixed format)."""
    import pandas as pd

    data = pd.read_csv(csv, header=[0, 1, 2], index_col=0)
    data.index = pd.MultiIndex.from_tuples([tuple(i.split("/")) for i in data.index])
    h5 = csv.with_suffix(".h5")
    data.to_hdf(h5, key="df_with_missing", mode="w")
    return h5


def test_a_labeled_data_folder_is_read_as_dlc(tmp_path: Path) -> None:
    folder = labeled_data_folder(tmp_path)
    assert detect_format(folder) == "dlc"
    want = load_labels(folder / "CollectedData_me.csv")
    for got in (load_labels(folder), load_labels(folder, "dlc"), read_dlc(folder)):
        assert got.videos == want.videos
        assert [(f.frame_idx, len(f.instances)) for f in got.frames] == [(0, 1), (1, 1)]
        for a, b in zip(got.frames, want.frames, strict=True):
            assert_same_instances(a, b, got, want)
    # DLC's scorer is the labeler: it becomes each instance's author
    assert {i.author for f in want.frames for i in f.instances} == {"me"}


def test_a_folder_with_only_the_h5_table(tmp_path: Path) -> None:
    folder = labeled_data_folder(tmp_path)
    csv = folder / "CollectedData_me.csv"
    want = load_labels(csv)
    write_h5_as_deeplabcut(csv)
    csv.unlink()
    got = read_dlc(folder)
    assert got.videos == want.videos
    for a, b in zip(got.frames, want.frames, strict=True):
        assert (a.video, a.frame_idx) == (b.video, b.frame_idx)
        assert_same_instances(a, b, got, want)
    assert got.frames[0].instances[0].author == "me"


def test_folder_errors_name_the_folder(tmp_path: Path) -> None:
    two = labeled_data_folder(tmp_path / "a", scorers=("me", "you"))
    with pytest.raises(FormatError, match="several scorers") as info:
        read_dlc(two)
    assert "CollectedData_me.csv" in str(info.value)
    assert "CollectedData_you.csv" in str(info.value)
    empty = tmp_path / "b"
    write_images(empty, (8, 8), 1)
    with pytest.raises(FormatError, match="no CollectedData_"):
        load_labels(empty, "dlc")
    with pytest.raises(FormatError, match="cannot tell the label format"):
        detect_format(empty)


def test_a_yolo_folder_is_still_yolo(tmp_path: Path) -> None:
    (tmp_path / "ds" / "labels").mkdir(parents=True)
    assert detect_format(tmp_path / "ds") == "yolo"


def test_write_to_a_folder_makes_a_deeplabcut_project(
    toy_labels: LabelSet, tmp_path: Path
) -> None:
    import pandas as pd

    out = tmp_path / "dlc-project"
    save_labels(toy_labels, out, "dlc", scorer="Pranav")
    for v, name in enumerate(["vidA", "vidB"]):
        folder = out / "labeled-data" / name
        frames = [f for f in toy_labels.frames if f.video == v]
        images = [
            Path(toy_labels.videos[v].image_files[f.frame_idx]).name for f in frames
        ]
        assert sorted(p.name for p in folder.glob("*.png")) == images
        # as DeepLabCut reads them (multi-animal: 4 header rows)
        csv = pd.read_csv(
            folder / "CollectedData_Pranav.csv",
            header=[0, 1, 2, 3],
            index_col=[0, 1, 2],
        )
        h5 = pd.read_hdf(folder / "CollectedData_Pranav.h5", "df_with_missing")
        for table in (csv, h5):
            assert list(table.index) == [("labeled-data", name, i) for i in images]
            assert list(table.columns.names) == [
                "scorer",
                "individuals",
                "bodyparts",
                "coords",
            ]
            assert set(table.columns.get_level_values("scorer")) == {"Pranav"}
            for frame, image in zip(frames, images, strict=True):
                for inst in frame.instances:
                    track = toy_labels.tracks[inst.track_id]
                    for k, part in enumerate(toy_labels.skeleton.keypoints):
                        row = ("labeled-data", name, image)
                        x = table.loc[row, ("Pranav", track, part, "x")]
                        if inst.visibility[k] == 0:
                            assert np.isnan(x)
                        else:
                            assert x == inst.keypoints[k, 0]
        # and etholoop reads it back
        back = read_dlc(folder)
        assert [Path(p).name for p in back.videos[0].image_files] == images
        for got, want in zip(back.frames, frames, strict=True):
            assert_same_instances(got, want, back, toy_labels, visibility=False)
        assert {i.author for f in back.frames for i in f.instances} == {"Pranav"}


def test_frames_of_a_video_file_become_dlc_style_images(tmp_path: Path) -> None:
    from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, VideoRef

    cache = write_images(tmp_path / "cache", (16, 16), 2)
    inst = Instance(keypoints=[[1.25, 2.5]])
    labels = LabelSet(
        Skeleton(("nose",)),
        [VideoRef(str(tmp_path / "mouse3.mp4"))],
        [FrameLabels(0, 7, [inst]), FrameLabels(0, 120, [inst])],
    )
    images = {(0, 7): cache[0], (0, 120): cache[1]}
    # DLC zero-pads the frame index to the digits of the frame count
    save_labels(labels, tmp_path / "a", "dlc", images=images, n_frames=[1500])
    folder = tmp_path / "a" / "labeled-data" / "mouse3"
    assert sorted(p.name for p in folder.iterdir()) == [
        "CollectedData_etholoop.csv",
        "CollectedData_etholoop.h5",
        "img0007.png",
        "img0120.png",
    ]
    back = read_dlc(folder)
    assert [f.instances[0].keypoints.tolist() for f in back.frames] == [
        [[1.25, 2.5]]
    ] * 2
    save_labels(labels, tmp_path / "b", "dlc", images=images)
    names = sorted(p.name for p in (tmp_path / "b/labeled-data/mouse3").glob("*.png"))
    assert names == ["img007.png", "img120.png"]


def test_a_project_folder_reads_every_labeled_data_folder(
    toy_labels: LabelSet, tmp_path: Path
) -> None:
    out = tmp_path / "dlc-project"
    save_labels(toy_labels, out, "dlc")
    assert detect_format(out) == "dlc"
    back = load_labels(out)
    assert [Path(v.path).name for v in back.videos] == ["vidA", "vidB"]
    assert back.tracks == toy_labels.tracks
    assert len(back.frames) == len(toy_labels.frames)
    for got, want in zip(back.frames, toy_labels.frames, strict=True):
        assert got.video == want.video
        assert_same_instances(got, want, back, toy_labels, visibility=False)
