"""`etholoop pretrain`: self-supervised pretraining on the project's own videos."""

from __future__ import annotations

from typing import Annotated

import typer

from etholoop.cli._common import ProjectArg, app, console, err_console, progress


@app.command()
def pretrain(
    project_path: ProjectArg,
    frames: Annotated[
        int,
        typer.Option(
            min=2, help="Frames read, spread evenly over the videos (one crop each)."
        ),
    ] = 1000,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over those crops.")] = 10,
    batch: Annotated[int, typer.Option(min=2, help="Crops per step.")] = 16,
    device: Annotated[
        str | None, typer.Option(help="cpu or a GPU index; default: GPU if present.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Pretrain the heatmap backend's network on the project's unlabeled frames.

    Masked-image modelling: crops around the animals (found without labels,
    as what differs from the empty arena) are shown with 60 % of their patches
    blanked, and the network learns to paint them back. Later
    `etholoop train --backend heatmap` runs start from the latest pretraining
    instead of from scratch (benchmarks/README.md says by how much it helps).
    Nothing is downloaded. Ctrl+C or SIGTERM marks the run `interrupted`.
    """
    from etholoop.pose.pretrain import PretrainParams, pretrain_encoder
    from etholoop.pose.train import RunInterrupted
    from etholoop.project import Project

    params = PretrainParams(
        frames=frames, epochs=epochs, batch=batch, seed=seed, device=device
    )
    try:
        with Project.open(project_path) as project, progress() as report:
            result = pretrain_encoder(project, params, report=report)
    except RunInterrupted as stopped:
        err_console.print(
            f"{stopped}; marked interrupted in the store", highlight=False
        )
        raise typer.Exit(128 + stopped.signum) from None
    loss = result.epochs[-1]["train/reconstruction_loss"]
    console.print(
        f"run {result.run_id}: pretrained on {result.n_frames} frames "
        f"(crops of {result.crop_size:.0f} px) for {len(result.epochs)} epoch(s), "
        f"reconstruction loss {loss:.3f}"
    )
    console.print(
        f"  encoder: {result.weights}\n"
        "  `etholoop train --backend heatmap` now starts from it"
    )
