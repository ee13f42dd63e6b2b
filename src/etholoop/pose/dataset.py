"""Training data for a pose model: a YOLO pose dataset of a cycle's train+val frames.

Only manual instances are training labels, and a frame that still holds
unconfirmed predictions is left out (its labels are not final). Instances
without a box (DeepLabCut and SLEAP labels) get the box evaluation scores
against: their keypoints' box, padded and clipped as `pose.metrics` does.
Validation frames are those the split marked `val`; without any, training
frames validate.
The snapshot lists every frame used with its split and instance versions, so a
model run records exactly which labels it learned from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrs import evolve, frozen
from sqlalchemy import select

from etholoop.errors import ProjectError
from etholoop.io import save_labels
from etholoop.label_files import project_label_set
from etholoop.pose.metrics import BOX_PAD_FRACTION, BOX_PAD_MIN_PX
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.store import latest_cycle
from etholoop.store.models import Frame, InstanceRow, SplitMember
from etholoop.types import FrameLabels, Source

DATA_YAML = "data.yaml"
MANUAL: tuple[Source, ...] = ("manual",)


@frozen
class DatasetSnapshot:
    """A written dataset and the labels it holds.

    Attributes:
        data_yaml: The dataset's `data.yaml`.
        cycle_id: The cycle whose train+val split was used.
        frames: Per frame: `frame_id`, `split` ("train" or "val") and
            `versions` ({instance id: version}).
    """

    data_yaml: Path
    cycle_id: int
    frames: list[dict[str, Any]]

    @property
    def n_train(self) -> int:
        """Frames used for training."""
        return sum(f["split"] == "train" for f in self.frames)

    @property
    def n_val(self) -> int:
        """Frames used for validation only."""
        return sum(f["split"] == "val" for f in self.frames)


def _training_frames(project: Project) -> tuple[int, dict[int, str]]:
    """The latest cycle and its usable train+val frames: {frame id: train|val}."""
    with project.store.session() as session:
        cycle = latest_cycle(session)
        if cycle is None:
            raise ProjectError(
                f"{project.root}: no splits yet; run `etholoop split` first"
            )
        pending = select(InstanceRow.frame_id).where(InstanceRow.source == "predicted")
        labeled = select(InstanceRow.frame_id).where(InstanceRow.source == "manual")
        rows = session.execute(
            select(SplitMember.frame_id, SplitMember.val)
            .join(Frame, Frame.id == SplitMember.frame_id)
            .where(
                SplitMember.cycle_id == cycle.id,
                SplitMember.split == "trainval",
                Frame.id.in_(labeled),
                Frame.id.not_in(pending),
            )
        ).all()
        return cycle.id, {f: "val" if val else "train" for f, val in rows}


def write_pose_dataset(
    project: Project, out_dir: Path, *, report: Reporter = silent
) -> DatasetSnapshot:
    """Write the latest cycle's labeled train+val frames as a YOLO pose dataset.

    Raises:
        ProjectError: there are no splits yet, or no labeled train+val frames.
    """
    cycle_id, splits = _training_frames(project)
    if not any(split == "train" for split in splits.values()):
        raise ProjectError(
            f"{project.root}: no labeled train+val frames to train on; label "
            "frames of the trainval split (etholoop serve) or import labels"
        )
    labels, images = project_label_set(
        project,
        with_images=True,
        frame_ids=list(splits),
        sources=MANUAL,
        report=report,
    )
    with project.store.session() as session:
        rows = session.execute(
            select(InstanceRow.id, InstanceRow.frame_id).where(
                InstanceRow.frame_id.in_(list(splits))
            )
        )
        frame_of: dict[int, int] = dict(rows.all())
    snapshot = []
    for split in ("train", "val"):
        frames = [f for f in labels.frames if splits[_frame_id(f, frame_of)] == split]
        if frames:
            save_labels(
                evolve(labels, frames=frames),
                out_dir,
                "yolo",
                images=images,
                split=split,
                margin=BOX_PAD_MIN_PX,
                pad_fraction=BOX_PAD_FRACTION,
            )
        snapshot += [
            {
                "frame_id": _frame_id(f, frame_of),
                "split": split,
                "versions": {inst.id: inst.version for inst in f.instances},
            }
            for f in frames
        ]
    return DatasetSnapshot(out_dir / DATA_YAML, cycle_id, snapshot)


def _frame_id(frame: FrameLabels, frame_of: dict[int, int]) -> int:
    """The store id of a frame, through the id of one of its stored instances."""
    first = frame.instances[0].id
    assert first is not None
    return frame_of[first]
