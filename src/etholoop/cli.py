"""The `etholoop` command line: one command per stage, thin over the Python API.

Heavy libraries (torch, ultralytics) are imported inside the commands that need
them so that `etholoop --help` answers at once.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from etholoop.errors import EtholoopError
from etholoop.progress import Advance

# soft_wrap: a message is one line however long its paths, as errors must be.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class _App(typer.Typer):
    """A Typer app that prints etholoop errors in one line and exits 1."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except EtholoopError as exc:
            err_console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False
            )
            sys.exit(1)


app = _App(
    name="etholoop",
    help="From raw rodent videos to per-animal, per-frame behavior labels.\n\n"
    "Typical order: init -> add-videos -> preprocess -> import (or annotate) -> "
    "export; `etholoop status PROJECT` shows where a project stands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # Help is plain text: Rich markup would swallow bracketed text such as
    # "[default: 0.15 on the first call, then kept]".
    rich_markup_mode=None,
)

ProjectArg = Annotated[
    Path,
    typer.Argument(help="Project folder (holds etholoop.yaml).", show_default=False),
]


class RichReporter:
    """Draws each progress task as a rich bar while a command runs."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    @contextmanager
    def __call__(self, description: str, total: int | None) -> Iterator[Advance]:
        """Add a bar for `description`; removed again when the block ends."""
        task = self.progress.add_task(description, total=total)
        try:
            yield lambda n: self.progress.advance(task, n)
        finally:
            self.progress.remove_task(task)


@contextmanager
def _progress() -> Iterator[RichReporter]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        yield RichReporter(progress)


def _split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _split_pairs(text: str | None, sep: str, option: str) -> list[tuple[str, str]]:
    pairs = []
    for item in _split_list(text):
        parts = item.split(sep)
        if len(parts) != 2 or not all(parts):
            raise typer.BadParameter(
                f"{item!r} is not of the form a{sep}b", param_hint=option
            )
        pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def _fail_if(failures: list[Any], what: str) -> None:
    for failure in failures:
        err_console.print(
            f"[bold red]error:[/] {escape(failure.message)}", highlight=False
        )
    if failures:
        err_console.print(f"{len(failures)} {what} failed; the others were processed.")
        raise typer.Exit(1)


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each stage does.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    animals: Annotated[int, typer.Option(help="Animals expected per frame.", min=1)],
    keypoints: Annotated[
        str, typer.Option(help="Keypoint names in order, e.g. nose,earL,earR,tailB.")
    ],
    skeleton: Annotated[
        str | None,
        typer.Option(help="Edges drawn between keypoints, e.g. nose-earL,nose-earR."),
    ] = None,
    symmetry: Annotated[
        str | None,
        typer.Option(
            help="Left/right keypoint pairs swapped by a flip, e.g. earL-earR. "
            "Default: guessed from names (earL/earR, leftear/rightear, L_ear/R_ear, "
            "paw1LH/paw4RH, ...); names marked left or right that find no partner "
            "are named in a warning."
        ),
    ] = None,
    behaviors: Annotated[
        str | None, typer.Option(help="Behavior names, e.g. rest,walk,groom.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Project name (default: folder).")
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            help="Database URL for the label store, e.g. "
            "postgresql://user@host/db. Default: etholoop.db inside the project."
        ),
    ] = None,
) -> None:
    """Create a project folder: writes PATH/etholoop.yaml and the label store."""
    from pydantic import ValidationError

    from etholoop.config import (
        ProjectConfig,
        SkeletonConfig,
        StoreConfig,
        guess_symmetry,
        unpaired_side_keypoints,
    )
    from etholoop.errors import ConfigError
    from etholoop.project import Project

    names = _split_list(keypoints)
    pairs = (
        _split_pairs(symmetry, "-", "--symmetry")
        if symmetry is not None
        else guess_symmetry(names)
    )
    unpaired = [] if symmetry is not None else unpaired_side_keypoints(names, pairs)
    try:
        config = ProjectConfig(
            name=name or path.resolve().name,
            animals=animals,
            skeleton=SkeletonConfig(
                keypoints=names,
                edges=_split_pairs(skeleton, "-", "--skeleton"),
                symmetry=pairs,
            ),
            behaviors=_split_list(behaviors),
            store=StoreConfig(url=store_url),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{path}: {message}") from None
    with Project.create(path, config) as project:
        console.print(f"Created project [bold]{project.root}[/]")
        console.print(f"  config: {project.config_path}")
        console.print(f"  store:  {project.store_url}")
    if unpaired:
        err_console.print(
            f"[bold yellow]warning:[/] no left/right partner for "
            f"{escape(', '.join(unpaired))}; flip augmentation swaps only the "
            "listed pairs (pass --symmetry a-b,... or train with --no-flip)",
            highlight=False,
        )


@app.command("add-videos")
def add_videos_command(
    project_path: ProjectArg,
    files: Annotated[list[Path], typer.Argument(help="Video files to register.")],
    condition: Annotated[
        str | None, typer.Option(help="Experimental condition of these videos.")
    ] = None,
) -> None:
    """Register videos (hash, fps, frames, size, codec); duplicates are reported."""
    from etholoop.ingest import add_videos
    from etholoop.project import Project

    with Project.open(project_path) as project, _progress() as report:
        result = add_videos(project, files, condition=condition, report=report)
    for path, existing in result.duplicates:
        console.print(f"skipped {path}: same content as registered {existing}")
    console.print(f"Added {len(result.added)} video(s) to {project.root}")
    _fail_if(result.failed, "video(s)")


@app.command()
def preprocess(
    project_path: ProjectArg,
    fps: Annotated[float | None, typer.Option(help="Output frame rate.")] = None,
    size: Annotated[
        int | None, typer.Option(help="Longest side of the output in px.")
    ] = None,
    gray: Annotated[
        bool | None, typer.Option("--gray/--color", help="Grayscale output.")
    ] = None,
    start: Annotated[float, typer.Option(help="Start time in seconds.", min=0)] = 0.0,
    duration: Annotated[
        float | None, typer.Option(help="Seconds to keep from START.", min=0)
    ] = None,
) -> None:
    """Write normalized copies of the raw videos to PROJECT/videos (resumable).

    Unset options take the `video:` defaults of etholoop.yaml; a video already
    normalized with the same settings is skipped.
    """
    from etholoop.ingest import preprocess_videos
    from etholoop.project import Project
    from etholoop.relabel import describe_moves
    from etholoop.video import PreprocessParams

    with Project.open(project_path) as project, _progress() as report:
        defaults = project.config.video
        params = PreprocessParams(
            fps=fps if fps is not None else defaults.fps,
            size=size if size is not None else defaults.size,
            gray=gray if gray is not None else defaults.gray,
            start_s=start,
            duration_s=duration,
            crf=defaults.crf,
            keyframe_interval=defaults.keyframe_interval,
        )
        result = preprocess_videos(project, params, report=report)
    console.print(
        f"Preprocessed {len(result.written)} video(s), {len(result.skipped)} already "
        f"done; outputs in {project.videos_dir}"
    )
    for line in describe_moves(result.moves):
        console.print(line)
    _fail_if(result.failed, "video(s)")


@app.command("import")
def import_command(
    project_path: ProjectArg,
    file: Annotated[
        Path,
        typer.Argument(
            help="Label file, DeepLabCut labeled-data/<video>/ or project folder, "
            "or YOLO dataset folder."
        ),
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help="dlc, slp, coco, yolo, nwb or auto.")
    ] = "auto",
    keypoint_map: Annotated[
        str | None,
        typer.Option(
            help="Rename file keypoints to project ones: snout=nose,... With a map, "
            "file keypoints matching no project keypoint are dropped and project "
            "keypoints the file lacks stay unlabeled."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Mark every imported instance manual or predicted "
            "(default: as the file says; DLC likelihood columns mean predicted)."
        ),
    ] = None,
) -> None:
    """Import labels into the store; keypoints are matched to the project skeleton."""
    from etholoop.label_files import import_labels
    from etholoop.project import Project
    from etholoop.relabel import describe_moves
    from etholoop.types import SOURCES

    if source is not None and source not in SOURCES:
        raise typer.BadParameter(f"expected one of {SOURCES}", param_hint="--source")
    mapping = dict(_split_pairs(keypoint_map, "=", "--keypoint-map"))
    with Project.open(project_path) as project, _progress() as report:
        result = import_labels(
            project,
            file,
            format=format,
            keypoint_map=mapping,
            source=source,
            report=report,
        )
    console.print(
        f"Imported {result.n_instances} instance(s) on {result.n_frames} frame(s) "
        f"from {file}"
        + (
            f"; {result.n_skipped} frame(s) already labeled, kept"
            if result.n_skipped
            else ""
        )
    )
    if result.dropped:
        console.print(
            f"dropped file keypoints not in the project: {', '.join(result.dropped)}"
        )
    if result.unlabeled:
        console.print(
            "project keypoints not in the file, left unlabeled: "
            + ", ".join(result.unlabeled)
        )
    for line in describe_moves(result.moves):
        console.print(line)


@app.command("export")
def export_command(
    project_path: ProjectArg,
    out: Annotated[
        Path,
        typer.Argument(
            help="Output file or folder: a folder gets OUT/labels.json (+ images/), "
            "labels.slp, labels.nwb, a YOLO dataset or, for dlc, a DeepLabCut "
            "project's labeled-data/<video>/ folders (a .csv is one table)."
        ),
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help="dlc, slp, coco, yolo or nwb.")
    ],
    include_predictions: Annotated[
        bool, typer.Option(help="Also write predicted instances.")
    ] = False,
    scorer: Annotated[
        str | None,
        typer.Option(
            help="DeepLabCut scorer (default: the DLC scorer the labels were "
            "imported with, else etholoop)."
        ),
    ] = None,
) -> None:
    """Export the manually labeled frames to OUT in a standard format."""
    from etholoop.label_files import export_labels
    from etholoop.project import Project

    with Project.open(project_path) as project, _progress() as report:
        result = export_labels(
            project,
            out,
            format=format,
            include_predictions=include_predictions,
            scorer=scorer,
            report=report,
        )
    kind = "" if include_predictions else "manual "
    scorer_note = f" (scorer {result.scorer})" if result.scorer else ""
    console.print(
        f"Exported {result.n_instances} {kind}instance(s) on {result.n_frames} "
        f"frame(s) to {out}{scorer_note}"
    )


@app.command()
def sample(
    project_path: ProjectArg,
    n: Annotated[int, typer.Option("--n", help="Frames to choose.", min=1)],
    strategy: Annotated[
        str, typer.Option(help="stratified, uniform or diverse.")
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

    with Project.open(project_path) as project, _progress() as report:
        result = sample_frames(
            project,
            n=n,
            strategy=strategy,
            strata=_split_list(strata),
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


@app.command()
def status(
    project_path: ProjectArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show videos, frames, labels per split and source, and cycles."""
    from etholoop.project import Project
    from etholoop.status import project_status

    with Project.open(project_path) as project:
        summary = project_status(project)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_status(summary)


def _print_status(summary: dict[str, Any]) -> None:
    console.print(f"[bold]{summary['name']}[/] at {summary['project']}")
    console.print(
        f"  {summary['animals']} animal(s), keypoints {', '.join(summary['keypoints'])}"
        + (
            f"; behaviors {', '.join(summary['behaviors'])}"
            if summary["behaviors"]
            else ""
        )
    )
    console.print(f"  store: {summary['store']}")
    videos = Table(
        "id", "video", "from", "frames", "fps", "size", "codec", title="Videos"
    )
    for v in summary["videos"]:
        videos.add_row(
            str(v["id"]),
            v["path"],
            "" if v["normalized_from"] is None else str(v["normalized_from"]),
            str(v["frames"]),
            "" if v["fps"] is None else f"{v['fps']:.2f}",
            f"{v['size'][0]}x{v['size'][1]}",
            v["codec"],
        )
    console.print(videos)
    labels = Table("split", "frames", "manual", "predicted", title="Frames and labels")
    for split, n_frames in summary["frames"].items():
        by_source = summary["labels"][split]
        labels.add_row(
            split,
            str(n_frames),
            *(
                f"{by_source[s]['instances']} on {by_source[s]['frames']} frames"
                for s in ("manual", "predicted")
            ),
        )
    console.print(labels)
    _print_pool(summary["pool"])
    cycles = summary["cycles"]
    console.print(
        f"  cycles: {len(cycles)}"
        + (f" (latest {cycles[-1]['index']})" if cycles else "")
    )
    if any(c["runs"] or c["settings"] for c in cycles):
        _print_cycles(cycles)


def _print_cycles(cycles: list[dict[str, Any]]) -> None:
    table = Table(title="Cycles and their models (test split)")
    for column in (
        "cycle",
        "chosen by",
        "run",
        "status",
        "PCK@0.1",
        "OKS mAP",
        "RMSE px",
    ):
        table.add_column(column)
    for c in cycles:
        chosen = (c["settings"] or {}).get("strategy", "split")
        for run in c["runs"] or [None]:
            test = (run or {}).get("test") or {}
            cells = [test.get("pck@0.1"), test.get("oks_map50_95"), test.get("rmse")]
            table.add_row(
                str(c["index"]),
                chosen,
                "-" if run is None else str(run["id"]),
                "-" if run is None else run["status"],
                *("-" if v is None else f"{v:.3f}" for v in cells),
            )
    console.print(table)


def _print_pool(pool: dict[str, dict[str, int]]) -> None:
    splits = [name for name, by_stratum in pool.items() if by_stratum]
    strata = sorted({s for name in splits for s in pool[name]})
    if not strata:
        return
    table = Table("stratum", *splits, title="Frames per split and stratum")
    for stratum in strata:
        table.add_row(stratum, *(str(pool[name].get(stratum, 0)) for name in splits))
    console.print(table)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the arena into.")],
    animals: Annotated[int, typer.Option(help="Number of mice.", min=1)] = 3,
    frames: Annotated[int, typer.Option(help="Number of frames.", min=1)] = 1800,
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = "640x480",
    fps: Annotated[float, typer.Option(help="Frames per second.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same arena.")] = 0,
    gray: Annotated[
        bool, typer.Option("--gray/--color", help="Grayscale video.")
    ] = False,
    behaviors: Annotated[
        str | None,
        typer.Option(
            help="Behaviors the mice switch between"
            " [default: all; rest,walk,chase with --from-labeled]."
        ),
    ] = None,
    min_contacts: Annotated[
        int, typer.Option(help="At least this many close contacts between mice.", min=0)
    ] = 0,
    from_labeled: Annotated[
        Path | None,
        typer.Option(
            help="Compose the mice from real single-mouse labeled frames: a label "
            "file or a project folder (keypoints are the source's).",
        ),
    ] = None,
) -> None:
    """Generate a synthetic arena video with exact ground truth.

    Writes OUT/arena.mp4, OUT/arena.slp (importable with `etholoop import`),
    OUT/truth.npz, OUT/behaviors.csv and OUT/contacts.csv.
    """
    from etholoop.errors import ConfigError
    from etholoop.synth import (
        COMPOSABLE_BEHAVIORS,
        ArenaSpec,
        load_source_mice,
        make_arena,
        make_composed_arena,
        write_arena,
    )
    from etholoop.synth.config import BEHAVIORS

    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"{out}: --size must be WIDTHxHEIGHT, got {size!r}") from None
    if behaviors is None:
        chosen = COMPOSABLE_BEHAVIORS if from_labeled else BEHAVIORS
    else:
        chosen = tuple(_split_list(behaviors))
    source = None if from_labeled is None else load_source_mice(from_labeled)
    try:
        spec = ArenaSpec(
            n_animals=animals,
            n_frames=frames,
            width=width,
            height=height,
            fps=fps,
            seed=seed,
            gray=gray,
            behaviors=chosen,
            min_contacts=min_contacts,
        )
        arena = (
            make_arena(spec) if source is None else make_composed_arena(spec, source)
        )
    except ValueError as exc:
        raise ConfigError(f"{from_labeled or out}: {exc}") from None
    with _progress() as report:
        written = write_arena(arena, out, progress=report)
    console.print(
        f"Wrote {frames} frames of {animals} mice with {len(arena.contacts)} "
        f"contact(s) to {out}"
    )
    for key, path in written.items():
        console.print(f"  {key:>9}: {path}")


@app.command()
def train(
    ctx: typer.Context,
    project_path: ProjectArg,
    task: Annotated[str, typer.Option(help="What to train: pose.")] = "pose",
    model: Annotated[
        str, typer.Option(help="Architecture, built from its config (no download).")
    ] = "yolo11n-pose",
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the frames.")] = 50,
    imgsz: Annotated[int, typer.Option(min=32, help="Input size in px.")] = 640,
    batch: Annotated[int, typer.Option(min=1, help="Images per step.")] = 16,
    weights: Annotated[
        Path | None, typer.Option(help="Start from these weights (.pt).")
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option(
            help="Start from the weights of an earlier run: its id (see `etholoop "
            "status`) or 'latest'. Continuing the last cycle's model needs far "
            "fewer epochs than training from scratch."
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="cpu or a GPU index; default: GPU if present.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    flip: Annotated[
        bool,
        typer.Option(
            "--flip/--no-flip",
            help="Mirror half the training images left-right, swapping the "
            "skeleton's symmetry pairs. --no-flip for a rig where the animals "
            "always face one way, or keypoints marked left/right without a pair.",
        ),
    ] = True,
    rotate: Annotated[
        float,
        typer.Option(
            metavar="DEG",
            min=0,
            max=180,
            help="Rotate training images at random by up to +/- DEG degrees "
            "(top views: any angle occurs, up to 180).",
        ),
    ] = 0.0,
    scale: Annotated[
        float,
        typer.Option(
            metavar="FRACTION",
            min=0,
            max=0.9,
            help="Zoom training images in or out at random by up to FRACTION "
            "(0.5: 50-150 %).",
        ),
    ] = 0.5,
    translate: Annotated[
        float,
        typer.Option(
            metavar="FRACTION",
            min=0,
            max=0.9,
            help="Shift training images at random by up to FRACTION of their size.",
        ),
    ] = 0.1,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment/--no-augment",
            help="--no-augment: train on the images as they are (no flip, "
            "rotation, zoom, shift, mosaic or color change).",
        ),
    ] = True,
) -> None:
    """Train a pose model on the labeled train+val frames of the latest cycle.

    The run (settings, the exact labels used, metrics per epoch, weights) is
    recorded in the store; a training-curve plot goes to its folder. Ctrl+C or
    SIGTERM marks the run interrupted.
    """
    from etholoop.errors import ConfigError
    from etholoop.pose.backend import TrainParams
    from etholoop.pose.train import RunInterrupted, previous_run_weights, train_pose
    from etholoop.project import Project

    if task != "pose":
        raise ConfigError(f"--task {task}: only 'pose' can be trained so far")
    given = [  # by name: typer ships its own copy of click's ParameterSource
        f"--{name}"
        for name in ("rotate", "scale", "translate")
        if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
    ]
    if not augment and given:
        raise ConfigError(
            f"--no-augment turns every augmentation off; drop {', '.join(given)}"
        )
    if weights is not None and from_run is not None:
        raise ConfigError("--weights and --from-run both given: choose one")
    if weights is not None and not weights.is_file():
        raise ConfigError(f"{weights}: no such weights file")
    if from_run is not None and from_run != "latest" and not from_run.isdigit():
        raise ConfigError(f"--from-run {from_run}: give a run id or 'latest'")
    try:
        with Project.open(project_path) as project, _progress() as report:
            if from_run is not None:
                run_id = None if from_run == "latest" else int(from_run)
                weights = previous_run_weights(project, run_id)
            params = TrainParams(
                model=model,
                epochs=epochs,
                imgsz=imgsz,
                batch=batch,
                weights=weights,
                device=device,
                seed=seed,
                flip=flip,
                rotate=rotate,
                scale=scale,
                translate=translate,
                augment=augment,
            )
            result = train_pose(project, params, report=report)
    except RunInterrupted as stopped:
        err_console.print(
            f"{stopped}; marked interrupted in the store", highlight=False
        )
        raise typer.Exit(128 + stopped.signum) from None
    console.print(
        f"run {result.run_id}: trained on {result.n_train} frames "
        f"(+{result.n_val} validation) for {len(result.epochs)} epoch(s)"
    )
    console.print(f"  weights: {result.weights}\n  curves:  {result.curves}")


@app.command()
def predict(
    project_path: ProjectArg,
    run: Annotated[
        int | None, typer.Option(help="Model run id; default: the latest.")
    ] = None,
    subset: Annotated[
        str, typer.Option(help="Frames to predict: predict, reserve, test or all.")
    ] = "predict",
) -> None:
    """Store a pose model's predictions as editable `predicted` instances.

    Frames holding manual labels are never touched; earlier predictions on the
    others are replaced. A frame keeps at most the project's number of animals,
    the best scored. Correct them in `etholoop serve`.
    """
    from etholoop.errors import ConfigError
    from etholoop.pose.predict import SUBSETS, predict_frames
    from etholoop.project import Project

    if subset not in SUBSETS:
        raise ConfigError(f"--subset {subset}: choose from {list(SUBSETS)}")
    with Project.open(project_path) as project, _progress() as report:
        result = predict_frames(project, run_id=run, subset=subset, report=report)
    console.print(
        f"run {result.run_id}: {result.n_instances} instance(s) on "
        f"{result.n_frames} frame(s); {result.n_empty} frame(s) with none; "
        f"{result.n_manual} frame(s) with manual labels left alone"
    )


@app.command()
def evaluate(
    project_path: ProjectArg,
    run: Annotated[
        int | None, typer.Option(help="Model run id; default: the latest.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a pose model on the test split: mAP, OKS mAP, PCK, RMSE, counts.

    Writes metrics.json and a plot to the run's folder and records the metrics.
    """
    from etholoop.pose.evaluate import evaluate_run
    from etholoop.project import Project

    with Project.open(project_path) as project, _progress() as report:
        result = evaluate_run(project, run_id=run, report=report)
    metrics = result.metrics.to_dict()
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
        return
    console.print(f"run {result.run_id} on {metrics['n_frames']} test frame(s):")
    for key in ("box_map50", "box_map50_95", "oks_map50", "oks_map50_95"):
        console.print(f"  {key:>14}: {metrics[key]:.3f}")
    for threshold, value in metrics["pck"].items():
        console.print(f"  {'PCK@' + threshold:>14}: {value:.3f}")
    rmse = metrics["rmse"]
    console.print(f"  {'RMSE px':>14}: " + ("–" if rmse is None else f"{rmse:.1f}"))
    console.print(
        f"  {'animals':>14}: {metrics['n_missed']} missed, {metrics['n_extra']} "
        f"extra, {metrics['n_frames_wrong_count']} frame(s) with a wrong count"
    )
    console.print(f"  metrics: {result.metrics_json}\n  plot:    {result.plot}")


@app.command()
def cycle(
    project_path: ProjectArg,
    strategy: Annotated[
        str,
        typer.Option(
            help="stratified, uniform, random, diverse, uncertainty (least sure "
            "frames) or hybrid (least sure frames of every stratum)."
        ),
    ] = "stratified",
    n: Annotated[
        int,
        typer.Option(
            help="Frames in the next prediction subset (0: only move corrections)."
        ),
    ] = 50,
    run: Annotated[
        int | None, typer.Option(help="Model run that ranks frames; default latest.")
    ] = None,
    val_fraction: Annotated[
        float, typer.Option(help="Share of new train+val frames for validation.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Start the next active-learning cycle.

    Corrected prediction frames (all predictions confirmed or fixed) join
    train+val; the next frames to predict and correct are drawn from the reserve.
    """
    from etholoop.cycle import advance_cycle
    from etholoop.project import Project

    with Project.open(project_path) as project, _progress() as report:
        result = advance_cycle(
            project,
            strategy=strategy,
            n=n,
            run_id=run,
            val_fraction=val_fraction,
            seed=seed,
            report=report,
        )
    console.print(
        f"cycle {result.cycle}: {result.n_corrected} corrected frame(s) joined "
        f"train+val, {result.n_returned} returned to the reserve, {result.n_chosen} "
        f"chosen to predict by {result.strategy}"
    )
    console.print("  " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))


@app.command()
def serve(
    project_path: ProjectArg,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; other than loopback needs --token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(help="Secret every request must present (?token=... in the URL)."),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the app in a browser.")
    ] = False,
) -> None:
    """Serve the annotation web app: label poses and behavior timelines in a browser.

    Pose view at /, behavior timeline at /timeline, API docs at /docs. Every save
    goes to the project store at once; press H in the app for the shortcuts.
    """
    from etholoop.annotate import serve as serve_app
    from etholoop.project import Project

    with Project.open(project_path) as project:
        serve_app(project, host=host, port=port, token=token, open_browser=open_browser)


@app.command()
def info() -> None:
    """Print versions of Python, etholoop, torch, PyAV/FFmpeg and the compute device."""
    from etholoop.system import system_info

    for key, value in system_info().items():
        console.print(f"{key:>12}: {value}", highlight=False)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
