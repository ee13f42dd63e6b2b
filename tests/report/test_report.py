"""`etholoop report` on a real project with data in every section (see conftest).

The numbers behind the figures are checked against what the stages wrote:
`etholoop status`, the tracker's quality, the ethogram files of `behavior
predict` and the metrics of `behavior evaluate`.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from etholoop.report import SECTION_IDS, files_dir
from etholoop.report.numbers import actions
from tests.fixtures.cli import cli_ok
from tests.report.conftest import BEHAVIORS, PROJECT_NAME, SESSION2, ReportRun

pytestmark = pytest.mark.slow

ACTIONS = list(actions(BEHAVIORS))


def approx(value: object) -> object:
    """`value` to compare with a number read back from a CSV (None as NaN)."""
    return pytest.approx(value, rel=1e-4, nan_ok=True)


def _csv(run: ReportRun, name: str) -> pd.DataFrame:
    return pd.read_csv(files_dir(run.html) / f"{name}.csv")


def test_the_cli_names_the_report_and_its_folder_and_every_section_has_data(
    report_run: ReportRun,
) -> None:
    folder = files_dir(report_run.html)
    assert folder == report_run.html.parent / "report_files"
    assert f"report: {report_run.html}" in report_run.output
    assert str(folder) in report_run.output
    assert "nothing yet" not in report_run.output
    page = report_run.html.read_text(encoding="utf-8")
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in page
    assert 'class="empty"' not in page


def test_every_figure_is_embedded_and_saved_as_png_svg_and_csv(
    report_run: ReportRun,
) -> None:
    folder = files_dir(report_run.html)
    pngs = sorted(folder.glob("*.png"))
    names = {p.stem for p in pngs}
    assert {"labeling", "pose-training", "pose-metrics", "active-learning"} <= names
    assert {"tracking", "time-budgets", "bouts", "behavior-confusion"} <= names
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG")
        assert "<svg" in png.with_suffix(".svg").read_text()
        assert png.with_suffix(".csv").is_file()
    page = report_run.html.read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == len(pngs)
    for session in ("arena", "session1", "cage_B_2"):
        assert any(n.startswith("trajectories-") and n.endswith(session) for n in names)
        assert any(n.startswith("occupancy-") and n.endswith(session) for n in names)
        assert any(n.startswith("ethogram-") and n.endswith(session) for n in names)


def test_the_page_fetches_nothing_and_escapes_the_project_strings(
    report_run: ReportRun,
) -> None:
    page = report_run.html.read_text(encoding="utf-8")
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and not [link for link in links if re.match(r"[a-z]+://", link)]
    assert "<script" not in page and PROJECT_NAME not in page
    assert "&lt;script&gt;alert(&quot;mice&quot;)&lt;/script&gt; &amp; co" in page
    assert SESSION2 not in page and "cage &quot;B&quot; &lt;2&gt;" in page


def test_labeling_progress_is_the_status_of_each_split(report_run: ReportRun) -> None:
    status = json.loads(cli_ok("status", report_run.project, "--json"))
    labeling = _csv(report_run, "labeling").set_index("split")
    assert set(labeling["cycle"]) == {0}
    for split, n_frames in status["frames"].items():
        assert labeling["frames"].get(split, 0) == n_frames
        labels = status["labels"][split]["manual"]
        assert labeling["labeled_frames"].get(split, 0) == labels["frames"]


def test_pose_sections_read_the_run_and_its_metrics_json(report_run: ReportRun) -> None:
    curves = _csv(report_run, "pose-training")
    assert list(curves["epoch"]) == [1, 2] and set(curves["run"]) == {1}
    metrics = json.loads(
        (report_run.project / "runs/pose/0001/evaluate/metrics.json").read_text()
    )
    per_keypoint = _csv(report_run, "pose-metrics")
    assert list(per_keypoint["keypoint"]) == ["nose", "earL", "earR", "tailB"]
    expected = metrics["pck_per_keypoint"]["0.1"].values()
    assert list(per_keypoint["pck@0.1"]) == approx(
        [np.nan if v is None else v for v in expected]
    )
    learning = _csv(report_run, "active-learning")
    split = json.loads((report_run.project / "runs/pose/0001/split.json").read_text())
    assert learning[["run", "cycle", "labeled_frames"]].values.tolist() == [
        [1, 0, len(split["frames"])]
    ]
    assert learning["oks_map50_95"][0] == approx(metrics["oks_map50_95"])


def test_tracking_quality_is_the_trackers_own(report_run: ReportRun) -> None:
    tracking = _csv(report_run, "tracking")
    assert len(tracking) == 1 and tracking["status"][0] == "done"
    quality_file = next((report_run.project / "tracks").glob("*/arena.quality.json"))
    quality = json.loads(quality_file.read_text())
    row = tracking.iloc[0]
    assert row["frames"] == quality["n_frames"] == 30
    assert row["coverage"] == approx(quality["frames_all_found"] / 30)
    assert row["suspected_swaps"] == len(quality["suspected_swaps"])


def test_occupancy_counts_every_seen_frame(report_run: ReportRun) -> None:
    seen = _csv(report_run, "trajectories").set_index(["session", "animal"])
    assert set(seen.index.get_level_values(0)) == {"arena", "session1", SESSION2}
    assert (seen.loc["session1", "frames"] == 200).all()
    for occupancy in files_dir(report_run.html).glob("occupancy-*-session1.csv"):
        frames = pd.read_csv(occupancy).groupby("animal")["frames"].sum()
        assert frames.to_dict() == seen.loc["session1", "frames_seen"].to_dict()


def test_time_budgets_sum_to_one_and_use_labels_before_predictions(
    report_run: ReportRun,
) -> None:
    budgets = _csv(report_run, "time-budgets")
    np.testing.assert_allclose(budgets[ACTIONS].sum(axis=1), 1.0)
    source = budgets.groupby("session")["source"].unique()
    assert list(source["session1"]) == ["manual"]
    assert list(source[SESSION2]) == list(source["arena"]) == ["predicted"]
    by_condition = _csv(report_run, "time-budgets-by-condition").set_index("condition")
    assert set(by_condition.index) == {"drug", "saline", "-"}
    np.testing.assert_allclose(by_condition[ACTIONS].sum(axis=1), 1.0)
    truth = pd.read_csv(report_run.inputs["session1"]["behaviors"])
    walk = (truth["behavior"] == "walk").mean()
    assert by_condition.loc["saline", "walk"] == approx(walk)


def test_bouts_of_a_predicted_session_are_those_predict_wrote(
    report_run: ReportRun,
) -> None:
    stats = _csv(report_run, "bouts")
    ours = stats[stats["session"] == SESSION2].set_index(["animal", "behavior"])
    written = next((report_run.project / "behavior").glob(f"*/{SESSION2}.bouts.csv"))
    theirs = pd.read_csv(written)
    counts = theirs.groupby(["animal", "behavior"]).size()
    assert ours["bouts"].sort_index().to_dict() == counts.sort_index().to_dict()
    means = theirs.groupby(["animal", "behavior"])["duration_s"].mean()
    np.testing.assert_allclose(
        ours["mean_s"].sort_index(), means.sort_index(), rtol=1e-4
    )
    assert "condition" in _csv(report_run, "bouts-by-condition")


def test_the_confusion_matrix_is_the_evaluations(report_run: ReportRun) -> None:
    run_dir = next((report_run.project / "runs/behavior").glob("*/metrics.json"))
    metrics = json.loads(run_dir.read_text())
    confusion = _csv(report_run, "behavior-confusion").set_index("behavior")
    assert list(confusion.index) == list(BEHAVIORS)
    for behavior, values in metrics["per_behavior"].items():
        (tn, fp), (fn, tp) = values["confusion"]
        row = confusion.loc[behavior]
        assert [row.true_negative, row.false_positive] == [tn, fp]
        assert [row.false_negative, row.true_positive] == [fn, tp]
        assert tn + fp + fn + tp == metrics["frames"]
