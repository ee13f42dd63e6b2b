"""The frame cache: each frame's image, video frames extracted once as PNG."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.frame_cache import cache_image_sequence, frame_image_paths
from etholoop.ingest import add_videos
from etholoop.project import Project
from etholoop.store import get_or_add_frame, list_videos
from etholoop.types import VideoRef
from etholoop.video import probe_images


@pytest.fixture
def project(tmp_path: Path, synthetic_mp4: Path) -> Iterator[Project]:
    """A project holding the 48-frame synthetic video."""
    config = ProjectConfig(
        name="cache", animals=1, skeleton=SkeletonConfig(keypoints=["a"])
    )
    project = Project.create(tmp_path / "cache", config)
    add_videos(project, [synthetic_mp4])
    yield project
    project.close()


def _frames(project: Project, images: dict[int, str | None]) -> dict[int, int]:
    """Frame rows of the video for `{frame idx: stored image path}`; idx -> id."""
    with project.store.session() as session:
        (video,) = list_videos(session)
        return {
            idx: get_or_add_frame(
                session, video_id=video.id, frame_idx=idx, image_path=path
            ).id
            for idx, path in images.items()
        }


def test_video_frames_are_extracted_once_and_stored_images_used(
    project: Project, frame_number: Callable[[np.ndarray], int]
) -> None:
    stored = project.root / "elsewhere.png"
    Image.new("RGB", (8, 8)).save(stored)
    ids = _frames(project, {30: None, 5: None, 17: "elsewhere.png", 9: "gone.png"})
    paths = frame_image_paths(project, list(ids.values()))
    assert paths[ids[17]] == stored
    for idx in (30, 5, 9):
        assert paths[ids[idx]].parent.parent == project.frames_dir
        assert paths[ids[idx]].name == f"{idx:06d}.png"
        assert frame_number(np.asarray(Image.open(paths[ids[idx]]))) == idx
    written = {p: p.stat().st_mtime_ns for p in paths.values()}
    assert frame_image_paths(project, [ids[5], ids[30]]) == {
        ids[5]: paths[ids[5]],
        ids[30]: paths[ids[30]],
    }
    assert {p: p.stat().st_mtime_ns for p in paths.values()} == written


def test_an_image_sequence_keeps_its_names_unless_two_are_alike(
    project: Project, tmp_path: Path
) -> None:
    files = []
    for folder, name in [("a", "x.png"), ("a", "y.png"), ("b", "x.png")]:
        (tmp_path / folder).mkdir(exist_ok=True)
        Image.new("RGB", (8, 8), (len(files) * 50, 0, 0)).save(tmp_path / folder / name)
        files.append(str(tmp_path / folder / name))
    distinct = VideoRef(str(tmp_path / "a"), files[:2])
    names = cache_image_sequence(
        project, probe_images([Path(f) for f in files[:2]]), distinct
    )
    assert names == ["x.png", "y.png"]
    clashing = VideoRef(str(tmp_path), files)
    info = probe_images([Path(f) for f in files])
    assert cache_image_sequence(project, info, clashing) == [
        "000000.png",
        "000001.png",
        "000002.png",
    ]
    cached = project.frame_dir(info.sha256) / "000002.png"
    assert np.asarray(Image.open(cached))[0, 0, 0] == 100


def test_cached_video_frames_are_found_without_the_video(
    tmp_path: Path, synthetic_mp4: Path
) -> None:
    video = tmp_path / "copy.mp4"
    video.write_bytes(synthetic_mp4.read_bytes())
    config = ProjectConfig(
        name="p", animals=1, skeleton=SkeletonConfig(keypoints=["a"])
    )
    with Project.create(tmp_path / "p", config) as project:
        add_videos(project, [video])
        ids = list(_frames(project, {3: None, 40: None}).values())
        paths = frame_image_paths(project, ids)
        video.rename(tmp_path / "moved.mp4")  # opening it now would fail
        assert frame_image_paths(project, ids) == paths
