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

from etholoop.errors import ProjectError
from etholoop.io import save_labels
from etholoop.label_files import project_label_set
from etholoop.pose.metrics import BOX_PAD_FRACTION, BOX_PAD_MIN_PX
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.store import latest_cycle
from etholoop.store.pose import TrainingFrame, training_frames
from etholoop.types import Source

DATA_YAML = "data.yaml"
MANUAL: tuple[Source, ...] = ("manual",)


@frozen
class DatasetSnapshot:
    """A written dataset and the labels it holds.

    Attributes:
        data_yaml: The dataset's `data.yaml`.
        cycle_id: The cycle whose train+val split was used.
        frames: Per frame, by frame id: `frame_id`, `split` ("train" or "val"),
            `video_id`, `video` (its path as stored), `frame_idx` and
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


def _training_frames(project: Project) -> tuple[int, dict[int, TrainingFrame]]:
    """The latest cycle and its usable train+val frames, by frame id."""
    with project.store.session() as session:
        cycle = latest_cycle(session)
        if cycle is None:
            raise ProjectError(
                f"{project.root}: no splits yet; run `etholoop split` first"
            )
        frames = training_frames(session, cycle_id=cycle.id)
        return cycle.id, {f.frame_id: f for f in frames}


def write_pose_dataset(
    project: Project, out_dir: Path, *, report: Reporter = silent
) -> DatasetSnapshot:
    """Write the latest cycle's labeled train+val frames as a YOLO pose dataset.

    Raises:
        ProjectError: there are no splits yet, or no labeled train+val frames.
    """
    cycle_id, usable = _training_frames(project)
    if all(f.val for f in usable.values()):
        raise ProjectError(
            f"{project.root}: no labeled train+val frames to train on; label "
            "frames of the trainval split (etholoop serve) or import labels"
        )
    found = project_label_set(
        project,
        with_images=True,
        frame_ids=list(usable),
        sources=MANUAL,
        report=report,
    )
    labels = found.labels
    snapshot: list[dict[str, Any]] = []
    for split in ("train", "val"):
        chosen = [
            (frame, usable[frame_id])
            for frame, frame_id in zip(labels.frames, found.frame_ids, strict=True)
            if usable[frame_id].val == (split == "val")
        ]
        if chosen:
            save_labels(
                evolve(labels, frames=[frame for frame, _ in chosen]),
                out_dir,
                "yolo",
                images=found.images,
                split=split,
                margin=BOX_PAD_MIN_PX,
                pad_fraction=BOX_PAD_FRACTION,
            )
        snapshot += [
            {
                "frame_id": used.frame_id,
                "split": split,
                "video_id": used.video_id,
                "video": used.video,
                "frame_idx": used.frame_idx,
                "versions": {inst.id: inst.version for inst in frame.instances},
            }
            for frame, used in chosen
        ]
    snapshot.sort(key=lambda f: f["frame_id"])
    return DatasetSnapshot(out_dir / DATA_YAML, cycle_id, snapshot)
