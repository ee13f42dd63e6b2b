"""Import Ultralytics set up to work offline, in its own settings folder.

Ultralytics reaches for the network at import (an online check), when plotting
(it downloads Arial fonts), and through its settings (sync, hub and logger
integrations); it writes its settings to the user's config folder and runs
PyTorch on one thread less than there are cores. `load_ultralytics` stops all of
that before the first import: settings and fonts live in etholoop's cache folder
(`ETHOLOOP_CACHE`, default `~/.cache/etholoop`), the online check and the
integrations are off, and PyTorch uses every core this process may run on
(`ETHOLOOP_THREADS` sets fewer, for jobs that share a machine).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import ModuleType

import matplotlib

from etholoop.errors import ConfigError

FONTS = ("Arial.ttf", "Arial.Unicode.ttf")
INTEGRATIONS = ("clearml", "comet", "dvc", "mlflow", "raytune", "tensorboard", "wandb")


def cache_dir() -> Path:
    """The cache folder for third-party settings and fonts."""
    root = os.environ.get("ETHOLOOP_CACHE") or Path.home() / ".cache" / "etholoop"
    return Path(root)


def cpu_threads() -> int:
    """Threads for PyTorch on the CPU: `ETHOLOOP_THREADS`, else every usable core.

    Usable cores honour the process's CPU affinity (set by cluster schedulers),
    which `os.cpu_count` ignores.
    """
    value = os.environ.get("ETHOLOOP_THREADS")
    if value is None:
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"ETHOLOOP_THREADS: want a positive integer, got {value!r}")
    return int(value)


def _provide_fonts(settings_dir: Path) -> None:
    """Put a TTF where Ultralytics looks for Arial, so it never downloads one."""
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    settings_dir.mkdir(parents=True, exist_ok=True)
    for name in FONTS:
        target = settings_dir / name
        if not target.exists():
            shutil.copyfile(dejavu, target)


def load_ultralytics() -> ModuleType:
    """The `ultralytics` module, configured to make no network access.

    Safe to call many times; the environment is set before the first import.
    """
    config_dir = cache_dir() / "ultralytics"
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    _provide_fonts(Path(os.environ["YOLO_CONFIG_DIR"]) / "Ultralytics")
    import ultralytics
    from ultralytics.utils import SETTINGS, torch_utils

    wanted = {
        "sync": False,
        "datasets_dir": str(config_dir / "datasets"),
        "weights_dir": str(config_dir / "weights"),
        "runs_dir": str(config_dir / "runs"),
        "vscode_msg": False,
        "openvino_msg": False,
        **dict.fromkeys(INTEGRATIONS, False),
    }
    if any(SETTINGS.get(key) != value for key, value in wanted.items()):
        SETTINGS.update(wanted)  # type: ignore[no-untyped-call]
    torch_utils.NUM_THREADS = cpu_threads()  # type: ignore[attr-defined]
    return ultralytics
