"""NWB export: a file pynwb opens, whose ndx-pose PoseEstimation holds the keypoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.io import write_nwb
from etholoop.types import LabelSet


def test_nwb_holds_the_keypoints(toy_labels: LabelSet, tmp_path: Path) -> None:
    from ndx_pose import PoseEstimation
    from pynwb import NWBHDF5IO

    target = tmp_path / "labels.nwb"
    write_nwb(toy_labels, target, fps=30.0)
    with NWBHDF5IO(str(target), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        behavior = nwbfile.processing["behavior"]
        poses = {
            name: c
            for name, c in behavior.data_interfaces.items()
            if isinstance(c, PoseEstimation)
        }
        assert sorted(poses) == [
            "video0_mouseA",
            "video0_mouseB",
            "video1_mouseA",
            "video1_mouseB",
        ]
        pose = poses["video1_mouseB"]
        assert list(pose.skeleton.nodes[:]) == list(toy_labels.skeleton.keypoints)
        assert list(pose.source_video.external_file[:]) == list(
            toy_labels.videos[1].image_files
        )
        for frame in toy_labels.frames:
            if frame.video != 1:
                continue
            inst = frame.instances[1]
            for k, name in enumerate(toy_labels.skeleton.keypoints):
                series = pose.pose_estimation_series[name]
                assert series.rate == 30.0
                np.testing.assert_array_equal(
                    series.data[frame.frame_idx], inst.keypoints[k]
                )
                assert series.control[frame.frame_idx] == inst.visibility[k]
        # an unlabeled frame is NaN
        assert np.isnan(pose.pose_estimation_series["nose"].data[2]).all()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # sleap-io's ndx-pose use
def test_reads_an_nwb_written_by_sleap_io(shared_data: Path, tmp_path: Path) -> None:
    import sleap_io as sio

    from etholoop.io import load_labels

    slp = shared_data / "sleap_two_flies_tracks" / "clip.predictions.slp"
    target = tmp_path / "pred.nwb"
    sio.save_nwb(sio.load_slp(str(slp), open_videos=False), str(target), "predictions")
    labels = load_labels(target)
    assert labels.skeleton.keypoints == ("head", "thorax")
    assert labels.tracks == ("female", "male")
    assert len(labels.frames) == 1500
    assert labels.n_instances == 2948  # the male is missing in 52 frames
    inst = labels.frames[0].instances[0]
    assert inst.source == "predicted"
    assert inst.keypoint_scores is not None
