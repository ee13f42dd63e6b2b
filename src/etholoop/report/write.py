"""`write_report`: a project's report as one HTML file, its figures and numbers beside.

For `X/report.html` every figure is also saved as `X/report_files/<name>.png`
and `.svg`, the table it draws as `<name>.csv`, and each other table as its
own CSV. A rerun replaces the folder's earlier PNG, SVG and CSV files, so none
of a session that is gone stays behind.
"""

from __future__ import annotations

import io
import shlex
from datetime import datetime
from pathlib import Path

from attrs import frozen

from etholoop import __version__
from etholoop.atomic import written_atomically
from etholoop.errors import ProjectError
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.report.collect import collect_report
from etholoop.report.html import (
    RenderedSection,
    empty_html,
    figure_html,
    page_html,
    table_html,
)
from etholoop.report.sections import SECTIONS, Block, Plot, build_sections

REPORT_NAME = "report.html"
"""The report's file in the project folder, unless another is given."""
SAVED_SUFFIXES = (".png", ".svg", ".csv")
"""What the report writes into its files folder (and replaces on a rerun)."""


@frozen
class ReportResult:
    """What `write_report` wrote.

    Attributes:
        html: The report.
        figures_dir: The folder of its figures (PNG, SVG) and numbers (CSV).
        with_data: Ids of the sections that show something.
        without_data: Ids of the sections that only say what would fill them.
        files: Every file written into `figures_dir`.
    """

    html: Path
    figures_dir: Path
    with_data: tuple[str, ...]
    without_data: tuple[str, ...]
    files: tuple[Path, ...]


def files_dir(html: Path) -> Path:
    """The folder beside a report that holds its figures: `<stem>_files/`."""
    return html.with_name(f"{html.stem}_files")


def write_report(
    project: Project, out: Path | None = None, *, report: Reporter = silent
) -> ReportResult:
    """Write a project's report: every section, with what has been run so far.

    Args:
        project: An open project.
        out: The HTML file; default `PROJECT/report.html`.
        report: Progress reporter.

    Raises:
        ProjectError: `out` is a folder, or a file cannot be written.
        FormatError: a run's metrics, tracks or ethogram file cannot be read.
    """
    html_path = Path(out) if out is not None else project.root / REPORT_NAME
    if html_path.is_dir():
        raise ProjectError(f"{html_path}: is a folder; give the report's .html file")
    folder = files_dir(html_path)
    data = collect_report(project, report=report)
    blocks = build_sections(data)
    where = shlex.quote(str(project.root))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file() and old.suffix in SAVED_SUFFIXES:
                old.unlink()
        written: list[Path] = []
        rendered = []
        n_blocks = sum(len(b) for b in blocks.values())
        with report("Writing the report", n_blocks) as advance:
            for spec in SECTIONS:
                parts = []
                for block in blocks[spec.id]:
                    parts.append(_render(block, folder, written))
                    advance(1)
                if not parts and spec.empty is not None:
                    parts.append(empty_html(spec.empty.format(project=where)))
                rendered.append(RenderedSection(spec.id, spec.title, "".join(parts)))
        page = page_html(
            f"etholoop report: {data.status.name}",
            f"{project.root} · written {datetime.now():%Y-%m-%d %H:%M} "
            f"by etholoop {__version__}",
            rendered,
        )
        with written_atomically(html_path) as partial:
            partial.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ProjectError(f"{html_path}: cannot write the report ({exc})") from None
    with_data = tuple(s.id for s in SECTIONS if blocks[s.id])
    return ReportResult(
        html=html_path,
        figures_dir=folder,
        with_data=with_data,
        without_data=tuple(s.id for s in SECTIONS if s.id not in with_data),
        files=tuple(written),
    )


def _render(block: Block, folder: Path, written: list[Path]) -> str:
    """Save a block's files into `folder` (appended to `written`); its HTML."""
    relative = f"{folder.name}/"
    if isinstance(block, Plot):
        png = io.BytesIO()
        block.figure.savefig(png, format="png", dpi=100)
        paths = [folder / f"{block.name}{suffix}" for suffix in SAVED_SUFFIXES]
        paths[0].write_bytes(png.getvalue())
        block.figure.savefig(paths[1], format="svg", metadata={"Date": None})
        block.numbers.to_csv(paths[2], index=False)
        written += paths
        return figure_html(
            block.caption, png.getvalue(), [relative + p.name for p in paths]
        )
    csv = None
    if block.name is not None:
        path = folder / f"{block.name}.csv"
        block.table.to_csv(path, index=False)
        written.append(path)
        csv = relative + path.name
    return table_html(block.caption, block.table, csv)
