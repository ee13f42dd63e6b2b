"""The 3D-CNN clip recognizer: network size, clips, class weights, training, inference.

The data is one synthetic arena (`etholoop.synth`): a single gray mouse, 160x120
px, 120 frames at 30 fps, showing rest, walk and rear; the class of a frame is
the mouse's behavior there. Training runs are tiny (16 px, clips of 8 frames,
the light network) and shared between the tests that read them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from etholoop.behavior.clip3d import Clip3dNet, Clip3dParams
from etholoop.behavior.clip3d_train import (
    Clip3dResult,
    Clip3dTrainParams,
    class_weights,
    load_clip3d,
    macro_f1,
    predict_clips,
    predict_video,
    train_clip3d,
)
from etholoop.behavior.clips import (
    ClipDataset,
    ClipItem,
    clip_indices,
    crop_boxes,
    iter_video_clips,
    normalize_clip,
    resize_frame,
    spread_to_frames,
    video_mean_std,
)
from etholoop.errors import ConfigError
from etholoop.pose.heatmap.network import count_parameters
from etholoop.synth import make_arena, write_arena
from etholoop.video.reader import PyAVReader

BEHAVIORS = ("rest", "walk", "rear")
TINY = Clip3dParams(n_classes=3, variant="light", clip_length=8, imsize=16)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """The arena video and the class of each of its 120 frames."""
    arena = make_arena(
        n_animals=1,
        n_frames=120,
        width=160,
        height=120,
        seed=3,
        gray=True,
        behaviors=BEHAVIORS,
    )
    paths = write_arena(arena, tmp_path_factory.mktemp("arena"))
    classes = arena.ethogram.values[:, 0, :].argmax(axis=1)
    assert set(classes.tolist()) == {0, 1, 2}
    return paths["video"], classes


def _items(video: Path, classes: np.ndarray, frames: range) -> list[ClipItem]:
    return [ClipItem(video, f, int(classes[f])) for f in frames]


def _train(
    arena: tuple[Path, np.ndarray], out_dir: Path, **train_fields: int
) -> Clip3dResult:
    video, classes = arena
    fields = {"epochs": 4, "batch_size": 8, "patience": 50, "seed": 0} | train_fields
    return train_clip3d(
        _items(video, classes, range(0, 120, 2)),
        _items(video, classes, range(1, 120, 4)),
        TINY,
        Clip3dTrainParams(**fields),
        out_dir,
        class_names=BEHAVIORS,
    )


def _read_log(path: Path) -> list[dict[str, float]]:
    with path.open() as file:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def resumed(
    arena: tuple[Path, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Clip3dResult, Clip3dResult]:
    """A run of 2 epochs, and the same folder trained on to 4 epochs."""
    out_dir = tmp_path_factory.mktemp("resumed")
    first = _train(arena, out_dir, epochs=2)
    return first, _train(arena, out_dir, epochs=4)


# The network.


@pytest.mark.parametrize(
    ("variant", "target"), [("standard", 3_000_000), ("light", 600_000)]
)
@pytest.mark.parametrize("n_classes", [6, 8])
def test_parameter_counts_match_the_reference(
    variant: str, target: int, n_classes: int
) -> None:
    model = Clip3dNet(Clip3dParams(n_classes=n_classes, variant=variant))  # type: ignore[arg-type]
    assert abs(count_parameters(model) - target) <= 0.1 * target


@pytest.mark.parametrize("variant", ["standard", "light"])
@pytest.mark.parametrize("shape", [(16, 112), (8, 32), (1, 8)])
def test_network_gives_one_score_per_class(
    variant: str, shape: tuple[int, int]
) -> None:
    length, size = shape
    params = Clip3dParams(n_classes=4, variant=variant, clip_length=length, imsize=size)  # type: ignore[arg-type]
    model = Clip3dNet(params).eval()
    with torch.inference_mode():
        out = model(torch.zeros(2, 1, length, size, size))
    assert out.shape == (2, 4)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": 3, "variant": "huge"}, "variant"),
        ({"n_classes": 3, "clip_length": 0}, "clip_length"),
        ({"n_classes": 3, "dropout": 1.0}, "dropout"),
    ],
)
def test_bad_params_are_refused(fields: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Clip3dParams(**fields)  # type: ignore[arg-type]


# Clips.


@pytest.mark.parametrize(
    ("center", "n_frames", "length", "expected"),
    [
        (50, 120, 16, list(range(42, 58))),
        (0, 120, 16, [0] * 9 + list(range(1, 8))),
        (3, 120, 16, [0] * 6 + list(range(1, 11))),
        (119, 120, 16, list(range(111, 120)) + [119] * 7),
        (2, 5, 8, [0, 0, 0, 1, 2, 3, 4, 4]),
        (0, 1, 4, [0, 0, 0, 0]),
        (5, 10, 5, [3, 4, 5, 6, 7]),
        (5, 10, 1, [5]),
    ],
)
def test_clip_indices_replicate_the_ends(
    center: int, n_frames: int, length: int, expected: list[int]
) -> None:
    inds = clip_indices(center, n_frames, length)
    assert inds.tolist() == expected
    # The centre sits at position length // 2 whenever the clip fits.
    if length // 2 <= center < n_frames - (length - 1 - length // 2):
        assert inds[length // 2] == center


@pytest.mark.parametrize("length", [0, -3])
def test_clip_length_must_be_positive(length: int) -> None:
    with pytest.raises(ConfigError, match="clip length: want a positive"):
        clip_indices(0, 10, length)


def test_clip_centre_must_be_in_the_video() -> None:
    with pytest.raises(ValueError, match="outside the video"):
        clip_indices(10, 10, 4)


def test_spread_to_frames_takes_the_nearest_centre() -> None:
    centers = np.array([0, 4, 8])
    values = np.array([[0.0], [1.0], [2.0]], np.float32)
    spread = spread_to_frames(centers, values, 11)
    # Frames 2 and 6 lie halfway: they take the earlier centre.
    assert spread[:, 0].tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]


def test_video_mean_std_of_every_frame(arena: tuple[Path, np.ndarray]) -> None:
    video, _ = arena
    with PyAVReader(video) as reader:
        pixels = np.stack([f for _, f in reader.iter_frames(gray=True)]).astype(float)
    mean, std = video_mean_std(video, n_samples=1000)
    assert mean == pytest.approx(pixels.mean(), rel=1e-9)
    assert std == pytest.approx(pixels.std(), rel=1e-9)
    sampled = video_mean_std(video)
    assert sampled[0] == pytest.approx(mean, rel=0.05)


def test_dataset_decodes_the_clip_frames(arena: tuple[Path, np.ndarray]) -> None:
    video, classes = arena
    stats = (100.0, 20.0)
    items = _items(video, classes, range(0, 120, 1))
    dataset = ClipDataset(
        items, clip_length=8, imsize=16, stats={video: stats}, cache_frames=12
    )
    with PyAVReader(video) as reader:
        frames = [resize_frame(f, 16) for _, f in reader.iter_frames(gray=True)]
    for index in (0, 3, 60, 117, 119, 59):
        clip, label = dataset[index]
        assert clip.shape == (1, 8, 16, 16) and clip.dtype == torch.float32
        assert label == classes[index]
        expected = normalize_clip(
            np.stack([frames[i] for i in clip_indices(index, 120, 8)]), stats
        )
        np.testing.assert_array_equal(clip.numpy(), expected)
    assert len(dataset._frames) <= 12


@pytest.mark.parametrize(("stride", "length"), [(1, 8), (5, 16), (20, 8), (7, 1)])
def test_stride_clips_match_the_dataset(
    arena: tuple[Path, np.ndarray], stride: int, length: int
) -> None:
    video, _ = arena
    stats = video_mean_std(video)
    dataset = ClipDataset(
        [], clip_length=length, imsize=16, stats={video: stats}, cache_frames=64
    )
    batches = list(
        iter_video_clips(
            video, stride, clip_length=length, imsize=16, stats=stats, batch_size=7
        )
    )
    centers = np.concatenate([c for c, _ in batches])
    assert centers.tolist() == list(range(0, 120, stride))
    assert all(len(c) <= 7 for c, _ in batches)
    for batch_centers, clips in batches:
        assert clips.shape == (len(batch_centers), 1, length, 16, 16)
        for center, clip in zip(batch_centers.tolist(), clips, strict=True):
            np.testing.assert_array_equal(clip.numpy(), dataset.clip(video, center))


def test_crop_windows_follow_the_centre_and_stay_inside_the_frame() -> None:
    centers = np.array([[np.nan, np.nan], [50, 40], [np.nan, np.nan], [2, 118]])
    boxes = crop_boxes(centers, 30, 160, 120)
    assert boxes.tolist() == [
        [35, 25, 65, 55],  # before the first centre: the first one
        [35, 25, 65, 55],
        [35, 25, 65, 55],  # a gap keeps the last centre
        [0, 90, 30, 120],  # shifted back inside
    ]
    whole = crop_boxes(np.full((2, 2), np.nan), 500, 160, 120)
    assert whole.tolist() == [[0, 0, 160, 120]] * 2  # no centre, window too big


def test_stride_clips_of_a_crop_window_match_the_dataset(
    arena: tuple[Path, np.ndarray],
) -> None:
    video, _ = arena
    stats = video_mean_std(video)
    rng = np.random.default_rng(0)
    centers = np.stack([rng.uniform(20, 140, 120), rng.uniform(20, 100, 120)], 1)
    boxes = crop_boxes(centers, 40, 160, 120)
    dataset = ClipDataset(
        [], clip_length=8, imsize=16, stats={video: stats}, crops={(video, 1): boxes}
    )
    for centre_batch, clips in iter_video_clips(
        video, 5, clip_length=8, imsize=16, stats=stats, boxes=boxes
    ):
        for center, clip in zip(centre_batch.tolist(), clips, strict=True):
            np.testing.assert_array_equal(clip.numpy(), dataset.clip(video, center, 1))
    with PyAVReader(video) as reader:  # the window of the centre frame, resized
        frames = [reader.read_frame(i, gray=True) for i in range(60, 68)]
    x0, y0, x1, y1 = boxes[64]
    expected = np.stack([resize_frame(f[y0:y1, x0:x1], 16) for f in frames])
    np.testing.assert_array_equal(
        dataset.clip(video, 64, 1), normalize_clip(expected, stats)
    )
    assert not np.array_equal(dataset.clip(video, 64, 1), dataset.clip(video, 64, 0))


def test_clips_cached_on_disk_are_the_decoded_clips(
    arena: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    video, classes = arena
    stats = video_mean_std(video)
    rng = np.random.default_rng(1)
    centers = np.stack([rng.uniform(20, 140, 120), rng.uniform(20, 100, 120)], 1)
    crops = {(video, 1): crop_boxes(centers, 40, 160, 120)}
    # Shuffled centres, ends included, a cropped animal and a whole-frame one.
    frames = [119, 0, 64, 3, 64, 100, 7]
    items = [ClipItem(video, f, int(classes[f]), f % 2) for f in frames]

    def dataset() -> ClipDataset:
        return ClipDataset(
            items, clip_length=8, imsize=16, stats={video: stats}, crops=crops
        )

    decoded = dataset()
    cached = dataset()
    path = cached.cache_on_disk(tmp_path)
    assert path.stat().st_size >= cached.cache_bytes() == len(items) * 8 * 16 * 16
    for index in range(len(items)):
        clip, label = cached[index]
        expected, expected_label = decoded[index]
        np.testing.assert_array_equal(clip.numpy(), expected.numpy())
        assert label == expected_label
    modified = path.stat().st_mtime_ns
    assert dataset().cache_on_disk(tmp_path) == path  # the same clips: reused
    assert path.stat().st_mtime_ns == modified
    assert list(tmp_path.iterdir()) == [path]


def test_stride_must_be_positive(arena: tuple[Path, np.ndarray]) -> None:
    with pytest.raises(ConfigError, match="stride"):
        next(iter_video_clips(arena[0], 0, clip_length=8, imsize=16, stats=(0, 1)))


# Class weights and scores.


def test_class_weights_are_inverse_frequencies() -> None:
    weights = class_weights([6, 3, 1])
    np.testing.assert_allclose(weights, [10 / 18, 10 / 9, 10 / 3], rtol=1e-6)
    np.testing.assert_allclose(class_weights([5, 5]), [1.0, 1.0])


def test_a_class_without_examples_is_named() -> None:
    with pytest.raises(ConfigError, match="class 'rear': no training example"):
        class_weights([4, 2, 0], names=BEHAVIORS)
    with pytest.raises(ConfigError, match="classes 0, 2: no training example"):
        class_weights([0, 2, 0])


def test_training_refuses_a_class_without_examples(
    arena: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    video, classes = arena
    rest = [f for f in range(120) if classes[f] != 2]
    with pytest.raises(ConfigError, match="class 'rear': no training example"):
        train_clip3d(
            [ClipItem(video, f, int(classes[f])) for f in rest],
            _items(video, classes, range(3)),
            TINY,
            Clip3dTrainParams(epochs=1),
            tmp_path,
            class_names=BEHAVIORS,
        )
    assert not (tmp_path / "last.pt").exists()


def test_macro_f1_over_classes() -> None:
    true = np.array([0, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0])
    # F1: class 0 = 2*1/(2+2), class 1 = 2*2/(3+2), class 2 = 0.
    assert macro_f1(true, pred, 3) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    # A class neither true nor predicted does not count.
    assert macro_f1(true, pred, 4) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


# Training.


@pytest.mark.slow
def test_training_loss_falls(resumed: tuple[Clip3dResult, Clip3dResult]) -> None:
    losses = [r["train_loss"] for r in resumed[1].epochs]
    assert losses[-1] < losses[0]


@pytest.mark.slow
def test_training_writes_its_log_and_curves(
    resumed: tuple[Clip3dResult, Clip3dResult],
) -> None:
    result = resumed[1]
    log = _read_log(result.out_dir / "epochs.csv")
    assert list(log[0]) == [
        "epoch",
        "train_loss",
        "val_loss",
        "val_macro_f1",
        "lr",
        "seconds",
    ]
    assert [row["epoch"] for row in log] == [1, 2, 3, 4]
    assert log[0]["lr"] == pytest.approx(1e-3)
    assert log[1]["lr"] < log[0]["lr"]  # cosine annealing
    assert (result.out_dir / "training-curves.png").stat().st_size > 0


@pytest.mark.slow
def test_training_resumes_from_last_checkpoint(
    resumed: tuple[Clip3dResult, Clip3dResult],
    arena: tuple[Path, np.ndarray],
    tmp_path: Path,
) -> None:
    first, second = resumed
    assert len(first.epochs) == 2 and len(second.epochs) == 4
    assert second.epochs[:2] == first.epochs
    state = torch.load(second.last_checkpoint, weights_only=True)
    assert state["epoch"] == 4
    # Training without a break, clips decoded in a worker process, gives the
    # same epochs as the resumed run.
    straight = _train(arena, tmp_path, epochs=4, num_workers=1)
    for a, b in zip(straight.epochs, second.epochs, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["val_macro_f1"] == pytest.approx(b["val_macro_f1"], abs=1e-6)
    # Another network in the same folder is refused.
    other = Clip3dParams(n_classes=3, variant="standard", clip_length=8, imsize=16)
    video, classes = arena
    with pytest.raises(ConfigError, match="last.pt: trained with"):
        train_clip3d(
            _items(video, classes, range(0, 120, 2)),
            _items(video, classes, range(1, 120, 4)),
            other,
            Clip3dTrainParams(epochs=5),
            tmp_path,
        )


@pytest.mark.slow
def test_early_stopping_keeps_the_best_checkpoint(
    arena: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    # With this seed here the F1 rises for four epochs and falls at the fifth.
    result = _train(arena, tmp_path, epochs=8, patience=1, seed=4)
    log = _read_log(tmp_path / "epochs.csv")
    f1s = [row["val_macro_f1"] for row in log]
    best_epoch = int(np.argmax(f1s)) + 1
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["epoch"] == best_epoch == result.best_epoch
    assert best["val_macro_f1"] == pytest.approx(max(f1s))
    # Patience 1: training stops at the first epoch that is no better.
    assert len(log) == min(best_epoch + 1, 8)
    assert result.stopped_early == (len(log) < 8)
    model, names = load_clip3d(tmp_path / "best.pt")
    assert names == list(BEHAVIORS)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, best["model"][key])


@pytest.mark.slow
def test_stride_inference_matches_clip_predictions(
    resumed: tuple[Clip3dResult, Clip3dResult], arena: tuple[Path, np.ndarray]
) -> None:
    video, _ = arena
    checkpoint = resumed[1].best_checkpoint
    probs = predict_video(checkpoint, video, stride=3, batch_size=16)
    assert probs.shape == (120, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    model, _ = load_clip3d(checkpoint)
    dataset = ClipDataset(
        [], clip_length=8, imsize=16, stats={video: video_mean_std(video)}
    )
    centers = [0, 30, 57, 117]
    clips = torch.from_numpy(np.stack([dataset.clip(video, c) for c in centers]))
    np.testing.assert_allclose(probs[centers], predict_clips(model, clips), atol=1e-5)
    # Between centres, the nearest centre's row: frame 58 is nearest to 57.
    np.testing.assert_array_equal(probs[58], probs[57])
    np.testing.assert_array_equal(probs[119], probs[117])
    every = predict_video(checkpoint, video, stride=1)
    np.testing.assert_allclose(every[::3], probs[::3], atol=1e-5)
