"""How many CPU threads training is given."""

import os

import pytest

from etholoop.errors import ConfigError
from etholoop.pose.yolo_env import cpu_threads


def test_threads_default_to_the_cores_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ETHOLOOP_THREADS", raising=False)
    assert cpu_threads() == len(os.sched_getaffinity(0))


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
