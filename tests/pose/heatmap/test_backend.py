"""The heatmap backend: training on a YOLO dataset, its weights file, prediction, CLI.

The dataset is a generated arena of two drawn mice (96 x 96 px, etholoop.synth)
written in the YOLO layout `pose.dataset` writes; a tiny network (32 px crops)
trains on it in about a second. The slow test runs the product's settings
through etholoop's API on the arena project of `test_arena_pipeline`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from attrs import evolve, frozen
from PIL import Image
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.errors import ConfigError
from etholoop.io import save_labels
from etholoop.pose.backend import TrainParams, TrainResult, backend_names, get_backend
from etholoop.pose.flip import flip_instances
from etholoop.pose.heatmap.backend import HeatmapBackend, read_weights
from etholoop.pose.heatmap.train import HeatmapSettings, Optimization
from etholoop.synth import make_arena
from etholoop.types import LabelSet, VideoRef

TINY = HeatmapSettings(
    out_size=32,
    sigma=1.5,
    width=8,
    centroid_size=32,
    centroid_width=4,
    repeats=2,
    min_samples=32,
    centroid_repeats=2,
    optimization=Optimization(lr=3e-3),
)
PARAMS = TrainParams(epochs=8, batch=8, device="cpu", workers=0)
FLIP_IDX = [0, 2, 1, 3]  # nose, earL, earR, tailB
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny networks on one thread (two wait on each other on a shared machine).

    The backend sets torch's threads from `ETHOLOOP_THREADS` when it trains.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ETHOLOOP_THREADS", "1")
        before = torch.get_num_threads()
        yield
        torch.set_num_threads(before)


@frozen
class Trained:
    """A tiny heatmap run on the arena dataset: its folder, result and epochs."""

    data_yaml: Path
    run_dir: Path
    result: TrainResult
    epochs_seen: list[int]
    images: list[np.ndarray]


def _arena_dataset(out: Path) -> tuple[Path, list[np.ndarray]]:
    """An arena's frames as a YOLO dataset: 16 train, 4 val frames."""
    arena = make_arena(n_animals=2, n_frames=20, width=96, height=96, seed=5)
    images = [np.ascontiguousarray(image) for image in arena.frames()]
    folder = out / "frames"
    folder.mkdir()
    names = []
    for t, image in enumerate(images):
        names.append(str(folder / f"{t:03d}.png"))
        Image.fromarray(image).save(names[-1])
    labels = arena.to_label_set("arena.mp4")
    labels = evolve(labels, videos=[VideoRef(str(folder), image_files=names)])
    for split, frames in (("train", labels.frames[:16]), ("val", labels.frames[16:])):
        save_labels(
            LabelSet(labels.skeleton, labels.videos, frames),
            out / "dataset",
            "yolo",
            split=split,
        )
    return out / "dataset" / "data.yaml", images


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> Trained:
    out = tmp_path_factory.mktemp("heatmap")
    data_yaml, images = _arena_dataset(out)
    seen: list[int] = []
    result = HeatmapBackend(TINY).train(data_yaml, out / "run", PARAMS, seen.append)
    return Trained(data_yaml, out / "run", result, seen, images)


def test_training_keeps_the_best_epoch_and_reports_every_epoch(trained) -> None:
    assert trained.epochs_seen == list(range(1, 9)) and len(trained.result.epochs) == 8
    weights = trained.run_dir / "train" / "weights"
    assert trained.result.weights == weights / "best.pt"
    assert (weights / "last.pt").is_file()
    rows = (trained.run_dir / "train" / "results.csv").read_text().splitlines()
    assert len(rows) == 9 and "val/rmse_px" in rows[0]
    content = read_weights(trained.result.weights, flip_idx=FLIP_IDX)
    rmse = [r["val/rmse_px"] for r in trained.result.epochs]
    assert content["epoch"] == 1 + int(np.argmin(rmse))
    assert content["keypoints"] == ["nose", "earL", "earR", "tailB"]
    assert content["max_animals"] == 2


def test_the_resolved_arguments_are_those_the_weights_were_made_with(
    trained,
) -> None:
    arguments = HeatmapBackend(TINY).arguments(
        trained.data_yaml, trained.run_dir, PARAMS
    )
    content = read_weights(trained.result.weights)
    assert arguments["crop_size"] == content["crop_size"] >= 32
    assert arguments["settings"] == content["settings"] == TINY.to_dict()
    assert arguments["augmentation"]["rotate"] == 180
    assert (arguments["epochs"], arguments["device"]) == (8, "cpu")
    yaml.safe_dump(arguments)  # goes to config.resolved.yaml as it is
    no_augment = evolve(PARAMS, augment=False)
    plain = HeatmapBackend(TINY).arguments(
        trained.data_yaml, trained.run_dir, no_augment
    )
    assert plain["augmentation"]["rotate"] == 0 and not plain["augmentation"]["flip"]


def test_the_predictor_finds_animals_with_scored_keypoints(trained) -> None:
    predictor = get_backend("heatmap").load(  # every local maximum, however weak:
        trained.result.weights, imgsz=640, flip_idx=FLIP_IDX, min_score=-1.0
    )  # the tiny model is barely trained; the slow test measures a real one
    found = predictor.predict(trained.images[:3])
    assert len(found) == 3 and all(1 <= len(f) <= 4 for f in found)
    for inst in (i for f in found for i in f):
        assert inst.keypoints.shape == (4, 2) and np.isfinite(inst.keypoints).all()
        assert inst.source == "predicted" and 0 <= inst.box_score <= 1
        assert ((inst.keypoint_scores >= 0) & (inst.keypoint_scores <= 1)).all()
        expected = np.where(inst.keypoint_scores >= 0.5, 2, 1)
        assert (inst.visibility == expected).all()
        x1, y1, x2, y2 = inst.box  # around the keypoints, clipped to the image
        inside = np.clip(inst.keypoints, 0, 96)
        assert 0 <= x1 <= inside[:, 0].min() <= inside[:, 0].max() <= x2 <= 96
        assert 0 <= y1 <= inside[:, 1].min() <= inside[:, 1].max() <= y2 <= 96
    assert predictor.predict([]) == []


def test_flip_predicts_on_the_mirrored_image_and_maps_back(trained) -> None:
    predictor = get_backend("heatmap").load(  # every local maximum, however weak:
        trained.result.weights, imgsz=640, flip_idx=FLIP_IDX, min_score=-1.0
    )  # the tiny model is barely trained; the slow test measures a real one
    image = trained.images[0]
    flipped = predictor.predict([np.ascontiguousarray(image[:, ::-1])], flip=True)[0]
    expected = flip_instances(predictor.predict([image])[0], 96, FLIP_IDX)
    assert len(flipped) == len(expected) > 0
    for got, want in zip(flipped, expected, strict=True):
        np.testing.assert_allclose(got.keypoints, want.keypoints, atol=1e-4)
        np.testing.assert_allclose(got.keypoint_scores, want.keypoint_scores, atol=1e-5)
        assert got.box_score == pytest.approx(want.box_score, abs=1e-5)


@pytest.mark.parametrize(
    "flip_idx", [[0, 1, 2, 3], [0, 2, 1], [0, 2, 1, 3, 4]], ids=str
)
def test_weights_of_another_skeleton_are_refused_in_one_line(trained, flip_idx) -> None:
    weights = trained.result.weights
    with pytest.raises(ConfigError, match="weights of another skeleton") as caught:
        get_backend("heatmap").load(weights, imgsz=640, flip_idx=flip_idx)
    message = str(caught.value)
    assert message.startswith(f"{weights}: ") and "\n" not in message


def test_training_from_weights_of_another_skeleton_is_refused(
    trained, tmp_path
) -> None:
    other = torch.load(trained.result.weights, weights_only=True)
    other["flip_idx"], other["keypoints"] = [1, 0, 2, 3], ["a", "b", "c", "d"]
    path = tmp_path / "other.pt"
    torch.save(other, path)
    params = evolve(PARAMS, weights=path)
    with pytest.raises(ConfigError, match=f"^{path}: weights of another skeleton"):
        HeatmapBackend(TINY).train(trained.data_yaml, tmp_path / "run", params, print)


def test_training_goes_on_from_earlier_weights(trained, tmp_path) -> None:
    params = evolve(PARAMS, epochs=1, weights=trained.result.weights)
    result = HeatmapBackend().train(
        trained.data_yaml, tmp_path / "run", params, lambda epoch: None
    )
    # the file's sizes win over the backend's (they are the network's shape)
    assert read_weights(result.weights)["settings"] == TINY.to_dict()
    start = min(r["val/rmse_px"] for r in trained.result.epochs)
    assert result.epochs[0]["val/rmse_px"] < 3 * start  # not from scratch


@pytest.mark.parametrize("content", [b"not torch", None])
def test_a_file_that_is_no_heatmap_weights_is_refused(tmp_path, content) -> None:
    path = tmp_path / "weights.pt"
    if content is None:
        torch.save({"model": "yolo"}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=f"^{path}: not heatmap pose weights"):
        get_backend("heatmap").load(path, imgsz=640, flip_idx=FLIP_IDX)


def test_train_offers_every_backend_and_refuses_others() -> None:
    assert {"heatmap", "yolo"} <= set(backend_names())
    result = runner.invoke(app, ["train", "--help"])
    text = " ".join(result.output.split())
    assert "[heatmap|yolo]" in text or "heatmap|yolo" in text.replace(" ", "")
    refused = _cli("train", "nowhere", "--backend", "sleap")
    assert refused.returncode == 2 and "'sleap' is not one of" in refused.stderr


@pytest.mark.gpu
def test_training_and_prediction_run_on_the_gpu(trained, tmp_path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: torch.cuda.is_available() is False")
    params = evolve(PARAMS, epochs=2, device="0")
    result = HeatmapBackend(TINY).train(
        trained.data_yaml, tmp_path / "run", params, lambda epoch: None
    )
    predictor = HeatmapBackend().load(result.weights, imgsz=640, flip_idx=FLIP_IDX)
    assert predictor.device.type == "cuda"
    assert len(predictor.predict(trained.images[:2])) == 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "etholoop.cli", *args], capture_output=True, text=True
    )


def test_yolo_options_with_the_heatmap_backend_are_refused(tmp_path) -> None:
    proc = _cli(
        "train", str(tmp_path), "--backend", "heatmap", "--model", "m", "--rotate", "9"
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: --model, --rotate: options of the yolo backend; the heatmap "
        "backend sizes its crops from the labels and rotates and zooms them itself"
    )


@pytest.mark.slow
def test_train_predict_evaluate_and_cycle_with_the_heatmap_backend(
    tmp_path: Path,
) -> None:
    from etholoop.active import advance_cycle
    from etholoop.pose.evaluate import evaluate_run
    from etholoop.pose.predict import predict_frames
    from etholoop.pose.train import RESOLVED_CONFIG, train_pose
    from etholoop.project import Project
    from etholoop.sampling.split import subset_frames
    from etholoop.store.runs import get_model_run
    from tests.pose.test_arena_pipeline import _split_arena_project

    root = _split_arena_project(tmp_path)
    params = TrainParams(epochs=4, device="cpu", workers=0)
    with Project.open(root) as project:
        trained = train_pose(project, params, backend="heatmap")
        predicted = predict_frames(project, subset="predict", min_score=0.0)
        evaluated = evaluate_run(project)
        n_predict = len(subset_frames(project, "predict"))
        cycle = advance_cycle(project, strategy="uncertainty", n=2)
        with project.store.session() as session:
            run = get_model_run(session, trained.run_id)
            config, metrics = run.config, run.metrics
    assert config["backend"] == "heatmap" and len(trained.epochs) == 4
    resolved = yaml.safe_load((trained.run_dir / RESOLVED_CONFIG).read_text())
    assert resolved["backend_arguments"]["settings"] == HeatmapSettings().to_dict()
    assert predicted.n_frames + predicted.n_empty == n_predict > 0
    assert 0 < predicted.n_instances <= 2 * n_predict  # it finds mice
    saved = json.loads(evaluated.metrics_json.read_text())
    assert metrics["test"] == saved and saved["n_truth"] == 2 * saved["n_frames"]
    assert all(0 <= saved[k] <= 1 for k in ("box_map50", "oks_map50_95"))
    assert cycle.n_chosen == 2 and cycle.strategy == "uncertainty"
