"""DeepEthogram's stages 2 and 3: per-frame features, then a model of their sequence.

**Feature extractors** (`FeatureExtractor`). Two ResNet-18s (torchvision's,
built with `weights=None`: no download) from scratch, or from a user's weights
file (`load_trunk_weights`, `strict=False`; a 3-channel first convolution is
averaged over its inputs and repeated to the channels needed). The spatial
stream reads the `spatial_frames` frames at the centre of the stack as
channels (1: the frame itself); the motion stream reads the 2(N - 1) flow
channels of the frozen flow generator (`flow.py`), upsampled to the stack's
side. Each ends in global average pooling: 512 features per stream. While
they are trained on labeled frames (`train_extractor`), each stream has its
own linear head and its own weighted binary cross-entropy (`pos_weight` =
negatives / positives per behavior), so that neither stream can lean on the
other; their probabilities are averaged ("average fusion") to score the epoch
(validation macro F1 at 0.5), and the best epoch is kept. The checkpoint holds
the flow generator too, so it is all `extract_features` needs.

**Features on disk** (`extract_features`). Every frame of a video (its stack
centred on it, one sequential decode, `clips.iter_video_clips`) gives
`spatial` (frames, 512) and `flow` (frames, 512), float16, written to one
`.npz` with a `key`: the video's sha256, size and mtime and the extractor
checkpoint's sha256. A later call finds the file, compares the key, and
returns it without loading the network; any change recomputes it.

**Sequence model** (`TemporalConvNet`). Over the (frames, 1024) features
centred on the training frames' mean and divided by their standard deviation
(at least the overall one, so that dead features stay small): a 1x1
projection to `hidden` channels, residual blocks of dilated non-causal
convolutions (kernel 3, dilations 1, 2, 4, ..., each block x + 1x1(dropout(
ReLU(dilated conv(x))))), and a 1x1 convolution to one logit per behavior;
sigmoid probabilities, multi-label. With the default dilations 1-32 each
output sees 127 frames (about 4 s at 30 fps). Training (`train_sequence`)
takes random windows of `window` frames, weighted binary cross-entropy as
above, Adam, early stopping on validation macro F1; then each behavior's
threshold, minimum bout and gap fill are tuned on the validation videos
(`postprocess.tune_bouts`, one segment per video) and kept in `best.pt`.

Why a TCN rather than TGM (DeepEthogram's default): both are temporal
convolutions over fixed per-frame features. TGM shares a few Gaussian-shaped
temporal kernels across channels, which keeps it tiny and regularized for a
handful of labeled videos, but its receptive field is one fixed span set by
the kernel length, and its soft attention and Gaussian parameterization are
custom layers to write, test and tune. A dilated residual TCN (MS-TCN's
single stage, the common baseline for action segmentation over precomputed
features) is built from standard `Conv1d`s, grows its receptive field
exponentially with depth (short flinches and seconds-long grooming in one
model), trains stably with residual connections, and its size is set by two
numbers (`hidden`, `dilations`); at 64 hidden channels it has about 165k
parameters, as small as the data here calls for. Dropout and weight decay
stand in for TGM's built-in smoothness; bout rules tuned on validation clean
up the rest.

Every `train_*` writes `best.pt`, `last.pt`, `epochs.csv` (epoch, train_loss,
val_loss, val_macro_f1, lr, seconds; `clip3d_train.write_epochs_csv`) and
`training-curves.png` into its `out_dir`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from attrs import asdict, field, frozen
from numpy.typing import NDArray
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torchvision.models import resnet18

from etholoop.atomic import written_atomically
from etholoop.behavior.checkpoints import (
    FILES,
    cpu_state,
    load_checkpoint,
    save_checkpoint,
)
from etholoop.behavior.clip3d_train import EpochShuffle, write_epochs_csv
from etholoop.behavior.clips import (
    ClipDataset,
    ClipItem,
    Stats,
    iter_video_clips,
    video_mean_std,
)
from etholoop.behavior.flow import CHECKPOINT_FORMAT as FLOW_FORMAT
from etholoop.behavior.flow import (
    FlowGenerator,
    FlowParams,
    stacks_of_clips,
    upsample_flow,
)
from etholoop.behavior.postprocess import BoutParams, apply_bouts, tune_bouts
from etholoop.errors import ConfigError
from etholoop.evaluate.behavior import label_macro_f1
from etholoop.pose.heatmap.network import pick_device
from etholoop.pose.plots import plot_training_curves
from etholoop.pose.yolo_env import cpu_threads
from etholoop.progress import Reporter, silent
from etholoop.types import at_least
from etholoop.video.probe import hash_files

logger = logging.getLogger(__name__)

EXTRACTOR_FORMAT = "etholoop-feature-extractor/1"
SEQUENCE_FORMAT = "etholoop-sequence/1"
FEATURES_FORMAT = "etholoop-features/1"
N_FEATURES = 512
"""Features per stream (ResNet-18's pooled width)."""
MIN_FEATURE_STD = 1e-6
"""Floor of the features' overall standard deviation (all-constant features)."""

LabeledFrame = tuple[Path | str, int, Sequence[bool] | NDArray[np.bool_]]
"""(video, frame, on/off of each behavior) of one labeled frame."""
LabeledSequence = tuple[NDArray[np.floating], NDArray[np.bool_]]
"""(features (frames, 1024), labels (frames, behaviors)) of one video."""


def _dropout(instance: object, attribute: Any, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name}: want 0 <= p < 1, got {value}"
        )


# Feature extractors.


@frozen
class ExtractorParams:
    """The two feature streams.

    Attributes:
        n_behaviors: Behaviors of the training heads (>= 1).
        spatial_frames: Frames at the stack's centre the spatial stream reads
            as channels (1: the centre frame alone); at most the flow
            generator's `n_frames`.
        dropout: Dropout before each training head.
    """

    n_behaviors: int = field(validator=at_least(1))
    spatial_frames: int = field(default=1, validator=at_least(1))
    dropout: float = field(default=0.25, converter=float, validator=_dropout)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


def resnet_trunk(in_channels: int) -> nn.Module:
    """ResNet-18 (no pretrained weights) reading `in_channels`, giving 512 features."""
    net: nn.Module = resnet18(weights=None)
    net.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    net.fc = nn.Identity()
    return net


class FeatureExtractor(nn.Module):
    """Spatial and motion features of frame stacks, and the training heads' logits.

    Args:
        params: The streams and the behaviors.
        flow_params: The flow generator's; its stack is the input.
    """

    def __init__(self, params: ExtractorParams, flow_params: FlowParams) -> None:
        super().__init__()
        if params.spatial_frames > flow_params.n_frames:
            raise ConfigError(
                f"spatial_frames {params.spatial_frames}: want at most the flow "
                f"generator's {flow_params.n_frames} frames"
            )
        self.params, self.flow_params = params, flow_params
        self.flow_generator = FlowGenerator(flow_params)
        self.flow_generator.requires_grad_(False)
        self.spatial = resnet_trunk(params.spatial_frames)
        self.motion = resnet_trunk(2 * flow_params.n_flows)
        self.spatial_head = nn.Sequential(
            nn.Dropout(params.dropout), nn.Linear(N_FEATURES, params.n_behaviors)
        )
        self.motion_head = nn.Sequential(
            nn.Dropout(params.dropout), nn.Linear(N_FEATURES, params.n_behaviors)
        )

    def train(self, mode: bool = True) -> FeatureExtractor:
        """Train mode for the streams; the frozen flow generator stays in eval."""
        super().train(mode)
        self.flow_generator.eval()
        return self

    def features(self, stacks: Tensor) -> tuple[Tensor, Tensor]:
        """(spatial, motion) features, each (B, 512), of stacks (B, N, S, S)."""
        n_frames = stacks.shape[1]
        first = n_frames // 2 - self.params.spatial_frames // 2
        spatial = stacks[:, first : first + self.params.spatial_frames]
        with torch.no_grad():
            flows = upsample_flow(self.flow_generator(stacks)[0], 2)
        return self.spatial(spatial), self.motion(flows)

    def forward(self, stacks: Tensor) -> tuple[Tensor, Tensor]:
        """Logits (B, behaviors) of the spatial and of the motion head."""
        spatial, motion = self.features(stacks)
        return self.spatial_head(spatial), self.motion_head(motion)


def load_trunk_weights(
    trunk: nn.Module, state: dict[str, Tensor]
) -> tuple[list[str], list[str]]:
    """Load a ResNet-18 state dict into a trunk with `strict=False`.

    The `fc` weights are dropped; a first convolution with another number of
    input channels is averaged over them and repeated to the trunk's; other
    tensors whose shape differs are skipped.

    Returns:
        Names of the trunk's tensors the file set, and of those it did not.
    """
    own = trunk.state_dict()
    usable: dict[str, Tensor] = {}
    for name, value in state.items():
        if name.startswith("fc.") or name not in own:
            continue
        target = own[name]
        if name == "conv1.weight" and value.shape[1] != target.shape[1]:
            mean = value.float().mean(dim=1, keepdim=True)
            value = mean.repeat(1, target.shape[1], 1, 1) * (
                value.shape[1] / target.shape[1]
            )
        if value.shape == target.shape:
            usable[name] = value.to(target.dtype)
    missing, _ = trunk.load_state_dict(usable, strict=False)
    return sorted(usable), list(missing)


def load_user_weights(model: FeatureExtractor, path: Path) -> None:
    """Start both streams from a weights file.

    The file is a torchvision-style ResNet-18 state dict (both streams start
    from it), a dict of such under "spatial" and "motion", or a `best.pt` of
    `train_extractor`.

    Raises:
        ConfigError: if the file is unreadable or sets no tensor of a stream.
    """
    try:
        state: Any = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise ConfigError(f"{path}: not a readable weights file ({exc})") from exc
    if isinstance(state, dict) and state.get("format") == EXTRACTOR_FORMAT:
        state = {
            stream: {
                k.removeprefix(f"{stream}."): v
                for k, v in state["model"].items()
                if k.startswith(f"{stream}.")
            }
            for stream in ("spatial", "motion")
        }
    if isinstance(state, dict) and {"spatial", "motion"} <= set(state):
        streams = {"spatial": state["spatial"], "motion": state["motion"]}
    elif isinstance(state, dict):
        streams = {"spatial": state, "motion": state}
    else:
        raise ConfigError(f"{path}: not a state dict")
    for stream, weights in streams.items():
        trunk: nn.Module = getattr(model, stream)
        loaded, missing = load_trunk_weights(trunk, dict(weights))
        if not loaded:
            raise ConfigError(
                f"{path}: sets no ResNet-18 weight of the {stream} stream"
            )
        if missing:
            logger.info("%s: %d %s tensors not in the file", path, len(missing), stream)


@frozen
class ExtractorTrainParams:
    """How the feature extractors are optimized.

    Attributes:
        epochs: Most epochs.
        batch_size: Stacks per optimizer step.
        lr: Adam's learning rate.
        weight_decay: Adam's L2 penalty.
        grad_clip: Largest gradient norm.
        patience: Epochs without a better validation macro F1 before stopping.
        seed: Seed of the weights, the shuffling and dropout.
        device: "cpu", "cuda:0", a GPU index, ...; None: the first GPU if any.
    """

    epochs: int = field(default=20, validator=at_least(1))
    batch_size: int = field(default=32, validator=at_least(2))
    lr: float = field(default=1e-3, converter=float, validator=at_least(0.0))
    weight_decay: float = field(default=1e-5, converter=float, validator=at_least(0.0))
    grad_clip: float = field(default=1.0, converter=float, validator=at_least(0.0))
    patience: int = field(default=5, validator=at_least(1))
    seed: int = field(default=0, validator=at_least(0))
    device: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


@frozen
class TrainResult:
    """What `train_extractor` or `train_sequence` left in its `out_dir`.

    Attributes:
        out_dir: The folder.
        best_epoch: The epoch of the best validation macro F1 (1-based).
        best_val_f1: That macro F1.
        epochs: One record per epoch, the columns of `epochs.csv`.
        bout_params: Per behavior, the tuned threshold and bout rules (the
            sequence model; empty for the extractors).
    """

    out_dir: Path
    best_epoch: int
    best_val_f1: float
    epochs: list[dict[str, float]]
    bout_params: tuple[BoutParams, ...] = ()

    @property
    def best_checkpoint(self) -> Path:
        """`best.pt`: the best epoch's weights."""
        return self.out_dir / FILES["best"]


def positive_weights(
    labels: NDArray[np.bool_], names: Sequence[str] | None = None
) -> NDArray[np.float32]:
    """BCE `pos_weight` of each behavior: negatives / positives.

    Args:
        labels: On/off per example and behavior, shape (examples, behaviors).
        names: Behavior names, for the error; None: by index.

    Raises:
        ConfigError: naming the behaviors with no positive or no negative example.
    """
    labels = np.asarray(labels, bool)
    positives = labels.sum(axis=0)
    negatives = len(labels) - positives
    bad = np.flatnonzero((positives == 0) | (negatives == 0)).tolist()
    if bad:
        named = [repr(names[k]) if names else str(k) for k in bad]
        raise ConfigError(
            f"behavior {', '.join(named)}: needs frames with and frames without it "
            f"among the training labels"
        )
    weights: NDArray[np.float32] = (negatives / positives).astype(np.float32)
    return weights


class _LabeledStacks(Dataset[tuple[Tensor, Tensor]]):
    """Clips of labeled frames (a `ClipDataset`) with their label vectors."""

    def __init__(
        self,
        items: Sequence[LabeledFrame],
        flow_params: FlowParams,
        stats: dict[Path, Stats],
    ) -> None:
        self.labels = torch.from_numpy(
            np.array([np.asarray(item[2], bool) for item in items], np.float32)
        )
        self.clips = ClipDataset(
            [ClipItem(Path(p), int(f), i) for i, (p, f, _) in enumerate(items)],
            clip_length=flow_params.span,
            imsize=flow_params.imsize,
            stats=stats,
        )

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        clip, i = self.clips[index]
        return clip, self.labels[i]


def train_extractor(
    train_items: Sequence[LabeledFrame],
    val_items: Sequence[LabeledFrame],
    flow_checkpoint: Path,
    params: ExtractorParams,
    train_params: ExtractorTrainParams,
    out_dir: Path,
    report: Reporter = silent,
    *,
    behaviors: Sequence[str] | None = None,
    weights: Path | None = None,
    stats: dict[Path, Stats] | None = None,
) -> TrainResult:
    """Train the spatial and motion streams on labeled frames; see the module docstring.

    Args:
        train_items: (video, frame, on/off per behavior) to learn from.
        val_items: The same, to choose the best epoch on.
        flow_checkpoint: A `best.pt` of `flow.train_flow`; frozen here.
        params: The streams.
        train_params: The optimization.
        out_dir: Where checkpoints and logs go.
        report: Reports epochs done.
        behaviors: Behavior names, kept in the checkpoint; None: by index.
        weights: A user's weights file to start the streams from
            (`load_user_weights`); None: from scratch.
        stats: Pixel (mean, std) of the videos by path; others are measured.

    Returns:
        The best epoch and every epoch's record.

    Raises:
        ConfigError: no training or validation item, labels of the wrong width,
            a behavior on every or on no training frame, a bad checkpoint.
        VideoError: if a video cannot be read.
    """
    if not train_items or not val_items:
        raise ConfigError(
            f"{out_dir}: need training and validation frames, got "
            f"{len(train_items)} and {len(val_items)}"
        )
    names = _behavior_names(behaviors, params.n_behaviors)
    train_labels = _labels(train_items, params.n_behaviors)
    _labels(val_items, params.n_behaviors)
    pos_weight = torch.from_numpy(positive_weights(train_labels, names))
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cpu_threads())
    torch.manual_seed(train_params.seed)
    device = pick_device(train_params.device)

    flow_state = load_checkpoint(flow_checkpoint, FLOW_FORMAT)
    flow_params = FlowParams(**flow_state["params"])
    model = FeatureExtractor(params, flow_params)
    model.flow_generator.load_state_dict(flow_state["model"])
    if weights is not None:
        load_user_weights(model, weights)
    model.to(device)

    known = {Path(p): s for p, s in (stats or {}).items()}
    for path in sorted({Path(item[0]) for item in (*train_items, *val_items)}):
        if path not in known:
            known[path] = video_mean_std(path)
    sets = [
        _LabeledStacks(items, flow_params, known) for items in (train_items, val_items)
    ]
    sampler = EpochShuffle(len(train_items), train_params.seed)
    loader = DataLoader(
        sets[0],
        batch_size=train_params.batch_size,
        sampler=sampler,
        drop_last=len(train_items) % train_params.batch_size == 1,
    )
    val_loader = DataLoader(sets[1], batch_size=train_params.batch_size)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        trained, lr=train_params.lr, weight_decay=train_params.weight_decay
    )
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight.to(device))
    meta = {
        "params": params.to_dict(),
        "flow_params": flow_params.to_dict(),
        "behaviors": names,
        "train_params": train_params.to_dict(),
    }

    records: list[dict[str, float]] = []
    best_epoch, best_f1 = 0, -math.inf
    with report("training the feature extractors", train_params.epochs) as advance:
        for epoch in range(1, train_params.epochs + 1):
            if epoch - 1 - best_epoch >= train_params.patience:
                break
            start = time.perf_counter()
            sampler.epoch = epoch
            model.train()
            total, n = 0.0, 0
            for clips, labels in loader:
                stacks = stacks_of_clips(clips, flow_params).to(device)
                labels = labels.to(device)
                optimizer.zero_grad(set_to_none=True)
                spatial, motion = model(stacks)
                loss = (loss_fn(spatial, labels) + loss_fn(motion, labels)) / 2
                loss.backward()
                nn.utils.clip_grad_norm_(trained, train_params.grad_clip)
                optimizer.step()
                total += float(loss.detach()) * len(labels)
                n += len(labels)
            val_loss, val_f1 = _validate_extractor(
                model, val_loader, loss_fn, flow_params, device
            )
            records.append(
                _record(epoch, total / max(n, 1), val_loss, val_f1, optimizer, start)
            )
            state = {**meta, "model": cpu_state(model), "epoch": epoch}
            if best_epoch == 0 or val_f1 > best_f1:
                best_epoch, best_f1 = epoch, val_f1
                save_checkpoint(
                    {**state, "val_macro_f1": val_f1},
                    out_dir / FILES["best"],
                    EXTRACTOR_FORMAT,
                )
            save_checkpoint(
                {**state, "records": records}, out_dir / FILES["last"], EXTRACTOR_FORMAT
            )
            write_epochs_csv(records, out_dir / FILES["log"])
            advance(1)
    plot_training_curves(_curves(records), out_dir / FILES["curves"])
    return TrainResult(out_dir, best_epoch, best_f1, records)


def _validate_extractor(
    model: FeatureExtractor,
    loader: DataLoader[tuple[Tensor, Tensor]],
    loss_fn: nn.BCEWithLogitsLoss,
    flow_params: FlowParams,
    device: torch.device,
) -> tuple[float, float]:
    """Mean loss of the two heads and macro F1 of their averaged probabilities."""
    model.eval()
    total, n = 0.0, 0
    true, pred = [], []
    with torch.inference_mode():
        for clips, labels in loader:
            stacks = stacks_of_clips(clips, flow_params).to(device)
            labels = labels.to(device)
            spatial, motion = model(stacks)
            loss = (loss_fn(spatial, labels) + loss_fn(motion, labels)) / 2
            total += float(loss) * len(labels)
            n += len(labels)
            probs = (torch.sigmoid(spatial) + torch.sigmoid(motion)) / 2
            true.append(labels.cpu().numpy() > 0.5)
            pred.append(probs.cpu().numpy() >= 0.5)
    return total / max(n, 1), label_macro_f1(np.concatenate(true), np.concatenate(pred))


def load_extractor(
    checkpoint: Path, device: torch.device | None = None
) -> tuple[FeatureExtractor, list[str]]:
    """The extractors of a `train_extractor` checkpoint, in eval mode, and behaviors.

    Raises:
        ConfigError: if the file is not a feature extractor checkpoint.
    """
    state = load_checkpoint(checkpoint, EXTRACTOR_FORMAT)
    model = FeatureExtractor(
        ExtractorParams(**state["params"]), FlowParams(**state["flow_params"])
    )
    model.load_state_dict(state["model"])
    return model.to(device or torch.device("cpu")).eval(), list(state["behaviors"])


# Features on disk.


class VideoFeatures(NamedTuple):
    """Per-frame features of one video.

    Attributes:
        spatial: Shape (frames, 512), float16.
        flow: Motion features, shape (frames, 512), float16.
        path: The `.npz` they are stored in.
        reused: Whether the file was already there with the same key.
    """

    spatial: NDArray[np.float16]
    flow: NDArray[np.float16]
    path: Path
    reused: bool

    def stacked(self) -> NDArray[np.float32]:
        """Spatial then motion features, shape (frames, 1024), float32."""
        return np.concatenate([self.spatial, self.flow], axis=1).astype(np.float32)


def features_key(video: Path, checkpoint: Path) -> dict[str, Any]:
    """What a features file was computed from: the video and the extractors.

    The video's sha256, size and modification time, and the checkpoint's
    sha256; a file whose key differs is recomputed.
    """
    info = os.stat(video)
    return {
        "format": FEATURES_FORMAT,
        "video_sha256": hash_files([video]),
        "video_size": info.st_size,
        "video_mtime_ns": info.st_mtime_ns,
        "extractor_sha256": hash_files([checkpoint]),
    }


def read_features(path: Path) -> tuple[dict[str, Any], VideoFeatures]:
    """The key and features of a `.npz` written by `extract_features`.

    Raises:
        ConfigError: if the file is not such a file.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            key = json.loads(str(data["key"]))
            spatial, flow = data["spatial"], data["flow"]
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"{path}: not a features file ({exc})") from exc
    return key, VideoFeatures(spatial, flow, path, reused=True)


def extract_features(
    video: Path | str,
    checkpoint: Path,
    out_path: Path,
    *,
    stats: Stats | None = None,
    batch_size: int = 32,
    device: str | None = None,
) -> VideoFeatures:
    """Spatial and motion features of every frame, from `out_path` if up to date.

    Args:
        video: The video file.
        checkpoint: A `best.pt` of `train_extractor`.
        out_path: The `.npz` to write (or to reuse when its key matches
            `features_key(video, checkpoint)`).
        stats: Pixel (mean, std) of the video; None: `video_mean_std`.
        batch_size: Stacks per forward pass.
        device: As `ExtractorTrainParams.device`.

    Returns:
        The features; `reused` says whether they were read back.

    Raises:
        ConfigError: if the checkpoint is not a feature extractor's.
        VideoError: if the video cannot be read.
    """
    video = Path(video)
    key = features_key(video, checkpoint)
    if out_path.is_file():
        try:
            old_key, old = read_features(out_path)
        except ConfigError:
            old_key = None
        if old_key == key:
            return old
    torch.set_num_threads(cpu_threads())
    model, _ = load_extractor(checkpoint, pick_device(device))
    flow_params = model.flow_params
    model_device = next(model.parameters()).device
    spatial: list[NDArray[np.float16]] = []
    motion: list[NDArray[np.float16]] = []
    with torch.inference_mode():
        for _, clips in iter_video_clips(
            video,
            1,
            clip_length=flow_params.span,
            imsize=flow_params.imsize,
            stats=stats,
            batch_size=batch_size,
        ):
            s, m = model.features(stacks_of_clips(clips, flow_params).to(model_device))
            spatial.append(s.float().cpu().numpy().astype(np.float16))
            motion.append(m.float().cpu().numpy().astype(np.float16))
    features = VideoFeatures(
        np.concatenate(spatial), np.concatenate(motion), out_path, reused=False
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(out_path) as partial, partial.open("wb") as file:
        np.savez(
            file,
            key=np.array(json.dumps(key, sort_keys=True)),
            spatial=features.spatial,
            flow=features.flow,
        )
    return features


# The sequence model.


@frozen
class SequenceParams:
    """The temporal convolution network over per-frame features.

    Attributes:
        n_behaviors: Behaviors (>= 1), one sigmoid output each.
        n_inputs: Features per frame (1024: spatial then motion).
        hidden: Channels of the residual blocks.
        dilations: Dilation of each block's kernel-3 convolution.
        dropout: Dropout inside each block and on the input.
    """

    n_behaviors: int = field(validator=at_least(1))
    n_inputs: int = field(default=2 * N_FEATURES, validator=at_least(1))
    hidden: int = field(default=64, validator=at_least(1))
    dilations: tuple[int, ...] = field(default=(1, 2, 4, 8, 16, 32), converter=tuple)
    dropout: float = field(default=0.25, converter=float, validator=_dropout)

    @property
    def receptive_field(self) -> int:
        """Frames each output sees: 1 + 2 * sum(dilations)."""
        return 1 + 2 * sum(self.dilations)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return {**asdict(self), "dilations": list(self.dilations)}


class _Block(nn.Module):
    """x + 1x1(dropout(ReLU(dilated conv(x)))), same length out."""

    def __init__(self, channels: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            channels, channels, 3, padding=dilation, dilation=dilation
        )
        self.mix = nn.Conv1d(channels, channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = x + self.mix(self.dropout(F.relu(self.conv(x))))
        return out


class TemporalConvNet(nn.Module):
    """Logits of every frame: features (B, n_inputs, T) -> (B, n_behaviors, T)."""

    def __init__(self, params: SequenceParams) -> None:
        super().__init__()
        self.params = params
        self.inputs = nn.Sequential(
            nn.Dropout(params.dropout), nn.Conv1d(params.n_inputs, params.hidden, 1)
        )
        self.blocks = nn.Sequential(
            *(_Block(params.hidden, d, params.dropout) for d in params.dilations)
        )
        self.out = nn.Conv1d(params.hidden, params.n_behaviors, 1)

    def forward(self, features: Tensor) -> Tensor:
        """Logits (B, behaviors, T) of features (B, n_inputs, T)."""
        out: Tensor = self.out(self.blocks(self.inputs(features)))
        return out


@frozen
class SequenceTrainParams:
    """How the sequence model is optimized.

    Attributes:
        epochs: Most epochs (each covers every training frame about once).
        window: Frames per training window.
        batch_size: Windows per optimizer step.
        lr: Adam's learning rate.
        weight_decay: Adam's L2 penalty.
        grad_clip: Largest gradient norm.
        patience: Epochs without a better validation macro F1 before stopping.
        seed: Seed of the weights, the windows and dropout.
        device: "cpu", "cuda:0", a GPU index, ...; None: the first GPU if any.
    """

    epochs: int = field(default=100, validator=at_least(1))
    window: int = field(default=256, validator=at_least(1))
    batch_size: int = field(default=8, validator=at_least(1))
    lr: float = field(default=1e-3, converter=float, validator=at_least(0.0))
    weight_decay: float = field(default=1e-4, converter=float, validator=at_least(0.0))
    grad_clip: float = field(default=1.0, converter=float, validator=at_least(0.0))
    patience: int = field(default=15, validator=at_least(1))
    seed: int = field(default=0, validator=at_least(0))
    device: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


class SequenceModel(NamedTuple):
    """A trained sequence model, ready to predict.

    Attributes:
        net: The network, in eval mode.
        mean: Feature means of the training frames, shape (n_inputs,).
        std: Their standard deviations, each at least that of all features.
        behaviors: Behavior names, one per output.
        bout_params: Per behavior, the threshold and bout rules tuned on validation.
    """

    net: TemporalConvNet
    mean: NDArray[np.float32]
    std: NDArray[np.float32]
    behaviors: list[str]
    bout_params: tuple[BoutParams, ...]


def _windows(
    lengths: Sequence[int], window: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """(video, start, stop) windows tiling each video from a random offset."""
    out = []
    for video, length in enumerate(lengths):
        offset = int(rng.integers(0, window)) if length > window else 0
        for start in range(offset - window if offset else 0, length, window):
            out.append((video, max(start, 0), min(start + window, length)))
    return out


def _padded(
    sequences: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]],
) -> tuple[Tensor, Tensor, Tensor]:
    """Features (B, C, T), labels (B, K, T) and mask (B, 1, T), zero-padded."""
    longest = max(len(x) for x, _ in sequences)
    n_inputs, n_behaviors = sequences[0][0].shape[1], sequences[0][1].shape[1]
    x = np.zeros((len(sequences), n_inputs, longest), np.float32)
    y = np.zeros((len(sequences), n_behaviors, longest), np.float32)
    mask = np.zeros((len(sequences), 1, longest), np.float32)
    for i, (features, labels) in enumerate(sequences):
        x[i, :, : len(features)] = features.T
        y[i, :, : len(labels)] = labels.T
        mask[i, :, : len(features)] = 1
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask)


def _masked_bce(
    logits: Tensor, labels: Tensor, mask: Tensor, pos_weight: Tensor
) -> tuple[Tensor, Tensor]:
    """Summed weighted BCE over the unmasked frames and behaviors, and their count."""
    loss = F.binary_cross_entropy_with_logits(
        logits, labels, pos_weight=pos_weight[None, :, None], reduction="none"
    )
    return (loss * mask).sum(), mask.sum() * logits.shape[1]


def train_sequence(
    train: Sequence[LabeledSequence],
    val: Sequence[LabeledSequence],
    params: SequenceParams,
    train_params: SequenceTrainParams,
    out_dir: Path,
    report: Reporter = silent,
    *,
    behaviors: Sequence[str] | None = None,
) -> TrainResult:
    """Train the sequence model, then tune each behavior's bouts on validation.

    Args:
        train: (features (frames, n_inputs), labels (frames, behaviors)) per
            training video, e.g. `VideoFeatures.stacked()` and its labels.
        val: The same per validation video: the best epoch and the bout rules
            are chosen on them.
        params: The network.
        train_params: The optimization.
        out_dir: Where checkpoints and logs go.
        report: Reports epochs done.
        behaviors: Behavior names, kept in the checkpoint; None: by index.

    Returns:
        The best epoch, every epoch's record and the tuned bout rules.

    Raises:
        ConfigError: no training or validation video, shapes that do not fit
            `params`, a behavior on every or on no training frame.
    """
    if not train or not val:
        raise ConfigError(
            f"{out_dir}: need training and validation videos, got "
            f"{len(train)} and {len(val)}"
        )
    names = _behavior_names(behaviors, params.n_behaviors)
    for features, labels in (*train, *val):
        if features.shape[1:] != (params.n_inputs,) or labels.shape != (
            len(features),
            params.n_behaviors,
        ):
            raise ConfigError(
                f"sequence: want features (frames, {params.n_inputs}) and labels "
                f"(frames, {params.n_behaviors}), got {features.shape} and "
                f"{labels.shape}"
            )
    pos_weight = positive_weights(np.concatenate([y for _, y in train]), names)
    all_train = np.concatenate([np.asarray(x, np.float64) for x, _ in train])
    mean = all_train.mean(axis=0).astype(np.float32)
    # Each feature is centred and divided by its own standard deviation, but
    # never by less than that of all features together: a feature (nearly)
    # constant on the training frames, as many ResNet features after ReLU are,
    # would otherwise blow up on other videos.
    overall = max(float(all_train.std()), MIN_FEATURE_STD)
    std = np.maximum(all_train.std(axis=0), overall).astype(np.float32)

    def prepare(
        seqs: Sequence[LabeledSequence],
    ) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
        return [
            (
                ((np.asarray(x, np.float32) - mean) / std).astype(np.float32),
                np.asarray(y, np.float32),
            )
            for x, y in seqs
        ]

    train_seqs, val_seqs = prepare(train), prepare(val)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cpu_threads())
    torch.manual_seed(train_params.seed)
    rng = np.random.default_rng(train_params.seed)
    device = pick_device(train_params.device)
    net = TemporalConvNet(params).to(device)
    optimizer = torch.optim.Adam(
        net.parameters(), lr=train_params.lr, weight_decay=train_params.weight_decay
    )
    weight = torch.from_numpy(pos_weight).to(device)
    meta = {
        "params": params.to_dict(),
        "behaviors": names,
        "mean": torch.from_numpy(mean),
        "std": torch.from_numpy(std),
        "train_params": train_params.to_dict(),
    }

    records: list[dict[str, float]] = []
    best_epoch, best_f1 = 0, -math.inf
    best_state: dict[str, Tensor] = cpu_state(net)
    with report("training the sequence model", train_params.epochs) as advance:
        for epoch in range(1, train_params.epochs + 1):
            if epoch - 1 - best_epoch >= train_params.patience:
                break
            start = time.perf_counter()
            net.train()
            windows = _windows(
                [len(x) for x, _ in train_seqs], train_params.window, rng
            )
            order = rng.permutation(len(windows))
            total, count = 0.0, 0.0
            for first in range(0, len(order), train_params.batch_size):
                chosen = [
                    windows[i] for i in order[first : first + train_params.batch_size]
                ]
                x, y, mask = _padded(
                    [
                        (train_seqs[v][0][a:b], train_seqs[v][1][a:b])
                        for v, a, b in chosen
                    ]
                )
                optimizer.zero_grad(set_to_none=True)
                loss_sum, n = _masked_bce(
                    net(x.to(device)), y.to(device), mask.to(device), weight
                )
                (loss_sum / n).backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(net.parameters(), train_params.grad_clip)
                optimizer.step()
                total += float(loss_sum.detach())
                count += float(n)
            val_probs, val_loss = _predict_normalized(net, val_seqs, weight)
            val_f1 = label_macro_f1(
                np.concatenate([y > 0.5 for _, y in val_seqs]),
                np.concatenate(val_probs) >= 0.5,
            )
            records.append(
                _record(
                    epoch, total / max(count, 1), val_loss, val_f1, optimizer, start
                )
            )
            weights_now = cpu_state(net)
            if best_epoch == 0 or val_f1 > best_f1:
                best_epoch, best_f1, best_state = epoch, val_f1, weights_now
            save_checkpoint(
                {**meta, "model": weights_now, "epoch": epoch, "records": records},
                out_dir / FILES["last"],
                SEQUENCE_FORMAT,
            )
            write_epochs_csv(records, out_dir / FILES["log"])
            advance(1)
    net.load_state_dict(best_state)
    val_probs, _ = _predict_normalized(net, val_seqs, weight)
    bouts = tune_behavior_bouts(val_probs, [y > 0.5 for _, y in val])
    save_checkpoint(
        {
            **meta,
            "model": best_state,
            "epoch": best_epoch,
            "val_macro_f1": best_f1,
            "bout_params": [asdict(b) for b in bouts],
        },
        out_dir / FILES["best"],
        SEQUENCE_FORMAT,
    )
    plot_training_curves(_curves(records), out_dir / FILES["curves"])
    return TrainResult(out_dir, best_epoch, best_f1, records, bouts)


def tune_behavior_bouts(
    probabilities: Sequence[NDArray[np.floating]],
    labels: Sequence[NDArray[np.bool_]],
) -> tuple[BoutParams, ...]:
    """Each behavior's threshold and bout rules, tuned on validation videos.

    Args:
        probabilities: Per video, shape (frames, behaviors).
        labels: Per video, on/off of shape (frames, behaviors).

    Returns:
        One `BoutParams` per behavior (`postprocess.tune_bouts`, each video
        one segment).
    """
    n_behaviors = probabilities[0].shape[1]
    return tuple(
        tune_bouts(
            [
                (p[:, k], np.asarray(t[:, k], bool))
                for p, t in zip(probabilities, labels, strict=True)
            ]
        )
        for k in range(n_behaviors)
    )


def _predict_normalized(
    net: TemporalConvNet,
    sequences: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]],
    pos_weight: Tensor,
) -> tuple[list[NDArray[np.float32]], float]:
    """Probabilities (frames, behaviors) of each whole sequence, and the mean loss."""
    device = pos_weight.device
    net.eval()
    probs = []
    total, count = 0.0, 0.0
    with torch.inference_mode():
        for features, labels in sequences:
            x, y, mask = _padded([(features, labels)])
            logits = net(x.to(device))
            loss_sum, n = _masked_bce(logits, y.to(device), mask.to(device), pos_weight)
            total += float(loss_sum)
            count += float(n)
            probs.append(torch.sigmoid(logits)[0].T.float().cpu().numpy())
    return probs, total / max(count, 1)


def load_sequence(
    checkpoint: Path, device: torch.device | None = None
) -> SequenceModel:
    """The sequence model of a `train_sequence` `best.pt`.

    Raises:
        ConfigError: if the file is not a sequence model checkpoint.
    """
    state = load_checkpoint(checkpoint, SEQUENCE_FORMAT)
    params = SequenceParams(**state["params"])
    net = TemporalConvNet(params)
    net.load_state_dict(state["model"])
    return SequenceModel(
        net.to(device or torch.device("cpu")).eval(),
        state["mean"].numpy(),
        state["std"].numpy(),
        list(state["behaviors"]),
        tuple(BoutParams(**b) for b in state.get("bout_params", [])),
    )


def predict_sequence(
    model: SequenceModel | Path, features: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Sigmoid probabilities of each behavior on every frame.

    Args:
        model: A loaded model or its `best.pt`.
        features: Shape (frames, n_inputs), e.g. `VideoFeatures.stacked()`.

    Returns:
        Shape (frames, behaviors), in [0, 1].

    Raises:
        ConfigError: if the features do not have the model's width.
    """
    if isinstance(model, Path):
        model = load_sequence(model)
    n_inputs = model.net.params.n_inputs
    features = np.asarray(features, np.float32)
    if features.ndim != 2 or features.shape[1] != n_inputs:
        raise ConfigError(
            f"sequence: want features (frames, {n_inputs}), got {features.shape}"
        )
    device = next(model.net.parameters()).device
    x = torch.from_numpy(((features - model.mean) / model.std).T[None].copy())
    model.net.eval()
    with torch.inference_mode():
        probs = torch.sigmoid(model.net(x.to(device)))[0].T
    out: NDArray[np.float32] = probs.float().cpu().numpy()
    return out


def predict_ethogram(
    model: SequenceModel, probabilities: NDArray[np.floating]
) -> NDArray[np.bool_]:
    """On/off (frames, behaviors) of probabilities, by each behavior's tuned rules."""
    return np.stack(
        [
            apply_bouts(probabilities[:, k], params)
            for k, params in enumerate(model.bout_params)
        ],
        axis=1,
    )


# Helpers.


def _behavior_names(names: Sequence[str] | None, n_behaviors: int) -> list[str]:
    if names is None:
        return [str(k) for k in range(n_behaviors)]
    if len(names) != n_behaviors:
        raise ConfigError(f"{len(names)} behavior names for {n_behaviors} behaviors")
    return list(names)


def _labels(items: Sequence[LabeledFrame], n_behaviors: int) -> NDArray[np.bool_]:
    labels = np.array([np.asarray(item[2], bool) for item in items])
    if labels.shape != (len(items), n_behaviors):
        raise ConfigError(
            f"labels: want one on/off per behavior ({n_behaviors}), got shape "
            f"{labels.shape[1:]}"
        )
    return labels


def _record(
    epoch: int,
    train_loss: float,
    val_loss: float,
    val_f1: float,
    optimizer: torch.optim.Optimizer,
    start: float,
) -> dict[str, float]:
    return {
        "epoch": float(epoch),
        "train_loss": train_loss,
        "val_loss": val_loss,
        "val_macro_f1": val_f1,
        "lr": float(optimizer.param_groups[0]["lr"]),
        "seconds": time.perf_counter() - start,
    }


def _curves(records: Sequence[dict[str, float]]) -> list[dict[str, float]]:
    return [
        {
            "epoch": r["epoch"],
            "train loss": r["train_loss"],
            "val loss": r["val_loss"],
            "metrics/val macro F1": r["val_macro_f1"],
        }
        for r in records
    ]
