"""The report page: one self-contained HTML file, nothing fetched to view it.

Figures are embedded as base64 PNG `<img>`s, the style sheet is inline, and the
only links are to the page's own sections and to the files beside it (SVG and
CSV). Every string that comes from the project is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from attrs import frozen

from etholoop.formatting import UNDEFINED

MAX_TABLE_ROWS = 200
"""Rows of a table shown in the page; its CSV has them all."""

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.4}
header,main,nav{max-width:1200px;margin:0 auto;padding:0 1.5rem}
header{padding-top:1.2rem}h1{margin:.2rem 0}.meta{color:#666;margin:.2rem 0 1rem}
nav{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem 1.5rem}
nav ol{columns:2;margin:.3rem 0}
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1rem auto;
padding:.4rem 1.5rem 1rem}
h2{border-bottom:1px solid #eee;padding-bottom:.3rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption,.note{color:#555;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0 .8rem}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
.scroll{overflow-x:auto}.empty{color:#8a5a00}code{background:#f3f3f3;padding:0 .2rem}
"""


@frozen
class RenderedSection:
    """A section of the page.

    Attributes:
        id: Its HTML id.
        title: Its heading.
        body: Its HTML: blocks, or the line saying what fills it.
    """

    id: str
    title: str
    body: str


def _file_links(files: Sequence[str]) -> str:
    return " ".join(
        f'<a href="{html.escape(quote(path))}">{html.escape(Path(path).name)}</a>'
        for path in files
    )


def figure_html(caption: str, png: bytes, files: Sequence[str]) -> str:
    """A figure embedded as a PNG, its caption and links to its saved files.

    Args:
        caption: What it shows.
        png: The PNG bytes.
        files: Its files beside the page, relative to it (PNG, SVG, CSV).
    """
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)} ({_file_links(files)})</figcaption>"
        "</figure>"
    )


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return UNDEFINED
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table_html(caption: str, table: pd.DataFrame, csv: str | None) -> str:
    """A table under its caption; the first `MAX_TABLE_ROWS` rows.

    Args:
        caption: What it holds.
        table: The rows; None and NaN show as "n/a".
        csv: Its CSV beside the page, relative to it, if saved.
    """
    shown = table.head(MAX_TABLE_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    note = ""
    if len(table) > len(shown):
        note = f'<p class="note">the first {len(shown)} of {len(table)} rows</p>'
    link = f" ({_file_links([csv])})" if csv else ""
    return (
        f"<h3>{html.escape(caption)}{link}</h3>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>{note}"
    )


def empty_html(line: str) -> str:
    """The one line of a section without data; `text` in backticks as code."""
    escaped = html.escape(line)
    return (
        '<p class="empty">' + re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped) + "</p>"
    )


def page_html(title: str, meta: str, sections: Sequence[RenderedSection]) -> str:
    """The whole page: heading, table of contents, then the sections.

    Args:
        title: The page's title (the project's name goes in it).
        meta: One line under the title (folder, time written).
        sections: The sections, in order.
    """
    contents = "".join(
        f'<li><a href="#{html.escape(s.id)}">{html.escape(s.title)}</a></li>'
        for s in sections
    )
    body = "".join(
        f'<section id="{html.escape(s.id)}"><h2>{html.escape(s.title)}</h2>'
        f"{s.body}</section>"
        for s in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>{html.escape(title)}</h1>"
        f'<p class="meta">{html.escape(meta)}</p></header>'
        f'<nav id="contents"><h2>Contents</h2><ol>{contents}</ol></nav>'
        f"<main>{body}</main></body></html>\n"
    )
