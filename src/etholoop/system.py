"""Versions and devices, for `etholoop info` and bug reports."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _ffmpeg_version() -> str:
    import av

    libs = av.library_versions
    avcodec = libs.get("libavcodec")
    return "libavcodec " + ".".join(str(v) for v in avcodec) if avcodec else "unknown"


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        names = [
            torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
        ]
        return "cuda: " + ", ".join(names)
    if torch.backends.mps.is_available():
        return "mps"
    return f"cpu ({os.cpu_count()} cores)"


def system_info() -> dict[str, str]:
    """Versions of Python and the main dependencies, and the device torch will use."""
    import etholoop

    return {
        "etholoop": etholoop.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "ultralytics": _version("ultralytics"),
        "av": _version("av"),
        "ffmpeg": _ffmpeg_version(),
        "sleap-io": _version("sleap-io"),
        "sqlalchemy": _version("sqlalchemy"),
        "device": _device(),
    }
