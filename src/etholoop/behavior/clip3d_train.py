"""Training the clip network on labeled frames, and predicting every frame of a video.

`train_clip3d` learns exclusive classes (softmax; every frame has exactly one,
the background class included) from (video, frame, class) items: the clip
centred on each item's frame (`clips.ClipDataset`) against its class, with a
cross-entropy weighted by inverse class frequency (`class_weights`), Adam,
cosine annealing with warm restarts stepped once per epoch, gradients clipped
to norm `grad_clip`, and mixed precision (float16 autocast with a gradient
scaler) on CUDA only. After every epoch the validation items are scored
(frame macro F1 over the classes, `evaluate.behavior.frame_counts`); the
weights of the best epoch are kept in `best.pt`, and training stops after
`patience` epochs without a better one.

`out_dir` holds:

- `best.pt`: the best epoch's weights, with `params`, `class_names`, `epoch`
  and `val_macro_f1` (what `load_clip3d` and `predict_video` read).
- `last.pt`: the same for the latest epoch plus the optimizer, scheduler,
  scaler and random states, the epochs so far and the early-stopping state. A
  later call with the same `out_dir` continues from it (the network's
  `params` must match; `train_params` may change, e.g. more epochs). Each
  epoch's order is drawn from (seed, epoch) alone and the loaders' worker
  seeds from their own generators, so on the CPU a resumed run repeats a
  straight one, with or without worker processes.
- `epochs.csv`: one row per epoch: epoch, train_loss, val_loss, val_macro_f1,
  lr (during the epoch), seconds.
- `training-curves.png`: the losses and the validation macro F1 per epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from attrs import asdict, field, frozen
from numpy.typing import NDArray
from torch import Tensor, nn
from torch.utils.data import DataLoader, Sampler

from etholoop.behavior.checkpoints import (
    FILES,
    cpu_state,
    load_checkpoint,
    save_checkpoint,
    write_log_csv,
)
from etholoop.behavior.clip3d import Clip3dNet, Clip3dParams
from etholoop.behavior.clips import (
    CLIP_CACHE_BYTES,
    Boxes,
    ClipDataset,
    ClipItem,
    Stats,
    iter_video_clips,
    spread_to_frames,
    video_mean_std,
)
from etholoop.errors import ConfigError
from etholoop.evaluate.behavior import label_macro_f1
from etholoop.pose.heatmap.network import pick_device
from etholoop.pose.plots import plot_training_curves
from etholoop.pose.yolo_env import cpu_threads
from etholoop.progress import Reporter, silent
from etholoop.types import at_least
from etholoop.video.reader import PyAVReader

LOG_COLUMNS = ("epoch", "train_loss", "val_loss", "val_macro_f1", "lr", "seconds")
CHECKPOINT_FORMAT = "etholoop-clip3d/1"

Item = ClipItem | tuple[Path | str, int, int]


@frozen
class Clip3dTrainParams:
    """How the clip network is optimized.

    Attributes:
        epochs: Most epochs (over every training item once each).
        batch_size: Clips per optimizer step.
        lr: Adam's learning rate at the start of each warm restart.
        weight_decay: Adam's L2 penalty.
        restart_epochs: Epochs of the first cosine cycle (`T_0`).
        grad_clip: Largest gradient norm; larger ones are scaled down.
        patience: Epochs without a better validation macro F1 before stopping.
        seed: Seed of the weights, the shuffling and dropout.
        num_workers: DataLoader processes decoding clips; 0 decodes in this one.
        cache_clips: Decode the training and validation clips once into
            `out_dir/clip-cache/` (`ClipDataset.cache_on_disk`) when each set's
            fit in `clips.CLIP_CACHE_BYTES`; else every epoch decodes them.
        device: "cpu", "cuda:0", a GPU index, ...; None: the first GPU if any,
            else the CPU.
    """

    epochs: int = field(default=100, validator=at_least(1))
    batch_size: int = field(default=32, validator=at_least(2))
    lr: float = field(default=1e-3, converter=float, validator=at_least(0.0))
    weight_decay: float = field(default=1e-5, converter=float, validator=at_least(0.0))
    restart_epochs: int = field(default=10, validator=at_least(1))
    grad_clip: float = field(default=1.0, converter=float, validator=at_least(0.0))
    patience: int = field(default=15, validator=at_least(1))
    seed: int = field(default=0, validator=at_least(0))
    num_workers: int = field(default=0, validator=at_least(0))
    device: str | None = None
    cache_clips: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


@frozen
class Clip3dResult:
    """What `train_clip3d` left in its `out_dir`.

    Attributes:
        out_dir: The folder (see the module docstring for its files).
        best_epoch: The epoch of the best validation macro F1 (1-based).
        best_val_f1: That macro F1.
        epochs: One record per epoch trained so far, the columns of `epochs.csv`.
        stopped_early: Whether training stopped for want of improvement.
    """

    out_dir: Path
    best_epoch: int
    best_val_f1: float
    epochs: list[dict[str, float]]
    stopped_early: bool

    @property
    def best_checkpoint(self) -> Path:
        """`best.pt`: the best epoch's weights."""
        return self.out_dir / FILES["best"]

    @property
    def last_checkpoint(self) -> Path:
        """`last.pt`: where a later call resumes."""
        return self.out_dir / FILES["last"]


class EpochShuffle(Sampler[int]):
    """Indices 0..n-1 in an order drawn from (seed, epoch) alone.

    So an epoch sees the same order whether training ran straight through or
    resumed from `last.pt`, with or without worker processes.

    Args:
        n: Items to shuffle.
        seed: Seed of every epoch's order.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 1

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        """The order of epoch `self.epoch`."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())


def class_counts(items: Sequence[Item], n_classes: int) -> NDArray[np.int64]:
    """Items per class, shape (n_classes,).

    Raises:
        ConfigError: if an item's class is not in [0, n_classes).
    """
    classes = np.array([int(item[2]) for item in items], np.int64)
    bad = classes[(classes < 0) | (classes >= n_classes)]
    if len(bad):
        raise ConfigError(
            f"class index {int(bad[0])} outside the {n_classes} classes "
            f"[0, {n_classes})"
        )
    return np.bincount(classes, minlength=n_classes).astype(np.int64)


def class_weights(
    counts: Sequence[int] | NDArray[np.int64], names: Sequence[str] | None = None
) -> NDArray[np.float32]:
    """Inverse-frequency loss weights: n_total / (n_classes * count) per class.

    Args:
        counts: Training examples per class, shape (n_classes,).
        names: Class names, for the error; None: classes are named by index.

    Returns:
        Shape (n_classes,); a class of average frequency weighs 1.

    Raises:
        ConfigError: naming the classes without a training example.
    """
    counts = np.asarray(counts, np.int64)
    empty = np.flatnonzero(counts <= 0)
    if len(empty):
        labels = [repr(names[k]) if names else str(k) for k in empty.tolist()]
        kind = "class" if len(labels) == 1 else "classes"
        raise ConfigError(
            f"{kind} {', '.join(labels)}: no training example; label some frames "
            f"of it or leave it out"
        )
    weights: NDArray[np.float32] = (counts.sum() / (len(counts) * counts)).astype(
        np.float32
    )
    return weights


def macro_f1(true: NDArray[np.int64], pred: NDArray[np.int64], n_classes: int) -> float:
    """Mean frame F1 over the classes where it is defined (NaN if none is).

    Args:
        true: True class of each example, shape (examples,).
        pred: Predicted class of each example, shape (examples,).
        n_classes: Classes to score.
    """
    one_hot = np.eye(n_classes, dtype=bool)
    return label_macro_f1(one_hot[true], one_hot[pred])


def train_clip3d(
    train_items: Sequence[Item],
    val_items: Sequence[Item],
    params: Clip3dParams,
    train_params: Clip3dTrainParams,
    out_dir: Path,
    report: Reporter = silent,
    *,
    class_names: Sequence[str] | None = None,
    stats: dict[Path, Stats] | None = None,
    crops: Mapping[tuple[Path, int], Boxes] | None = None,
) -> Clip3dResult:
    """Train (or go on training) the clip network; see the module docstring.

    Args:
        train_items: (video, centre frame, class) to learn from.
        val_items: (video, centre frame, class) to choose the best epoch on.
        params: The network and its clips.
        train_params: The optimization.
        out_dir: Where checkpoints and logs go; resumed from if it has `last.pt`.
        report: Reports epochs done.
        class_names: Name of each class, kept in the checkpoints and used in
            errors; None: classes are named by index.
        stats: Pixel (mean, std) of the videos by path; others are measured
            (`video_mean_std`).
        crops: Crop windows by (video, animal) for items of animals (see
            `clips.ClipDataset`); None: whole frames.

    Returns:
        The best epoch and every epoch's record.

    Raises:
        ConfigError: no training or validation item, a class without a training
            example, a class index out of range, or a `last.pt` of other params.
        VideoError: if a video cannot be read.
    """
    if not train_items or not val_items:
        raise ConfigError(
            f"{out_dir}: need training and validation clips, got "
            f"{len(train_items)} and {len(val_items)}"
        )
    if class_names is not None and len(class_names) != params.n_classes:
        raise ConfigError(
            f"{len(class_names)} class names for {params.n_classes} classes"
        )
    weights = class_weights(class_counts(train_items, params.n_classes), class_names)
    class_counts(val_items, params.n_classes)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cpu_threads())
    torch.manual_seed(train_params.seed)
    device = pick_device(train_params.device)
    amp = device.type == "cuda"

    known = {Path(p): s for p, s in (stats or {}).items()}
    for path in sorted({Path(item[0]) for item in (*train_items, *val_items)}):
        if path not in known:
            known[path] = video_mean_std(path)
    sampler = EpochShuffle(len(train_items), train_params.seed)
    loader, val_loader = _loaders(
        train_items,
        val_items,
        params,
        train_params,
        known,
        sampler,
        crops,
        out_dir / "clip-cache" if train_params.cache_clips else None,
        report,
    )

    model = Clip3dNet(params).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=train_params.lr, weight_decay=train_params.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=train_params.restart_epochs
    )
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(weights).to(device))

    records: list[dict[str, float]] = []
    best_epoch, best_f1 = 0, -math.inf
    last = out_dir / FILES["last"]
    if last.is_file():
        state = _load(last)
        if state["params"] != params.to_dict():
            raise ConfigError(
                f"{last}: trained with {state['params']}, not {params.to_dict()}; "
                f"use another folder"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if state["scaler"]:  # empty when saved without mixed precision
            scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"])
        if amp and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        records = list(state["records"])
        best_epoch, best_f1 = int(state["best_epoch"]), float(state["best_f1"])

    meta = {"params": params.to_dict(), "class_names": _names(class_names, params)}
    first = len(records) + 1
    with report("training the clip network", train_params.epochs) as advance:
        advance(min(first - 1, train_params.epochs))
        for epoch in range(first, train_params.epochs + 1):
            if epoch - 1 - best_epoch >= train_params.patience:
                break
            start = time.perf_counter()
            lr = float(optimizer.param_groups[0]["lr"])
            sampler.epoch = epoch
            model.train()
            train_loss = _train_epoch(
                model,
                loader,
                optimizer,
                scaler,
                loss_fn,
                device=device,
                grad_clip=train_params.grad_clip,
                amp=amp,
            )
            scheduler.step()
            val_loss, val_f1 = _validate(
                model, val_loader, loss_fn, params, device, amp
            )
            records.append(
                {
                    "epoch": float(epoch),
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "val_macro_f1": val_f1,
                    "lr": lr,
                    "seconds": time.perf_counter() - start,
                }
            )
            weights_now = cpu_state(model)
            if best_epoch == 0 or val_f1 > best_f1:
                best_epoch, best_f1 = epoch, val_f1
                _save(
                    {
                        **meta,
                        "model": weights_now,
                        "epoch": epoch,
                        "val_macro_f1": val_f1,
                    },
                    out_dir / FILES["best"],
                )
            _save(
                {
                    **meta,
                    "model": weights_now,
                    "epoch": epoch,
                    "val_macro_f1": val_f1,
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "rng": torch.get_rng_state(),
                    **({"cuda_rng": torch.cuda.get_rng_state(device)} if amp else {}),
                    "records": records,
                    "best_epoch": best_epoch,
                    "best_f1": best_f1,
                    "train_params": train_params.to_dict(),
                },
                last,
            )
            write_epochs_csv(records, out_dir / FILES["log"])
            advance(1)
    write_epochs_csv(records, out_dir / FILES["log"])
    plot_training_curves(_curves(records), out_dir / FILES["curves"])
    return Clip3dResult(
        out_dir,
        best_epoch,
        best_f1,
        records,
        stopped_early=len(records) < train_params.epochs,
    )


def write_epochs_csv(records: Sequence[dict[str, float]], path: Path) -> Path:
    """Write the epoch records as `epochs.csv` (columns `LOG_COLUMNS`); `path`."""
    return write_log_csv(records, path, LOG_COLUMNS)


def load_clip3d(
    checkpoint: Path, device: torch.device | None = None
) -> tuple[Clip3dNet, list[str]]:
    """The network of a `best.pt` (or `last.pt`), in eval mode, and its class names.

    Raises:
        ConfigError: if the file is not a clip network checkpoint.
    """
    device = device or torch.device("cpu")
    state = _load(checkpoint)
    model = Clip3dNet(Clip3dParams(**state["params"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), list(state["class_names"])


def predict_clips(model: nn.Module, clips: Tensor) -> NDArray[np.float32]:
    """Class probabilities (N, n_classes) of clips (N, 1, T, S, S).

    Runs where the model is, in float16 autocast on CUDA.
    """
    device = next(model.parameters()).device
    model.eval()
    with (
        torch.inference_mode(),
        torch.autocast(device.type, torch.float16, enabled=device.type == "cuda"),
    ):
        logits = model(clips.to(device))
    return torch.softmax(logits.float(), dim=1).cpu().numpy()


def predict_video(
    checkpoint: Path,
    path: Path | str,
    stride: int = 1,
    *,
    stats: Stats | None = None,
    batch_size: int = 32,
    device: str | None = None,
    boxes: Boxes | None = None,
) -> NDArray[np.float32]:
    """Class probabilities of every frame of a video (or of one animal's window).

    The clips of every `stride`-th frame (0, stride, ...) go through the network
    (one sequential decode, `clips.iter_video_clips`); every other frame takes
    the probabilities of its nearest centre (`clips.spread_to_frames`).

    Args:
        checkpoint: A `best.pt` of `train_clip3d`.
        path: The video file.
        stride: Frames between the centres of the clips run.
        stats: Pixel (mean, std) of the video; None: `video_mean_std`.
        batch_size: Clips per forward pass.
        device: As `Clip3dTrainParams.device`.
        boxes: One animal's crop windows (`clips.crop_boxes`); None: whole frames.

    Returns:
        Shape (frames, classes), each row summing to 1.
    """
    torch.set_num_threads(cpu_threads())
    model, _ = load_clip3d(checkpoint, pick_device(device))
    params = model.params
    centers: list[NDArray[np.int64]] = []
    probs: list[NDArray[np.float32]] = []
    for batch_centers, clips in iter_video_clips(
        path,
        stride,
        clip_length=params.clip_length,
        imsize=params.imsize,
        stats=stats,
        batch_size=batch_size,
        boxes=boxes,
    ):
        centers.append(batch_centers)
        probs.append(predict_clips(model, clips))
    with PyAVReader(path) as reader:
        n_frames = reader.n_frames
    return spread_to_frames(np.concatenate(centers), np.concatenate(probs), n_frames)


def _loaders(
    train_items: Sequence[Item],
    val_items: Sequence[Item],
    params: Clip3dParams,
    train_params: Clip3dTrainParams,
    stats: dict[Path, Stats],
    sampler: EpochShuffle,
    crops: Mapping[tuple[Path, int], Boxes] | None,
    cache_dir: Path | None,
    report: Reporter,
) -> tuple[DataLoader[tuple[Tensor, int]], DataLoader[tuple[Tensor, int]]]:
    """Training batches, shuffled, and validation batches, in order.

    A last training batch of one clip is dropped: BatchNorm cannot train on it.
    With `cache_dir`, each set that fits `CLIP_CACHE_BYTES` is decoded once there.
    """
    sets = [
        ClipDataset(
            items,
            clip_length=params.clip_length,
            imsize=params.imsize,
            stats=stats,
            crops=crops,
        )
        for items in (train_items, val_items)
    ]
    for clips in sets:
        if cache_dir is not None and clips.cache_bytes() <= CLIP_CACHE_BYTES:
            clips.cache_on_disk(cache_dir, report)
    workers = train_params.num_workers
    common: dict[str, Any] = {
        "batch_size": train_params.batch_size,
        "num_workers": workers,
        "persistent_workers": workers > 0,
        "pin_memory": pick_device(train_params.device).type == "cuda",
    }
    # Their own generators: worker seeds drawn from the global one would shift
    # the dropout masks that follow.
    generators = [torch.Generator().manual_seed(train_params.seed) for _ in sets]
    train = DataLoader(
        sets[0],
        sampler=sampler,
        drop_last=len(train_items) % train_params.batch_size == 1,
        generator=generators[0],
        **common,
    )
    val = DataLoader(sets[1], shuffle=False, generator=generators[1], **common)
    return train, val


def _train_epoch(
    model: nn.Module,
    loader: DataLoader[tuple[Tensor, int]],
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    loss_fn: nn.Module,
    *,
    device: torch.device,
    grad_clip: float,
    amp: bool,
) -> float:
    """One pass over the training batches; the mean loss per clip."""
    total, n = 0.0, 0
    for clips, classes in loader:
        clips, classes = clips.to(device, non_blocking=True), classes.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, torch.float16, enabled=amp):
            loss = loss_fn(model(clips), classes)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        total += float(loss.detach()) * len(classes)
        n += len(classes)
    return total / n if n else math.nan


def _validate(
    model: nn.Module,
    loader: DataLoader[tuple[Tensor, int]],
    loss_fn: nn.CrossEntropyLoss,
    params: Clip3dParams,
    device: torch.device,
    amp: bool,
) -> tuple[float, float]:
    """Weighted cross-entropy (the training loss's weighting) and macro F1."""
    model.eval()
    weight = loss_fn.weight
    loss_sum, weight_sum = 0.0, 0.0
    true, pred = [], []
    with (
        torch.inference_mode(),
        torch.autocast(device.type, torch.float16, enabled=amp),
    ):
        for clips, classes in loader:
            classes = classes.to(device)
            logits = model(clips.to(device)).float()
            loss_sum += float(
                nn.functional.cross_entropy(
                    logits, classes, weight=weight, reduction="sum"
                )
            )
            weight_sum += float(weight[classes].sum()) if weight is not None else 0.0
            true.append(classes.cpu().numpy())
            pred.append(logits.argmax(dim=1).cpu().numpy())
    f1 = macro_f1(np.concatenate(true), np.concatenate(pred), params.n_classes)
    return loss_sum / max(weight_sum, 1e-12), f1


def _names(names: Sequence[str] | None, params: Clip3dParams) -> list[str]:
    return [str(k) for k in range(params.n_classes)] if names is None else list(names)


def _curves(records: Sequence[dict[str, float]]) -> list[dict[str, float]]:
    """Epoch records named as `plot_training_curves` sorts them."""
    return [
        {
            "epoch": r["epoch"],
            "train loss": r["train_loss"],
            "val loss": r["val_loss"],
            "metrics/val macro F1": r["val_macro_f1"],
        }
        for r in records
    ]


def _save(state: dict[str, Any], path: Path) -> None:
    save_checkpoint(state, path, CHECKPOINT_FORMAT)


def _load(path: Path) -> dict[str, Any]:
    """A checkpoint's contents, tensors on the CPU."""
    return load_checkpoint(path, CHECKPOINT_FORMAT)
