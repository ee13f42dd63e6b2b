"""`etholoop behavior train --model clip3d` and predict on a real project and video."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etholoop.behavior.clip3d_train import predict_video
from etholoop.behavior.clips import video_mean_std
from etholoop.project import Project
from etholoop.sessions import get_session
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.runs import get_model_run
from etholoop.synth import make_arena, write_arena
from etholoop.video.reader import PyAVReader
from tests.fixtures.cli import cli_ok, run_cli
from tests.fixtures.network import NetworkGuard

N_FRAMES = 150
BEHAVIORS = ("rest", "walk", "rear")
pytestmark = pytest.mark.slow


def _init(proj: Path, animals: int) -> Path:
    cli_ok(
        "init", proj, "--animals", str(animals), "--keypoints",
        "nose,earL,earR,tailB", "--behaviors", ",".join(BEHAVIORS),
    )  # fmt: skip
    return proj


def _add_arena(
    proj: Path,
    folder: Path,
    name: str,
    *,
    animals: int,
    seed: int,
    n_frames: int,
    gray: bool = False,
    tracks: bool = False,
    label: bool = False,
) -> dict[str, Path]:
    """A synthetic arena video as session `name`, with its tracks and labels."""
    arena = make_arena(
        n_animals=animals, n_frames=n_frames, width=160, height=120, seed=seed,
        behaviors=BEHAVIORS, gray=gray,
    )  # fmt: skip
    files = write_arena(arena, folder / name)
    files["video"] = files["video"].rename(folder / name / f"{name}.mp4")
    cli_ok("add-videos", proj, files["video"])
    if tracks:
        cli_ok("tracks", "import", proj, files["labels"], "--session", name)
    if label:
        cli_ok(
            "behavior", "import", proj, files["behaviors"], "--session", name,
            "--format", "long",
        )  # fmt: skip
    return files


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """One mouse, two short arena videos: arena1 labeled, arena2 not."""
    proj = _init(tmp_path / "proj", 1)
    for name, seed in (("arena1", 3), ("arena2", 1)):
        _add_arena(
            proj, tmp_path, name, animals=1, seed=seed, n_frames=N_FRAMES, gray=True,
            label=name == "arena1",
        )  # fmt: skip
    return proj


def test_clip3d_trains_on_the_pixels_and_predicts_reviewable_ranges(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = NetworkGuard(monkeypatch)  # nothing is downloaded: weights, fonts
    out = cli_ok(
        "behavior", "train", project, "--model", "clip3d", "--epochs", "2",
        "--imsize", "16",
    )  # fmt: skip
    assert "learned from arena1" in out
    run_dir = project / "runs" / "behavior" / "0001"
    epochs = pd.read_csv(run_dir / "clip3d" / "epochs.csv")
    assert len(epochs) == 2 and (run_dir / "clip3d" / "best.pt").is_file()
    with Project.open(project) as p, p.store.session() as session:
        run = get_model_run(session, 1)
        assert run is not None and run.config["model"] == "clip3d"
        assert run.metrics is not None
        assert run.metrics["classes"] == list(BEHAVIORS)  # every frame has one
        assert run.metrics["val_frames"] > 0 and run.metrics["train_frames"] > 0
        video = get_session(session, p, "arena1")
        assert video.pixel_stats is not None  # measured once, then kept
        mean, std = video.pixel_stats
        assert (mean, std) == pytest.approx(video_mean_std(p.resolve(video.path)))

    cli_ok("behavior", "predict", project)
    folder = project / "behavior" / "0001"
    probabilities = pd.read_csv(folder / "arena2.probabilities.csv")
    assert list(probabilities.columns) == ["frame", "individual", *BEHAVIORS]
    assert len(probabilities) == N_FRAMES
    ethogram = pd.read_csv(folder / "arena2.ethogram.csv")
    assert (ethogram[list(BEHAVIORS)].sum(axis=1) <= 1).all()  # exclusive classes
    with Project.open(project) as p, p.store.session() as session:
        ranges = load_behavior_ranges(session, get_session(session, p, "arena2").id)
    assert {r.source for r in ranges} <= {"predicted"}
    bouts = pd.read_csv(folder / "arena2.bouts.csv")
    assert len(bouts) == len(ranges)
    next_out = cli_ok("behavior", "next", project, "--n", "2", "--length", "20")
    assert "arena2" in next_out
    assert guard.attempts == []


def test_a_trained_clip3d_runs_on_real_video_of_another_size_and_rate(
    project: Path, shared_data: Path
) -> None:
    cli_ok(
        "behavior", "train", project, "--model", "clip3d", "--epochs", "1",
        "--imsize", "16",
    )  # fmt: skip
    clip = shared_data / "bsoid_behavior_clips" / "face_groom_hstacked.mp4"
    with PyAVReader(clip) as reader:  # 1350x360 at 15 fps, the arena 160x120 at 30
        n_frames, (height, width) = reader.n_frames, reader.shape[1:3]
    assert (width, height) == (1350, 360)
    checkpoint = project / "runs" / "behavior" / "0001" / "clip3d" / "best.pt"
    probabilities = predict_video(checkpoint, clip, stride=4)
    assert probabilities.shape == (n_frames, len(BEHAVIORS))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_several_animals_need_tracks_to_be_cut_out(tmp_path: Path) -> None:
    proj = _init(tmp_path / "two", 2)
    _add_arena(proj, tmp_path, "arena", animals=2, seed=1, n_frames=60)
    code, out = run_cli("behavior", "train", proj, "--model", "clip3d")
    assert code == 1 and "no tracks to cut each of the 2 animals" in out
    assert not (proj / "runs").exists()


def test_clip3d_sees_each_animal_through_a_window_that_follows_its_tracks(
    tmp_path: Path,
) -> None:
    proj = _init(tmp_path / "pair", 2)
    files = _add_arena(
        proj, tmp_path, "arena", animals=2, seed=2, n_frames=300, tracks=True,
        label=True,
    )  # fmt: skip
    out = cli_ok(
        "behavior", "train", proj, "--model", "clip3d", "--epochs", "1",
        "--imsize", "16",
    )  # fmt: skip
    assert "learned from arena: 600 animal-frames" in out
    with Project.open(proj) as p, p.store.session() as session:
        run = get_model_run(session, 1)
        assert run is not None and run.metrics is not None
        assert run.metrics["train_frames"] + run.metrics["val_frames"] <= 600
    # every animal's labels on arena are labels already: predict a copy of it
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(files["video"].read_bytes() + b"\0")
    cli_ok("add-videos", proj, copy)
    cli_ok("tracks", "import", proj, files["labels"], "--session", "copy")
    cli_ok("behavior", "predict", proj, "copy")
    table = pd.read_csv(proj / "behavior" / "0001" / "copy.probabilities.csv")
    assert len(table) == 2 * 300
    assert sorted(set(table["individual"])) == ["animal0", "animal1"]


def test_sequence_trains_its_three_stages_and_predicts(project: Path) -> None:
    out = cli_ok(
        "behavior", "train", project, "--model", "sequence", "--epochs", "1",
        "--imsize", "32",
    )  # fmt: skip
    assert "learned from arena1" in out
    run_dir = project / "runs" / "behavior" / "0001"
    for stage in ("flow", "extractor", "sequence"):
        assert (run_dir / stage / "best.pt").is_file()
    (features,) = (run_dir / "features").iterdir()
    cli_ok("behavior", "predict", project)
    names = sorted(p.name for p in (run_dir / "features").iterdir())
    assert len(names) == 2 and features.name in names  # arena2's added
    stamp = features.stat().st_mtime_ns
    cli_ok("behavior", "predict", project, "arena1")
    assert features.stat().st_mtime_ns == stamp  # reused, not recomputed
    probabilities = pd.read_csv(
        project / "behavior" / "0001" / "arena2.probabilities.csv"
    )
    assert list(probabilities.columns) == ["frame", "individual", *BEHAVIORS]
    values = probabilities[list(BEHAVIORS)].to_numpy()
    assert len(values) == N_FRAMES and ((values >= 0) & (values <= 1)).all()


def test_evaluate_cross_validates_a_pixel_model_by_time_blocks(
    tmp_path: Path,
) -> None:
    proj = _init(tmp_path / "blocks", 1)
    _add_arena(  # seed 9: each half holds every behavior
        proj, tmp_path, "arena", animals=1, seed=9, n_frames=300, gray=True,
        label=True,
    )  # fmt: skip
    code, out = run_cli(
        "behavior", "evaluate", proj, "--model", "clip3d", "--epochs", "1",
        "--imsize", "16", "--blocks", "2", "--gap", "16", "--json",
    )  # fmt: skip
    assert code == 0, out
    metrics = json.loads(out)
    run_dir = proj / "runs" / "behavior" / f"{metrics['run']:04d}"
    assert (run_dir / "fold1" / "clip3d" / "best.pt").is_file()
    assert (run_dir / "fold2" / "clip3d" / "best.pt").is_file()
    split = json.loads((run_dir / "split.json").read_text())
    assert split["kind"] == "blocks" and split["sessions"] == ["arena"]
    assert split["folds"] == [{"arena": [[0, 150]]}, {"arena": [[150, 300]]}]
    assert metrics["frames"] == 300
    assert set(metrics["per_behavior"]) == set(BEHAVIORS)


def test_an_unfinished_sequence_run_resumes_at_its_first_unfinished_stage(
    project: Path,
) -> None:
    args = ["--model", "sequence", "--epochs", "1", "--imsize", "32"]
    cli_ok("behavior", "train", project, *args)
    run_dir = project / "runs" / "behavior" / "0001"
    flow_done = (run_dir / "flow" / "best.pt").stat().st_mtime_ns
    shutil.rmtree(run_dir / "sequence")  # as if killed during the last stage
    with Project.open(project) as p, p.store.session() as session:
        run = get_model_run(session, 1)
        assert run is not None
        run.status = "interrupted"
    out = cli_ok("behavior", "train", project, "--resume", "1", "--epochs", "1")
    assert "behavior run 1" in out
    assert (run_dir / "flow" / "best.pt").stat().st_mtime_ns == flow_done
    assert (run_dir / "sequence" / "best.pt").is_file()
    code, out = run_cli("behavior", "train", project, "--resume", "1")
    assert code == 1 and "that run finished" in out
