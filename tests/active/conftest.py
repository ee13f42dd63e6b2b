"""Projects for the active-learning tests.

The shared `arena_videos` and `make_project` (`tests.fixtures.projects`) serve
the cycle tests. `arena_labels`:
a one-mouse synthetic arena (96x72, 48 frames, keypoints nose/earL/earR/tailB)
with its ground truth as `arena.slp`; `labeled_project` is a fresh project that
imported it, so every frame holds one complete manual instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.label_files import import_labels
from etholoop.project import Project
from etholoop.synth import make_arena, write_arena

N_ARENA_FRAMES = 48


@pytest.fixture(scope="session")
def arena_labels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`arena.slp` of a one-mouse arena: every frame labeled (truth)."""
    arena = make_arena(
        n_animals=1, n_frames=N_ARENA_FRAMES, width=96, height=72, seed=4
    )
    return write_arena(arena, tmp_path_factory.mktemp("active-arena"))["labels"]


@pytest.fixture
def labeled_project(tmp_path: Path, arena_labels: Path) -> Iterator[Project]:
    """A fresh one-mouse project whose every frame holds its true labels."""
    config = ProjectConfig(
        name="simulated",
        animals=1,
        skeleton=SkeletonConfig(
            keypoints=["nose", "earL", "earR", "tailB"],
            edges=[("nose", "earL"), ("nose", "earR"), ("nose", "tailB")],
            symmetry=[("earL", "earR")],
        ),
    )
    project = Project.create(tmp_path / "simulated", config)
    report = import_labels(project, arena_labels)
    assert report.n_frames == N_ARENA_FRAMES
    yield project
    project.close()
