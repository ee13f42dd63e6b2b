"""`behavior train`, `predict`, `evaluate`, `next`: the behavior model's cycle."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from etholoop.cli._common import ProjectArg, choice, console, err_console, progress
from etholoop.cli.behavior import behavior_app
from etholoop.formatting import format_metric

if TYPE_CHECKING:
    from etholoop.behavior.clip3d import Variant
    from etholoop.behavior_runs.evaluate import SplitKind
    from etholoop.behavior_runs.train import BehaviorModelName

    ModelChoice = BehaviorModelName
    SplitChoice = SplitKind
    VariantChoice = Variant
else:
    ModelChoice = choice(["pose", "clip3d", "sequence"])
    VariantChoice = choice(["light", "standard"])
    SplitChoice = choice(["auto", "blocks", "videos"])

SessionsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--session",
        help="A session to use (a video's path, name or stem, or a tracks "
        "session's name); repeatable. Default: every session with tracks.",
        show_default=False,
    ),
]

ModelOpt = Annotated[
    ModelChoice,
    typer.Option(
        help="pose: LightGBM per behavior over windowed pose features of "
        "each animal and, seen from it, the nearest other animal. clip3d: a 3D "
        "CNN on 16-frame grayscale clips of each animal's window, which follows "
        "its tracks (the GPU when there is one). sequence: DeepEthogram's flow "
        "generator, ResNet-18 feature extractors and a temporal conv net over "
        "their features (single-animal projects)."
    ),
]
VariantOpt = Annotated[
    VariantChoice,
    typer.Option(help="clip3d: light (~600K parameters) or standard (~3M)."),
]
EpochsOpt = Annotated[
    int | None,
    typer.Option(
        help="clip3d, sequence: most epochs of each network (early stopping "
        "on validation) [default: clip3d 100; sequence 20/20/100].",
        min=1,
        show_default=False,
    ),
]
ImsizeOpt = Annotated[
    int | None,
    typer.Option(
        help="clip3d, sequence: side in px each frame is resized to "
        "(sequence: a multiple of 8) [default: 112].",
        min=8,
        show_default=False,
    ),
]


@behavior_app.command("train")
def train_command(
    project_path: ProjectArg,
    model: ModelOpt = "pose",
    sessions: SessionsOpt = None,
    variant: VariantOpt = "light",
    epochs: EpochsOpt = None,
    imsize: ImsizeOpt = None,
    resume: Annotated[
        int | None,
        typer.Option(
            help="clip3d, sequence: continue the unfinished training run with this "
            "id (see `etholoop status`) in its folder, with its model and variant.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a behavior model on the manual behavior labels of sessions with tracks.

    An animal of a session counts as labeled on every frame once it has one
    manual range, except inside predicted ranges nobody confirmed. Thresholds,
    minimum bout length and gap filling are tuned per behavior on contiguous
    blocks inside the labeled frames. Feature and cleaning settings come from
    `behavior:` in etholoop.yaml. Writes PROJECT/runs/behavior/<run>/model.json
    and split.json.

    --model clip3d learns exclusive classes ('none' and the behaviors) from the
    pixels, the last 20 % of each session's labeled frames choosing the best
    epoch; it writes clip3d/best.pt, last.pt (a re-run resumes), epochs.csv and
    training-curves.png in the run folder.
    """
    from etholoop.behavior_runs.train import train_behavior
    from etholoop.project import Project

    with Project.open(project_path) as project:
        result = train_behavior(
            project,
            model=model,
            sessions=sessions,
            variant=variant,
            epochs=epochs,
            imsize=imsize,
            resume=resume,
        )
    console.print(f"behavior run {result.run_id}: {result.run_dir}", highlight=False)
    for name, frames in result.sessions:
        console.print(f"  learned from {name}: {frames} animal-frames", highlight=False)
    for behavior, params in result.bout_params.items():
        console.print(
            f"  {behavior}: {result.positives[behavior]} positive frames; threshold "
            f"{params['threshold']:.2f}, min bout {params['min_bout']}, gaps up to "
            f"{params['max_gap']} filled",
            highlight=False,
        )


@behavior_app.command("predict")
def predict_command(
    project_path: ProjectArg,
    sessions: Annotated[
        list[str] | None,
        typer.Argument(
            help="Sessions to predict (video path, name or stem, or tracks session "
            "name); default: every session the model reads (with tracks for pose, "
            "with a video for clip3d and sequence).",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        int | None,
        typer.Option(help="Behavior training run id; default: the latest."),
    ] = None,
) -> None:
    """Predict per-frame behaviors of each animal; write files and predicted ranges.

    Under PROJECT/behavior/<training run>/ each session gets
    <name>.probabilities.csv and <name>.ethogram.csv (frame, individual, one
    column per behavior), <name>.ethogram.nc (both, netCDF) and
    <name>.bouts.csv (animal, behavior, start, stop, duration). The session's
    earlier predicted ranges in the store are replaced; the timeline view
    (`etholoop serve`) shows them hatched to confirm or correct. A session that
    fails is reported and the rest go on. A session predicted before by the
    same run from the same tracks (and the same animals labeled) is skipped;
    delete its files to predict it again.
    """
    from etholoop.behavior_runs.predict import predict_behavior
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = predict_behavior(project, sessions, run_id=run, report=report)
    console.print(
        f"behavior predictions of run {result.train_run_id}: {result.out_dir}",
        highlight=False,
    )
    for item in result.sessions:
        if item.status == "failed":
            err_console.print(f"  failed  {item.name}: {item.error}", highlight=False)
        elif item.status == "skipped":
            console.print(
                f"  skipped {item.name}: unchanged since its last prediction "
                f"({item.n_ranges} predicted range(s))",
                highlight=False,
            )
        else:
            console.print(
                f"  {item.name}: {item.n_ranges} predicted range(s)", highlight=False
            )
    if any(item.status == "failed" for item in result.sessions):
        raise typer.Exit(1)


@behavior_app.command("evaluate")
def evaluate_command(
    project_path: ProjectArg,
    split: Annotated[
        SplitChoice,
        typer.Option(
            help="blocks: contiguous time blocks of every labeled session; videos: "
            "leave one session out; auto: videos when two or more sessions are "
            "labeled, else blocks. Never random frames."
        ),
    ] = "auto",
    blocks: Annotated[
        int, typer.Option(help="Time blocks (folds) with --split blocks.", min=2)
    ] = 5,
    gap: Annotated[
        int,
        typer.Option(
            help="Frames on each side of a test block left out of training.", min=0
        ),
    ] = 23,
    sessions: SessionsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON.")
    ] = False,
    model: ModelOpt = "pose",
    variant: VariantOpt = "light",
    epochs: EpochsOpt = None,
    imsize: ImsizeOpt = None,
) -> None:
    """Cross-validate a behavior model on the labeled sessions.

    Refits the model (--model, as in `behavior train`) on each fold's training
    frames and scores its test
    frames: exact-match accuracy, macro and weighted F1, per-behavior frame
    precision/recall/F1 and bout F1 (a predicted bout matches a true one when
    their frames overlap with IoU >= 0.2, one to one). Writes metrics.json,
    split.json, confusion.png and ethogram.png (truth vs prediction) to
    PROJECT/runs/behavior/<run>/.
    """
    from etholoop.behavior_runs.evaluate import evaluate_behavior
    from etholoop.project import Project

    with Project.open(project_path) as project, progress() as report:
        result = evaluate_behavior(
            project,
            model=model,
            variant=variant,
            epochs=epochs,
            imsize=imsize,
            split=split,
            n_blocks=blocks,
            gap=gap,
            sessions=sessions,
            report=report,
        )
    metrics = result.metrics
    if as_json:
        print(json.dumps({"run": result.run_id, **metrics}, indent=1))
        return
    console.print(f"behavior evaluation {result.run_id}: {result.run_dir}")
    console.print(
        f"  {metrics['frames']} test frames: accuracy "
        f"{format_metric(metrics['accuracy'])}, macro F1 "
        f"{format_metric(metrics['macro_f1'])}, weighted F1 "
        f"{format_metric(metrics['weighted_f1'])}, macro bout F1 "
        f"{format_metric(metrics['macro_bout_f1'])}",
        highlight=False,
    )
    for behavior, row in metrics["per_behavior"].items():
        console.print(
            f"  {behavior}: precision {format_metric(row['precision'])}, recall "
            f"{format_metric(row['recall'])}, F1 {format_metric(row['f1'])}, bout "
            f"F1 {format_metric(row['bout_f1'])} ({row['support']} true frames, "
            f"{row['true_bouts']} bouts)",
            highlight=False,
        )


@behavior_app.command("next")
def next_command(
    project_path: ProjectArg,
    n: Annotated[int, typer.Option("--n", help="Windows to propose.", min=1)] = 10,
    length: Annotated[int, typer.Option(help="Frames per window.", min=1)] = 60,
) -> None:
    """Propose the unlabeled stretches most worth labeling next.

    From the latest `behavior predict` run: windows of unlabeled frames where
    the model is least certain, rare behaviors weighted up. Also written to
    PROJECT/behavior/next.csv.
    """
    import pandas as pd
    from attrs import asdict

    from etholoop.atomic import written_atomically
    from etholoop.behavior_runs.propose import propose_segments
    from etholoop.project import Project

    with Project.open(project_path) as project:
        proposals = propose_segments(project, n, length=length)
        path = project.root / "behavior" / "next.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(path) as partial:
        pd.DataFrame(
            [asdict(p) for p in proposals],
            columns=[
                "session",
                "animal",
                "start",
                "stop",
                "behavior",
                "uncertainty",
                "score",
            ],
        ).to_csv(partial, index=False, float_format="%.4f")
    if not proposals:
        console.print("nothing left to propose: every frame is labeled")
    for p in proposals:
        console.print(
            f"  {p.session} animal{p.animal} frames {p.start}-{p.stop}: "
            f"{p.behavior} uncertain ({p.uncertainty:.2f})",
            highlight=False,
        )
    console.print(f"{path}", highlight=False)
