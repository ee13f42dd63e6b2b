"""Project folders: created and opened from a `Path` or a plain string."""

from __future__ import annotations

from pathlib import Path

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.project import Project

CONFIG = ProjectConfig(
    name="demo", animals=1, skeleton=SkeletonConfig(keypoints=["nose", "tail"])
)


def test_create_and_open_take_a_string(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    with Project.create(str(root), CONFIG) as project:
        assert project.root == root.resolve()
    with Project.open(str(root)) as project:
        assert project.root == root.resolve()
        assert project.config == CONFIG
