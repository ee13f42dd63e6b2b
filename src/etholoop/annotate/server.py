"""Run the annotation app with uvicorn: `etholoop serve`."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_in_background(project: Project, token: str | None = None) -> Iterator[str]:
    """Serve the app on a free 127.0.0.1 port in a thread; yields its base URL.

    For notebooks, tests and benchmarks: the server stops when the block ends.

    Raises:
        RuntimeError: uvicorn did not start within 10 s.
    """
    config = uvicorn.Config(
        create_app(project, token),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="etholoop-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
