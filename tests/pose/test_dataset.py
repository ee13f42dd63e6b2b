"""The YOLO pose dataset of a project's train+val frames, on a real store and video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from attrs import evolve
from sqlalchemy import select

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
from etholoop.pose.dataset import write_pose_dataset
from etholoop.pose.metrics import keypoint_errors
from etholoop.project import Project
from etholoop.sampling import sample_frames, split_frames
from etholoop.store import (
    add_frame_instances,
    frame_versions,
    latest_cycle,
    load_split_members,
)
from etholoop.store.models import Frame
from etholoop.types import Instance

WIDTH, HEIGHT = 64, 48  # the synthetic video's frame size
# Imported DLC/SLEAP labels have no box: (keypoints, box training should get).
# The box is the keypoints' box padded by 10 % of its larger side (at least
# 2 px), clipped to the image: the truth box evaluation scores against.
NO_BOX = [
    ([[10.0, 12.0], [30.0, 32.0]], [8.0, 10.0, 32.0, 34.0]),
    ([[1.0, 2.0], [41.0, 22.0]], [0.0, 0.0, 45.0, 26.0]),
]


def test_instances_without_a_box_get_the_box_evaluation_uses(
    tmp_path: Path, synthetic_mp4: Path
) -> None:
    skeleton = SkeletonConfig(keypoints=["nose", "tail"], edges=[("nose", "tail")])
    project = Project.create(
        tmp_path / "p", ProjectConfig(name="p", animals=2, skeleton=skeleton)
    )
    add_videos(project, [synthetic_mp4])
    sample_frames(project, n=4, strategy="uniform")
    instances = [Instance(keypoints=np.array(xy)) for xy, _ in NO_BOX]
    with project.store.session() as session:
        for frame_id in session.scalars(select(Frame.id)):
            add_frame_instances(session, frame_id=frame_id, instances=instances)
    split_frames(project, test=0.0, n_trainval=4, n_predict=0)
    snapshot = write_pose_dataset(project, tmp_path / "dataset")
    project.close()

    label_files = sorted((snapshot.data_yaml.parent / "labels").glob("*/*.txt"))
    assert len(label_files) == 4
    scale = np.array([WIDTH, HEIGHT, WIDTH, HEIGHT], dtype=np.float64)
    for path in label_files:
        boxes = [
            [float(v) for v in line.split()[1:5]]
            for line in path.read_text().splitlines()
        ]
        for (cx, cy, w, h), (_, expected) in zip(boxes, NO_BOX, strict=True):
            box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) * scale
            np.testing.assert_allclose(box, expected, atol=1e-9)
    errors = keypoint_errors(
        [instances], [[]], n_keypoints=2, image_sizes=[(WIDTH, HEIGHT)]
    )
    sides = [max(b[2] - b[0], b[3] - b[1]) for _, b in NO_BOX]
    assert errors.scales == pytest.approx(sides)  # evaluation's truth boxes


def test_the_snapshot_lists_the_usable_frames_their_splits_and_versions(
    tmp_path: Path, synthetic_mp4: Path
) -> None:
    skeleton = SkeletonConfig(keypoints=["nose", "tail"], edges=[("nose", "tail")])
    project = Project.create(
        tmp_path / "p", ProjectConfig(name="p", animals=1, skeleton=skeleton)
    )
    add_videos(project, [synthetic_mp4])
    sample_frames(project, n=8, strategy="uniform")
    manual = Instance(keypoints=np.array(NO_BOX[0][0]))
    guess = evolve(manual, source="predicted", box_score=0.5)
    with project.store.session() as session:
        ids = list(session.scalars(select(Frame.id).order_by(Frame.id)))
        labels = {
            **{f: [manual] for f in ids[:6]},
            ids[5]: [manual, guess],  # an unconfirmed prediction: not final
            ids[6]: [guess],
        }  # ids[7] stays unlabeled
        for frame_id, instances in labels.items():
            add_frame_instances(session, frame_id=frame_id, instances=instances)
    split_frames(project, test=0.0, n_trainval=8, n_predict=0, val_fraction=0.4)
    snapshot = write_pose_dataset(project, tmp_path / "dataset")
    with project.store.session() as session:
        cycle = latest_cycle(session)
        val = {m.frame_id for m in load_split_members(session, cycle.id) if m.val}
        expected = [
            {
                "frame_id": f,
                "split": "val" if f in val else "train",
                "video_id": frame.video_id,
                "video": frame.video.path,
                "frame_idx": frame.frame_idx,
                "versions": frame_versions(session, f),
            }
            for f in ids[:5]
            for frame in [session.get(Frame, f)]
        ]
    project.close()

    assert snapshot.cycle_id == cycle.id and snapshot.frames == expected
    assert 0 < snapshot.n_val < 5 and snapshot.n_train + snapshot.n_val == 5
    images = snapshot.data_yaml.parent / "images"
    assert len(list((images / "train").iterdir())) == snapshot.n_train
    assert len(list((images / "val").iterdir())) == snapshot.n_val
