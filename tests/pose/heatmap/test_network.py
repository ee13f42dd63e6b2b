"""The heatmap network and its training on real rendered frames (etholoop.synth).

A generated arena of two drawn mice (96 x 96 px) gives frames with exact
keypoints; a tiny network (32 px crops, width 8) trains on them for a few
epochs in a couple of seconds on the CPU.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from etholoop.io import load_labels
from etholoop.pose.heatmap.network import HeatmapNet, count_parameters, run_model
from etholoop.pose.heatmap.samples import Augmentation
from etholoop.pose.heatmap.train import (
    HeatmapSettings,
    LabeledFrame,
    Optimization,
    batches,
    fit_models,
    predict_keypoints,
    weighted_mse,
)
from etholoop.synth import make_arena

TINY = HeatmapSettings(
    out_size=32,
    sigma=1.5,
    width=8,
    centroid_size=32,
    centroid_width=4,
    repeats=2,
    min_samples=32,
    optimization=Optimization(lr=3e-3),
)
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny networks on one thread: on a shared 2-core machine two threads of
    such small operations spend most of their time waiting for each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def arena_frames() -> list[LabeledFrame]:
    arena = make_arena(n_animals=2, n_frames=24, width=96, height=96, seed=3)
    xy = arena.tracks.xy.astype(np.float64)
    return [
        LabeledFrame(
            image=np.ascontiguousarray(image),
            keypoints=xy[t],
            labeled=arena.visibility[t] > 0,
        )
        for t, image in enumerate(arena.frames())
    ]


def test_the_network_gives_heatmaps_at_stride_2() -> None:
    net = HeatmapNet(4)
    out = net(torch.rand(2, 3, 64, 48))
    assert out.shape == (2, 4, 32, 24)
    assert 0.8e6 < count_parameters(net) < 1.2e6  # "about 1M parameters"


def test_run_model_reads_uint8_images_in_batches() -> None:
    net = HeatmapNet(1, width=4)
    images = np.zeros((35, 32, 32, 3), dtype=np.uint8)  # more than one batch
    assert run_model(net, images, CPU).shape == (35, 1, 16, 16)


@pytest.mark.parametrize("mirror", [False, True])
def test_mirror_averaging_makes_keypoints_follow_a_mirrored_image(
    arena_frames, mirror
) -> None:
    """Averaged with its mirror view, even an untrained network is exactly
    flip-equivariant: the mirrored image's keypoints are the mirrored keypoints,
    left and right swapped. Without the average a random network is not."""
    torch.manual_seed(0)
    net = HeatmapNet(4, width=8).eval()
    flip_idx = [0, 2, 1, 3]
    image = arena_frames[0].image
    width = image.shape[1]
    center = (40.3, 51.7)
    common = {"crop_size": 48.0, "out_size": 32, "stride": 2, "device": CPU}
    flip = flip_idx if mirror else None
    points, _ = predict_keypoints(net, image, [center], flip_idx=flip, **common)
    mirrored, _ = predict_keypoints(
        net,
        np.ascontiguousarray(image[:, ::-1]),
        [(width - center[0], center[1])],
        flip_idx=flip,
        **common,
    )
    back = mirrored[0][flip_idx] * [-1, 1] + [width, 0]
    assert np.allclose(back, points[0], atol=1e-4) == mirror


def test_a_zero_weight_channel_adds_nothing_to_the_loss() -> None:
    # an unlabeled keypoint (weight 0) must not train as background
    target = torch.zeros(1, 2, 4, 4)
    weights = torch.tensor([[1.0, 0.0]])
    prediction = torch.zeros(1, 2, 4, 4)
    other = prediction.clone()
    other[0, 1] = 5.0  # anything at all in the unlabeled channel
    assert weighted_mse(other, target, weights) == weighted_mse(
        prediction, target, weights
    )
    other[0, 0] = 1.0
    assert weighted_mse(other, target, weights) == pytest.approx(1.0)


def test_batches_stack_samples_and_drop_a_last_single_one() -> None:
    sample = (np.zeros((3, 8, 8), np.float32), np.zeros((2, 4, 4), np.float32))
    samples = [(*sample, np.ones(2, np.float32))] * 5
    sizes = [len(b[0]) for b in batches(samples, 2)]
    assert sizes == [2, 2]  # BatchNorm cannot train on the fifth alone
    assert [len(b[0]) for b in batches(samples[:3], 2)] == [2]
    assert [b[1].shape for b in batches(samples, 5)] == [(5, 2, 4, 4)]


def _fit_tiny(
    train: Any,
    val: Any,
    *,
    epochs: int,
    patience: int,
    on_epoch: Any,
    crop_size: float = 48.0,
) -> Any:
    """`fit_models` of tiny fresh networks (32 px crops of `crop_size` px, CPU)."""
    return fit_models(
        train,
        val,
        [0, 2, 1, 3],
        keypoint_model=HeatmapNet(4, width=TINY.width),
        centroid_model=HeatmapNet(1, width=TINY.centroid_width),
        crop_size=crop_size,
        settings=TINY,
        augmentation=Augmentation(),
        epochs=epochs,
        batch=8,
        patience=patience,
        device=CPU,
        seed=0,
        on_epoch=on_epoch,
    )


def test_a_tiny_training_on_rendered_frames_lowers_its_loss(arena_frames) -> None:
    torch.manual_seed(0)
    records: list[dict[str, float]] = []
    fitted = _fit_tiny(
        arena_frames[:20],
        arena_frames[20:],
        epochs=6,
        patience=100,
        on_epoch=records.append,
    )
    assert fitted.epochs == records and len(records) == 6
    losses = [r["train/keypoint_loss"] for r in records]
    centroid = [r["train/centroid_loss"] for r in records]
    assert losses[-1] < 0.75 * losses[0] and centroid[-1] < centroid[0]
    assert all(math.isfinite(r["val/rmse_px"]) for r in records)
    best = min(records, key=lambda r: r["val/rmse_px"])
    assert fitted.best_epoch == best["epoch"]
    assert set(fitted.keypoint_state) == set(HeatmapNet(4, width=8).state_dict())


def test_a_tiny_training_on_real_mouse_frames_lowers_its_loss(
    shared_data: Path,
) -> None:
    labels = load_labels(
        shared_data / "dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv"
    )
    frames = []
    for frame in labels.frames[:10]:
        (mouse,) = frame.instances
        image = Image.open(labels.videos[frame.video].image_files[frame.frame_idx])
        frames.append(
            LabeledFrame(
                image=np.asarray(image.convert("RGB")),
                keypoints=mouse.keypoints[None],
                labeled=mouse.labeled[None],
            )
        )
    torch.manual_seed(0)
    records: list[dict[str, float]] = []
    _fit_tiny(
        frames[:8],
        frames[8:],
        epochs=5,
        patience=100,
        on_epoch=records.append,
        crop_size=200.0,
    )
    losses = [r["train/keypoint_loss"] for r in records]
    assert losses[-1] < 0.75 * losses[0]


def test_patience_stops_training_after_epochs_without_a_better_one(
    arena_frames,
) -> None:
    fitted = _fit_tiny(
        arena_frames[:4],
        arena_frames[20:],
        epochs=50,
        patience=1,
        on_epoch=lambda record: None,
    )
    assert len(fitted.epochs) == fitted.best_epoch + 1 < 50
