"""Import → split → train → predict → evaluate on the real DeepLabCut mouse data.

A tiny YOLO-pose model is trained for one epoch at 128 px on the CPU, under a
guard that refuses (and records) every network connection and name lookup, so
the test proves training and prediction work offline. The project is built and
trained once and closed; each test works on its own copy (`project`), so no test
sees what another did and they pass in any order.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from attrs import evolve, frozen
from sqlalchemy import select

from etholoop.active.cycle import advance_cycle
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.errors import ProjectError
from etholoop.ingest import add_videos
from etholoop.label_files import import_labels
from etholoop.pose.backend import TrainParams
from etholoop.pose.evaluate import evaluate_run
from etholoop.pose.predict import predict_frames
from etholoop.pose.train import TrainReport, previous_run_weights, train_pose
from etholoop.project import Project
from etholoop.sampling import sample_frames, split_frames
from etholoop.status import project_status
from etholoop.store import (
    load_frame_instances,
    load_instances_by_frame,
    save_frame_instances,
)
from etholoop.store.models import InstanceRow, ModelRun, SplitMember
from tests.fixtures.network import NetworkGuard

DLC_MAP = {"snout": "nose", "leftear": "earL", "rightear": "earR", "tailbase": "tailB"}
MOUSE = SkeletonConfig(
    keypoints=["nose", "earL", "earR", "tailB"],
    edges=[("nose", "earL"), ("nose", "earR"), ("nose", "tailB")],
    symmetry=[("earL", "earR")],
)
TINY = TrainParams(epochs=1, imgsz=128, batch=16, workers=0)


@frozen
class Trained:
    """The closed project after one training and prediction; never changed."""

    root: Path
    report: TrainReport
    attempts: list[str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Trained:
    """A project of the DLC mouse frames plus 6 unlabeled video frames, trained once."""
    data = shared_data / "dlc_openfield_mouse"
    root = tmp_path_factory.mktemp("pose") / "mouse"
    config = ProjectConfig(name="mouse", animals=1, skeleton=MOUSE)
    with Project.create(root, config) as project:
        import_labels(
            project,
            data / "labeled-data/m4s1/CollectedData_Pranav.csv",
            keypoint_map=DLC_MAP,
        )
        add_videos(project, [data / "videos/m3v1mp4.mp4"])
        sample_frames(project, n=6, strategy="uniform")
        split_frames(project, test=0.2, n_trainval=60, n_predict=30, seed=0)
        with pytest.MonkeyPatch.context() as monkeypatch:
            guard = NetworkGuard(monkeypatch)
            report = train_pose(project, TINY, backend="yolo")
            predict_frames(project, subset="all", min_score=0.0)
    return Trained(root, report, guard.attempts)


@pytest.fixture
def project(trained: Trained, tmp_path: Path) -> Iterator[Project]:
    """This test's own copy of the trained project, open."""
    copy = tmp_path / "mouse"
    shutil.copytree(trained.root, copy)
    with Project.open(copy) as project:
        yield project


def _moved(path: Path, trained: Trained, project: Project) -> Path:
    """Where a file of the trained project lies in the copy."""
    return project.root / path.relative_to(trained.root)


@pytest.mark.slow
def test_training_and_prediction_make_no_network_connection(trained):
    assert trained.attempts == []


@pytest.mark.slow
def test_training_is_recorded_with_its_data_and_curves(trained, project):
    report = trained.report
    assert _moved(report.weights, trained, project).is_file()
    assert _moved(report.curves, trained, project).is_file()
    with project.store.session() as session:
        labeled = set(
            session.scalars(
                select(SplitMember.frame_id)
                .join(InstanceRow, InstanceRow.frame_id == SplitMember.frame_id)
                .where(SplitMember.split == "trainval", InstanceRow.source == "manual")
            )
        )
        run = session.get(ModelRun, report.run_id)
        assert run.status == "done" and run.stage == "pose-train"
        assert run.config["params"]["imgsz"] == 128
        frames = run.config["data"]["frames"]
    assert {f["frame_id"] for f in frames} == labeled  # unlabeled frames left out
    assert report.n_train + report.n_val == len(labeled) > 40
    assert len(report.epochs) == 1 and {f["split"] for f in frames} == {"train", "val"}
    assert all(len(f["versions"]) == 1 for f in frames)
    assert "metrics/mAP50(P)" in report.epochs[0]


@pytest.mark.slow
def test_predictions_fill_unlabeled_frames_and_leave_manual_labels(trained, project):
    with project.store.session() as session:
        by_frame = load_instances_by_frame(session)
    manual = {f: i for f, i in by_frame.items() if i[0].source == "manual"}
    predicted = {f: i for f, i in by_frame.items() if i[0].source == "predicted"}
    assert len(manual) == 116 and len(predicted) == 6  # the sampled video frames
    assert all(len(found) <= project.config.animals for found in predicted.values())
    assert all(len(found) == 1 for found in manual.values())
    assert all(i.version == 1 for found in manual.values() for i in found)
    assert all(
        i.author == f"pose-run-{trained.report.run_id}"
        for p in predicted.values()
        for i in p
    )
    again = predict_frames(project, subset="all", min_score=0.0)
    assert (again.n_frames, again.n_empty, again.n_manual) == (6, 0, 116)
    with project.store.session() as session:
        after = load_instances_by_frame(session)
    assert sum(len(i) for f, i in after.items() if f in predicted) == again.n_instances


@pytest.mark.slow
def test_evaluation_writes_metrics_on_the_test_split(trained, project):
    result = evaluate_run(project)
    saved = json.loads(result.metrics_json.read_text())
    with project.store.session() as session:
        n_test = len(
            set(
                session.scalars(
                    select(SplitMember.frame_id)
                    .join(InstanceRow, InstanceRow.frame_id == SplitMember.frame_id)
                    .where(SplitMember.split == "test", InstanceRow.source == "manual")
                )
            )
        )
    assert saved["n_frames"] == saved["n_truth"] == n_test > 20
    assert 0 <= saved["box_map50"] <= 1 and 0 <= saved["pck"]["0.1"] <= 1
    assert result.plot.is_file()
    with project.store.session() as session:
        run = session.get(ModelRun, trained.report.run_id)
        assert run.metrics["test"] == saved and "epochs" in run.metrics


def test_training_without_labels_says_what_to_do(tmp_path):
    project = Project.create(
        tmp_path / "empty", ProjectConfig(name="e", animals=1, skeleton=MOUSE)
    )
    with pytest.raises(ProjectError, match="run `etholoop split` first"):
        train_pose(project, TINY)
    with project.store.session() as session:
        run = session.scalars(select(ModelRun)).one()
        assert run.status == "failed" and "split" in run.metrics["error"]
    project.close()


@pytest.mark.slow
def test_a_cycle_ranks_the_reserve_by_model_uncertainty(trained, project):
    run_id = trained.report.run_id
    result = advance_cycle(project, strategy="hybrid", n=3, run_id=run_id)
    assert result.n_chosen == 3 and result.cycle == 1
    summary = project_status(project)
    assert summary.cycles[-1].settings["strategy"] == "hybrid"
    assert summary.cycles[0].runs[0].id == run_id


@pytest.mark.slow
def test_training_continues_from_an_earlier_run(trained, project):
    first = trained.report
    weights = previous_run_weights(project, None)
    assert weights == _moved(first.weights, trained, project)
    result = train_pose(project, evolve(TINY, weights=weights), backend="yolo")
    assert result.run_id == first.run_id + 1 and result.weights.is_file()
    with project.store.session() as session:
        run = session.get(ModelRun, result.run_id)
        assert run.config["params"]["weights"] == str(weights)
    assert previous_run_weights(project, None) == result.weights
    assert previous_run_weights(project, first.run_id) == weights
    with pytest.raises(ProjectError, match="no finished pose model run with id"):
        previous_run_weights(project, 99)
    weights.unlink()
    with pytest.raises(ProjectError, match=f"weights of run {first.run_id}"):
        previous_run_weights(project, first.run_id)


@pytest.mark.slow
def test_a_frame_labeled_while_predicting_counts_as_left_alone(project):
    with project.store.session() as session:
        by_frame = load_instances_by_frame(session)
    predicted = sorted(f for f, i in by_frame.items() if i[0].source == "predicted")
    target = predicted[0]

    @contextmanager
    def label_on_first_batch(
        description: str, total: int | None
    ) -> Iterator[Callable[[int], None]]:
        def advance(n: int) -> None:
            if description == "Predicting poses":
                with project.store.session() as session:
                    found = load_frame_instances(session, target)
                    save_frame_instances(
                        session,
                        frame_id=target,
                        instances=[evolve(found[0], id=None, source="manual")],
                        base_versions={i.id: i.version for i in found},
                    )

        yield advance

    result = predict_frames(
        project, subset="all", min_score=0.0, report=label_on_first_batch
    )
    assert result.n_manual == 116 + 1
    assert result.n_frames + result.n_empty == len(predicted) - 1
