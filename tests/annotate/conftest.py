"""A small labeled project and a real uvicorn server on 127.0.0.1 serving it.

`annotation_project`: a synthetic 2-mouse arena video (320x240, 90 frames),
skeleton nose/earL/earR/tailB, behaviors rest/walk/groom, 12 frames sampled and
split into cycle 0, and one frame (`predicted_frame_id`) holding a predicted
instance. `live_server` serves it and returns the base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from etholoop.annotate import serve_in_background
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
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
