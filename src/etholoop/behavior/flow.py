"""Optic flow learned without labels: DeepEthogram's flow generator (stage 1 of 3).

`FlowGenerator` is a TinyMotionNet-sized encoder-decoder. It reads a stack of
`n_frames` normalized gray frames as channels (B, N, S, S) and gives the N - 1
flow fields between consecutive frames, 2 channels each (dx, dy in px of
that scale, pair k in channels 2k and 2k + 1), at three scales: 1/2, 1/4 and
1/8 of the input side (finest first). Three stride-2 encoder stages (7x7, 5x5,
3x3 convolutions, each followed by a 3x3 one) are mirrored by transposed
convolutions with skip connections; each coarser flow, upsampled, feeds the
next finer prediction. The flow heads start at zero, so an untrained network
predicts "nothing moved".

Training is photometric reconstruction: frame t + 1 warped back by the flow
of pair t (`warp`, bilinear `grid_sample`) should look like frame t. The loss
(`flow_loss`) is, at each scale (weights 1, 1/2, 1/4, frames average-pooled
to it), `alpha` * (1 - SSIM) / 2 + (1 - alpha) * L1 between the two, plus
`smooth_weight` times an edge-aware first-order smoothness of the flow
(flow gradients count less where frame t has edges). SSIM is "lite": 3x3
box windows and constants for frames normalized to unit standard deviation.

Stacks come from the video files as the clip network's clips do
(`clips.ClipDataset`: a stack of N frames centred on a frame, ends
replicated, resized to `imsize` and normalized by the video's pixel mean and
standard deviation), centred every `stride` frames; every 5th centre is held
out to score the epoch (the validation loss). `train_flow` writes into its
`out_dir`:

- `best.pt`: the weights of the epoch with the lowest validation loss, with
  `params`, `epoch`, `val_loss` (what `load_flow` reads).
- `last.pt`: the latest epoch's weights and the records so far.
- `epochs.csv`: epoch, train_loss, val_loss, val_photometric, lr, seconds.
- `training-curves.png`: the losses per epoch.

Checkpoints and the log go through `behavior.checkpoints`, as for the other
behavior networks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from attrs import asdict, field, frozen
from torch import Tensor, nn
from torch.utils.data import DataLoader

from etholoop.behavior.checkpoints import (
    FILES,
    cpu_state,
    load_checkpoint,
    save_checkpoint,
    write_log_csv,
)
from etholoop.behavior.clip3d_train import EpochShuffle
from etholoop.behavior.clips import (
    ClipDataset,
    ClipItem,
    Stats,
    strided_centers,
    video_mean_std,
)
from etholoop.errors import ConfigError
from etholoop.pose.heatmap.network import pick_device
from etholoop.pose.plots import plot_training_curves
from etholoop.pose.yolo_env import cpu_threads
from etholoop.progress import Reporter, silent
from etholoop.types import at_least
from etholoop.video.reader import PyAVReader

LOG_COLUMNS = ("epoch", "train_loss", "val_loss", "val_photometric", "lr", "seconds")
CHECKPOINT_FORMAT = "etholoop-flow/1"
SCALE_WEIGHTS = (1.0, 0.5, 0.25)
"""Loss weight of the flows at 1/2, 1/4 and 1/8 of the input side."""
VAL_EVERY = 5
"""Every 5th stack centre of a video is held out for the validation loss."""


def _multiple_of_8(instance: object, attribute: Any, value: int) -> None:
    if value < 8 or value % 8:
        raise ValueError(
            f"FlowParams.imsize: want a multiple of 8 (three stride-2 stages), "
            f"got {value}"
        )


@frozen
class FlowParams:
    """The shape of a flow generator and of the stacks it reads.

    Attributes:
        n_frames: Frames per stack (>= 2); the flows are the n_frames - 1 pairs.
            DeepEthogram's default is 11.
        imsize: Side in px of the square frames; a multiple of 8.
        width: Channels of the first encoder stage (then 2x and 4x); 64 is
            about TinyMotionNet's size (2.4M parameters at 11 frames).
        step: Video frames from one stack frame to the next (1: consecutive
            frames; more for fast cameras, whose frames barely differ).
    """

    n_frames: int = field(default=11, validator=at_least(2))
    imsize: int = field(default=112, validator=_multiple_of_8)
    width: int = field(default=64, validator=at_least(1))
    step: int = field(default=1, validator=at_least(1))

    @property
    def span(self) -> int:
        """Video frames a stack reaches over: (n_frames - 1) * step + 1."""
        return (self.n_frames - 1) * self.step + 1

    @property
    def n_flows(self) -> int:
        """Flow fields per stack: n_frames - 1."""
        return self.n_frames - 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


@frozen
class FlowTrainParams:
    """How the flow generator is optimized.

    Attributes:
        epochs: Most epochs (every training stack once each).
        batch_size: Stacks per optimizer step.
        lr: Adam's learning rate.
        weight_decay: Adam's L2 penalty.
        stride: Frames between stack centres in each video.
        alpha: Weight of the SSIM term against L1 in the photometric loss.
        smooth_weight: Weight of the flow smoothness term.
        grad_clip: Largest gradient norm; larger ones are scaled down.
        patience: Epochs without a lower validation loss before stopping.
        seed: Seed of the weights and the shuffling.
        device: "cpu", "cuda:0", a GPU index, ...; None: the first GPU if any.
    """

    epochs: int = field(default=20, validator=at_least(1))
    batch_size: int = field(default=16, validator=at_least(1))
    lr: float = field(default=1e-3, converter=float, validator=at_least(0.0))
    weight_decay: float = field(default=0.0, converter=float, validator=at_least(0.0))
    stride: int = field(default=4, validator=at_least(1))
    alpha: float = field(default=0.85, converter=float, validator=at_least(0.0))
    smooth_weight: float = field(default=0.05, converter=float, validator=at_least(0.0))
    grad_clip: float = field(default=1.0, converter=float, validator=at_least(0.0))
    patience: int = field(default=5, validator=at_least(1))
    seed: int = field(default=0, validator=at_least(0))
    device: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


@frozen
class FlowResult:
    """What `train_flow` left in its `out_dir`.

    Attributes:
        out_dir: The folder (see the module docstring for its files).
        best_epoch: The epoch of the lowest validation loss (1-based).
        best_val_loss: That loss.
        epochs: One record per epoch, the columns of `epochs.csv`.
    """

    out_dir: Path
    best_epoch: int
    best_val_loss: float
    epochs: list[dict[str, float]]

    @property
    def best_checkpoint(self) -> Path:
        """`best.pt`: the best epoch's weights."""
        return self.out_dir / FILES["best"]


def _conv(
    in_channels: int, out_channels: int, kernel: int, stride: int = 1
) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2),
        nn.LeakyReLU(0.1, inplace=True),
    )


def _up(in_channels: int, out_channels: int) -> nn.Module:
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1),
        nn.LeakyReLU(0.1, inplace=True),
    )


def _head(in_channels: int, out_channels: int) -> nn.Conv2d:
    head = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
    nn.init.zeros_(head.weight)
    if head.bias is not None:
        nn.init.zeros_(head.bias)
    return head


def upsample_flow(flow: Tensor, factor: int) -> Tensor:
    """Flow (B, 2F, h, w) in px at its scale -> (B, 2F, h*factor, w*factor) in px."""
    if factor == 1:
        return flow
    up = F.interpolate(flow, scale_factor=factor, mode="bilinear", align_corners=False)
    return up * factor


class FlowGenerator(nn.Module):
    """Flows of stacks: (B, N, S, S) normalized gray -> 3 scales of (B, 2(N-1), ., .).

    Args:
        params: Frames per stack and width; any input side that is a multiple
            of 8 works.
    """

    def __init__(self, params: FlowParams) -> None:
        super().__init__()
        self.params = params
        w, n_out = params.width, 2 * params.n_flows
        self.enc1 = nn.Sequential(_conv(params.n_frames, w, 7, 2), _conv(w, w, 3))
        self.enc2 = nn.Sequential(_conv(w, 2 * w, 5, 2), _conv(2 * w, 2 * w, 3))
        self.enc3 = nn.Sequential(_conv(2 * w, 4 * w, 3, 2), _conv(4 * w, 4 * w, 3))
        self.flow3 = _head(4 * w, n_out)
        self.up2 = _up(4 * w, 2 * w)
        self.dec2 = _conv(4 * w + n_out, 2 * w, 3)
        self.flow2 = _head(2 * w, n_out)
        self.up1 = _up(2 * w, w)
        self.dec1 = _conv(2 * w + n_out, w, 3)
        self.flow1 = _head(w, n_out)

    def forward(self, stacks: Tensor) -> list[Tensor]:
        """Flows at 1/2, 1/4 and 1/8 of the side of stacks (B, N, S, S), in px there."""
        e1 = self.enc1(stacks)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        f3 = self.flow3(e3)
        d2 = self.dec2(torch.cat([self.up2(e3), e2, upsample_flow(f3, 2)], 1))
        f2 = self.flow2(d2)
        d1 = self.dec1(torch.cat([self.up1(d2), e1, upsample_flow(f2, 2)], 1))
        f1 = self.flow1(d1)
        return [f1, f2, f3]

    def full_flow(self, stacks: Tensor) -> Tensor:
        """The finest flows upsampled to the input side: (B, 2(N-1), S, S) in px."""
        return upsample_flow(self(stacks)[0], 2)


def warp(frame: Tensor, flow: Tensor) -> Tensor:
    """Frames sampled where the flow points: out(x, y) = frame(x + dx, y + dy).

    Bilinear, border pixels repeated outside the frame; a zero flow gives the
    frame back.

    Args:
        frame: Shape (B, C, H, W).
        flow: Displacements (dx, dy) in px, shape (B, 2, H, W).

    Returns:
        Shape (B, C, H, W).
    """
    _, _, height, width = frame.shape
    ys, xs = torch.meshgrid(
        torch.arange(height, device=frame.device, dtype=flow.dtype),
        torch.arange(width, device=frame.device, dtype=flow.dtype),
        indexing="ij",
    )
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    grid = torch.stack(
        [2 * x / max(width - 1, 1) - 1, 2 * y / max(height - 1, 1) - 1], dim=-1
    )
    return F.grid_sample(
        frame, grid.to(frame.dtype), "bilinear", "border", align_corners=True
    )


def _ssim_distance(a: Tensor, b: Tensor) -> Tensor:
    """(1 - SSIM) / 2 over 3x3 box windows, per pixel, in [0, 1]."""
    c1, c2 = 0.01, 0.03  # frames are normalized to unit std, not to [0, 1]
    mu_a, mu_b = F.avg_pool2d(a, 3, 1, 1), F.avg_pool2d(b, 3, 1, 1)
    var_a = F.avg_pool2d(a * a, 3, 1, 1) - mu_a**2
    var_b = F.avg_pool2d(b * b, 3, 1, 1) - mu_b**2
    cov = F.avg_pool2d(a * b, 3, 1, 1) - mu_a * mu_b
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return torch.clamp((1 - ssim) / 2, 0, 1)


def photometric_loss(estimate: Tensor, target: Tensor, alpha: float = 0.85) -> Tensor:
    """Mean of alpha * (1 - SSIM) / 2 + (1 - alpha) * |estimate - target|.

    Args:
        estimate: Shape (B, C, H, W).
        target: Shape (B, C, H, W).
        alpha: Weight of the SSIM term.
    """
    l1 = (estimate - target).abs()
    return (alpha * _ssim_distance(estimate, target) + (1 - alpha) * l1).mean()


def smoothness_loss(flow: Tensor, image: Tensor) -> Tensor:
    """Edge-aware first-order smoothness: mean |grad flow| * exp(-|grad image|).

    Args:
        flow: Shape (B, 2, H, W).
        image: The frame the flow starts from, shape (B, 1, H, W).
    """
    dx = (flow[..., :, 1:] - flow[..., :, :-1]).abs()
    dy = (flow[..., 1:, :] - flow[..., :-1, :]).abs()
    wx = torch.exp(-(image[..., :, 1:] - image[..., :, :-1]).abs())
    wy = torch.exp(-(image[..., 1:, :] - image[..., :-1, :]).abs())
    return (dx * wx).mean() + (dy * wy).mean()


def _pairs(stacks: Tensor, flow: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Frames t, frames t + 1 (B(N-1), 1, h, w) at the flow's scale, and flows."""
    batch, n_frames, side, _ = stacks.shape
    factor = side // flow.shape[-1]
    frames = F.avg_pool2d(stacks, factor) if factor > 1 else stacks
    height, width = frames.shape[-2:]
    first = frames[:, :-1].reshape(-1, 1, height, width)
    second = frames[:, 1:].reshape(-1, 1, height, width)
    pairs = flow.reshape(batch, n_frames - 1, 2, height, width).reshape(
        -1, 2, height, width
    )
    return first, second, pairs


def flow_loss(
    stacks: Tensor,
    flows: Sequence[Tensor],
    *,
    alpha: float = 0.85,
    smooth_weight: float = 0.05,
) -> tuple[Tensor, Tensor]:
    """The unsupervised loss of flows of frame stacks; see the module docstring.

    Args:
        stacks: Normalized frames, shape (B, N, S, S).
        flows: The generator's flows, finest first, each (B, 2(N-1), S/f, S/f).
        alpha: Weight of SSIM against L1.
        smooth_weight: Weight of the smoothness term.

    Returns:
        (total loss, its photometric part at the finest scale), scalars.
    """
    total = stacks.new_zeros(())
    finest = stacks.new_zeros(())
    weights = SCALE_WEIGHTS[: len(flows)]
    for scale, (weight, flow) in enumerate(zip(weights, flows, strict=True)):
        first, second, pairs = _pairs(stacks, flow)
        photometric = photometric_loss(warp(second, pairs), first, alpha)
        if scale == 0:
            finest = photometric
        smooth = smoothness_loss(pairs, first)
        total = total + weight * (photometric + smooth_weight * smooth)
    return total / sum(weights), finest


def load_flow(checkpoint: Path, device: torch.device | None = None) -> FlowGenerator:
    """The generator of a `train_flow` checkpoint, in eval mode.

    Raises:
        ConfigError: if the file is not a flow generator checkpoint.
    """
    state = load_checkpoint(checkpoint, CHECKPOINT_FORMAT)
    model = FlowGenerator(FlowParams(**state["params"]))
    model.load_state_dict(state["model"])
    return model.to(device or torch.device("cpu")).eval()


def flow_items(
    videos: Sequence[Path | str], stride: int
) -> tuple[list[ClipItem], list[ClipItem]]:
    """(training, validation) stack centres of the videos: every `stride`-th frame.

    Every `VAL_EVERY`-th centre of a video is held out; a video with fewer
    centres gives them all to training, and if nothing is held out at all the
    training centres are also the validation ones.

    Raises:
        ConfigError: if `stride` is not positive.
        VideoError: if a video cannot be read.
    """
    train: list[ClipItem] = []
    val: list[ClipItem] = []
    for video in videos:
        path = Path(video)
        with PyAVReader(path) as reader:
            centers = strided_centers(reader.n_frames, stride).tolist()
        for i, center in enumerate(centers):
            held_out = len(centers) >= VAL_EVERY and i % VAL_EVERY == VAL_EVERY - 1
            (val if held_out else train).append(ClipItem(path, center, 0))
    return train, val or list(train)


def stacks_of_clips(clips: Tensor, params: FlowParams) -> Tensor:
    """Stacks (B, N, S, S) of clips (B, 1, span, S, S): every `step`-th frame."""
    return clips[:, 0, :: params.step]


def train_flow(
    videos: Sequence[Path | str],
    params: FlowParams,
    train_params: FlowTrainParams,
    out_dir: Path,
    report: Reporter = silent,
    *,
    stats: dict[Path, Stats] | None = None,
) -> FlowResult:
    """Train the flow generator on stacks of the videos' frames; no labels.

    Args:
        videos: The video files.
        params: The network and its stacks.
        train_params: The optimization and the loss weights.
        out_dir: Where checkpoints and logs go (see the module docstring).
        report: Reports epochs done.
        stats: Pixel (mean, std) of the videos by path; others are measured.

    Returns:
        The best epoch and every epoch's record.

    Raises:
        ConfigError: no video given.
        VideoError: if a video cannot be read.
    """
    if not videos:
        raise ConfigError(f"{out_dir}: no video to train the flow generator on")
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cpu_threads())
    torch.manual_seed(train_params.seed)
    device = pick_device(train_params.device)
    train_items, val_items = flow_items(videos, train_params.stride)
    known = {Path(p): s for p, s in (stats or {}).items()}
    for path in sorted({item.path for item in train_items}):
        if path not in known:
            known[path] = video_mean_std(path)
    sets = [
        ClipDataset(items, clip_length=params.span, imsize=params.imsize, stats=known)
        for items in (train_items, val_items)
    ]
    sampler = EpochShuffle(len(train_items), train_params.seed)
    loader = DataLoader(sets[0], batch_size=train_params.batch_size, sampler=sampler)
    val_loader = DataLoader(sets[1], batch_size=train_params.batch_size)

    model = FlowGenerator(params).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=train_params.lr, weight_decay=train_params.weight_decay
    )
    loss_args = {
        "alpha": train_params.alpha,
        "smooth_weight": train_params.smooth_weight,
    }
    records: list[dict[str, float]] = []
    best_epoch, best_loss = 0, math.inf
    meta = {"params": params.to_dict(), "train_params": train_params.to_dict()}
    with report("training the flow generator", train_params.epochs) as advance:
        for epoch in range(1, train_params.epochs + 1):
            if epoch - 1 - best_epoch >= train_params.patience:
                break
            start = time.perf_counter()
            sampler.epoch = epoch
            model.train()
            total, n = 0.0, 0
            for clips, _ in loader:
                stacks = stacks_of_clips(clips, params).to(device)
                optimizer.zero_grad(set_to_none=True)
                loss, _ = flow_loss(stacks, model(stacks), **loss_args)
                loss.backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(model.parameters(), train_params.grad_clip)
                optimizer.step()
                total += float(loss.detach()) * len(stacks)
                n += len(stacks)
            val_loss, val_photometric = _validate(
                model, val_loader, params, device, loss_args
            )
            records.append(
                {
                    "epoch": float(epoch),
                    "train_loss": total / max(n, 1),
                    "val_loss": val_loss,
                    "val_photometric": val_photometric,
                    "lr": float(optimizer.param_groups[0]["lr"]),
                    "seconds": time.perf_counter() - start,
                }
            )
            weights = cpu_state(model)
            if val_loss < best_loss:
                best_epoch, best_loss = epoch, val_loss
                save_checkpoint(
                    {**meta, "model": weights, "epoch": epoch, "val_loss": val_loss},
                    out_dir / FILES["best"],
                    CHECKPOINT_FORMAT,
                )
            save_checkpoint(
                {**meta, "model": weights, "epoch": epoch, "records": records},
                out_dir / FILES["last"],
                CHECKPOINT_FORMAT,
            )
            write_log_csv(records, out_dir / FILES["log"], LOG_COLUMNS)
            advance(1)
    plot_training_curves(
        [
            {
                "epoch": r["epoch"],
                "train loss": r["train_loss"],
                "val loss": r["val_loss"],
                "val photometric loss": r["val_photometric"],
            }
            for r in records
        ],
        out_dir / FILES["curves"],
    )
    return FlowResult(out_dir, best_epoch, best_loss, records)


def _validate(
    model: FlowGenerator,
    loader: DataLoader[tuple[Tensor, int]],
    params: FlowParams,
    device: torch.device,
    loss_args: dict[str, float],
) -> tuple[float, float]:
    """Mean loss and finest-scale photometric loss per validation stack."""
    model.eval()
    total = photometric = 0.0
    n = 0
    with torch.inference_mode():
        for clips, _ in loader:
            stacks = stacks_of_clips(clips, params).to(device)
            loss, finest = flow_loss(stacks, model(stacks), **loss_args)
            total += float(loss) * len(stacks)
            photometric += float(finest) * len(stacks)
            n += len(stacks)
    return total / max(n, 1), photometric / max(n, 1)
