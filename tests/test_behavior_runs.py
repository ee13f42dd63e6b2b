"""`etholoop behavior train/predict/evaluate/next` on a real project and store.

Two synthetic arenas with known behaviors are the sessions; their ground-truth
poses come in through `etholoop tracks import` (SLEAP files), their behaviors
through `etholoop behavior import --format long`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from attrs import evolve

from etholoop.behavior.splits import blocks_of_videos, check_fold
from etholoop.behavior_runs.data import load_sessions
from etholoop.evaluate.behavior import frame_counts
from etholoop.io.ethograms import read_probabilities
from etholoop.project import Project
from etholoop.sessions import get_session
from etholoop.store import list_videos
from etholoop.store.behaviors import load_behavior_ranges, save_behavior_ranges
from etholoop.store.runs import get_model_run
from etholoop.synth import make_arena, write_arena
from tests.fixtures.cli import cli_ok, run_cli

N_FRAMES = 600
BEHAVIORS = ("rest", "walk", "groom", "rear", "chase")


@pytest.fixture(scope="module")
def arenas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Two arenas (video, SLEAP truth, behaviors.csv), named arena1 and arena2."""
    root = tmp_path_factory.mktemp("behavior-arenas")
    out = {}
    for seed in (1, 2):
        arena = make_arena(
            n_animals=2, n_frames=N_FRAMES, width=160, height=120, seed=seed
        )
        files = write_arena(arena, root / f"a{seed}")
        video = files["video"].rename(root / f"a{seed}" / f"arena{seed}.mp4")
        out[f"arena{seed}"] = {**files, "video": video}
    return out


@pytest.fixture
def project(tmp_path: Path, arenas: dict[str, dict[str, Path]]) -> Path:
    """Both arenas with tracks; arena1's behaviors imported, arena2 unlabeled."""
    proj = tmp_path / "proj"
    cli_ok(
        "init", proj, "--animals", "2", "--keypoints", "nose,earL,earR,tailB",
        "--behaviors", ",".join(BEHAVIORS),
    )  # fmt: skip
    with (proj / "etholoop.yaml").open("a") as config:
        config.write("behavior:\n  trees: 30\n")
    for name, files in arenas.items():
        cli_ok("add-videos", proj, files["video"])
        cli_ok("tracks", "import", proj, files["labels"], "--session", name)
    _label(proj, arenas, "arena1")
    return proj


def _label(proj: Path, arenas: dict[str, dict[str, Path]], name: str) -> None:
    cli_ok(
        "behavior", "import", proj, arenas[name]["behaviors"], "--session", name,
        "--format", "long",
    )  # fmt: skip


def _ranges(proj: Path, name: str) -> list:
    with Project.open(proj) as p, p.store.session() as session:
        return load_behavior_ranges(session, get_session(session, p, name).id)


def test_train_then_predict_writes_ethograms_and_ranges_to_review(
    project: Project, arenas: dict[str, dict[str, Path]]
) -> None:
    out = cli_ok("behavior", "train", project)
    assert "learned from arena1: 1200 animal-frames" in out
    run_dir = project / "runs" / "behavior" / "0001"
    split = json.loads((run_dir / "split.json").read_text())
    assert [s["name"] for s in split["sessions"]] == ["arena1"]
    assert split["sessions"][0]["animals"] == {
        "0": [[0, N_FRAMES]],
        "1": [[0, N_FRAMES]],
    }

    cli_ok("behavior", "predict", project)
    folder = project / "behavior" / "0001"
    for name in arenas:
        probabilities = pd.read_csv(folder / f"{name}.probabilities.csv")
        ethogram = pd.read_csv(folder / f"{name}.ethogram.csv")
        assert list(probabilities.columns) == ["frame", "individual", *BEHAVIORS]
        assert len(probabilities) == len(ethogram) == 2 * N_FRAMES
        assert set(np.unique(ethogram[list(BEHAVIORS)])) <= {0, 1}
        netcdf = read_probabilities(folder / f"{name}.ethogram.nc")
        np.testing.assert_allclose(
            netcdf.values.reshape(-1, len(BEHAVIORS)),
            probabilities[list(BEHAVIORS)].to_numpy(),
            atol=1e-4,
        )
        bouts = pd.read_csv(folder / f"{name}.bouts.csv")
        assert list(bouts.columns) == [
            "animal", "behavior", "start", "stop", "duration", "duration_s",
            "mean_probability",
        ]  # fmt: skip
        assert (bouts["duration"] == bouts["stop"] - bouts["start"]).all()
        assert ethogram[list(BEHAVIORS)].to_numpy().sum() == bouts["duration"].sum()

    # arena1 is labeled: no ranges to review; arena2 gets the model's bouts
    assert {r.source for r in _ranges(project, "arena1")} == {"manual"}
    predicted = _ranges(project, "arena2")
    assert predicted and {r.source for r in predicted} == {"predicted"}
    assert all(0 <= (r.score or -1) <= 1 for r in predicted)
    bouts = pd.read_csv(folder / "arena2.bouts.csv")
    assert len(bouts) == len(predicted)

    # the predictions beat always answering the training arena's most frequent
    # behavior, on the behaviors both arenas show
    train = pd.read_csv(arenas["arena1"]["behaviors"])["behavior"]
    truth = pd.read_csv(arenas["arena2"]["behaviors"])["behavior"]
    ethogram = pd.read_csv(folder / "arena2.ethogram.csv")
    shown = [b for b in BEHAVIORS if (train == b).any() and (truth == b).any()]
    assert len(shown) >= 3
    f1, majority = [], []
    for behavior in shown:
        t = (truth == behavior).to_numpy()
        f1.append(np.nan_to_num(frame_counts(t, ethogram[behavior] == 1).f1))
        guess = np.full(t.size, behavior == train.mode()[0])
        majority.append(np.nan_to_num(frame_counts(t, guess).f1))
    assert np.mean(f1) > np.mean(majority) + 0.2


def test_a_confirmed_range_joins_the_next_training_set(project: Path) -> None:
    cli_ok("behavior", "train", project)
    cli_ok("behavior", "predict", project, "arena2")
    with Project.open(project) as p, p.store.session() as session:
        before = {s.name: s.labeled_video(BEHAVIORS) for s in load_sessions(session, p)}
        video = get_session(session, p, "arena2")
        stored = load_behavior_ranges(session, video.id)
        chosen = next(r for r in stored if r.individual == 0)
        confirmed = [evolve(r, source="manual") if r is chosen else r for r in stored]
        save_behavior_ranges(
            session,
            video_id=video.id,
            ranges=confirmed,
            base_versions={r.id: r.version for r in stored if r.id and r.version},
        )
    with Project.open(project) as p, p.store.session() as session:
        after = {s.name: s.labeled_video(BEHAVIORS) for s in load_sessions(session, p)}
    assert before["arena2"] is None
    video = after["arena2"]
    assert video is not None
    unconfirmed = [r for r in stored if r.individual == 0 and r is not chosen]
    assert not video.labeled[:, 1].any()  # animal 1 was not touched
    assert video.labeled[:, 0].all()
    expected = np.zeros((N_FRAMES, len(BEHAVIORS)), bool)
    for r in unconfirmed:  # that behavior counts neither way until reviewed
        expected[r.start : r.stop, BEHAVIORS.index(r.behavior)] = True
    assert video.unknown is not None
    np.testing.assert_array_equal(video.unknown[:, 0], expected)
    known = video.known()[:, 0]
    column = BEHAVIORS.index(chosen.behavior)
    assert known[chosen.start : chosen.stop, column].all()
    positive = np.flatnonzero(video.labels.values[:, 0, column])
    assert positive.tolist() == list(range(chosen.start, chosen.stop))
    out = cli_ok("behavior", "train", project)
    assert "learned from arena2" in out


def test_next_proposes_unlabeled_windows_most_uncertain_first(project: Path) -> None:
    cli_ok("behavior", "train", project)
    cli_ok("behavior", "predict", project)
    out = cli_ok("behavior", "next", project, "--n", "4", "--length", "30")
    table = pd.read_csv(project / "behavior" / "next.csv")
    assert len(table) == 4 and "arena2" in out
    assert set(table["session"]) == {"arena2"}  # arena1 is labeled
    assert (table["stop"] - table["start"] == 30).all()
    assert table["score"].is_monotonic_decreasing
    assert set(table["behavior"]) <= set(BEHAVIORS)


def test_evaluate_by_time_blocks_then_by_session(
    project: Path, arenas: dict[str, dict[str, Path]]
) -> None:
    out = cli_ok("behavior", "evaluate", project, "--blocks", "3")
    assert "macro F1" in out
    run_dir = next((project / "runs" / "behavior").iterdir())
    split = json.loads((run_dir / "split.json").read_text())
    assert split["kind"] == "blocks" and split["sessions"] == ["arena1"]
    tests = [fold["arena1"] for fold in split["folds"]]
    assert [len(t) for t in tests] == [1, 1, 1]  # one contiguous block each
    assert sorted(t[0] for t in tests) == [[0, 200], [200, 400], [400, 600]]
    for name in ("metrics.json", "confusion.png", "ethogram.png"):
        assert (run_dir / name).stat().st_size > 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["frames"] == 2 * N_FRAMES
    assert set(metrics["per_behavior"]) == set(BEHAVIORS)
    assert 0 <= metrics["accuracy"] <= 1 and metrics["macro_f1"] > 0.3

    _label(project, arenas, "arena2")
    code, out = run_cli("behavior", "evaluate", project, "--json")
    assert code == 0, out
    metrics = json.loads(out)
    with Project.open(project) as p, p.store.session() as session:
        run = get_model_run(session, metrics["run"])  # the split is in the store
        assert run is not None
        split = run.config["split"]
    assert split["kind"] == "videos"
    assert split["sessions"] == ["arena1", "arena2"]
    assert metrics["frames"] == 4 * N_FRAMES


def test_time_block_folds_keep_training_frames_away_from_test_frames() -> None:
    for fold in blocks_of_videos([600, 450], 5, gap=23):
        check_fold(fold, 23)
        for train, test in zip(fold.train, fold.test, strict=True):
            start, stop = np.flatnonzero(test)[[0, -1]]
            assert not train[max(start - 23, 0) : stop + 24].any()


def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, arenas: dict[str, dict[str, Path]]
) -> None:
    proj = tmp_path / "bare"
    cli_ok(
        "init", proj, "--animals", "2", "--keypoints", "nose,earL,earR,tailB",
        "--behaviors", ",".join(BEHAVIORS),
    )  # fmt: skip
    cli_ok("add-videos", proj, arenas["arena1"]["video"])
    code, out = run_cli("behavior", "train", proj)
    assert code == 1 and "no manual behavior labels" in out
    code, out = run_cli("behavior", "predict", proj)
    assert code == 1 and "no finished behavior training run" in out
    code, out = run_cli("behavior", "train", proj, "--session", "arena1")
    assert code == 1 and "no tracks" in out and "\n" not in out.strip()
    code, out = run_cli("behavior", "predict", proj, "nosuch")
    assert code == 1
    code, out = run_cli("behavior", "next", proj)
    assert code == 1 and "no behavior predictions" in out
    assert not (proj / "runs").exists() and not (proj / "behavior").exists()
    with Project.open(proj) as p, p.store.session() as session:
        assert [v.kind for v in list_videos(session)] == ["file"]


def test_a_video_without_tracks_is_refused_by_name(
    project: Path, arenas: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    cli_ok("behavior", "train", project)
    extra = tmp_path / "extra.mp4"
    extra.write_bytes(arenas["arena1"]["video"].read_bytes() + b"\0")
    cli_ok("add-videos", project, extra)
    code, out = run_cli("behavior", "predict", project, "arena1", "extra")
    assert code == 1 and "extra.mp4: no tracks" in out and "\n" not in out.strip()
    code, out = run_cli("behavior", "predict", project, "arena1", "nosuch")
    assert code == 1 and "not a session" in out
    assert not (project / "behavior").exists()
    assert {r.source for r in _ranges(project, "arena2")} == set()
    code, out = run_cli("behavior", "evaluate", project, "--split", "videos")
    assert code == 1 and "at least 2" in out
