"""DeepEthogram's three stages: flow generator, feature extractors, sequence model.

The data is one synthetic arena (`etholoop.synth`): a single gray mouse, 160x120
px, 96 frames at 30 fps, showing rest, walk and rear; the labels of a frame are
the one-hot of the mouse's behavior there (multi-label in form). The whole
pipeline runs once, tiny (32 px stacks of 3 frames two apart, a flow generator
of width 8, full ResNet-18s, a TCN of 16 channels), with every network
connection refused, and the tests read its outputs. The reconstruction test
uses a real clip, `../shared/data/bsoid_behavior_clips/locomote_hstacked.mp4`
(three bottom-up mouse panels, 1350x360, 117 frames), and skips without it.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torchvision.models import resnet18

from etholoop.behavior import sequence as sequence_module
from etholoop.behavior.clips import ClipDataset
from etholoop.behavior.flow import (
    FlowGenerator,
    FlowParams,
    FlowTrainParams,
    flow_items,
    flow_loss,
    load_flow,
    stacks_of_clips,
    train_flow,
    warp,
)
from etholoop.behavior.postprocess import BoutParams
from etholoop.behavior.sequence import (
    ExtractorParams,
    ExtractorTrainParams,
    FeatureExtractor,
    SequenceParams,
    SequenceTrainParams,
    TemporalConvNet,
    extract_features,
    features_key,
    load_sequence,
    load_user_weights,
    positive_weights,
    predict_ethogram,
    predict_sequence,
    train_extractor,
    train_sequence,
    tune_behavior_bouts,
)
from etholoop.errors import ConfigError
from etholoop.synth import make_arena, write_arena
from tests.fixtures.network import NetworkGuard

BEHAVIORS = ("rest", "walk", "rear")
N_FRAMES = 96
FLOW = FlowParams(n_frames=3, imsize=32, width=8, step=2)
SPLIT = 64
"""Frames [0, 64) train the sequence model, [64, 96) validate it."""


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """The arena video and the on/off of each behavior on each of its frames."""
    arena = make_arena(
        n_animals=1,
        n_frames=N_FRAMES,
        width=160,
        height=120,
        seed=3,
        gray=True,
        behaviors=BEHAVIORS,
    )
    paths = write_arena(arena, tmp_path_factory.mktemp("arena"))
    labels = arena.ethogram.values[:, 0, :].astype(bool)
    assert labels[:SPLIT].any(axis=0).all() and (~labels[:SPLIT]).any(axis=0).all()
    return paths["video"], labels


@pytest.fixture(scope="module")
def pipeline(
    arena: tuple[Path, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Every stage once, offline; what each returned and how long it took."""
    video, labels = arena
    out = tmp_path_factory.mktemp("pipeline")
    results: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        guard = NetworkGuard(monkeypatch)
        results["flow"] = train_flow(
            [video],
            FLOW,
            FlowTrainParams(epochs=2, batch_size=8, stride=4, device="cpu"),
            out / "flow",
        )
        frames = range(N_FRAMES)
        results["extractor"] = train_extractor(
            [(video, f, labels[f]) for f in frames if f % 3 == 0],
            [(video, f, labels[f]) for f in frames if f % 6 == 1],
            results["flow"].best_checkpoint,
            ExtractorParams(n_behaviors=3),
            ExtractorTrainParams(epochs=2, batch_size=16, device="cpu"),
            out / "extractor",
            behaviors=BEHAVIORS,
        )
        checkpoint = results["extractor"].best_checkpoint
        features_path = out / "features" / "arena.features.npz"
        start = time.perf_counter()
        results["features"] = extract_features(
            video, checkpoint, features_path, device="cpu"
        )
        results["first_seconds"] = time.perf_counter() - start
        results["features_mtime"] = features_path.stat().st_mtime_ns
        stacked = results["features"].stacked()
        results["sequence"] = train_sequence(
            [(stacked[:SPLIT], labels[:SPLIT])],
            [(stacked[SPLIT:], labels[SPLIT:])],
            SequenceParams(n_behaviors=3, hidden=16, dilations=(1, 2, 4)),
            SequenceTrainParams(epochs=6, window=32, batch_size=2, device="cpu"),
            out / "sequence",
            behaviors=BEHAVIORS,
        )
        results["probabilities"] = predict_sequence(
            results["sequence"].best_checkpoint, stacked
        )
        results["attempts"] = list(guard.attempts)
        with pytest.raises(socket.gaierror):  # the guard was on
            socket.getaddrinfo("example.org", 80)
    results["video"], results["features_path"] = video, features_path
    return results


# The flow generator.


def test_warp_with_zero_flow_is_the_identity(rng: np.random.Generator) -> None:
    frame = torch.from_numpy(rng.normal(size=(2, 1, 12, 16)).astype(np.float32))
    out = warp(frame, torch.zeros(2, 2, 12, 16))
    torch.testing.assert_close(out, frame, atol=1e-5, rtol=0)


def test_warp_samples_where_the_flow_points(rng: np.random.Generator) -> None:
    frame = torch.from_numpy(rng.normal(size=(1, 1, 8, 10)).astype(np.float32))
    flow = torch.zeros(1, 2, 8, 10)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # 2 px right, 1 px up
    out = warp(frame, flow)
    torch.testing.assert_close(
        out[..., 1:, :-2], frame[..., :-1, 2:], atol=1e-5, rtol=0
    )


def test_generator_gives_flows_of_every_pair_at_three_scales() -> None:
    model = FlowGenerator(FlowParams(n_frames=4, imsize=32, width=4)).eval()
    with torch.inference_mode():
        flows = model(torch.randn(2, 4, 32, 32))
        full = model.full_flow(torch.randn(2, 4, 32, 32))
    assert [tuple(f.shape) for f in flows] == [
        (2, 6, 16, 16),
        (2, 6, 8, 8),
        (2, 6, 4, 4),
    ]
    assert full.shape == (2, 6, 32, 32)
    # The heads start at zero: an untrained generator says nothing moved.
    assert all(float(f.abs().max()) == 0 for f in flows)


def test_flow_params_refuse_a_side_that_three_stages_cannot_halve() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        FlowParams(imsize=36)


def test_reconstruction_loss_falls_on_a_real_clip(
    shared_data: Path, tmp_path: Path
) -> None:
    video = shared_data / "bsoid_behavior_clips" / "locomote_hstacked.mp4"
    params = FlowParams(n_frames=3, imsize=32, width=8, step=4)
    train = FlowTrainParams(epochs=8, batch_size=8, stride=2, lr=3e-3, device="cpu")
    result = train_flow([video], params, train, tmp_path)

    # On the held-out stacks, the trained flows reconstruct frame t from frame
    # t + 1 better than no motion at all (what the untrained generator says).
    _, val_items = flow_items([video], train.stride)
    dataset = ClipDataset(val_items, clip_length=params.span, imsize=params.imsize)
    stacks = stacks_of_clips(torch.stack([clip for clip, _ in dataset]), params)
    model = load_flow(result.best_checkpoint)
    with torch.inference_mode():
        _, trained = flow_loss(stacks, model(stacks))
        no_motion = [torch.zeros_like(f) for f in model(stacks)]
        _, still = flow_loss(stacks, no_motion)
    assert float(trained) < 0.85 * float(still)
    val = [record["val_photometric"] for record in result.epochs]
    assert val[-1] < val[0]
    with (tmp_path / "epochs.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))
    assert (tmp_path / "training-curves.png").is_file()


# The whole pipeline, offline.


def test_pipeline_runs_with_every_network_connection_refused(
    pipeline: dict[str, Any],
) -> None:
    assert pipeline["attempts"] == []
    for stage in ("flow", "extractor", "sequence"):
        out_dir = pipeline[stage].out_dir
        assert {p.name for p in out_dir.iterdir()} >= {
            "best.pt",
            "last.pt",
            "epochs.csv",
            "training-curves.png",
        }


def test_features_are_512_per_stream_per_frame(pipeline: dict[str, Any]) -> None:
    features = pipeline["features"]
    assert features.spatial.shape == (N_FRAMES, 512)
    assert features.flow.shape == (N_FRAMES, 512)
    assert features.spatial.dtype == features.flow.dtype == np.float16
    assert np.isfinite(features.stacked()).all()
    assert features.stacked().shape == (N_FRAMES, 1024)
    # The motion stream sees different inputs from frame to frame.
    assert np.ptp(features.flow.astype(np.float32), axis=0).max() > 0


def test_features_written_once_are_reused_not_recomputed(
    pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, video = pipeline["features_path"], pipeline["video"]
    checkpoint = pipeline["extractor"].best_checkpoint
    assert not pipeline["features"].reused

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the extractor was loaded again")

    monkeypatch.setattr(sequence_module, "load_extractor", no_network)
    start = time.perf_counter()
    again = extract_features(video, checkpoint, path)
    seconds = time.perf_counter() - start
    assert again.reused
    assert path.stat().st_mtime_ns == pipeline["features_mtime"]
    np.testing.assert_array_equal(again.spatial, pipeline["features"].spatial)
    np.testing.assert_array_equal(again.flow, pipeline["features"].flow)
    assert seconds < pipeline["first_seconds"] / 3


def test_features_are_recomputed_when_the_video_changes(
    pipeline: dict[str, Any], tmp_path: Path
) -> None:
    video = tmp_path / "copy.mp4"
    shutil.copyfile(pipeline["video"], video)
    checkpoint = pipeline["extractor"].best_checkpoint
    path = tmp_path / "copy.features.npz"
    first = extract_features(video, checkpoint, path)
    assert not first.reused
    key = features_key(video, checkpoint)
    info = video.stat()
    os.utime(video, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    assert features_key(video, checkpoint) != key
    other = features_key(video, pipeline["flow"].best_checkpoint)
    assert other["extractor_sha256"] != key["extractor_sha256"]
    second = extract_features(video, checkpoint, path)
    assert not second.reused
    np.testing.assert_array_equal(second.spatial, first.spatial)


# The sequence model.


def test_sequence_model_gives_a_probability_per_frame_and_behavior(
    pipeline: dict[str, Any],
) -> None:
    probabilities = pipeline["probabilities"]
    assert probabilities.shape == (N_FRAMES, len(BEHAVIORS))
    assert probabilities.dtype == np.float32
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    model = load_sequence(pipeline["sequence"].best_checkpoint)
    assert model.behaviors == list(BEHAVIORS)
    stacked = pipeline["features"].stacked()
    np.testing.assert_allclose(predict_sequence(model, stacked), probabilities)
    on = predict_ethogram(model, probabilities)
    assert on.shape == probabilities.shape and on.dtype == bool
    with pytest.raises(ConfigError, match=r"want features \(frames, 1024\)"):
        predict_sequence(model, stacked[:, :512])


def test_thresholds_are_chosen_on_the_validation_frames(
    pipeline: dict[str, Any], arena: tuple[Path, np.ndarray]
) -> None:
    _, labels = arena
    result = pipeline["sequence"]
    model = load_sequence(result.best_checkpoint)
    val = predict_sequence(model, pipeline["features"].stacked()[SPLIT:])
    expected = tune_behavior_bouts([val], [labels[SPLIT:]])
    assert result.bout_params == model.bout_params == expected
    assert len(expected) == len(BEHAVIORS)
    assert result.best_epoch == 1 + int(
        np.argmax([r["val_macro_f1"] for r in result.epochs])
    )


def test_tuned_threshold_separates_low_but_distinct_probabilities() -> None:
    labels = np.zeros((60, 2), bool)
    labels[10:25, 0] = labels[30:50, 1] = True
    probabilities = np.where(labels, 0.3, 0.1).astype(np.float32)
    probabilities[:, 1] = np.where(labels[:, 1], 0.9, 0.6)
    params = tune_behavior_bouts([probabilities], [labels])
    assert 0.1 < params[0].threshold <= 0.3
    assert 0.6 < params[1].threshold <= 0.9
    assert all(isinstance(p, BoutParams) for p in params)


def test_each_output_sees_only_its_receptive_field(rng: np.random.Generator) -> None:
    params = SequenceParams(n_behaviors=2, n_inputs=8, hidden=8, dilations=(1, 2, 4))
    assert params.receptive_field == 15
    net = TemporalConvNet(params).eval()
    x = torch.from_numpy(rng.normal(size=(1, 8, 60)).astype(np.float32))
    changed = x.clone()
    changed[:, :, 30] += 5.0
    with torch.inference_mode():
        diff = (net(changed) - net(x)).abs().amax(dim=1)[0]
    moved = torch.nonzero(diff > 1e-6).flatten().tolist()
    assert moved and min(moved) >= 30 - 7 and max(moved) <= 30 + 7


def test_sequence_training_refuses_features_of_the_wrong_width(tmp_path: Path) -> None:
    data = [(np.zeros((10, 100), np.float32), np.zeros((10, 2), bool))]
    with pytest.raises(ConfigError, match=r"want features \(frames, 1024\)"):
        train_sequence(
            data, data, SequenceParams(n_behaviors=2), SequenceTrainParams(), tmp_path
        )


def test_positive_weights_count_negatives_per_positive() -> None:
    labels = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], bool)
    np.testing.assert_allclose(positive_weights(labels), [3.0, 1 / 3])
    with pytest.raises(ConfigError, match="behavior 'walk': needs frames with"):
        positive_weights(np.array([[1, 0], [0, 0]], bool), ["rest", "walk"])


# Feature extractors from a user's weights.


def test_user_weights_start_both_streams_with_strict_false(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = resnet18(weights=None)
    path = tmp_path / "resnet18.pt"
    torch.save(source.state_dict(), path)
    model = FeatureExtractor(ExtractorParams(n_behaviors=2), FLOW)
    load_user_weights(model, path)
    reference = source.state_dict()
    for trunk in (model.spatial, model.motion):
        state = trunk.state_dict()
        torch.testing.assert_close(
            state["layer3.0.conv1.weight"], reference["layer3.0.conv1.weight"]
        )
        # A 3-channel first convolution, averaged and repeated to the channels
        # of the stream, responds alike to a flat input.
        conv1 = state["conv1.weight"]
        torch.testing.assert_close(
            conv1.sum(dim=1), reference["conv1.weight"].sum(dim=1)
        )
    with pytest.raises(ConfigError, match="sets no ResNet-18 weight"):
        torch.save({"something": torch.zeros(1)}, tmp_path / "other.pt")
        load_user_weights(model, tmp_path / "other.pt")


def test_a_flow_checkpoint_is_not_an_extractor(pipeline: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="not an etholoop-feature-extractor"):
        sequence_module.load_extractor(pipeline["flow"].best_checkpoint)
