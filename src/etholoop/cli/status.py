"""`etholoop status`: where a project stands, as tables or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from etholoop.cli._common import ProjectArg, app, console
from etholoop.formatting import format_metric

if TYPE_CHECKING:
    from etholoop.status import CycleStatus, ProjectStatus, SplitStatus


@app.command()
def status(
    project_path: ProjectArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show videos, frames, labels per split and source, and cycles."""
    from etholoop.project import Project
    from etholoop.status import project_status

    with Project.open(project_path) as project:
        summary = project_status(project)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    _print_status(summary)


def _print_status(summary: ProjectStatus) -> None:
    console.print(f"[bold]{escape(summary.name)}[/] at {escape(str(summary.root))}")
    console.print(
        f"  {summary.animals} animal(s), keypoints {', '.join(summary.keypoints)}"
        + (f"; behaviors {', '.join(summary.behaviors)}" if summary.behaviors else "")
    )
    console.print(f"  store: {summary.store}")
    videos = Table(
        "id", "video", "from", "frames", "fps", "size", "codec", title="Videos"
    )
    for v in summary.videos:
        videos.add_row(
            str(v.id),
            v.path,
            "" if v.normalized_from is None else str(v.normalized_from),
            str(v.n_frames),
            "" if v.fps is None else f"{v.fps:.2f}",
            f"{v.width}x{v.height}",
            v.codec,
        )
    console.print(videos)
    labels = Table("split", "frames", "manual", "predicted", title="Frames and labels")
    for split in summary.splits:
        labels.add_row(
            split.name,
            str(split.n_frames),
            *(
                f"{counts.n_instances} on {counts.n_frames} frames"
                for counts in (split.manual, split.predicted)
            ),
        )
    console.print(labels)
    _print_pool(summary.splits)
    cycles = summary.cycles
    console.print(
        f"  cycles: {len(cycles)}" + (f" (latest {cycles[-1].index})" if cycles else "")
    )
    if any(c.runs or c.settings for c in cycles):
        _print_cycles(cycles)


def _print_cycles(cycles: tuple[CycleStatus, ...]) -> None:
    table = Table(title="Cycles and their models (test split)")
    for column in (
        "cycle",
        "chosen by",
        "run",
        "status",
        "PCK@0.1",
        "OKS mAP",
        "RMSE px",
    ):
        table.add_column(column)
    for c in cycles:
        chosen = (c.settings or {}).get("strategy", "split")
        for run in c.runs or (None,):
            test = None if run is None else run.test
            cells = (
                (None, None, None)
                if test is None
                else (test.pck_01, test.oks_map50_95, test.rmse)
            )
            table.add_row(
                str(c.index),
                chosen,
                "-" if run is None else str(run.id),
                "-" if run is None else run.status,
                *(format_metric(v) for v in cells),
            )
    console.print(table)


def _print_pool(splits: tuple[SplitStatus, ...]) -> None:
    shown = [split for split in splits if split.pool]
    strata = sorted({s for split in shown for s in split.pool})
    if not strata:
        return
    table = Table(
        "stratum",
        *(split.name for split in shown),
        title="Frames per split and stratum",
    )
    for stratum in strata:
        table.add_row(stratum, *(str(split.pool.get(stratum, 0)) for split in shown))
    console.print(table)
