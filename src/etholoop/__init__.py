"""etholoop: from raw rodent videos to per-animal, per-frame ethograms."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("etholoop")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
