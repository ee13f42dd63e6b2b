"""Pose model commands: `train`, `predict`, `evaluate` and `cycle`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from etholoop.cli._common import (
    ProjectArg,
    app,
    choice,
    console,
    err_console,
    progress,
)
from etholoop.formatting import format_metric
from etholoop.pose.backend import backend_names
from etholoop.sampling import STRATEGIES
from etholoop.types import Subset

if TYPE_CHECKING:
    CycleStrategy = str
    PoseBackendName = str
else:
    CycleStrategy = choice(STRATEGIES)
    PoseBackendName = choice(backend_names())

YOLO_ONLY = ("model", "imgsz", "rotate", "scale", "translate")
"""`train` options the heatmap backend sizes and augments by itself."""


def _from_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` was given on the command line (not its default)."""
    # by name: typer ships its own copy of click's ParameterSource
    return getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"


def _refuse_yolo_options(ctx: typer.Context, backend: str, given: list[str]) -> None:
    """Refuse the yolo-only options `given` when training another backend.

    Raises:
        ConfigError: naming the options and what to do.
    """
    if backend == "yolo" or not given:
        return
    from etholoop.errors import ConfigError

    why = "sizes its crops from the labels and rotates and zooms them itself"
    raise ConfigError(
        f"{', '.join(given)}: options of the yolo backend; "
        + (
            f"the {backend} backend {why}"
            if _from_command_line(ctx, "backend")
            else f"add --backend yolo (the default backend, {backend}, {why})"
        )
    )


@app.command()
def train(
    ctx: typer.Context,
    project_path: ProjectArg,
    task: Annotated[
        Literal["pose"], typer.Option(help="What to train (pose only, so far).")
    ] = "pose",
    backend: Annotated[
        PoseBackendName,
        typer.Option(
            help="heatmap (several times more accurate on the DeepLabCut "
            "benchmark): a centroid detector, then keypoints on a crop around "
            "each animal, sized from the labels and rotated freely in training. "
            "yolo: one network finds boxes and keypoints (Ultralytics; "
            "--model, --imgsz, --rotate, --scale, --translate are its own)."
        ),
    ] = "heatmap",
    model: Annotated[
        str,
        typer.Option(help="yolo: architecture, built from its config (no download)."),
    ] = "yolo11n-pose",
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the frames.")] = 50,
    imgsz: Annotated[int, typer.Option(min=32, help="yolo: input size in px.")] = 640,
    batch: Annotated[int, typer.Option(min=1, help="Images per step.")] = 16,
    weights: Annotated[
        Path | None, typer.Option(help="Start from these weights (.pt).")
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option(
            help="Start from the weights of an earlier run: its id (see `etholoop "
            "status`) or 'latest'. Continuing the last cycle's model needs far "
            "fewer epochs than training from scratch."
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="cpu or a GPU index; default: GPU if present.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    flip: Annotated[
        bool,
        typer.Option(
            "--flip/--no-flip",
            help="Mirror half the training images left-right, swapping the "
            "skeleton's symmetry pairs. --no-flip for a rig where the animals "
            "always face one way, or keypoints marked left/right without a pair.",
        ),
    ] = True,
    rotate: Annotated[
        float,
        typer.Option(
            metavar="DEG",
            min=0,
            max=180,
            help="yolo: rotate training images at random by up to +/- DEG degrees "
            "(top views: any angle occurs, up to 180).",
        ),
    ] = 0.0,
    scale: Annotated[
        float,
        typer.Option(
            metavar="FRACTION",
            min=0,
            max=0.9,
            help="yolo: zoom training images in or out at random by up to FRACTION "
            "(0.5: 50-150 %).",
        ),
    ] = 0.5,
    translate: Annotated[
        float,
        typer.Option(
            metavar="FRACTION",
            min=0,
            max=0.9,
            help="yolo: shift training images at random by up to FRACTION of "
            "their size.",
        ),
    ] = 0.1,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment/--no-augment",
            help="--no-augment: train on the images as they are (no flip, "
            "rotation, zoom, shift, mosaic or color change).",
        ),
    ] = True,
) -> None:
    """Train a pose model on the labeled train+val frames of the latest cycle.

    The run (settings, the exact labels used, metrics per epoch, weights) is
    recorded in the store; a training-curve plot goes to its folder. Ctrl+C or
    SIGTERM marks the run interrupted. The heatmap backend starts from the
    project's latest `etholoop pretrain` run, when there is one and neither
    --weights nor --from-run is given.
    """
    from etholoop.errors import ConfigError
    from etholoop.pose.backend import TrainParams
    from etholoop.pose.train import (
        RunInterrupted,
        previous_run_backend,
        previous_run_weights,
        train_pose,
    )
    from etholoop.project import Project

    given = [f"--{name}" for name in YOLO_ONLY if _from_command_line(ctx, name)]
    if from_run is None:  # else the backend may be the earlier run's
        _refuse_yolo_options(ctx, backend, given)
    augmentations = [g for g in given if g[2:] in ("rotate", "scale", "translate")]
    if not augment and augmentations:
        raise ConfigError(
            "--no-augment turns every augmentation off; drop "
            + ", ".join(augmentations)
        )
    if weights is not None and from_run is not None:
        raise ConfigError("--weights and --from-run both given: choose one")
    if weights is not None and not weights.is_file():
        raise ConfigError(f"{weights}: no such weights file")
    if from_run is not None and from_run != "latest" and not from_run.isdigit():
        raise ConfigError(f"--from-run {from_run}: give a run id or 'latest'")
    try:
        with Project.open(project_path) as project, progress() as report:
            if from_run is not None:
                run_id = None if from_run == "latest" else int(from_run)
                weights = previous_run_weights(project, run_id)
                trained_with = previous_run_backend(project, run_id)
                if not _from_command_line(ctx, "backend"):
                    backend = trained_with
                elif backend != trained_with:
                    raise ConfigError(
                        f"--from-run {from_run}: that run trained the "
                        f"{trained_with} backend; --backend {backend} cannot "
                        "continue from it"
                    )
                _refuse_yolo_options(ctx, backend, given)
            params = TrainParams(
                model=model,
                epochs=epochs,
                imgsz=imgsz,
                batch=batch,
                weights=weights,
                device=device,
                seed=seed,
                flip=flip,
                rotate=rotate,
                scale=scale,
                translate=translate,
                augment=augment,
            )
            result = train_pose(project, params, backend=backend, report=report)
    except RunInterrupted as stopped:
        err_console.print(
            f"{stopped}; marked interrupted in the store", highlight=False
        )
        raise typer.Exit(128 + stopped.signum) from None
    console.print(
        f"run {result.run_id}: trained on {result.n_train} frames "
        f"(+{result.n_val} validation) for {len(result.epochs)} epoch(s)"
    )
    if result.encoder is not None:
        console.print(f"  started from the pretrained encoder {result.encoder}")
    console.print(f"  weights: {result.weights}\n  curves:  {result.curves}")


@app.command()
def predict(
    project_path: ProjectArg,
    run: Annotated[
        int | None, typer.Option(help="Model run id; default: the latest.")
    ] = None,
    subset: Annotated[
        Subset,
        typer.Option(help="Frames to predict: a split of the latest cycle or all."),
    ] = "predict",
) -> None:
    """Store a pose model's predictions as editable `predicted` instances.

    Frames holding manual labels are never touched; earlier predictions on the
    others are replaced. A frame keeps at most the project's number of animals,
    the best scored. Correct them in `etholoop serve`.
    """
    from etholoop.pose.predict import predict_frames
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = predict_frames(project, run_id=run, subset=subset, report=report)
    console.print(
        f"run {result.run_id}: {result.n_instances} instance(s) on "
        f"{result.n_frames} frame(s); {result.n_empty} frame(s) with none; "
        f"{result.n_manual} frame(s) with manual labels left alone"
    )


@app.command()
def evaluate(
    project_path: ProjectArg,
    run: Annotated[
        int | None, typer.Option(help="Model run id; default: the latest.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a pose model on the test split: mAP, OKS mAP, PCK, RMSE, counts.

    Writes metrics.json and a plot to the run's folder and records the metrics.
    """
    from etholoop.pose.evaluate import evaluate_run
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = evaluate_run(project, run_id=run, report=report)
    metrics = result.metrics.to_dict()
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
        return
    console.print(f"run {result.run_id} on {metrics['n_frames']} test frame(s):")
    for key in ("box_map50", "box_map50_95", "oks_map50", "oks_map50_95"):
        console.print(f"  {key:>14}: {format_metric(metrics[key])}")
    for threshold, value in metrics["pck"].items():
        console.print(f"  {'PCK@' + threshold:>14}: {format_metric(value)}")
    console.print(f"  {'RMSE px':>14}: {format_metric(metrics['rmse'], '.1f')}")
    console.print(
        f"  {'animals':>14}: found {metrics['n_matched']} of {metrics['n_truth']} "
        f"({metrics['n_missed']} missed), {metrics['n_extra']} extra, "
        f"{metrics['n_frames_wrong_count']} frame(s) with a wrong count"
    )
    console.print(f"  metrics: {result.metrics_json}\n  plot:    {result.plot}")


@app.command()
def cycle(
    project_path: ProjectArg,
    strategy: Annotated[
        CycleStrategy,
        typer.Option(
            help="How the reserve frames to predict are chosen: as `sample` does, "
            "or uncertainty (least sure frames) or hybrid (least sure frames of "
            "every stratum) by the run's predictions."
        ),
    ] = "stratified",
    n: Annotated[
        int,
        typer.Option(
            help="Frames in the next prediction subset (0: only move corrections)."
        ),
    ] = 50,
    run: Annotated[
        int | None, typer.Option(help="Model run that ranks frames; default latest.")
    ] = None,
    val_fraction: Annotated[
        float, typer.Option(help="Share of new train+val frames for validation.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Start the next active-learning cycle.

    Corrected prediction frames (all predictions confirmed or fixed) join
    train+val; the next frames to predict and correct are drawn from the reserve.
    """
    from etholoop.active import advance_cycle
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = advance_cycle(
            project,
            strategy=strategy,
            n=n,
            run_id=run,
            val_fraction=val_fraction,
            seed=seed,
            report=report,
        )
    console.print(
        f"cycle {result.cycle}: {result.n_corrected} corrected frame(s) joined "
        f"train+val, {result.n_returned} returned to the reserve, {result.n_chosen} "
        f"chosen to predict by {result.strategy}"
    )
    console.print("  " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
