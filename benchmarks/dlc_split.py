"""The real DeepLabCut open-field frames and the fixed benchmark split, for benchmarks.

`new_project` imports every labeled frame of `../shared/data/dlc_openfield_mouse`
into a fresh one-mouse project; `apply_fixed_split` makes the split of
`../shared/splits/dlc_openfield_seed0.json` its cycle 0 (test scored only, val
picks the epoch, `n_fit` frames of train-fit trained on, the rest reserve). A
smaller training set is the first `n_fit` of `default_rng(0).permutation` over
the sorted train-fit names, so 20 frames are a subset of 40. `DLC_VIDEO` is the
folder's unlabeled video, of another session than the labeled frames.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.label_files import import_labels, project_label_set
from etholoop.project import Project
from etholoop.store import get_or_add_cycle, replace_split_members
from etholoop.store.splits import Membership

SHARED = Path(__file__).resolve().parents[2] / "shared"
DLC_LABELS = (
    SHARED / "data/dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv"
)
FIXED_SPLIT = SHARED / "splits/dlc_openfield_seed0.json"
DLC_VIDEO = SHARED / "data/dlc_openfield_mouse/videos/m3v1mp4.mp4"
DLC_MAP = {"snout": "nose", "leftear": "earL", "rightear": "earR", "tailbase": "tailB"}
MOUSE = SkeletonConfig(
    keypoints=["nose", "earL", "earR", "tailB"],
    edges=[("nose", "earL"), ("nose", "earR"), ("nose", "tailB")],
    symmetry=[("earL", "earR")],
)


def new_project(root: Path) -> Project:
    """A fresh project in `root` holding every labeled DLC frame."""
    shutil.rmtree(root, ignore_errors=True)
    project = Project.create(
        root, ProjectConfig(name=root.name, animals=1, skeleton=MOUSE)
    )
    import_labels(project, DLC_LABELS, keypoint_map=DLC_MAP)
    return project


def frame_ids_by_image(project: Project) -> dict[str, int]:
    """Stored frame id of each labeled frame, by its image file name."""
    found = project_label_set(project, with_images=False)
    labels = found.labels
    return {
        Path(labels.videos[frame.video].image_files[frame.frame_idx]).name: frame_id
        for frame, frame_id in zip(labels.frames, found.frame_ids, strict=True)
    }


def apply_fixed_split(
    project: Project, n_fit: int | None = None
) -> dict[str, list[int]]:
    """Make the fixed split cycle 0's splits; frame ids of test, val and fit."""
    split = json.loads(FIXED_SPLIT.read_text())
    ids = frame_ids_by_image(project)
    val = [ids[name] for name in split["val"]]
    fit_names = sorted(set(split["train"]) - set(split["val"]))
    order = np.random.default_rng(0).permutation(len(fit_names))
    fit = [ids[fit_names[i]] for i in order[:n_fit]]
    test = [ids[name] for name in split["test"]]
    chosen = {*test, *val, *fit}
    members = (
        [Membership(f, "test") for f in test]
        + [Membership(f, "trainval", val=True) for f in val]
        + [Membership(f, "trainval") for f in fit]
        + [Membership(f, "reserve") for f in ids.values() if f not in chosen]
    )
    with project.store.session() as session:
        replace_split_members(session, get_or_add_cycle(session).id, members)
    return {"test": test, "val": val, "fit": fit}
