"""`etholoop analyze`: new videos to tracks, ethograms and bouts in one command.

One project is built once: a heatmap pose run trained for one epoch on a
16-frame, two-mouse arena (batch 2, so that its few steps still find the mice)
and a pose-feature behavior run trained on the ground-truth tracks and
behaviors of another arena, imported as a tracks-only session. Each test
analyzes a copy of it with new videos: a good synthetic arena and a truncated
mp4, or, once the project's video is normalized, an arena of another size.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from etholoop.io.tracks import read_tracks
from etholoop.project import Project
from etholoop.store import list_videos
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.runs import find_finished_run
from etholoop.synth import make_arena, write_arena
from tests.fixtures.cli import cli_ok, run_cli

pytestmark = pytest.mark.slow

BEHAVIORS = ("rest", "walk", "groom", "rear", "chase")
TRACK_FORMATS = ("slp", "nc", "csv", "nwb", "quality")
BEHAVIOR_FILES = ("probabilities", "ethogram", "netcdf", "bouts")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny networks on one thread (`ETHOLOOP_THREADS`), torch's count restored."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ETHOLOOP_THREADS", "1")
        before = torch.get_num_threads()
        yield
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """New videos: good.mp4 (a 40-frame arena) and corrupt.mp4 (one cut short)."""
    root = tmp_path_factory.mktemp("new-videos")
    files = write_arena(
        make_arena(n_animals=2, n_frames=40, width=96, height=64, seed=4), root / "a"
    )
    good = files["video"].rename(root / "good.mp4")
    data = good.read_bytes()
    corrupt = root / "corrupt.mp4"
    corrupt.write_bytes(data[: len(data) // 2])
    return {"good": good, "corrupt": corrupt}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a finished pose run (1) and behavior run (2)."""
    root = tmp_path_factory.mktemp("analyze")
    pose = write_arena(
        make_arena(n_animals=2, n_frames=16, width=96, height=64, seed=3),
        root / "pose",
    )
    labeled = write_arena(
        make_arena(n_animals=2, n_frames=200, width=96, height=64, seed=5),
        root / "labeled",
    )
    proj = root / "proj"
    cli_ok(
        "init", proj, "--animals", "2", "--keypoints", "nose,earL,earR,tailB",
        "--behaviors", ",".join(BEHAVIORS),
    )  # fmt: skip
    with (proj / "etholoop.yaml").open("a") as config:
        config.write("behavior:\n  trees: 20\n")
    cli_ok("import", proj, pose["labels"])
    cli_ok("split", proj, "--test", "0.1", "--train-val", "12", "--predict", "0")
    cli_ok("train", proj, "--epochs", "1", "--batch", "2", "--device", "cpu")
    cli_ok("tracks", "import", proj, labeled["labels"], "--session", "labeled")
    cli_ok(
        "behavior", "import", proj, labeled["behaviors"], "--session", "labeled",
        "--format", "long",
    )  # fmt: skip
    cli_ok("behavior", "train", proj)
    return proj


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    """A fresh copy of the trained project (its pose video stays where it is)."""
    return Path(shutil.copytree(trained, tmp_path / "proj"))


def _stage_lines(out: str, video: Path) -> dict[str, str]:
    """Stage -> status of the progress lines printed for `video`."""
    lines = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[2].rstrip(":") == str(video):
            lines[words[0]] = words[1]
    return lines


def _good_outputs(project: Path) -> dict[str, Path]:
    """Every file the good video's tracking and prediction wrote."""
    (track_dir,) = (d for d in (project / "tracks").iterdir() if d.name != "imported")
    suffixes = {"slp": ".slp", "nc": ".nc", "csv": ".csv", "nwb": ".nwb"}
    files = {fmt: track_dir / f"good{s}" for fmt, s in suffixes.items()}
    files["quality"] = track_dir / "good.quality.json"
    behavior = project / "behavior" / "0002"
    for kind, suffix in zip(
        BEHAVIOR_FILES,
        (".probabilities.csv", ".ethogram.csv", ".ethogram.nc", ".bouts.csv"),
        strict=True,
    ):
        files[kind] = behavior / f"good{suffix}"
    return files


def _stamps(files: dict[str, Path]) -> dict[str, int]:
    return {kind: path.stat().st_mtime_ns for kind, path in files.items()}


def _predicted(project: Path) -> list[tuple[int | None, int | None]]:
    """(id, version) of the good video's stored behavior ranges."""
    with Project.open(project) as p, p.store.session() as session:
        (video,) = [v for v in list_videos(session) if v.path.endswith("good.mp4")]
        return [(r.id, r.version) for r in load_behavior_ranges(session, video.id)]


def _latest_runs(project: Path) -> dict[str, tuple[int, int | None]]:
    """(id, sessions skipped) of the latest tracking and prediction runs."""
    latest = {}
    with Project.open(project) as p, p.store.session() as session:
        for stage in ("track", "behavior-predict"):
            run = find_finished_run(session, stage=stage)
            assert run is not None
            latest[stage] = (run.id, (run.metrics or {}).get("skipped"))
    return latest


def test_a_good_and_a_corrupt_video_then_a_rerun_that_redoes_nothing(
    project: Path, videos: dict[str, Path]
) -> None:
    good, corrupt = videos["good"], videos["corrupt"]
    code, out = run_cli("analyze", project, good, corrupt)
    assert code == 1, out
    assert _stage_lines(out, good) == {
        "add": "done",
        "normalize": "skipped",
        "track": "done",
        "predict": "done",
    }
    assert out.count("the project has no normalized videos") == 1
    assert _stage_lines(out, corrupt) == {"add": "failed"}
    (reason,) = [line for line in out.splitlines() if f"{corrupt}:" in line]
    assert "failed" in reason and len(reason.split(f"{corrupt}:", 1)[1]) > 5
    assert "1 video(s) failed" in out and "Traceback" not in out

    files = _good_outputs(project)
    assert all(path.is_file() for path in files.values()), files
    ethogram = pd.read_csv(files["ethogram"])
    assert list(ethogram.columns) == ["frame", "individual", *BEHAVIORS]
    assert len(ethogram) == 2 * 40
    bouts = pd.read_csv(files["bouts"])
    assert {"animal", "behavior", "start", "stop"} <= set(bouts.columns)
    assert len(_predicted(project)) == len(bouts)  # the bouts are ranges to review

    stamps, ranges = _stamps(files), _predicted(project)
    before = _latest_runs(project)
    code, again = run_cli("analyze", project, good, corrupt)
    assert code == 1, again
    assert _stage_lines(again, good) == {
        "add": "skipped",
        "normalize": "skipped",
        "track": "skipped",
        "predict": "skipped",
    }
    assert _stage_lines(again, corrupt) == {"add": "failed"}
    assert _stamps(files) == stamps and _predicted(project) == ranges
    # the tracking run is resumed; a new prediction run records a call that
    # skipped everything
    after = _latest_runs(project)
    assert after["track"] == before["track"]
    assert after["behavior-predict"] == (before["behavior-predict"][0] + 1, 1)
    out = cli_ok("behavior", "predict", project, "good")
    assert "skipped good" in out and _stamps(files) == stamps

    files["nc"].unlink()  # new tracks: tracked again, so predicted again
    code, third = run_cli("analyze", project, good)
    assert code == 0, third
    assert _stage_lines(third, good) == {
        "add": "skipped",
        "normalize": "skipped",
        "track": "done",
        "predict": "done",
    }
    assert _stamps(files)["bouts"] > stamps["bouts"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--pose-run", "no finished pose model run with id 999"),
        ("--behavior-run", "no finished behavior training run with id 999"),
    ],
)
def test_a_run_that_does_not_exist_is_one_line_and_writes_nothing(
    project: Path, videos: dict[str, Path], option: str, message: str
) -> None:
    with Project.open(project) as p, p.store.session() as session:
        before = [v.path for v in list_videos(session)]
    tracks = sorted((project / "tracks").iterdir())  # the imported ones
    code, out = run_cli("analyze", project, videos["good"], option, "999")
    assert code == 1 and message in out and "\n" not in out.strip(), out
    assert sorted((project / "tracks").iterdir()) == tracks
    assert not (project / "behavior").exists()
    with Project.open(project) as p, p.store.session() as session:
        assert [v.path for v in list_videos(session)] == before


def test_report_is_written_once_at_the_end_with_the_new_video(
    project: Path, videos: dict[str, Path]
) -> None:
    try:
        from etholoop.report import write_report  # noqa: F401
    except ImportError:
        pytest.skip("etholoop.report.write_report is not written yet")
    out = cli_ok("analyze", project, videos["good"], "--report")
    page = project / "report.html"
    assert f"report: {page}" in out
    text = page.read_text(encoding="utf-8")
    assert str(videos["good"]) in text  # the new video has its entries


def test_a_video_of_another_size_is_normalized_like_the_projects_videos(
    project: Path, tmp_path: Path
) -> None:
    cli_ok("preprocess", project, "--size", "80", "--gray", "--start", "0.1")
    files = write_arena(
        make_arena(n_animals=2, n_frames=40, width=160, height=128, seed=6),
        tmp_path / "big",
    )
    big = files["video"].rename(tmp_path / "big.mp4")
    code, out = run_cli("analyze", project, big)
    assert code == 0, out
    assert _stage_lines(out, big) == {
        "add": "done",
        "normalize": "done",
        "track": "done",
        "predict": "done",
    }
    assert "no normalized videos" not in out
    with Project.open(project) as p, p.store.session() as session:
        old, new = list_videos(session, normalized=True)  # by id: the pose video's
        raw = {v.id: v for v in list_videos(session, normalized=False)}[new.parent_id]
        copy_file = p.resolve(new.path)
    assert raw.path.endswith("big.mp4"), raw.path
    assert copy_file.is_file() and copy_file.parent == (project / "videos").resolve()
    # the project's settings, but the whole video: the trim is not taken over
    assert old.params is not None and old.params["start_s"] == 0.1
    assert new.params == {**old.params, "start_s": 0.0, "duration_s": None}
    assert (new.width, new.height, new.n_frames) == (80, 64, raw.n_frames)

    # tracked from the copy: the mice are where the arena's ground truth, scaled
    # to the copy, puts them (the 1-epoch model's keypoints stray a few px)
    (nc,) = project.glob(f"tracks/*/{copy_file.stem}.nc")
    xy = read_tracks(nc).xy
    assert xy.shape[0] == new.n_frames
    found = np.isfinite(xy[..., 0]).any(axis=(1, 2))
    assert found.sum() > new.n_frames // 2
    centre = np.nanmean(xy[found], axis=(1, 2))  # (frames, 2): the mice's mean
    truth = np.load(files["truth"])["xy"][found] * new.width / raw.width
    assert ((centre >= 0) & (centre <= (new.width, new.height))).all(), centre
    offset = np.linalg.norm(centre - np.nanmean(truth, axis=(1, 2)), axis=1)
    assert np.median(offset) < 5, offset  # ~60 px in the raw video's pixels

    code, again = run_cli("analyze", project, big)
    assert code == 0, again
    assert _stage_lines(again, big) == {
        "add": "skipped",
        "normalize": "skipped",
        "track": "skipped",
        "predict": "skipped",
    }
    with Project.open(project) as p, p.store.session() as session:
        assert len(list_videos(session, normalized=True)) == 2
