"""Run the annotation app with uvicorn: `etholoop serve`."""

from __future__ import annotations

import ipaddress
import threading
import webbrowser

import uvicorn

from etholoop.annotate.app import create_app
from etholoop.errors import ConfigError
from etholoop.project import Project


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    project: Project,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    open_browser: bool = False,
) -> None:
    """Serve the annotation app until interrupted.

    Raises:
        ConfigError: `host` is not a loopback address and no token was given.
    """
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host}: serving beyond this machine needs --token "
            "(every request must then present it)"
        )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if token:
        url += f"?token={token}"
    print(f"etholoop: annotating {project.root} at {url}  (Ctrl+C stops)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(project, token), host=host, port=port, log_level="warning")
