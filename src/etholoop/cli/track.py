"""`track`: whole videos to identity tracks with a trained pose model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from etholoop.cli._common import (
    ProjectArg,
    app,
    console,
    err_console,
    progress,
    run_id_option,
)
from etholoop.pose.backend import MIN_BOX_SCORE


@app.command()
def track(
    project_path: ProjectArg,
    videos: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Videos of the project to track; default: every video file.",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        str, typer.Option(help="Pose model run id, or 'latest'.")
    ] = "latest",
    max_ids: Annotated[
        int | None,
        typer.Option(
            help="Animals to keep apart; default: the config's tracking.max_ids, "
            "else the project's number of animals."
        ),
    ] = None,
    min_score: Annotated[
        float,
        typer.Option(
            help="Least box score of an animal the tracker is given.", min=0.0, max=1.0
        ),
    ] = MIN_BOX_SCORE,
    overlay: Annotated[
        bool,
        typer.Option(
            help="Also write each video with ids, boxes, keypoints, skeleton and "
            "short trails drawn on it (<name>.overlay.mp4)."
        ),
    ] = False,
) -> None:
    """Find the animals in every frame and keep each one's identity throughout.

    The pose model runs over each whole video (streamed, constant memory); a
    tracker for a fixed number of identities links the detections by motion and
    keypoints, a second pass repairs swaps at close contacts, and short gaps
    are filled. Parameters (the BehavTrack tracker's names: alpha,
    cost_threshold, max_skip alias framesSkip_limit, release_id_at_value, ...)
    live under `tracking:` in etholoop.yaml.

    Each video gets, under PROJECT/tracks/<run>/: a SLEAP .slp, a movement
    netCDF (.nc), a multi-animal DeepLabCut .csv, an NWB file (ndx-pose), and a
    quality summary. A video that fails is recorded and the rest go on; a
    re-run skips the videos already tracked with the same model and
    parameters.
    """
    from etholoop.project import Project
    from etholoop.tracking import track_videos

    pose_run = run_id_option(run, "--run")
    with Project.open(project_path) as project, progress() as report:
        result = track_videos(
            project,
            videos or [],
            pose_run_id=pose_run,
            max_ids=max_ids,
            min_score=min_score,
            overlay=overlay,
            report=report,
        )
    console.print(
        f"track run {result.run_id} (pose run {result.pose_run_id}): {result.run_dir}"
    )
    for video in result.videos:
        if video.status == "failed":
            err_console.print(f"  failed  {video.path}: {video.error}", highlight=False)
            continue
        quality = video.quality or {}
        console.print(
            f"  {video.status:7} {video.path}: {quality.get('n_frames')} frames, "
            f"all animals found in {quality.get('frames_all_found')}, "
            f"{quality.get('frames_filled')} with gaps filled, "
            f"{len(quality.get('suspected_swaps', ()))} suspected swap(s)",
            highlight=False,
        )
    if any(video.status == "failed" for video in result.videos):
        raise typer.Exit(1)
