"""`pretrain_encoder`: self-supervised pretraining on a project's own videos.

Reads frames spread evenly over the project's video files (the normalized
copies where there are some), finds the animals in them without labels and
cuts a region around one per frame (`heatmap.pretrain`), trains the heatmap
keypoint network's encoder and decoder by masked-image modelling, and records
the run (stage `pose-pretrain`, folder `runs/pretrain/NNNN/`, file
`encoder.pt`). `train_pose` with the heatmap backend then starts from the
latest such run. Nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from attrs import asdict, frozen
from numpy.typing import NDArray

from etholoop.errors import ProjectError
from etholoop.pose.heatmap.backend import ENCODER_FORMAT
from etholoop.pose.heatmap.network import pick_device
from etholoop.pose.heatmap.pretrain import (
    BACKGROUND_FRAMES,
    analysis_scale,
    arena_background,
    blob_sides,
    cut_region,
    downscaled_gray,
    foreground,
    pick_center,
    pretrain_network,
)
from etholoop.pose.heatmap.samples import CROP_MARGIN, MIN_CROP_SIZE
from etholoop.pose.heatmap.train import HeatmapSettings
from etholoop.pose.runs import POSE_PRETRAIN
from etholoop.pose.train import failures_recorded, stop_signals_interrupt
from etholoop.pose.yolo_env import cpu_threads
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.runs import finish_run, start_run
from etholoop.store import latest_cycle
from etholoop.store.runs import set_run_dir
from etholoop.store.videos import video_files_to_read
from etholoop.video import open_video

ENCODER_FILE = "encoder.pt"
"""The pretrained network in a pretraining run's folder."""
FALLBACK_CROP_FRACTION = 0.25
"""Crop side over the shorter frame side when no animal could be sized."""


@frozen
class PretrainParams:
    """How to pretrain.

    Attributes:
        frames: Frames read, spread evenly over the videos (one crop each).
        epochs: Passes over those crops, each with fresh augmentation and masks.
        batch: Crops per optimizer step.
        seed: Seed of the crops, masks and initial weights.
        device: "cpu", a GPU index such as "0", or None for the GPU when present.
    """

    frames: int = 1000
    epochs: int = 10
    batch: int = 16
    seed: int = 0
    device: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for the run's record."""
        return asdict(self)


@frozen
class PretrainReport:
    """What `pretrain_encoder` did.

    Attributes:
        run_id: The pretraining run's id in the store.
        run_dir: Its folder.
        weights: The pretrained network (`ENCODER_FILE`).
        n_frames: Frames cropped.
        crop_size: Crop side in px found from the animals' size.
        epochs: Each epoch's record (reconstruction loss, lr, time).
    """

    run_id: int
    run_dir: Path
    weights: Path
    n_frames: int
    crop_size: float
    epochs: list[dict[str, float]]


def spread_frames(lengths: Sequence[int], n: int) -> list[NDArray[np.int64]]:
    """About `n` frame indices per video, evenly spaced, shared by length.

    Every video with frames gets at least one; a video gives at most all it has.
    """
    total = sum(lengths)
    picks = []
    for length in lengths:
        k = min(length, max(1, round(n * length / total))) if length else 0
        picks.append(np.unique(np.linspace(0, length - 1, k).round().astype(np.int64)))
    return picks


def pretrain_encoder(
    project: Project,
    params: PretrainParams,
    *,
    settings: HeatmapSettings | None = None,
    report: Reporter = silent,
) -> PretrainReport:
    """Pretrain the heatmap keypoint network on the project's unlabeled frames.

    Args:
        project: The open project.
        params: Frames, epochs, batch, seed and device.
        settings: The heatmap backend's sizes (crop px, network width); the
            product's defaults when None.
        report: Progress reporter.

    Raises:
        ProjectError: the project has no video files, or too few frames.
        RunInterrupted: Ctrl+C, SIGTERM or SIGHUP stopped it.
    """
    settings = settings or HeatmapSettings()
    with project.store.session() as session:
        videos = [
            (project.resolve(video.path), video.n_frames)
            for _, video in video_files_to_read(session)
        ]
    if not videos:
        raise ProjectError(
            f"{project.root}: no video files to pretrain on; "
            "register some with `etholoop add-videos`"
        )
    if params.frames < 2 or params.epochs < 1:
        raise ProjectError(f"{project.root}: --frames must be >= 2 and --epochs >= 1")
    with stop_signals_interrupt():
        with project.store.session() as session:
            cycle = latest_cycle(session)  # `etholoop status` lists it there
            run_id = start_run(
                session,
                stage=POSE_PRETRAIN,
                config=params.to_dict(),
                cycle_id=None if cycle is None else cycle.id,
            ).id
            run_dir = project.runs_dir / "pretrain" / f"{run_id:04d}"
            set_run_dir(session, run_id, project.relative(run_dir))
        with failures_recorded(project, run_id):
            run_dir.mkdir(parents=True, exist_ok=True)
            regions, crop_size = _read_regions(
                videos, params, out_size=settings.out_size, report=report
            )
            torch.set_num_threads(cpu_threads())
            with report(f"Pretraining (run {run_id})", params.epochs) as step:
                result = pretrain_network(
                    regions,
                    width=settings.width,
                    out_size=settings.out_size,
                    epochs=params.epochs,
                    batch=params.batch,
                    device=pick_device(params.device),
                    seed=params.seed,
                    on_epoch=lambda record: step(1),
                )
            weights = run_dir / ENCODER_FILE
            torch.save(
                {
                    "format": ENCODER_FORMAT,
                    "width": settings.width,
                    "out_size": settings.out_size,
                    "crop_size": crop_size,
                    "state": result.state,
                },
                weights,
            )
            (run_dir / "epochs.json").write_text(json.dumps(result.epochs, indent=1))
    with project.store.session() as session:
        finish_run(
            session,
            run_id,
            status="done",
            metrics={"epochs": result.epochs},
            config={
                "weights": project.relative(weights),
                "n_frames": len(regions),
                "crop_size": crop_size,
            },
        )
    return PretrainReport(
        run_id, run_dir, weights, len(regions), crop_size, result.epochs
    )


def _read_regions(
    videos: Sequence[tuple[Path, int]],
    params: PretrainParams,
    *,
    out_size: int,
    report: Reporter,
) -> tuple[NDArray[np.uint8], float]:
    """One region around an animal per frame read, and the crop size used.

    First each video's empty arena from up to `BACKGROUND_FRAMES` of the
    chosen frames, whose blobs also size the animals (the median blob side,
    with the keypoint crops' margin); then every chosen frame, cut around a
    centre drawn from its difference to the arena. Only the regions are kept.
    """
    rng = np.random.default_rng(params.seed)
    picks = spread_frames([n for _, n in videos], params.frames)
    if sum(map(len, picks)) < 2:
        raise ProjectError(
            f"{videos[0][0]}: pretraining needs at least 2 frames, "
            f"the videos have {sum(map(len, picks))}"
        )
    arenas = []
    sides: list[float] = []
    shortest = math.inf
    for (path, _), chosen in zip(videos, picks, strict=True):
        with open_video(path) as reader:
            scale = analysis_scale(reader.width, reader.height)
            shortest = min(shortest, reader.width, reader.height)
            sample = [
                downscaled_gray(reader.read_frame(int(i)), scale)
                for i in chosen[:: max(1, len(chosen) // BACKGROUND_FRAMES)]
            ]
        background = arena_background(sample)
        arenas.append((background, scale))
        sides += [
            s / scale for s in blob_sides([foreground(f, background) for f in sample])
        ]
    crop_size = (
        max(CROP_MARGIN * float(np.median(sides)), MIN_CROP_SIZE)
        if sides
        else FALLBACK_CROP_FRACTION * shortest
    )
    regions = []
    with report("Reading frames to pretrain on", sum(map(len, picks))) as step:
        for (path, _), chosen, (background, scale) in zip(
            videos, picks, arenas, strict=True
        ):
            with open_video(path) as reader:
                for i in chosen:
                    image = reader.read_frame(int(i))
                    difference = foreground(downscaled_gray(image, scale), background)
                    center = pick_center(difference, scale, rng)
                    regions.append(cut_region(image, center, crop_size, out_size))
                    step(1)
    return np.stack(regions), float(crop_size)
