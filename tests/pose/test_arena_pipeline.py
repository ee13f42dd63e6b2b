"""Train → predict → evaluate on generated arenas: needs nothing from ../shared.

Two arenas of two mice (etholoop.synth): the labels of one are imported, frames
of the other are sampled to predict on. A YOLO-pose model trains 1 epoch at
64 px on the CPU. The project is built once and closed; the tests only read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from attrs import evolve, frozen

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
from etholoop.label_files import import_labels
from etholoop.pose.backend import TrainParams
from etholoop.pose.evaluate import EvaluationReport, evaluate_run
from etholoop.pose.predict import PredictReport, predict_frames
from etholoop.pose.train import (
    REQUESTED_CONFIG,
    RESOLVED_CONFIG,
    SPLIT_FILE,
    TrainReport,
    train_pose,
)
from etholoop.project import Project
from etholoop.sampling import sample_frames, split_frames
from etholoop.sampling.split import subset_frames
from etholoop.store import load_instances_by_frame, load_split_members
from etholoop.store.models import Frame, ModelRun
from etholoop.store.runs import get_model_run
from etholoop.synth import make_arena, write_arena

pytestmark = pytest.mark.slow

SKELETON = SkeletonConfig(
    keypoints=["nose", "earL", "earR", "tailB"],
    edges=[("nose", "earL"), ("nose", "earR"), ("nose", "tailB")],
    symmetry=[("earL", "earR")],
)
TINY = TrainParams(epochs=1, imgsz=64, batch=8, workers=0, device="cpu")
ARENA = {"n_animals": 2, "n_frames": 40, "width": 96, "height": 96}


@frozen
class ArenaRun:
    """The closed project after one train, predict and evaluate; never changed."""

    root: Path
    trained: TrainReport
    predicted: PredictReport
    evaluated: EvaluationReport


def _split_arena_project(out: Path) -> Path:
    """A project with one arena's labels imported, frames of another sampled, split."""
    labeled = write_arena(make_arena(**ARENA, seed=1), out / "labeled")
    unlabeled = write_arena(make_arena(**ARENA, seed=2), out / "unlabeled")
    root = out / "project"
    config = ProjectConfig(name="arena", animals=2, skeleton=SKELETON)
    with Project.create(root, config) as project:
        import_labels(project, labeled["labels"])
        add_videos(project, [unlabeled["video"]])
        sample_frames(project, n=6, strategy="uniform")
        split_frames(project, test=0.25, n_trainval=20, n_predict=6, seed=0)
    return root


@pytest.fixture(scope="module")
def arena_run(tmp_path_factory: pytest.TempPathFactory) -> ArenaRun:
    root = _split_arena_project(tmp_path_factory.mktemp("arena"))
    with Project.open(root) as project:
        trained = train_pose(project, TINY, backend="yolo")
        predicted = predict_frames(project, subset="predict", min_score=0.0)
        evaluated = evaluate_run(project)
    return ArenaRun(root, trained, predicted, evaluated)


def _stored(arena_run: ArenaRun) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's stored config and metrics."""
    with Project.open(arena_run.root) as project, project.store.session() as session:
        run = session.get(ModelRun, arena_run.trained.run_id)
        return run.config, run.metrics


def test_the_run_folder_keeps_the_settings_asked_for_and_resolved(arena_run):
    run_dir = arena_run.trained.run_dir
    requested = yaml.safe_load((run_dir / REQUESTED_CONFIG).read_text())
    assert requested == {
        "backend": "yolo",
        "params": {"epochs": 1, "imgsz": 64, "batch": 8, "device": "cpu", "workers": 0},
    }
    resolved = yaml.safe_load((run_dir / RESOLVED_CONFIG).read_text())
    assert resolved["backend"] == "yolo" and resolved["params"] == TINY.to_dict()
    assert {"etholoop", "torch", "ultralytics", "python"} <= resolved["versions"].keys()
    arguments = resolved["backend_arguments"]
    assert (arguments["epochs"], arguments["imgsz"], arguments["seed"]) == (1, 64, 0)
    assert arguments["data"] == resolved["data_yaml"]
    assert Path(arguments["data"]).is_file()
    # Ultralytics' own record of what it ran with agrees with every argument
    used = yaml.safe_load((run_dir / "train" / "args.yaml").read_text())
    assert {k: used[k] for k in arguments} == arguments


def test_the_run_folder_names_every_frame_trained_on(arena_run):
    run_dir = arena_run.trained.run_dir
    split = json.loads((run_dir / SPLIT_FILE).read_text())
    config, _ = _stored(arena_run)
    assert split == config["data"]  # the store's record, the same
    with Project.open(arena_run.root) as project, project.store.session() as session:
        members = load_split_members(session, split["cycle_id"])
        labeled = load_instances_by_frame(session, sources=["manual"])
        expected = [
            {
                "frame_id": m.frame_id,
                "split": "val" if m.val else "train",
                "video_id": frame.video_id,
                "video": frame.video.path,
                "frame_idx": frame.frame_idx,
                "versions": {str(i.id): i.version for i in labeled[m.frame_id]},
            }
            for m in members
            if m.split == "trainval" and m.frame_id in labeled
            for frame in [session.get(Frame, m.frame_id)]
        ]
    assert split["frames"] == expected and len(expected) > 20
    n_train = sum(f["split"] == "train" for f in expected)
    assert arena_run.trained.n_train == n_train > 0
    assert len(list((run_dir / "dataset" / "images" / "train").iterdir())) == n_train


def test_predictions_land_on_the_predict_frames_only(arena_run):
    with Project.open(arena_run.root) as project:
        to_predict = set(subset_frames(project, "predict"))
        with project.store.session() as session:
            by_frame = load_instances_by_frame(session, sources=["predicted"])
    assert to_predict and set(by_frame) <= to_predict
    report = arena_run.predicted
    assert report.n_frames == len(by_frame) and report.n_manual == 0
    assert report.n_frames + report.n_empty == len(to_predict)
    assert all(len(found) <= 2 for found in by_frame.values())
    author = f"pose-run-{arena_run.trained.run_id}"
    assert all(i.author == author for found in by_frame.values() for i in found)


def test_evaluation_scores_the_labeled_test_frames(arena_run):
    report = arena_run.evaluated
    saved = json.loads(report.metrics_json.read_text())
    _, metrics = _stored(arena_run)
    assert metrics["test"] == saved and report.plot.is_file()
    with Project.open(arena_run.root) as project, project.store.session() as session:
        test = subset_frames(project, "test")
        truth = load_instances_by_frame(session, frame_ids=test, sources=["manual"])
    assert saved["n_frames"] == len(truth) > 5
    assert saved["n_truth"] == 2 * len(truth)
    rates = [saved[k] for k in ("box_map50", "box_map50_95", "oks_map50_95")]
    rates += list(saved["pck"].values())
    assert all(0 <= rate <= 1 for rate in rates)  # defined: the test set has truth
    assert saved["rmse"] is None or saved["rmse"] >= 0


@pytest.mark.gpu
def test_training_and_prediction_run_on_the_gpu(tmp_path: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: torch.cuda.is_available() is False")
    root = _split_arena_project(tmp_path)
    with Project.open(root) as project:
        trained = train_pose(project, evolve(TINY, device="0"), backend="yolo")
        predicted = predict_frames(project, subset="predict", min_score=0.0)
        with project.store.session() as session:
            config = get_model_run(session, trained.run_id).config
    assert Path(trained.weights).is_file()
    assert predicted.n_frames + predicted.n_empty == 6
    assert config["params"]["device"] == "0"
