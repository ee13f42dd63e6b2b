"""Store functions of model runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from etholoop.errors import StoreError
from etholoop.store import Store, get_or_add_cycle
from etholoop.store.runs import (
    add_model_run,
    end_model_run,
    get_model_run,
    list_running_runs,
    set_run_dir,
    update_model_run,
)


def test_a_run_is_added_running_and_ended_with_its_status(store: Store) -> None:
    with store.session() as session:
        cycle_id = get_or_add_cycle(session).id
        first = add_model_run(
            session, stage="pose-train", config={"a": 1}, cycle_id=cycle_id
        ).id
        second = add_model_run(session, stage="track", config={}, cycle_id=None).id
    with store.session() as session:
        assert [r.id for r in list_running_runs(session)] == [first, second]
        run = get_model_run(session, first)
        assert run is not None
        assert (run.stage, run.status, run.run_dir, run.config, run.cycle_id) == (
            "pose-train",
            "running",
            "",
            {"a": 1},
            cycle_id,
        )
        assert run.finished_at is None
        assert get_model_run(session, second + 1) is None
    with store.session() as session:
        ended = end_model_run(session, first, status="failed")
        assert ended.status == "failed"
    with store.session() as session:
        assert [r.id for r in list_running_runs(session)] == [second]
        run = get_model_run(session, first)
        assert run is not None and run.finished_at is not None
        assert run.finished_at >= run.created_at


def test_a_runs_folder_config_and_metrics_are_recorded_and_merged(store: Store) -> None:
    with store.session() as session:
        run_id = add_model_run(
            session, stage="pose-train", config={"a": 1, "b": 1}, cycle_id=None
        ).id
    with store.session() as session:
        set_run_dir(session, run_id, "runs/pose/0001")
        update_model_run(session, run_id, config={"b": 2}, metrics={"epochs": [1]})
    with store.session() as session:
        update_model_run(session, run_id, metrics={"test": {"pck": None}})
    with store.session() as session:
        run = get_model_run(session, run_id)
        assert run is not None
        assert run.run_dir == "runs/pose/0001"
        assert run.config == {"a": 1, "b": 2}
        assert run.metrics == {"epochs": [1], "test": {"pck": None}}


def test_changing_a_run_that_is_not_there_is_a_store_error(store: Store) -> None:
    with store.session() as session, pytest.raises(StoreError, match="no model run 7"):
        end_model_run(session, 7, status="done")
    with store.session() as session, pytest.raises(StoreError, match="no model run 7"):
        update_model_run(session, 7, metrics={})
