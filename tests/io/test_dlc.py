"""DeepLabCut table layouts beyond the real files: DLC >= 2.3 index columns, gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from etholoop.io import load_labels, save_labels
from tests.io.helpers import write_images

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
