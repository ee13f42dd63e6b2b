"""Ultralytics set up offline, and how many CPU threads training is given.

Each check that depends on process state (CPU affinity, the first Ultralytics
import) runs in a fresh interpreter, so it sees only what it set up.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etholoop.errors import ConfigError
from etholoop.pose.yolo_env import cpu_threads


def _run(code: str, env: dict[str, str]) -> str:
    """Run `code` in a fresh interpreter with exactly these extra variables."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ETHOLOOP_THREADS", "ETHOLOOP_CACHE", "YOLO_CONFIG_DIR")
    }
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_threads_default_to_the_cores_this_process_may_use() -> None:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs 2 usable cores to tell the affinity from the core count")
    code = (
        f"import os; os.sched_setaffinity(0, {{{cores[-1]}}}); "
        "from etholoop.pose.yolo_env import cpu_threads; "
        "print(cpu_threads())"
    )
    assert _run(code, {}) == "1"  # one core allowed of several


def test_threads_can_be_capped_for_jobs_sharing_a_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ETHOLOOP_THREADS", "3")
    assert cpu_threads() == 3


@pytest.mark.parametrize("value", ["0", "two", "-1", ""])
def test_a_bad_thread_count_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ETHOLOOP_THREADS", value)
    with pytest.raises(ConfigError, match="ETHOLOOP_THREADS"):
        cpu_threads()


def test_ultralytics_is_loaded_offline_with_its_settings_in_our_cache(
    tmp_path: Path,
) -> None:
    code = (
        "import json, os; from etholoop.pose.yolo_env import load_ultralytics; "
        "load_ultralytics(); from ultralytics.utils import SETTINGS, torch_utils; "
        "print(json.dumps({'offline': os.environ['YOLO_OFFLINE'], "
        "'sync': SETTINGS['sync'], 'wandb': SETTINGS['wandb'], "
        "'threads': torch_utils.NUM_THREADS, 'runs': SETTINGS['runs_dir']}))"
    )
    env = {"ETHOLOOP_CACHE": str(tmp_path), "ETHOLOOP_THREADS": "1"}
    found = json.loads(_run(code, env))
    assert found == {
        "offline": "1",
        "sync": False,
        "wandb": False,
        "threads": 1,
        "runs": str(tmp_path / "ultralytics" / "runs"),
    }
    settings_dir = tmp_path / "ultralytics" / "Ultralytics"
    assert (settings_dir / "settings.json").is_file()
    assert (settings_dir / "Arial.ttf").stat().st_size > 0  # never downloaded
