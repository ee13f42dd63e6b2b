"""`etholoop serve`: the annotation web app."""

from __future__ import annotations

from typing import Annotated

import typer

from etholoop.cli._common import ProjectArg, app


@app.command()
def serve(
    project_path: ProjectArg,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; other than loopback needs --token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(help="Secret every request must present (?token=... in the URL)."),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the app in a browser.")
    ] = False,
) -> None:
    """Serve the annotation web app: label poses and behavior timelines in a browser.

    Pose view at /, behavior timeline at /timeline, API docs at /docs. Every save
    goes to the project store at once; press H in the app for the shortcuts.
    """
    from etholoop.annotate import serve as serve_app
    from etholoop.project import Project

    with Project.open(project_path) as project:
        serve_app(project, host=host, port=port, token=token, open_browser=open_browser)
