"""`etholoop synth`: a synthetic arena with exact ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from etholoop.cli._common import app, console, progress, split_list


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the arena into.")],
    animals: Annotated[int, typer.Option(help="Number of mice.", min=1)] = 3,
    frames: Annotated[int, typer.Option(help="Number of frames.", min=1)] = 1800,
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = "640x480",
    fps: Annotated[float, typer.Option(help="Frames per second.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same arena.")] = 0,
    gray: Annotated[
        bool, typer.Option("--gray/--color", help="Grayscale video.")
    ] = False,
    behaviors: Annotated[
        str | None,
        typer.Option(
            help="Behaviors the mice switch between; add 'flinch' for a rare 5-10 "
            "frame paw flick drawn in the pixels but not in the keypoints"
            " [default: rest,walk,groom,rear,chase; rest,walk,chase with "
            "--from-labeled]."
        ),
    ] = None,
    min_contacts: Annotated[
        int, typer.Option(help="At least this many close contacts between mice.", min=0)
    ] = 0,
    from_labeled: Annotated[
        Path | None,
        typer.Option(
            help="Compose the mice from real single-mouse labeled frames: a label "
            "file or a project folder (keypoints are the source's).",
        ),
    ] = None,
) -> None:
    """Generate a synthetic arena video with exact ground truth.

    Writes OUT/arena.mp4, OUT/arena.slp (importable with `etholoop import`),
    OUT/truth.npz, OUT/behaviors.csv and OUT/contacts.csv.
    """
    from etholoop.errors import ConfigError
    from etholoop.synth import (
        COMPOSABLE_BEHAVIORS,
        ArenaSpec,
        load_source_mice,
        make_arena,
        make_composed_arena,
        write_arena,
    )
    from etholoop.synth.config import BEHAVIORS

    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"{out}: --size must be WIDTHxHEIGHT, got {size!r}") from None
    if behaviors is None:
        chosen = COMPOSABLE_BEHAVIORS if from_labeled else BEHAVIORS
    else:
        chosen = tuple(split_list(behaviors))
    source = None if from_labeled is None else load_source_mice(from_labeled)
    try:
        spec = ArenaSpec(
            n_animals=animals,
            n_frames=frames,
            width=width,
            height=height,
            fps=fps,
            seed=seed,
            gray=gray,
            behaviors=chosen,
            min_contacts=min_contacts,
        )
        arena = (
            make_arena(spec) if source is None else make_composed_arena(spec, source)
        )
    except ValueError as exc:
        raise ConfigError(f"{from_labeled or out}: {exc}") from None
    with progress() as report:
        written = write_arena(arena, out, progress=report)
    console.print(
        f"Wrote {frames} frames of {animals} mice with {len(arena.contacts)} "
        f"contact(s) to {out}"
    )
    for key, path in written.items():
        console.print(f"  {key:>9}: {path}")
