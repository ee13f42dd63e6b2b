"""Run the annotation app with uvicorn: `etholoop serve`."""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from etholoop.annotate.app import create_app
from etholoop.errors import ConfigError, ProjectError
from etholoop.project import Project


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` as uvicorn binds one, for uvicorn to serve on.

    Binding before the URL is printed means a busy port is reported, not a URL
    that another program answers.

    Raises:
        ProjectError: the port is in use, or the address is not one of this host's.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ProjectError(
                f"port {port} on {host} is in use; pass --port"
            ) from None
        raise ProjectError(
            f"cannot listen on port {port} of {host} ({exc.strerror}); "
            "pass another --host or --port"
        ) from None
    return sock


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
        ProjectError: `port` on `host` is in use or cannot be listened on.
    """
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host}: serving beyond this machine needs --token "
            "(every request must then present it)"
        )
    sock = _listening_socket(host, port)
    config = uvicorn.Config(
        create_app(project, token), host=host, port=port, log_level="warning"
    )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if token:
        url += f"?token={token}"
    print(f"etholoop: annotating {project.root} at {url}  (Ctrl+C stops)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.Server(config).run(sockets=[sock])


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
