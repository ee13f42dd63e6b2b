"""The simulated loop: seed labels, then rounds of select, reveal, merge, fine-tune.

The round logic runs with a fine-tune step that only reads the store (no
training); one slow test trains a real 1-epoch 64 px YOLO model and ranks by it
(several times faster here than the default heatmap backend, whose epochs hold
at least 256 crops).
"""

from __future__ import annotations

import pytest

from etholoop.active import (
    count_labeled_trainval,
    label_round,
    run_rounds,
    start_simulation,
)
from etholoop.pose.backend import TrainParams
from etholoop.pose.train import TrainReport, train_pose
from etholoop.project import Project
from etholoop.sampling.split import subset_frames
from etholoop.store import load_instances_by_frame

N_SEED = 6


def _labeled(project: Project) -> set[int]:
    with project.store.session() as session:
        return set(load_instances_by_frame(session, sources=["manual"]))


def test_start_keeps_test_and_seed_labels_and_hides_the_rest(labeled_project):
    oracle = start_simulation(labeled_project, test=0.25, n_seed=N_SEED, seed=1)
    test = set(subset_frames(labeled_project, "test"))
    seed = set(subset_frames(labeled_project, "trainval"))
    reserve = set(subset_frames(labeled_project, "reserve"))
    assert len(seed) == N_SEED and test and reserve
    assert _labeled(labeled_project) == test | seed
    assert count_labeled_trainval(labeled_project) == N_SEED
    assert set(oracle.labels) == seed | reserve  # the seed's were revealed from it


@pytest.mark.parametrize("strategy", ["random", "stratified", "uniform"])
def test_a_round_reveals_exactly_the_selected_reserve_frames(labeled_project, strategy):
    oracle = start_simulation(labeled_project, test=0.25, n_seed=N_SEED, seed=1)
    test = subset_frames(labeled_project, "test")
    trainval = set(subset_frames(labeled_project, "trainval"))
    reserve = set(subset_frames(labeled_project, "reserve"))
    labeled = _labeled(labeled_project)
    done = label_round(labeled_project, oracle, strategy=strategy, n=4, seed=2)
    revealed = set(done.revealed)
    assert len(revealed) == 4 and revealed <= reserve
    assert _labeled(labeled_project) == labeled | revealed
    assert set(subset_frames(labeled_project, "trainval")) == trainval | revealed
    assert set(subset_frames(labeled_project, "reserve")) == reserve - revealed
    assert subset_frames(labeled_project, "test") == test
    assert not subset_frames(labeled_project, "predict")
    assert (done.cycle, done.n_labeled) == (2, N_SEED + 4)


def test_rounds_fine_tune_the_previous_model_on_the_new_labels(labeled_project):
    oracle = start_simulation(labeled_project, test=0.25, n_seed=N_SEED, seed=1)

    def fine_tune(project: Project, previous: tuple[int, ...]) -> tuple[int, ...]:
        # a "model" remembering the training-set size of every fine-tuning
        return (*previous, count_labeled_trainval(project))

    rounds = run_rounds(
        labeled_project,
        oracle,
        (N_SEED,),
        fine_tune,
        strategy="random",
        n_rounds=3,
        step=5,
        seed=0,
    )
    assert [model for _, model in rounds] == [
        (N_SEED, N_SEED + 5),
        (N_SEED, N_SEED + 5, N_SEED + 10),
        (N_SEED, N_SEED + 5, N_SEED + 10, N_SEED + 15),
    ]
    revealed = [set(labeling.revealed) for labeling, _ in rounds]
    assert [len(r) for r in revealed] == [5, 5, 5]
    assert not (revealed[0] & revealed[1] or revealed[1] & revealed[2])
    assert [labeling.cycle for labeling, _ in rounds] == [2, 4, 6]


@pytest.mark.slow
def test_a_real_model_ranks_the_reserve_and_is_fine_tuned(labeled_project):
    oracle = start_simulation(labeled_project, test=0.25, n_seed=N_SEED, seed=1)
    tiny = TrainParams(epochs=1, imgsz=64, batch=8, workers=0, device="cpu")
    seed_run = train_pose(labeled_project, tiny, backend="yolo")

    def fine_tune(project: Project, previous: TrainReport) -> TrainReport:
        params = TrainParams(
            epochs=1,
            imgsz=64,
            batch=8,
            workers=0,
            device="cpu",
            weights=previous.weights,
        )
        return train_pose(project, params, backend="yolo")

    ((labeling, run),) = run_rounds(
        labeled_project,
        oracle,
        seed_run,
        fine_tune,
        strategy="uncertainty",
        n_rounds=1,
        step=4,
    )
    assert len(labeling.revealed) == 4 and labeling.n_labeled == N_SEED + 4
    assert run.run_id != seed_run.run_id and run.weights.is_file()
    assert run.n_train + run.n_val == N_SEED + 4
