"""Frame choice commands: `sample` and `split`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etholoop.cli._common import ProjectArg, app, choice, console, progress, split_list
from etholoop.sampling import STRATEGIES

if TYPE_CHECKING:
    SampleStrategy = str
else:
    # Strategies that rank by a model's predictions are `cycle`'s.
    SampleStrategy = choice(n for n, s in STRATEGIES.items() if not s.needs_scores)


@app.command()
def sample(
    project_path: ProjectArg,
    n: Annotated[int, typer.Option("--n", help="Frames to choose.", min=1)],
    strategy: Annotated[
        SampleStrategy,
        typer.Option(
            help="How frames are chosen: uniform spaces them evenly in each video, "
            "random draws them, stratified gives each stratum an equal share, "
            "diverse fills each share with the frames least alike."
        ),
    ] = "stratified",
    strata: Annotated[
        str, typer.Option(help="Factors of a stratum: video, condition, time.")
    ] = "video,time",
    time_bins: Annotated[
        int, typer.Option(help="Equal parts of each video for `time`.", min=1)
    ] = 4,
    condition_from: Annotated[
        str | None,
        typer.Option(
            help="Regex on video file names; its first group (else the match) is "
            "the condition, e.g. '-(saline|drug)-'."
        ),
    ] = None,
    conditions: Annotated[
        Path | None, typer.Option(help="CSV with columns video,condition.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same frames.")] = 0,
) -> None:
    """Choose frames to label; caches them as PNGs in PROJECT/frames/<video hash>/.

    Reads the normalized videos where they exist, else the raw ones. Frames that
    are near-duplicates of a chosen frame (static scenes) are passed over and
    replaced from the frames left, in other strata when their own have none.
    """
    from etholoop.project import Project
    from etholoop.sampling import sample_frames

    with Project.open(project_path) as project, progress() as report:
        result = sample_frames(
            project,
            n=n,
            strategy=strategy,
            strata=split_list(strata),
            n_time_bins=time_bins,
            condition_from=condition_from,
            conditions_csv=conditions,
            seed=seed,
            report=report,
        )
    console.print(
        f"Chose {result.n_chosen} frame(s) ({result.n_added} new) in "
        f"{len(result.per_stratum)} strata; {result.n_duplicates} near-duplicate(s) "
        f"passed over; images in {project.frames_dir}"
    )
    if result.n_chosen < n and strategy == "diverse":
        console.print(
            f"only {result.n_chosen} of {n}: the rest of diverse's candidate pool "
            "were near-duplicates of chosen frames; --strategy stratified reads "
            "further into the videos"
        )
    elif result.n_chosen < n:
        console.print(
            f"only {result.n_chosen} distinct frame(s) found in these videos, of {n} "
            "asked for: the other frames read were near-duplicates of chosen ones"
        )


@app.command()
def split(
    project_path: ProjectArg,
    test: Annotated[
        float | None,
        typer.Option(
            help="Share of the labeled frames (of all frames while none is "
            "labeled) for the test split, drawn once "
            "[default: 0.15 on the first call, then kept]."
        ),
    ] = None,
    train_val: Annotated[
        int,
        typer.Option(
            help="Frames for train+val; every labeled frame outside the test "
            "split goes there, even beyond this number.",
            min=0,
        ),
    ] = 100,
    val_fraction: Annotated[
        float, typer.Option(help="Share of train+val held out for validation.")
    ] = 0.2,
    predict: Annotated[int, typer.Option(help="Frames to predict on.", min=0)] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same splits.")] = 0,
    redraw_test: Annotated[
        bool, typer.Option(help="Draw the test split again although one exists.")
    ] = False,
) -> None:
    """Split the frames into test, train+val, predict and reserve for this cycle.

    Frames that hold labels come first: the test split is drawn from them and
    the others go to train+val. The split is stored per cycle in the label
    store; `etholoop status` shows it.
    """
    from etholoop.project import Project
    from etholoop.sampling import split_frames

    with Project.open(project_path) as project:
        result = split_frames(
            project,
            test=test,
            n_trainval=train_val,
            val_fraction=val_fraction,
            n_predict=predict,
            seed=seed,
            redraw_test=redraw_test,
        )
    counts = ", ".join(f"{name} {k}" for name, k in result.counts.items())
    console.print(
        f"Cycle {result.cycle}: {counts} (val {result.n_val}); test split "
        + ("drawn" if result.test_drawn else "kept")
    )
    n_test, n_trainval = result.labeled["test"], result.labeled["trainval"]
    console.print(f"labeled frames: test {n_test}, train+val {n_trainval}")
    if n_trainval > train_val:
        console.print(
            f"train+val holds all {n_trainval} labeled frames outside the test "
            f"split, more than --train-val {train_val}: a label is never left in "
            "predict or reserve"
        )
    if result.counts["predict"] < predict:
        console.print(
            f"predict holds {result.counts['predict']} frame(s), not {predict}: "
            "no more unlabeled frames are left; sample more with `etholoop sample`"
        )
    if result.n_labeled_left_test:
        console.print(
            f"{result.n_labeled_left_test} labeled frame(s) left the test split"
        )
