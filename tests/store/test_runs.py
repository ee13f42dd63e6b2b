"""Store functions of model runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

from etholoop.store import Store, get_or_add_cycle
from etholoop.store.runs import (
    add_model_run,
    end_model_run,
    get_model_run,
    list_running_runs,
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
