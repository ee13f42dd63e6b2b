"""Project commands: `init`, `add-videos`, `preprocess` and `info`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from etholoop.cli._common import (
    ProjectArg,
    app,
    console,
    err_console,
    fail_if,
    progress,
    split_list,
    split_pairs,
)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    animals: Annotated[int, typer.Option(help="Animals expected per frame.", min=1)],
    keypoints: Annotated[
        str, typer.Option(help="Keypoint names in order, e.g. nose,earL,earR,tailB.")
    ],
    skeleton: Annotated[
        str | None,
        typer.Option(help="Edges drawn between keypoints, e.g. nose-earL,nose-earR."),
    ] = None,
    symmetry: Annotated[
        str | None,
        typer.Option(
            help="Left/right keypoint pairs swapped by a flip, e.g. earL-earR. "
            "Default: guessed from names (earL/earR, leftear/rightear, L_ear/R_ear, "
            "paw1LH/paw4RH, ...); names marked left or right that find no partner "
            "are named in a warning."
        ),
    ] = None,
    behaviors: Annotated[
        str | None, typer.Option(help="Behavior names, e.g. rest,walk,groom.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Project name (default: folder).")
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            help="Database URL for the label store, e.g. "
            "postgresql://user@host/db. Default: etholoop.db inside the project."
        ),
    ] = None,
) -> None:
    """Create a project folder: writes PATH/etholoop.yaml and the label store."""
    from pydantic import ValidationError

    from etholoop.config import (
        ProjectConfig,
        SkeletonConfig,
        StoreConfig,
        guess_symmetry,
        unpaired_side_keypoints,
    )
    from etholoop.errors import ConfigError
    from etholoop.project import Project

    names = split_list(keypoints)
    pairs = (
        split_pairs(symmetry, "-", "--symmetry")
        if symmetry is not None
        else guess_symmetry(names)
    )
    unpaired = [] if symmetry is not None else unpaired_side_keypoints(names, pairs)
    try:
        config = ProjectConfig(
            name=name or path.resolve().name,
            animals=animals,
            skeleton=SkeletonConfig(
                keypoints=names,
                edges=split_pairs(skeleton, "-", "--skeleton"),
                symmetry=pairs,
            ),
            behaviors=split_list(behaviors),
            store=StoreConfig(url=store_url),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{path}: {message}") from None
    with Project.create(path, config) as project:
        console.print(f"Created project [bold]{project.root}[/]")
        console.print(f"  config: {project.config_path}")
        console.print(f"  store:  {project.store_url}")
    if unpaired:
        err_console.print(
            f"[bold yellow]warning:[/] no left/right partner for "
            f"{escape(', '.join(unpaired))}; flip augmentation swaps only the "
            "listed pairs (pass --symmetry a-b,... or train with --no-flip)",
            highlight=False,
        )


@app.command("add-videos")
def add_videos_command(
    project_path: ProjectArg,
    files: Annotated[list[Path], typer.Argument(help="Video files to register.")],
    condition: Annotated[
        str | None, typer.Option(help="Experimental condition of these videos.")
    ] = None,
) -> None:
    """Register videos (hash, fps, frames, size, codec); duplicates are reported."""
    from etholoop.ingest import add_videos
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = add_videos(project, files, condition=condition, report=report)
    for path, existing in result.duplicates:
        console.print(f"skipped {path}: same content as registered {existing}")
    console.print(f"Added {len(result.added)} video(s) to {project.root}")
    fail_if(result.failed, "video(s)")


@app.command()
def preprocess(
    project_path: ProjectArg,
    fps: Annotated[float | None, typer.Option(help="Output frame rate.")] = None,
    size: Annotated[
        int | None, typer.Option(help="Longest side of the output in px.")
    ] = None,
    gray: Annotated[
        bool | None, typer.Option("--gray/--color", help="Grayscale output.")
    ] = None,
    start: Annotated[float, typer.Option(help="Start time in seconds.", min=0)] = 0.0,
    duration: Annotated[
        float | None, typer.Option(help="Seconds to keep from START.", min=0)
    ] = None,
) -> None:
    """Write normalized copies of the raw videos to PROJECT/videos (resumable).

    Unset options take the `video:` defaults of etholoop.yaml; a video already
    normalized with the same settings is skipped.
    """
    from etholoop.ingest import preprocess_videos
    from etholoop.project import Project
    from etholoop.relabel import describe_moves
    from etholoop.video import PreprocessParams

    with Project.open(project_path) as project, progress() as report:
        defaults = project.config.video
        params = PreprocessParams(
            fps=fps if fps is not None else defaults.fps,
            size=size if size is not None else defaults.size,
            gray=gray if gray is not None else defaults.gray,
            start_s=start,
            duration_s=duration,
            crf=defaults.crf,
            keyframe_interval=defaults.keyframe_interval,
        )
        result = preprocess_videos(project, params, report=report)
    console.print(
        f"Preprocessed {len(result.written)} video(s), {len(result.skipped)} already "
        f"done; outputs in {project.videos_dir}"
    )
    for line in describe_moves(result.moves):
        console.print(line)
    fail_if(result.failed, "video(s)")


@app.command()
def info() -> None:
    """Print versions of Python, etholoop, torch, PyAV/FFmpeg and the compute device."""
    from etholoop.system import system_info

    for key, value in system_info().items():
        console.print(f"{key:>12}: {value}", highlight=False)
