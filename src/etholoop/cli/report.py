"""`report`: one self-contained HTML report of a project, its figures beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from etholoop.cli._common import ProjectArg, app, console, progress


@app.command()
def report(
    project_path: ProjectArg,
    out: Annotated[
        Path | None,
        typer.Option(
            help="The HTML file to write; default: PROJECT/report.html.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write one HTML file that shows where the project stands, for a browser.

    Sections: project summary, labeling progress per split and cycle, pose
    training curves, pose metrics per keypoint, the active-learning curve
    (test metrics against labeled frames per cycle), tracking quality per
    video, trajectories and occupancy per animal, ethograms (manual labels
    against predictions), time budgets and bouts per animal and condition, and
    the behavior confusion matrix. A section with nothing yet says what to run.

    The file needs no network to view: figures are embedded. Each figure is
    also saved as PNG and SVG, with the numbers it draws as CSV, in the folder
    beside it (report_files/ for report.html); a rerun replaces them.
    """
    from etholoop.project import Project
    from etholoop.report import write_report

    with Project.open(project_path) as project, progress() as bars:
        result = write_report(project, out, report=bars)
    console.print(f"report: {result.html}", highlight=False)
    console.print(
        f"  figures and numbers: {result.figures_dir} ({len(result.files)} files)",
        highlight=False,
    )
    if result.without_data:
        console.print(
            f"  nothing yet in: {', '.join(result.without_data)}", highlight=False
        )
