"""Label efficiency of the active-learning loop, simulated on real labeled frames.

What it measures: how many labeled frames each sampling strategy (random,
uncertainty, hybrid) needs before a pose model (`--backend heatmap` or `yolo`)
reaches a given accuracy on a fixed test split. The 116 labeled 640x480 frames
of the DeepLabCut open-field mouse (`../shared/data/dlc_openfield_mouse`) are
imported into a fresh project per seed; `etholoop.active.start_simulation`
draws the test split (20 % of the labeled frames), hides the labels of every
other frame behind an `Oracle` and gives back those of a few seed frames per
stratum for train+val. A seed model is trained from scratch on the seed labels
(`train_pose`) and scored on the test split (`evaluate_run`: PCK@0.1, RMSE,
OKS mAP). The project is then copied once per strategy, and each copy goes
round the loop (`etholoop.active.run_rounds`): `advance_cycle` picks the next
frames from the unlabeled reserve with the strategy (uncertainty and hybrid
rank them with the latest model), the oracle reveals their true labels as
manual instances (what a person correcting predictions ends up with),
`advance_cycle(n=0)` merges them into train+val, and the latest model is
fine-tuned on the larger label set and scored again, as a lab would continue
from its last model. Finally a model trained from scratch for one epoch on the
last label set is scored, for comparison with the longer-trained one.

Printed: an estimate of the wall time at the start (from costs measured on
the 2-core machine), test PCK@0.1 and RMSE against labels used per strategy
(mean and half the range over seeds), the labels each strategy needs to reach
test RMSE <= 6, 5 and 4 px (per seed, linear interpolation between rounds;
mean and range over seeds) with the saving of the best strategy over random
at each, the labels to reach a target PCK@0.1 and the saving, the same for
targets at 60-90 % of the best final PCK@0.1 (how much the saving depends on
the target), and the 1-epoch comparison. Only seeds that every strategy
finished are summarized. Written to benchmarks/output/active-learning/:
`results-s<seed>.json` (the settings and every round of every strategy of one
seed, saved after each strategy) and `curves.png` (test error and RMSE against
labels). With `--jobs N`, N models train at once in separate processes; each
trains on the GPU when one is present.

    .venv/bin/python benchmarks/active_learning.py [--backend heatmap|yolo]
        [--strategies random uncertainty hybrid] [--seeds 3] [--rounds R]
        [--step S] [--seed-labels N] [--seed-epochs E] [--epochs E]
        [--imgsz 320 (yolo only)] [--batch B] [--device cpu|0] [--jobs N]
        [--target PCK] [--summarize-only | --add-seeds K]

R, S, N, E and B default per backend (`DEFAULTS`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from attrs import asdict, evolve, frozen
from dlc_split import new_project
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from etholoop.active import (
    Oracle,
    count_labeled_trainval,
    run_rounds,
    start_simulation,
)
from etholoop.pose.backend import TrainParams, training_device
from etholoop.pose.evaluate import evaluate_run
from etholoop.pose.train import train_pose
from etholoop.pose.yolo_env import cpu_threads, load_ultralytics
from etholoop.project import Project
from etholoop.sampling.strategies import get_strategy

OUTPUT = Path(__file__).parent / "output" / "active-learning"
# Ultralytics is imported only when a model is trained, so this still applies.
os.environ.setdefault("ETHOLOOP_CACHE", str(OUTPUT / "cache"))

STRATEGIES = ("random", "uncertainty", "hybrid")
TEST_FRACTION = 0.2
TARGET_SHARE = 0.9
"""Default target: this share of the best final mean PCK@0.1 of any strategy."""
SENSITIVITY_SHARES = (0.6, 0.7, 0.8, 0.9)
"""Shares of the best final mean PCK@0.1 the saving is also reported at."""
RMSE_THRESHOLDS = (6.0, 5.0, 4.0)
"""Test RMSE (px) to which each strategy's labels are counted (issue 15)."""
SAVING_GOAL = 50.0
"""Issue 15's target: this % fewer labels than random at one RMSE threshold."""


@frozen
class Defaults:
    """A backend's default schedule, sized to the 2-core machine's time budget."""

    rounds: int
    step: int
    seed_labels: int
    seed_epochs: int
    epochs: int
    batch: int
    imgsz: int | None
    """Input size in px; None for the heatmap backend, which sizes its own crops."""


DEFAULTS = {
    "heatmap": Defaults(
        rounds=5,
        step=2,
        seed_labels=2,
        seed_epochs=30,
        epochs=5,
        batch=16,
        imgsz=None,
    ),
    "yolo": Defaults(
        rounds=5,
        step=8,
        seed_labels=16,
        seed_epochs=80,
        epochs=20,
        batch=4,
        imgsz=320,
    ),
}
"""Heatmap: 2 to 10 labels in 5 rounds (from 8 labels its seed models are
already at 3 px, below every RMSE threshold); an epoch is at least 256
augmented crops, so 30 epochs from scratch and 5 per round when fine-tuning the
last model; 3 seeds x 3 strategies take about 47 minutes on the 2 cores with 2
jobs (`Settings.estimate_s`). Yolo: the schedule of the runs in
benchmarks/README.md."""


@frozen
class Cost:
    """A backend's training cost on the 2-core machine, one thread per model.

    Attributes:
        epoch_s_per_frame: Seconds of one epoch per labeled train+val frame.
        floor_frames: An epoch costs at least this many frames' worth (the
            heatmap backend trains on at least 256 crops per epoch).
        model_s: Seconds per trained model besides its epochs: the dataset
            written, the test frames scored.
        ranking_s: Seconds a model-based strategy takes to rank the reserve.
    """

    epoch_s_per_frame: float
    floor_frames: int
    model_s: float
    ranking_s: float

    def epoch_s(self, labels: int) -> float:
        """Seconds of one epoch on `labels` frames."""
        return self.epoch_s_per_frame * max(labels, self.floor_frames)


COSTS = {
    "heatmap": Cost(
        epoch_s_per_frame=15.0 / 64, floor_frames=64, model_s=10.0, ranking_s=36.0
    ),
    "yolo": Cost(epoch_s_per_frame=0.15, floor_frames=0, model_s=10.0, ranking_s=10.0),
}
"""Costs on the 2-core machine, one thread per model. Heatmap: measured
2026-12-02 with ETHOLOOP_THREADS=1 (an epoch of 256 crops 14.9 s; scoring
the 23 test frames about 5 s; ranking the ~85 reserve frames 36-38 s, with
another job running). Yolo at 320 px: fitted to the 2026-11-30 CPU run in
benchmarks/README.md."""


@frozen
class Settings:
    """One simulation's configuration."""

    backend: str
    strategies: list[str]
    seeds: int
    rounds: int
    step: int
    seed_labels: int
    seed_epochs: int
    epochs: int
    imgsz: int | None
    batch: int
    device: str

    def trial_s(self, strategy: str) -> float:
        """Expected seconds of one strategy's loop after the seed model (`COSTS`)."""
        cost = COSTS[self.backend]
        ranking = cost.ranking_s if get_strategy(strategy).needs_scores else 0.0
        labels = [self.seed_labels + k * self.step for k in range(self.rounds)]
        rounds = sum(
            self.epochs * cost.epoch_s(n) + cost.model_s + ranking for n in labels[1:]
        )
        return rounds + cost.epoch_s(labels[-1]) + cost.model_s  # the 1-epoch model

    def estimate_s(self, jobs: int) -> float:
        """Expected wall time in s with `jobs` models trained at once.

        As `simulate` schedules them: every seed model first, then each seed's
        strategies once its seed model is done, each on the first free worker.
        """
        cost = COSTS[self.backend]
        seed_s = self.seed_epochs * cost.epoch_s(self.seed_labels) + cost.model_s
        free = [0.0] * jobs
        seeded = []
        for _ in range(self.seeds):
            k = free.index(min(free))
            free[k] += seed_s
            seeded.append(free[k])
        for ready in seeded:
            for strategy in self.strategies:
                k = free.index(min(free))
                free[k] = max(free[k], ready) + self.trial_s(strategy)
        return max(free)


@frozen
class Point:
    """A trained model's test scores and the manual labels it was trained on.

    `epochs` counts every epoch behind the model, its predecessors' included.
    RMSE is None when no keypoint was matched (a model that finds no mouse);
    PCK@0.1 and OKS mAP are defined, since every test frame is labeled.
    """

    labels: int
    epochs: int
    pck: float
    rmse: float | None
    oks_map: float
    seconds: float


@frozen
class Trial:
    """One strategy and seed: a point per round, and the 1-epoch model."""

    strategy: str
    seed: int
    rounds: list[Point]
    one_epoch: Point


@frozen
class Model:
    """A trained model: its scores and its weights, relative to the project."""

    point: Point
    weights: str


def train_and_score(
    project: Project,
    settings: Settings,
    seed: int,
    epochs: int,
    start: Model | None = None,
) -> Model:
    """Train on the current labels (from scratch or from `start`), score on test."""
    started = time.perf_counter()
    params = TrainParams(
        epochs=epochs,
        batch=settings.batch,
        weights=None if start is None else project.resolve(start.weights),
        workers=0,
        seed=seed,
        device=settings.device,
    )
    if settings.imgsz is not None:
        params = evolve(params, imgsz=settings.imgsz)
    run = train_pose(project, params, backend=settings.backend)
    metrics = evaluate_run(project, run_id=run.run_id).metrics
    pck, oks_map = metrics.pck[0.1], metrics.oks_map50_95
    assert pck is not None and oks_map is not None, "test frames are labeled"
    point = Point(
        labels=count_labeled_trainval(project),
        epochs=epochs + (0 if start is None else start.point.epochs),
        pck=pck,
        rmse=metrics.rmse,
        oks_map=oks_map,
        seconds=time.perf_counter() - started,
    )
    return Model(point, project.relative(run.weights))


def seed_model(seed: int, settings: Settings) -> tuple[Path, Oracle, Model]:
    """A project with the seed split and labels, and a model trained on them."""
    root = OUTPUT / f"seed-s{seed}"
    project = new_project(root)
    try:
        oracle = start_simulation(
            project, test=TEST_FRACTION, n_seed=settings.seed_labels, seed=seed
        )
        model = train_and_score(project, settings, seed, settings.seed_epochs)
    finally:
        project.close()
    print(f"  seed model s{seed}: {_describe(model.point)}", flush=True)
    return root, oracle, model


def run_trial(
    strategy: str,
    seed: int,
    settings: Settings,
    start: tuple[Path, Oracle, Model],
) -> Trial:
    """The loop for one strategy, in a copy of the seed model's project."""
    started = time.perf_counter()
    seed_root, oracle, model = start
    root = OUTPUT / f"{strategy}-s{seed}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(seed_root, root)
    project = Project.open(root)

    def fine_tune(project: Project, previous: Model) -> Model:
        tuned = train_and_score(project, settings, seed, settings.epochs, previous)
        print(f"  {strategy} s{seed} fine-tuned: {_describe(tuned.point)}", flush=True)
        return tuned

    try:
        later = run_rounds(
            project,
            oracle,
            model,
            fine_tune,
            strategy=strategy,
            n_rounds=settings.rounds - 1,
            step=settings.step,
            seed=seed,
        )
        rounds = [model.point, *(m.point for _, m in later)]
        one_epoch = train_and_score(project, settings, seed, 1).point
        print(f"  {strategy} s{seed} 1 epoch: {_describe(one_epoch)}", flush=True)
        print(f"{strategy} s{seed}: {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        project.close()
    return Trial(strategy, seed, rounds, one_epoch)


def _describe(point: Point) -> str:
    return (
        f"{point.labels} labels, PCK@0.1 {point.pck:.3f}, RMSE "
        f"{'n/a' if point.rmse is None else f'{point.rmse:.1f} px'}, "
        f"OKS mAP {point.oks_map:.3f} ({point.seconds:.0f} s)"
    )


def mean_curve(trials: list[Trial]) -> tuple[np.ndarray, np.ndarray]:
    """Labels used per round and mean test PCK@0.1 over the trials."""
    labels = np.mean([[p.labels for p in t.rounds] for t in trials], axis=0)
    pck = np.mean([[p.pck for p in t.rounds] for t in trials], axis=0)
    return labels, pck


def labels_to_target(
    labels: np.ndarray, scores: np.ndarray, target: float
) -> float | None:
    """Labels at which `scores` first reach `target`, linearly interpolated.

    `scores` rise as the model improves (PCK@0.1, or minus the RMSE). After a
    round scored -inf (no keypoint matched) there is nothing to interpolate
    from: the round that reaches the target counts whole.
    """
    for k in range(len(scores)):
        if scores[k] >= target:
            if k == 0 or not np.isfinite(scores[k - 1]):
                return float(labels[k])
            fraction = (target - scores[k - 1]) / (scores[k] - scores[k - 1])
            return float(labels[k - 1] + fraction * (labels[k] - labels[k - 1]))
    return None


def rmse_px(point: Point) -> float:
    """The point's test RMSE; inf when no keypoint was matched.

    Results saved before undefined metrics became None hold NaN instead.
    """
    return np.inf if point.rmse is None or np.isnan(point.rmse) else point.rmse


def labels_to_rmse(trial: Trial, threshold: float) -> float | None:
    """Labels at which the trial's test RMSE first falls to `threshold` px or below."""
    labels = np.array([p.labels for p in trial.rounds], dtype=float)
    errors = np.array([rmse_px(p) for p in trial.rounds])
    return labels_to_target(labels, -errors, -threshold)


def by_strategy(trials: list[Trial]) -> dict[str, list[Trial]]:
    """Trials grouped by strategy, in the order first seen."""
    groups: dict[str, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(trial.strategy, []).append(trial)
    return groups


def _spread(values: list[float | None]) -> str:
    """Mean ± half the range of the defined values (RMSE is None with no match).

    Results saved before undefined metrics became None hold NaN instead.
    """
    defined = [v for v in values if v is not None and np.isfinite(v)]
    if not defined:
        return "n/a"
    text = f"{np.mean(defined):.3f} ± {(max(defined) - min(defined)) / 2:.3f}"
    if len(defined) < len(values):
        text += f" ({len(defined)} of {len(values)} seeds)"
    return text


def print_table(trials: list[Trial]) -> None:
    """Test PCK@0.1 and RMSE by labels used, per strategy."""
    for strategy, group in by_strategy(trials).items():
        print(f"\n{strategy} ({len(group)} seeds; mean ± half the range over seeds)")
        print("| labels | test PCK@0.1 | test RMSE (px) | OKS mAP50-95 |")
        print("|---|---|---|---|")
        for k in range(len(group[0].rounds)):
            points = [t.rounds[k] for t in group]
            print(
                f"| {np.mean([p.labels for p in points]):.0f} "
                f"| {_spread([p.pck for p in points])} "
                f"| {_spread([p.rmse for p in points])} "
                f"| {_spread([p.oks_map for p in points])} |"
            )


def best_final_pck(trials: list[Trial]) -> float:
    """Best final mean PCK@0.1 of any strategy."""
    return float(max(mean_curve(g)[1][-1] for g in by_strategy(trials).values()))


def default_target(trials: list[Trial]) -> float:
    """TARGET_SHARE of the best final mean PCK@0.1 of any strategy."""
    return TARGET_SHARE * best_final_pck(trials)


def strategy_needs(trials: list[Trial], target: float) -> dict[str, float | None]:
    """Labels each strategy's mean curve needs to reach `target` (None: never)."""
    return {
        strategy: labels_to_target(*mean_curve(group), target)
        for strategy, group in by_strategy(trials).items()
    }


def reached_by_seed_models(
    trials: list[Trial], needed: dict[str, float | None]
) -> bool:
    """Whether the seed models, shared by all strategies, already reach the target.

    Then no strategy picked a single frame before reaching it: nothing to compare.
    """
    seed_labels = float(mean_curve(trials)[0][0])
    return all(value == seed_labels for value in needed.values())


def best_saving(
    trials: list[Trial], needed: dict[str, float | None]
) -> tuple[str, float, bool] | None:
    """Best strategy other than random and its % of labels saved over random.

    The flag says the saving is only a lower bound (random never reached the
    target); None when no strategy other than random reached it.
    """
    reached = {s: v for s, v in needed.items() if v is not None and s != "random"}
    if not reached or "random" not in needed:
        return None
    best = min(reached, key=lambda s: reached[s])
    baseline = needed["random"]
    bound = baseline is None
    if baseline is None:
        baseline = float(mean_curve(by_strategy(trials)["random"])[0][-1])
    return best, 100 * (baseline - reached[best]) / baseline, bound


def print_savings(trials: list[Trial], target: float) -> dict[str, float | None]:
    """Labels each strategy needs to reach `target`, and the best one's saving."""
    if target <= 0:
        print("\nNo model scored above PCK@0.1 0: labels to target not measurable")
        return {}
    needed = strategy_needs(trials, target)
    print(f"\nLabels needed to reach test PCK@0.1 {target:.3f} (mean curve):")
    for strategy, value in needed.items():
        print(f"  {strategy}: {'not reached' if value is None else f'{value:.1f}'}")
    if reached_by_seed_models(trials, needed):
        print("  the seed models already reach it: no saving measurable")
    elif (saving := best_saving(trials, needed)) is None:
        print("  no strategy other than random reached the target")
    else:
        best, percent, bound = saving
        note = " at least (random did not reach the target)" if bound else ""
        print(f"  best other than random: {best}, {percent:+.1f} % labels saved{note}")
    return needed


def rmse_needs(trials: list[Trial], threshold: float) -> dict[str, list[float | None]]:
    """Per strategy, the labels each seed needs to reach `threshold` px (None: never).

    The lists follow the trials' seed order, the same for every strategy.
    """
    return {
        strategy: [labels_to_rmse(t, threshold) for t in group]
        for strategy, group in by_strategy(trials).items()
    }


def _needs_cell(values: list[float | None]) -> str:
    """Mean (range) over seeds of the labels needed; the seeds never getting there."""
    reached = [v for v in values if v is not None]
    if not reached:
        return "not reached"
    text = f"{np.mean(reached):.1f} ({min(reached):.1f}–{max(reached):.1f})"
    if len(reached) < len(values):
        missing = len(values) - len(reached)
        text = f"not reached in {missing} of {len(values)} seeds, others {text}"
    return text


@frozen
class Saving:
    """The best strategy other than random at one RMSE threshold.

    Attributes:
        strategy: The one of fewest mean labels among those that reached the
            threshold in every seed.
        percent: % fewer labels than random, on the means over seeds.
        per_seed: The lowest and highest % saved in one seed (same start).
        bound: Random never got there in some seed; its final label count
            stands in there, so the saving is a lower bound.
    """

    strategy: str
    percent: float
    per_seed: tuple[float, float]
    bound: bool


def rmse_saving(
    trials: list[Trial], needs: dict[str, list[float | None]]
) -> Saving | None:
    """The best strategy's saving over random; None: none reached it in every seed."""
    complete = {
        s: [float(v) for v in values if v is not None]
        for s, values in needs.items()
        if s != "random" and None not in values
    }
    if not complete or "random" not in needs:
        return None
    best = min(complete, key=lambda s: float(np.mean(complete[s])))
    finals = [t.rounds[-1].labels for t in by_strategy(trials)["random"]]
    random = [
        float(f if v is None else v)
        for v, f in zip(needs["random"], finals, strict=True)
    ]
    ours = complete[best]
    per_seed = [100 * (r - b) / r for r, b in zip(random, ours, strict=True)]
    return Saving(
        strategy=best,
        percent=float(100 * (np.mean(random) - np.mean(ours)) / np.mean(random)),
        per_seed=(min(per_seed), max(per_seed)),
        bound=None in needs["random"],
    )


def print_rmse_savings(trials: list[Trial]) -> None:
    """Labels each strategy needs to reach each RMSE threshold, and the savings."""
    strategies = list(by_strategy(trials))
    seeds = len({t.seed for t in trials})
    print(
        f"\nLabels needed to reach test RMSE <= threshold (per seed, interpolated "
        f"between rounds; mean (range) over {seeds} seeds):"
    )
    print(f"| RMSE | {' | '.join(strategies)} | best saving over random (per seed) |")
    print(f"|---|{'---|' * len(strategies)}---|")
    best: tuple[float, str] | None = None
    for threshold in RMSE_THRESHOLDS:
        needs = rmse_needs(trials, threshold)
        cells = [_needs_cell(needs[s]) for s in strategies]
        if all(labels_to_rmse(t, threshold) == t.rounds[0].labels for t in trials):
            summary = "seed models reach it"
        elif (saving := rmse_saving(trials, needs)) is None:
            summary = "no other strategy reached it in every seed"
        else:
            low, high = saving.per_seed
            summary = (
                f"{saving.strategy} {'≥ ' if saving.bound else ''}"
                f"{saving.percent:+.1f} % ({low:+.1f} to {high:+.1f} %)"
            )
            if best is None or saving.percent > best[0]:
                bound = ", a lower bound" if saving.bound else ""
                best = saving.percent, f"{saving.strategy} at {threshold:g} px{bound}"
        print(f"| ≤ {threshold:g} px | {' | '.join(cells)} | {summary} |")
    goal = f"Issue 15 target, ≥ {SAVING_GOAL:.0f} % fewer labels than random"
    if best is None:
        print(f"{goal}: not measurable (no saving at any threshold)")
    else:
        met = "met" if best[0] >= SAVING_GOAL else "not met"
        print(f"{goal} at one threshold: {met} (best {best[0]:+.1f} %, {best[1]})")


def print_target_sensitivity(trials: list[Trial]) -> None:
    """Labels to target and best saving for several targets.

    Shows how much the saving depends on where the target is set.
    """
    best_final = best_final_pck(trials)
    if best_final <= 0:
        return
    strategies = list(by_strategy(trials))
    print("\nLabels to target for other targets (share of the best final PCK@0.1):")
    print(f"| target | {' | '.join(strategies)} | best saving over random |")
    print(f"|---|{'---|' * len(strategies)}---|")
    for share in SENSITIVITY_SHARES:
        target = share * best_final
        needed = strategy_needs(trials, target)
        cells = [
            "not reached" if needed[s] is None else f"{needed[s]:.1f}"
            for s in strategies
        ]
        if reached_by_seed_models(trials, needed):
            summary = "seed models reach it"
        elif (saving := best_saving(trials, needed)) is None:
            summary = "none reached"
        else:
            best, percent, bound = saving
            summary = f"{best} {'≥ ' if bound else ''}{percent:+.1f} %"
        print(f"| {target:.3f} ({share:.0%}) | {' | '.join(cells)} | {summary} |")


def print_one_epoch(trials: list[Trial]) -> None:
    """Test PCK@0.1 of the longest-trained model against a 1-epoch one."""
    print("\nFinal label set, longer training vs 1 epoch (test PCK@0.1):")
    for trial in trials:
        final = trial.rounds[-1]
        print(
            f"  {trial.strategy} s{trial.seed}: {final.labels} labels, "
            f"{final.epochs} epochs {final.pck:.3f} vs 1 epoch "
            f"{trial.one_epoch.pck:.3f}"
        )


def plot_curves(trials: list[Trial], target: float, backend: str, path: Path) -> Path:
    """Test error (1 - PCK@0.1) and RMSE against labels: mean and per-seed lines.

    Rounds without a matched keypoint leave a gap in the RMSE lines.
    """
    figure = Figure(figsize=(11.0, 4.4))
    FigureCanvasAgg(figure)
    pck_axes, rmse_axes = figure.subplots(1, 2)
    for k, (strategy, group) in enumerate(by_strategy(trials).items()):
        color = f"C{k}"
        labels = mean_curve(group)[0]
        errors = np.array([[1 - p.pck for p in t.rounds] for t in group])
        rmse = np.array([[rmse_px(p) for p in t.rounds] for t in group])
        rmse[~np.isfinite(rmse)] = np.nan
        for axes, values in ((pck_axes, errors), (rmse_axes, rmse)):
            with warnings.catch_warnings():  # a round where no seed matched any
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
                mean = np.nanmean(values, axis=0)
            axes.fill_between(labels, low, high, color=color, alpha=0.15)
            for row in values:
                axes.plot(labels, row, color=color, lw=0.7, alpha=0.5)
            axes.plot(labels, mean, "o-", color=color, label=f"{strategy} (mean)")
    pck_axes.axhline(1 - target, color="gray", ls="--", lw=1, label="target")
    pck_axes.set_ylim(0, 1.05)
    pck_axes.set_ylabel("test error (1 - PCK@0.1)")
    for threshold in RMSE_THRESHOLDS:
        rmse_axes.axhline(threshold, color="gray", ls=":", lw=1)
    rmse_axes.set_yscale("log")
    rmse_axes.yaxis.set_major_formatter(ScalarFormatter())
    rmse_axes.yaxis.set_minor_formatter(ScalarFormatter())
    shown = ", ".join(f"{t:g}" for t in RMSE_THRESHOLDS)
    rmse_axes.set_ylabel(f"test RMSE (px, log scale; dotted: {shown} px)")
    for axes in (pck_axes, rmse_axes):
        axes.set_xlabel("manually labeled train+val frames")
        axes.legend()
    figure.suptitle(f"Label efficiency, DLC open-field mouse ({backend})")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def save_results(settings: Settings, trials: list[Trial], path: Path) -> None:
    """Settings and trials as JSON."""
    data = {"settings": asdict(settings), "trials": [asdict(t) for t in trials]}
    path.write_text(json.dumps(data, indent=2) + "\n")


def load_results() -> tuple[Settings, list[Trial]]:
    """Every seed's saved trials, with the settings they share."""
    paths = sorted(OUTPUT.glob("results-s*.json"))
    if not paths:
        raise SystemExit(f"no saved results in {OUTPUT}: run the benchmark first")
    trials: list[Trial] = []
    found: set[str] = set()
    for path in paths:
        data: dict[str, Any] = json.loads(path.read_text())
        settings = Settings(**data["settings"])
        found.add(json.dumps(asdict(evolve(settings, seeds=0)), sort_keys=True))
        trials += [
            Trial(
                t["strategy"],
                t["seed"],
                [Point(**p) for p in t["rounds"]],
                Point(**t["one_epoch"]),
            )
            for t in data["trials"]
        ]
    if len(found) > 1:
        raise SystemExit(f"results in {OUTPUT} were run with different settings")
    seeds = max(settings.seeds, max(t.seed for t in trials) + 1)
    return evolve(settings, seeds=seeds), trials


def complete_trials(trials: list[Trial], strategies: list[str]) -> list[Trial]:
    """The trials of the seeds that every strategy finished."""
    complete = {
        seed
        for seed in {t.seed for t in trials}
        if {t.strategy for t in trials if t.seed == seed} >= set(strategies)
    }
    return [t for t in trials if t.seed in complete]


def seed_results(seed: int) -> Path:
    """Where one seed's settings and trials are saved."""
    return OUTPUT / f"results-s{seed}.json"


def record(trials: list[Trial], trial: Trial, settings: Settings) -> None:
    """Add `trial` and save its seed's trials so far."""
    trials.append(trial)
    same_seed = [t for t in trials if t.seed == trial.seed]
    save_results(settings, same_seed, seed_results(trial.seed))


def simulate(settings: Settings, done: list[Trial], jobs: int) -> list[Trial]:
    """Every strategy for each seed not finished in `done`.

    With `jobs` > 1 the seed models train in parallel processes, then every
    strategy of every seed does.
    """
    trials = complete_trials(done, settings.strategies)
    todo = sorted(set(range(settings.seeds)) - {t.seed for t in trials})
    if jobs == 1:
        for seed in todo:
            start = seed_model(seed, settings)
            for strategy in settings.strategies:
                record(trials, run_trial(strategy, seed, settings, start), settings)
        return trials
    os.environ["ETHOLOOP_THREADS"] = str(max(1, cpu_threads() // jobs))
    if settings.backend == "yolo":
        load_ultralytics()  # writes its settings once, before the processes read them
    with ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        starts = pool.map(seed_model, todo, [settings] * len(todo))
        futures = [
            pool.submit(run_trial, strategy, seed, settings, start)
            for seed, start in zip(todo, starts, strict=True)
            for strategy in settings.strategies
        ]
        for future in as_completed(futures):
            record(trials, future.result(), settings)
    return trials


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"want a positive integer, got {text!r}")
    return int(text)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=sorted(DEFAULTS), default="heatmap")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=3)
    schedule = {
        "--rounds": "rounds, the seed model's included",
        "--step": "frames labeled per round",
        "--seed-labels": "frames labeled before the seed model",
        "--seed-epochs": "seed model, from scratch",
        "--epochs": "each later round, fine-tuning",
        "--batch": "samples per optimizer step",
    }
    for option, what in schedule.items():
        key = option[2:].replace("-", "_")
        defaults = ", ".join(f"{b} {getattr(d, key)}" for b, d in DEFAULTS.items())
        parser.add_argument(
            option, type=positive_int, help=f"{what}; default {defaults}"
        )
    parser.add_argument(
        "--imgsz",
        type=positive_int,
        help=f"input size, yolo only (default {DEFAULTS['yolo'].imgsz})",
    )
    parser.add_argument(
        "--device", default=None, help='"cpu" or a GPU index; default: GPU if present'
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=2,
        help="models trained at once, in separate processes (default 2: one per "
        "core of the 2-core machine)",
    )
    parser.add_argument(
        "--target", type=float, default=None, help="test PCK@0.1 to reach"
    )
    parser.add_argument(
        "--summarize-only",
        action="store_true",
        help="print and plot the saved results without training",
    )
    parser.add_argument(
        "--add-seeds",
        type=int,
        default=0,
        metavar="K",
        help="run K more seeds with the saved results' settings and add them",
    )
    args = parser.parse_args()
    if args.imgsz is not None and args.backend != "yolo":
        parser.error("--imgsz applies to --backend yolo only")
    return args


def new_settings(args: argparse.Namespace) -> Settings:
    """The settings asked for, the backend's `DEFAULTS` where none was given."""
    defaults = asdict(DEFAULTS[args.backend])
    given = {key: getattr(args, key) for key in defaults}
    return Settings(
        backend=args.backend,
        strategies=args.strategies,
        seeds=args.seeds,
        device=training_device(args.device),
        **{k: defaults[k] if v is None else v for k, v in given.items()},
    )


def print_estimate(settings: Settings, jobs: int) -> None:
    """The expected wall time, from the costs measured on the 2-core machine."""
    minutes = settings.estimate_s(jobs) / 60
    print(
        f"Estimated wall time: {minutes:.0f} min on the 2-core machine with nothing "
        f"else running, {jobs} model(s) at once, one thread each (COSTS); a GPU, "
        "more cores or threads make it shorter, other jobs longer",
        flush=True,
    )


def main() -> None:
    """Run (or reload) the simulation, then print the figures and plot."""
    args = parse_args()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.summarize_only:
        settings, trials = load_results()
    elif args.add_seeds:
        settings, trials = load_results()
        settings = evolve(settings, seeds=settings.seeds + args.add_seeds)
        print(f"{settings}, load average {os.getloadavg()[0]:.1f}", flush=True)
        print_estimate(evolve(settings, seeds=args.add_seeds), args.jobs)
        trials = simulate(settings, trials, args.jobs)
    else:
        for old in OUTPUT.glob("results-s*.json"):
            old.unlink()
        settings = new_settings(args)
        print(f"{settings}, load average {os.getloadavg()[0]:.1f}", flush=True)
        print_estimate(settings, args.jobs)
        trials = simulate(settings, [], args.jobs)
    trials = sorted(
        complete_trials(trials, settings.strategies),
        key=lambda t: (t.seed, settings.strategies.index(t.strategy)),
    )
    if not trials:
        raise SystemExit("no seed was finished by every strategy: nothing to summarize")
    print(f"\nSeeds finished by every strategy: {len({t.seed for t in trials})}")
    print_table(trials)
    target = default_target(trials) if args.target is None else args.target
    how = "given" if args.target is not None else f"{TARGET_SHARE:.0%} of best final"
    print(f"\nTarget test PCK@0.1: {target:.3f} ({how})")
    print_rmse_savings(trials)
    print_savings(trials, target)
    print_target_sensitivity(trials)
    print_one_epoch(trials)
    plot = plot_curves(trials, target, settings.backend, OUTPUT / "curves.png")
    print(f"\nPlot: {plot}")
    print(f"Results: {OUTPUT}/results-s*.json")
    print(f"Wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
