"""`analyze`: new videos to tracks, ethograms, bouts and a report, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from etholoop.cli._common import (
    ProjectArg,
    app,
    console,
    err_console,
    progress,
    run_id_option,
)

if TYPE_CHECKING:
    from etholoop.analyze import AnalyzeReport, StageResult

OUTPUTS_SHOWN = ("nc", "ethogram", "bouts")
"""Outputs of a video the summary names: its tracks, ethogram and bouts."""


@app.command()
def analyze(
    project_path: ProjectArg,
    videos: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Video files to analyze, added to the project if new; default: "
            "every video file of the project.",
            show_default=False,
        ),
    ] = None,
    pose_run: Annotated[
        str, typer.Option(help="Pose model run id that tracks them, or 'latest'.")
    ] = "latest",
    behavior_run: Annotated[
        str,
        typer.Option(help="Behavior model run id that predicts them, or 'latest'."),
    ] = "latest",
    with_report: Annotated[
        bool,
        typer.Option(
            "--report", help="Also write the project report (PROJECT/report.html)."
        ),
    ] = False,
) -> None:
    """Add videos, normalize, track them, predict their behaviors; files per video.

    Four stages per video, each printed as it ends (done, skipped or failed):
    add registers the file (as `add-videos`); normalize gives a video without
    a normalized copy one made like the project's newest copy (as `preprocess`
    with that copy's fps, size, gray and encoder settings, untrimmed:
    PROJECT/videos/), so that it is tracked at the scale the pose model learned
    (skipped when the project has no normalized videos); track finds the
    animals and keeps their identities with the pose run (as `track`:
    PROJECT/tracks/<run>/<name>.slp, .nc, .csv, .nwb and .quality.json);
    predict labels each animal's behaviors per frame with the behavior run
    (as `behavior predict`: PROJECT/behavior/<run>/<name>.probabilities.csv,
    .ethogram.csv, .ethogram.nc and .bouts.csv, plus predicted ranges to
    review in `serve`).
    With --report, PROJECT/report.html is written at the end.

    Both runs are checked before any work. A video that fails a stage is
    reported with the reason and goes no further while the others go on; the
    exit code is then 1. A second call redoes nothing already done: each stage
    skips what it finished before with the same runs and the same tracks.
    """
    from etholoop.analyze import analyze_videos
    from etholoop.project import Project

    pose_id = run_id_option(pose_run, "--pose-run")
    behavior_id = run_id_option(behavior_run, "--behavior-run")
    with Project.open(project_path) as project, progress() as report:
        result = analyze_videos(
            project,
            videos or [],
            pose_run_id=pose_id,
            behavior_run_id=behavior_id,
            write_report=with_report,
            report=report,
            on_stage=_print_stage,
        )
    _print_summary(result)
    if result.failed:
        raise typer.Exit(1)


def _print_stage(step: StageResult) -> None:
    """One progress line: stage, status, video and why it failed."""
    line = f"  {step.stage:9} {step.status:7} {step.video}"
    if step.error is None:
        console.print(line, highlight=False)
    else:  # most errors start with the file they are about
        why = step.error.removeprefix(f"{step.video}: ")
        err_console.print(f"{line}: {why}", highlight=False)


def _print_summary(result: AnalyzeReport) -> None:
    """The runs used, a table of videos by stages, the report."""
    from etholoop.analyze import STAGES

    track_run = "none" if result.track_run_id is None else result.track_run_id
    console.print(
        f"pose run {result.pose_run_id}, tracking run {track_run}, behavior run "
        f"{result.behavior_run_id}",
        highlight=False,
    )
    table = Table("video", *STAGES, "outputs (in the project)", title="Videos by stage")
    for video in result.videos:
        shown = [video.outputs[k] for k in OUTPUTS_SHOWN if k in video.outputs]
        table.add_row(
            escape(Path(video.video).name),
            *(video.status(stage) or "-" for stage in STAGES),
            escape(", ".join(shown)),
        )
    reached = any(video.status("normalize") for video in result.videos)
    if result.normalize_params is None and reached:
        console.print(
            "normalize skipped: the project has no normalized videos (see "
            "`preprocess`), so each video is read as it is",
            highlight=False,
        )
    console.print(table)
    if result.report_path is not None:
        console.print(f"report: {result.report_path}", highlight=False)
    if result.report_error is not None:
        err_console.print(
            f"[bold red]error:[/] {escape(result.report_error)}", highlight=False
        )
    failed = sum(video.failed for video in result.videos)
    if failed:
        err_console.print(
            f"{failed} video(s) failed; the others were analyzed.", highlight=False
        )
