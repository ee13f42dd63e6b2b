"""The report page and `write_report` on a project with nothing run yet.

An empty project still gets every section, each saying in one line what to
run to fill it; strings from the project are escaped and nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from etholoop.errors import ProjectError
from etholoop.report import REPORT_NAME, SECTION_IDS, SECTIONS, write_report
from etholoop.report.html import (
    MAX_TABLE_ROWS,
    RenderedSection,
    empty_html,
    figure_html,
    page_html,
    table_html,
)
from etholoop.report.sections import slug
from tests.fixtures.cli import run_cli
from tests.fixtures.projects import MakeProject


def _links(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', page)


def test_a_page_escapes_every_string_and_links_nothing_remote() -> None:
    table = pd.DataFrame({"<b>name</b>": ["a & b", None], "value": [0.123456, None]})
    sections = [
        RenderedSection(
            "summary",
            "<i>Summary</i>",
            table_html("<caption>", table, "report_files/a b.csv")
            + figure_html('"quoted" <fig>', b"\x89PNG", ["report_files/x.svg"]),
        ),
        RenderedSection("tracking", "Tracking", empty_html("run `etholoop track <P>`")),
    ]
    page = page_html("<script>x</script>", "meta & more", sections)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<b>name</b>" not in page and "&lt;b&gt;name&lt;/b&gt;" in page
    assert "a &amp; b" in page and "<td>n/a</td>" in page and "0.1235" in page
    assert "&quot;quoted&quot; &lt;fig&gt;" in page
    assert "<code>etholoop track &lt;P&gt;</code>" in page
    assert '<section id="summary">' in page and '<a href="#tracking">' in page
    assert 'href="report_files/a%20b.csv"' in page
    assert not [link for link in _links(page) if re.match(r"[a-z]+://", link)]


def test_a_long_table_shows_its_first_rows_and_says_so() -> None:
    table = pd.DataFrame({"frame": range(MAX_TABLE_ROWS + 5)})
    shown = table_html("frames", table, None)
    assert shown.count("<tr>") == MAX_TABLE_ROWS + 1  # and the header
    assert f"the first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 5} rows" in shown


@pytest.mark.parametrize(
    ("name", "expected"),
    [("arena1", "arena1"), ('cage "B" <2>', "cage_B_2"), ("../..", "session")],
)
def test_session_names_become_safe_file_names(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_an_empty_project_gets_every_section_saying_what_to_run(
    make_project: MakeProject,
) -> None:
    project = make_project(name="empty")
    result = write_report(project)
    assert result.html == project.root / REPORT_NAME
    assert result.figures_dir == project.root / "report_files"
    assert result.with_data == ("summary",)
    assert result.without_data == SECTION_IDS[1:]
    assert {p.name for p in result.files} == {"summary.csv"}
    page = result.html.read_text(encoding="utf-8")
    for spec in SECTIONS:
        assert f'<section id="{spec.id}"><h2>{spec.title}</h2>' in page
    hints = re.findall(r'<p class="empty">(.*?)</p>', page)
    assert len(hints) == len(SECTIONS) - 1
    assert f"<code>etholoop track {project.root}</code>" in page
    assert not [link for link in _links(page) if re.match(r"[a-z]+://", link)]


def test_a_rerun_replaces_the_figures_of_the_last_and_keeps_other_files(
    make_project: MakeProject, tmp_path: Path
) -> None:
    project = make_project(name="again")
    out = tmp_path / "out" / "status.html"
    folder = out.with_name("status_files")
    folder.mkdir(parents=True)
    (folder / "trajectories-09-gone.png").write_bytes(b"old")
    (folder / "notes.txt").write_text("mine")
    result = write_report(project, out)
    assert result.figures_dir == folder and out.is_file()
    assert not (folder / "trajectories-09-gone.png").exists()
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_folder_as_out_is_refused(make_project: MakeProject, tmp_path: Path) -> None:
    project = make_project(name="refused")
    with pytest.raises(ProjectError, match="is a folder"):
        write_report(project, tmp_path)


def test_the_cli_reports_where_it_wrote_and_refuses_a_missing_project(
    make_project: MakeProject, tmp_path: Path
) -> None:
    project = make_project(name="cli")
    code, out = run_cli("report", project.root, "--out", tmp_path / "r.html")
    assert code == 0, out
    assert f"report: {tmp_path / 'r.html'}" in out
    assert "nothing yet in: labeling, pose-training" in out
    code, message = run_cli("report", tmp_path / "nowhere")
    assert code == 1 and "\n" not in message.strip()
