"""Self-supervised pretraining: masks, the label-free animal finder, the run, and
training that starts from it (with every network connection refused)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.errors import ConfigError, ProjectError
from etholoop.pose.backend import TrainParams
from etholoop.pose.heatmap.backend import read_encoder
from etholoop.pose.heatmap.network import PIXEL_MEAN, HeatmapNet
from etholoop.pose.heatmap.pretrain import (
    MASK_PATCH,
    arena_background,
    blob_sides,
    downscaled_gray,
    foreground,
    mask_patches,
    pick_center,
    pretrain_network,
    reconstruction_loss,
)
from etholoop.pose.pretrain import (
    ENCODER_FILE,
    PretrainParams,
    pretrain_encoder,
    spread_frames,
)
from etholoop.pose.runs import POSE_PRETRAIN
from etholoop.pose.train import RESOLVED_CONFIG, train_pose
from etholoop.project import Project
from etholoop.status import project_status
from etholoop.store.runs import find_finished_run
from etholoop.synth import make_arena
from tests.fixtures.network import NetworkGuard


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Small networks on one thread (two wait on each other on a shared machine)."""
    monkeypatch.setenv("ETHOLOOP_THREADS", "1")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_masking_blanks_the_asked_share_of_whole_patches() -> None:
    torch.manual_seed(0)
    images = torch.rand(3, 3, 64, 64)
    masked, mask = mask_patches(images, ratio=0.5)
    per_patch = mask[:, 0, ::MASK_PATCH, ::MASK_PATCH]
    assert per_patch.sum(dim=(1, 2)).tolist() == [8.0, 8.0, 8.0]  # 8 of 16 patches
    blocks = mask[:, 0].unfold(1, MASK_PATCH, MASK_PATCH).unfold(2, MASK_PATCH, 16)
    assert torch.all(blocks.amin(dim=(-1, -2)) == blocks.amax(dim=(-1, -2)))
    assert torch.all(masked[mask.expand_as(masked) == 1] == PIXEL_MEAN)
    assert torch.equal(
        masked[mask.expand_as(masked) == 0], images[mask.expand_as(images) == 0]
    )


def test_the_loss_counts_only_blanked_pixels() -> None:
    images = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[:, :, :16] = 1
    perfect = (torch.nn.functional.avg_pool2d(images, 2) - PIXEL_MEAN) / 0.25
    wrong_where_seen = perfect.clone()
    wrong_where_seen[:, :, 8:] += 5.0  # rows 16.. of the image: not blanked
    assert float(reconstruction_loss(wrong_where_seen, images, mask)) == pytest.approx(
        0
    )
    assert float(reconstruction_loss(perfect + 1.0, images, mask)) == pytest.approx(1.0)


def test_the_animal_finder_sizes_and_centres_on_the_mice_without_labels() -> None:
    arena = make_arena(n_animals=2, n_frames=60, width=160, height=120, seed=4)
    frames = [np.ascontiguousarray(f) for f in arena.frames()]
    gray = [downscaled_gray(f, 1.0) for f in frames]
    background = arena_background(gray)
    differences = [foreground(g, background) for g in gray]
    truth = arena.tracks.xy  # (frames, animals, keypoints, 2)
    true_side = np.median(np.ptp(truth, axis=2).max(axis=-1))
    assert 0.5 * true_side < np.median(blob_sides(differences)) < 3 * true_side
    rng = np.random.default_rng(0)
    near = []
    for t in range(0, 60, 3):
        x, y = pick_center(differences[t], 1.0, rng)
        nearest = np.linalg.norm(truth[t].mean(axis=1) - [x, y], axis=1).min()
        near.append(nearest < true_side)
    assert np.mean(near) >= 0.6  # 80 % drawn on the difference, 20 % anywhere


def test_frames_are_spread_over_the_videos_by_length() -> None:
    picks = spread_frames([1000, 3000, 1], 40)
    assert [len(p) for p in picks] == [10, 30, 1]
    assert picks[0][0] == 0 and picks[0][-1] == 999 and picks[2].tolist() == [0]
    assert [len(p) for p in spread_frames([5], 40)] == [5]  # never more than there are


def test_a_tiny_pretraining_lowers_its_reconstruction_loss() -> None:
    arena = make_arena(n_animals=2, n_frames=16, width=96, height=96, seed=2)
    regions = np.stack([np.ascontiguousarray(f[:48, :48]) for f in arena.frames()])
    result = pretrain_network(
        regions,
        width=8,
        out_size=32,
        epochs=12,
        batch=4,
        device=torch.device("cpu"),
        seed=0,
        on_epoch=lambda record: None,
    )
    losses = [e["train/reconstruction_loss"] for e in result.epochs]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])
    assert not any(k.startswith("head.") for k in result.state)
    missing, unexpected = HeatmapNet(4, width=8).load_state_dict(
        result.state, strict=False
    )
    assert not unexpected and missing == ["head.weight"]


@pytest.mark.slow
def test_pretraining_then_training_runs_offline_and_starts_from_the_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pose.test_arena_pipeline import _split_arena_project

    root = _split_arena_project(tmp_path)
    guard = NetworkGuard(monkeypatch)
    with Project.open(root) as project:
        pretrained = pretrain_encoder(
            project, PretrainParams(frames=12, epochs=1, batch=4, device="cpu")
        )
        trained = train_pose(
            project, TrainParams(epochs=1, batch=8, device="cpu"), backend="heatmap"
        )
        with project.store.session() as session:
            run = find_finished_run(session, stage=POSE_PRETRAIN)
            assert run is not None and run.id == pretrained.run_id
        listed = project_status(project).cycles[-1].runs
    assert [(r.id, r.stage) for r in listed][:1] == [(run.id, POSE_PRETRAIN)]
    assert guard.attempts == []
    assert pretrained.weights == pretrained.run_dir / ENCODER_FILE
    assert pretrained.n_frames == 12 and len(pretrained.epochs) == 1
    resolved = yaml.safe_load((trained.run_dir / RESOLVED_CONFIG).read_text())
    assert resolved["backend_arguments"]["encoder"] == str(pretrained.weights)
    assert trained.encoder == pretrained.weights
    with pytest.raises(socket.gaierror):  # the guard did refuse
        socket.getaddrinfo("example.org", 80)


def test_yolo_refuses_a_pretrained_encoder(tmp_path: Path) -> None:
    from tests.pose.test_arena_pipeline import _split_arena_project

    root = _split_arena_project(tmp_path)
    with (
        Project.open(root) as project,
        pytest.raises(ConfigError, match="yolo backend cannot start from"),
    ):
        train_pose(
            project,
            TrainParams(epochs=1, encoder=tmp_path / ENCODER_FILE),
            backend="yolo",
        )


def test_an_encoder_file_for_another_width_or_none_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ENCODER_FILE
    torch.save({"format": "etholoop-heatmap-encoder-1", "width": 16, "state": {}}, path)
    with pytest.raises(ConfigError, match="encoder of width 16.*width 32"):
        read_encoder(path, width=32)
    path.write_bytes(b"not torch")
    with pytest.raises(ConfigError, match="not a pretrained encoder"):
        read_encoder(path, width=32)


def test_pretraining_a_project_without_videos_is_a_one_line_error(
    tmp_path: Path,
) -> None:
    config = ProjectConfig(
        name="empty", animals=1, skeleton=SkeletonConfig(keypoints=["nose", "tail"])
    )
    Project.create(tmp_path / "empty", config).close()
    with (
        Project.open(tmp_path / "empty") as project,
        pytest.raises(ProjectError, match="no video files to pretrain on"),
    ):
        pretrain_encoder(project, PretrainParams())
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", "pretrain", str(tmp_path / "empty")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error:") and "no video files to pretrain on" in line
