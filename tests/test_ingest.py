"""Registering and normalizing videos in a project, bad files included."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos, preprocess_videos
from etholoop.project import Project
from etholoop.status import project_status
from etholoop.video import PreprocessParams, open_video
from tests.fixtures.videos import WriteVideo

CONFIG = ProjectConfig(
    name="p", animals=2, skeleton=SkeletonConfig(keypoints=["a", "b"])
)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "proj", CONFIG)
    yield project
    project.close()


@pytest.fixture
def bad_files(tmp_path: Path, make_video: WriteVideo) -> dict[str, Path]:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    good = make_video("good.mp4").read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good[: len(good) // 2])
    return {"missing": tmp_path / "missing.mp4", "text": text, "truncated": truncated}


def test_add_videos_registers_reports_duplicates_and_goes_on(
    project: Project, make_video: WriteVideo, bad_files: dict[str, Path], tmp_path: Path
) -> None:
    first = make_video("a.mp4", n_frames=30, fps=25)
    second = make_video("b.mp4", n_frames=20, width=80, height=60)
    copy = tmp_path / "a-copy.mp4"
    copy.write_bytes(first.read_bytes())
    paths = [first, bad_files["missing"], second, copy, bad_files["text"]]
    report = add_videos(project, [*paths, bad_files["truncated"]], condition="saline")
    assert len(report.added) == 2
    assert report.duplicates == [(str(copy), str(first.resolve()))]
    failed = {Path(f.path).name: f.message for f in report.failed}
    assert set(failed) == {"missing.mp4", "notes.mp4", "truncated.mp4"}
    for name, message in failed.items():
        assert name in message and "\n" not in message
    videos = project_status(project).to_dict()["videos"]
    assert [(v["frames"], v["size"], v["fps"]) for v in videos] == [
        (30, [64, 48], 25.0),
        (20, [80, 60], 25.0),
    ]
    assert {v["condition"] for v in videos} == {"saline"}


def test_bad_videos_alone_write_nothing(
    project: Project, bad_files: dict[str, Path]
) -> None:
    report = add_videos(project, list(bad_files.values()))
    assert report.added == [] and len(report.failed) == 3
    assert project_status(project).to_dict()["videos"] == []


def test_preprocess_writes_registers_and_resumes(
    project: Project, make_video: WriteVideo
) -> None:
    add_videos(project, [make_video("c.mp4", n_frames=40, fps=20, width=96, height=64)])
    params = PreprocessParams(fps=10, size=48, gray=True)
    report = preprocess_videos(project, params)
    assert len(report.written) == 1 and report.failed == []
    normalized = [
        v for v in project_status(project).to_dict()["videos"] if v["normalized_from"]
    ]
    (video,) = normalized
    assert (video["frames"], video["size"], video["fps"]) == (20, [48, 32], 10.0)
    out = project.resolve(video["path"])
    assert out.parent == project.videos_dir
    assert not list(project.videos_dir.glob("*.partial*"))
    with open_video(out) as reader:
        frame = reader.read_frame(3)
    assert frame.shape == (32, 48, 3)
    assert (frame[..., 0] == frame[..., 1]).all()
    again = preprocess_videos(project, params)
    assert (again.written, len(again.skipped)) == ([], 1)
    other = preprocess_videos(project, PreprocessParams(fps=5))
    assert len(other.written) == 1


def test_preprocess_records_a_vanished_video_and_goes_on(
    project: Project, make_video: WriteVideo, tmp_path: Path
) -> None:
    doomed = tmp_path / "doomed.mp4"
    doomed.write_bytes(make_video("d.mp4", n_frames=12).read_bytes())
    add_videos(project, [doomed, make_video("e.mp4", n_frames=14)])
    doomed.unlink()
    report = preprocess_videos(project, PreprocessParams(size=32))
    assert len(report.written) == 1
    (failure,) = report.failed
    assert "doomed.mp4" in failure.message


def test_cli_add_videos_and_preprocess(
    tmp_path: Path, make_video: WriteVideo, bad_files: dict[str, Path]
) -> None:
    runner = CliRunner()
    proj = str(tmp_path / "cli")
    assert (
        runner.invoke(
            app, ["init", proj, "--animals", "1", "--keypoints", "a"]
        ).exit_code
        == 0
    )
    video = str(make_video("f.mp4", n_frames=16))
    result = runner.invoke(app, ["add-videos", proj, video, str(bad_files["text"])])
    assert result.exit_code == 1
    assert "notes.mp4" in result.output and "Added 1 video" in result.output
    result = runner.invoke(
        app, ["preprocess", proj, "--size", "32", "--duration", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert "Preprocessed 1 video" in result.output
