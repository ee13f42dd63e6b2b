"""Label file commands: `import` and `export`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etholoop.cli._common import (
    ProjectArg,
    app,
    choice,
    console,
    progress,
    split_pairs,
)
from etholoop.io import FORMATS
from etholoop.io._registry import REGISTRY
from etholoop.types import Source

if TYPE_CHECKING:
    ReadFormat = str
    WriteFormat = str
else:
    ReadFormat = choice((*(n for n in FORMATS if REGISTRY[n].reader), "auto"))
    WriteFormat = choice(n for n in FORMATS if REGISTRY[n].writer)


@app.command("import")
def import_command(
    project_path: ProjectArg,
    file: Annotated[
        Path,
        typer.Argument(
            help="Label file, DeepLabCut labeled-data/<video>/ or project folder, "
            "or YOLO dataset folder."
        ),
    ],
    format: Annotated[
        ReadFormat,
        typer.Option(
            "--format", "-f", help="Label format; auto: by suffix, else by content."
        ),
    ] = "auto",
    keypoint_map: Annotated[
        str | None,
        typer.Option(
            help="Rename file keypoints to project ones: snout=nose,... With a map, "
            "file keypoints matching no project keypoint are dropped and project "
            "keypoints the file lacks stay unlabeled."
        ),
    ] = None,
    source: Annotated[
        Source | None,
        typer.Option(
            help="Mark every imported instance manual or predicted "
            "(default: as the file says; DLC likelihood columns mean predicted)."
        ),
    ] = None,
) -> None:
    """Import labels into the store; keypoints are matched to the project skeleton."""
    from etholoop.label_files import import_labels
    from etholoop.project import Project
    from etholoop.relabel import describe_moves

    mapping = dict(split_pairs(keypoint_map, "=", "--keypoint-map"))
    with Project.open(project_path) as project, progress() as report:
        result = import_labels(
            project,
            file,
            format=format,
            keypoint_map=mapping,
            source=source,
            report=report,
        )
    console.print(
        f"Imported {result.n_instances} instance(s) on {result.n_frames} frame(s) "
        f"from {file}"
        + (
            f"; {result.n_skipped} frame(s) already labeled, kept"
            if result.n_skipped
            else ""
        )
    )
    if result.dropped:
        console.print(
            f"dropped file keypoints not in the project: {', '.join(result.dropped)}"
        )
    if result.unlabeled:
        console.print(
            "project keypoints not in the file, left unlabeled: "
            + ", ".join(result.unlabeled)
        )
    for line in describe_moves(result.moves):
        console.print(line)


@app.command("export")
def export_command(
    project_path: ProjectArg,
    out: Annotated[
        Path,
        typer.Argument(
            help="Output file or folder: a folder gets OUT/labels.json (+ images/), "
            "labels.slp, labels.nwb, a YOLO dataset or, for dlc, a DeepLabCut "
            "project's labeled-data/<video>/ folders (a .csv is one table)."
        ),
    ],
    format: Annotated[
        WriteFormat, typer.Option("--format", "-f", help="Label format.")
    ],
    include_predictions: Annotated[
        bool, typer.Option(help="Also write predicted instances.")
    ] = False,
    scorer: Annotated[
        str | None,
        typer.Option(
            help="DeepLabCut scorer (default: the DLC scorer the labels were "
            "imported with, else etholoop)."
        ),
    ] = None,
) -> None:
    """Export the manually labeled frames to OUT in a standard format."""
    from etholoop.label_files import export_labels
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = export_labels(
            project,
            out,
            format=format,
            include_predictions=include_predictions,
            scorer=scorer,
            report=report,
        )
    kind = "" if include_predictions else "manual "
    scorer_note = f" (scorer {result.scorer})" if result.scorer else ""
    console.print(
        f"Exported {result.n_instances} {kind}instance(s) on {result.n_frames} "
        f"frame(s) to {out}{scorer_note}"
    )
