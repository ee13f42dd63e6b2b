"""`tracks import`: pose tracks from other tools, onto a session or as a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from etholoop.cli._common import ProjectArg, app, console, split_pairs

tracks_app = typer.Typer(
    name="tracks",
    help="Pose tracks made by other tools (DeepLabCut, SLEAP, movement) in.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(tracks_app, name="tracks")


@tracks_app.command("import")
def import_command(
    project_path: ProjectArg,
    file: Annotated[
        Path,
        typer.Argument(
            help="The tracks file: SLEAP .slp (tracked instances), netCDF .nc "
            "(etholoop's or movement's poses layout), DeepLabCut .csv or .h5 "
            "(single- or multi-animal, rows = frames) or NWB .nwb (ndx-pose).",
            show_default=False,
        ),
    ],
    session_name: Annotated[
        str | None,
        typer.Option(
            "--session",
            help="A session of the project (a video's stored path, file name or "
            "stem, or a tracks session's name) to add the tracks to, or the name "
            "of a new tracks-only session. Default: a new session named by the "
            "file's stem, cut before 'DLC_' (DeepLabCut's scorer suffix).",
            show_default=False,
        ),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option(
            "--fps",
            help="Frames per second of a new session (BORIS behavior files "
            "need it to import onto the session); for an existing session it "
            "must equal the video's. Default: none for a new session.",
            show_default=False,
        ),
    ] = None,
    keypoint_map: Annotated[
        str | None,
        typer.Option(
            "--keypoint-map",
            help="Rename file keypoints to project ones first: snout=nose,... "
            "Every keypoint of the file must then be a project keypoint.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import a pose tracks file onto a session, or as a session without video.

    Keypoints are renamed by --keypoint-map, then each must be one of the
    project's; they are put in the project's order, and project keypoints the
    file lacks stay missing. Animal i of the project is the i-th individual of
    the file (at most the project's animals). Coordinates and likelihoods are
    kept as the file has them (likelihoods become keypoint scores); the
    'behavior:' rules of etholoop.yaml (min_score, max_spread, max_gap) clean
    low-score points and outliers when features are computed.

    With --session naming an existing session (a video, an image sequence or an
    earlier tracks session) the tracks go onto it: no more frames than it has.
    Otherwise a new tracks-only session is made (frames, no images), which
    behavior labels can be imported onto and the timeline view labels; a file
    is a new session once (importing it again onto that session is fine).

    Writes PROJECT/tracks/imported/<session>-<video id>-<import id>.nc (the
    project's copy, movement's netCDF layout) and an imported_tracks row, in one
    transaction: on an error nothing is written.
    """
    from etholoop.project import Project
    from etholoop.tracks_import import import_tracks

    mapping = dict(split_pairs(keypoint_map, "=", "--keypoint-map"))
    with Project.open(project_path) as project:
        result = import_tracks(
            project, file, session=session_name, fps=fps, keypoint_map=mapping
        )
        copy = project.relative(result.path)
    animals = ", ".join(f"{i}={name}" for i, name in enumerate(result.individuals))
    where = "new tracks-only session" if result.new_session else "session"
    missing = (
        f"; project keypoints the file lacks: {list(result.missing_keypoints)}"
        if result.missing_keypoints
        else ""
    )
    console.print(
        f"{file}: {result.n_frames} frames of {len(result.individuals)} animal(s) "
        f"({animals}), {len(result.keypoints)} keypoint(s) onto {where} "
        f"{result.session!r} (video {result.video_id}); copy {copy}{missing}",
        highlight=False,
    )
