"""A small labeled project and a real uvicorn server on 127.0.0.1 serving it.

`annotation_project`: a synthetic 2-mouse arena video (320x240, 90 frames),
skeleton nose/earL/earR/tailB, behaviors rest/walk/groom, 12 frames sampled and
split into cycle 0, and one frame (`predicted_frame_id`) holding a predicted
instance. `live_server` serves it and returns the base URL.

`image_folder_project`: a one-mouse project whose only "video" is a DeepLabCut
labeled-data folder (5 PNGs, 160x120, `img0000.png`..`img0004.png`) imported
from its `CollectedData_x.csv`: frames 0, 2 and 4 hold a box-less instance
(`IMAGE_FOLDER_LABELS`), frames 1 and 3 are unlabeled rows. `image_server`
serves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from etholoop.annotate import serve_in_background
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
from etholoop.label_files import import_labels
from etholoop.project import Project
from etholoop.sampling import sample_frames, split_frames
from etholoop.store import save_frame_instances
from etholoop.store.models import Frame
from etholoop.synth import make_arena, write_arena
from etholoop.types import Instance

KEYPOINTS = ["nose", "earL", "earR", "tailB"]
EDGES = [("nose", "earL"), ("nose", "earR"), ("earL", "tailB"), ("earR", "tailB")]
BEHAVIORS = ["rest", "walk", "groom"]
TOKEN = "s3cret-token"
IMAGE_SIZE = (160, 120)
IMAGE_FOLDER_LABELS: dict[int, list[list[float] | None]] = {
    0: [[60.5, 40.25], [52.0, 34.0], [68.0, 34.0], [62.0, 90.0]],
    2: [[70.0, 45.0], [61.5, 38.0], [78.5, 38.0], None],
    4: [[80.0, 50.0], [72.0, 43.0], [88.0, 43.0], [78.0, 96.0]],
}
"""Keypoints (nose, earL, earR, tailB; None = empty cells) per labeled image."""


@pytest.fixture(scope="session")
def arena_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic arena video with two mice, 320x240, 90 frames."""
    folder = tmp_path_factory.mktemp("annotate-arena")
    arena = make_arena(n_animals=2, n_frames=90, width=320, height=240, seed=3)
    return write_arena(arena, folder)["video"]


@pytest.fixture
def annotation_project(tmp_path: Path, arena_video: Path) -> Iterator[Project]:
    """A fresh project with 12 sampled frames split into cycle 0."""
    config = ProjectConfig(
        name="annotate-test",
        animals=2,
        skeleton=SkeletonConfig(keypoints=KEYPOINTS, edges=EDGES),
        behaviors=BEHAVIORS,
    )
    project = Project.create(tmp_path / "project", config)
    add_videos(project, [arena_video])
    sample_frames(project, n=12, strategy="uniform")
    split_frames(project, test=0.25, n_trainval=4, n_predict=3)
    yield project
    project.close()


@pytest.fixture
def predicted_frame_id(annotation_project: Project) -> int:
    """The id of a frame that holds one predicted instance (the first frame)."""
    with annotation_project.store.session() as session:
        frame_id = session.scalars(select(Frame.id).order_by(Frame.id)).first()
        assert frame_id is not None
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[
                Instance(
                    keypoints=np.array([[100, 80], [90, 70], [110, 70], [100, 130]]),
                    box=[80, 60, 120, 140],
                    box_score=0.8,
                    keypoint_scores=[0.9, 0.7, 0.6, 0.8],
                    source="predicted",
                )
            ],
            base_versions={},
        )
    return frame_id


@pytest.fixture
def live_server(annotation_project: Project) -> Iterator[str]:
    """Base URL of a real server for `annotation_project`, e.g. http://127.0.0.1:PORT."""
    with serve_in_background(annotation_project) as url:
        yield url


@pytest.fixture
def live_server_with_token(annotation_project: Project) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a real server that requires a token."""
    with serve_in_background(annotation_project, TOKEN) as url:
        yield url, TOKEN


def _write_dlc_folder(root: Path) -> Path:
    """A DLC project's `labeled-data/mouse/` folder with its PNGs and label table."""
    folder = root / "labeled-data" / "mouse"
    folder.mkdir(parents=True)
    width, height = IMAGE_SIZE
    yy, xx = np.mgrid[:height, :width]
    header = [
        ["scorer", *["x"] * 2 * len(KEYPOINTS)],
        ["bodyparts", *[k for k in KEYPOINTS for _ in "xy"]],
        ["coords", *["x", "y"] * len(KEYPOINTS)],
    ]
    rows = []
    for t in range(5):
        # a dark floor with a lighter mouse-like blob that moves a little
        blob = (xx - 60 - 5 * t) ** 2 / 30**2 + (yy - 60) ** 2 / 40**2 < 1
        pixels = np.where(blob, 150, 40).astype(np.uint8)
        name = f"img{t:04d}.png"
        Image.fromarray(np.dstack([pixels, pixels, pixels + 10])).save(folder / name)
        points = IMAGE_FOLDER_LABELS.get(t, [None] * len(KEYPOINTS))
        cells = [str(v) if p else "" for p in points for v in (p or [0, 0])]
        rows.append([f"labeled-data/mouse/{name}", *cells])
    table = folder / "CollectedData_x.csv"
    table.write_text("\n".join(",".join(r) for r in header + rows) + "\n")
    return table


@pytest.fixture
def image_folder_project(tmp_path: Path) -> Iterator[Project]:
    """A one-mouse project holding only an imported DLC image folder (no video)."""
    config = ProjectConfig(
        name="image-folder-test",
        animals=1,
        skeleton=SkeletonConfig(keypoints=KEYPOINTS, edges=EDGES),
        behaviors=BEHAVIORS,
    )
    project = Project.create(tmp_path / "image-project", config)
    report = import_labels(project, _write_dlc_folder(tmp_path / "dlc"))
    assert report.n_frames == len(IMAGE_FOLDER_LABELS)
    yield project
    project.close()


@pytest.fixture
def image_server(image_folder_project: Project) -> Iterator[str]:
    """Base URL of a real server for `image_folder_project`."""
    with serve_in_background(image_folder_project) as url:
        yield url
