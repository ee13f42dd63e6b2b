"""`behavior import` and `behavior export`: behavior label files in and out."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etholoop.cli._common import ProjectArg, app, choice, console, split_list
from etholoop.io.behavior_files import (
    BEHAVIOR_FORMATS,
    SINGLE_ANIMAL_FORMATS,
    BehaviorFormat,
    FileLabels,
)

if TYPE_CHECKING:
    from etholoop.project import Project

    FormatChoice = BehaviorFormat
else:
    FormatChoice = choice(BEHAVIOR_FORMATS)

behavior_app = typer.Typer(
    name="behavior",
    help="Behavior label files in and out of the store the timeline view edits.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(behavior_app, name="behavior")

FORMAT_HELP = (
    "frame-action: Frame,Action rows, one behavior name or 'none' per frame "
    "(exclusive); onehot: one 0/1 column per behavior, optional frame column "
    "(multi-label); boris: BORIS aggregated events, times in s at the video's "
    "fps; long: frame,individual,behavior rows per animal and frame (synth's "
    "behaviors.csv)."
)
SessionOpt = Annotated[
    str,
    typer.Option(
        "--session",
        help="The session: a video's stored path, file name or stem, or the "
        "name of a session of imported tracks.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    FormatChoice,
    typer.Option("--format", help=FORMAT_HELP, show_default=False),
]
ClassesOpt = Annotated[
    str | None,
    typer.Option(
        help="frame-action: the names of the integer class ids, in order (id 0 "
        "first), e.g. none,paw_guard,flinch,paw_lick; 'none' is no behavior.",
        show_default=False,
    ),
]
_TRAILING_NUMBER = re.compile(r"^\D*?(\d+)$")


def _animal_index(project: Project, text: str) -> int:
    """An animal given as `0` or `animal0`, checked against the project."""
    from etholoop.errors import ProjectError

    match = _TRAILING_NUMBER.match(text.strip())
    if match is None:
        raise typer.BadParameter(
            f"{text!r}: give an animal number (0, 1, ...) or animalN",
            param_hint="--animal",
        )
    index = int(match.group(1))
    if index >= project.config.animals:
        raise ProjectError(
            f"{project.root}: animal {index} does not exist; the project has "
            f"{project.config.animals} (0..{project.config.animals - 1})"
        )
    return index


def _animal_map(
    project: Project, labels: FileLabels, fmt: str, animal: str | None, file: Path
) -> dict[str, int]:
    """Which animal of the project each animal name of the file is."""
    from etholoop.errors import FormatError

    subjects = list(labels.animals)
    if fmt in SINGLE_ANIMAL_FORMATS:
        return {"": _animal_index(project, animal or "0")}
    if animal is not None and "=" in animal:
        mapping = {}
        for item in filter(None, (part.strip() for part in animal.split(","))):
            name, _, index = item.rpartition("=")
            mapping[name.strip()] = _animal_index(project, index)
        unknown = sorted(set(mapping) - set(subjects))
        unmapped = sorted(set(subjects) - set(mapping))
        if unknown or unmapped:
            raise FormatError(
                f"{file}: --animal names subjects {unknown} the file lacks"
                if unknown
                else f"{file}: subjects {unmapped} are not mapped by --animal "
                f"(subjects: {subjects})"
            )
    elif len(subjects) == 1:
        mapping = {subjects[0]: _animal_index(project, animal or "0")}
    elif animal is None and fmt == "long" and _numbered(subjects):
        mapping = {s: _animal_index(project, s) for s in subjects}
    else:
        raise FormatError(
            f"{file}: subjects {subjects}; say which is which animal with "
            "--animal SUBJECT=0,SUBJECT=1"
        )
    if len(set(mapping.values())) != len(mapping):
        raise FormatError(f"{file}: --animal maps two subjects to one animal")
    return mapping


def _numbered(subjects: list[str]) -> bool:
    """Whether every name ends in a number of its own (mouse0, animal1, ...)."""
    numbers = [_TRAILING_NUMBER.match(s) for s in subjects]
    return all(numbers) and len({m.group(1) for m in numbers if m}) == len(subjects)


@behavior_app.command("import")
def import_command(
    project_path: ProjectArg,
    file: Annotated[
        Path, typer.Argument(help="The label file (CSV).", show_default=False)
    ],
    session_name: SessionOpt,
    fmt: FormatOpt,
    animal: Annotated[
        str | None,
        typer.Option(
            help="frame-action, onehot: the animal (0, 1, ... or animalN; default "
            "0). boris, long: SUBJECT=A,... for each subject of the file; a "
            "single subject goes to animal 0 (or to --animal A); long tables "
            "whose individuals end in numbers (mouse0, animal1) go by them.",
            show_default=False,
        ),
    ] = None,
    merge: Annotated[
        list[str] | None,
        typer.Option(
            help="Rename behaviors before the check against the project's, e.g. "
            "paw_guard,flinch=paw_withdraw (repeatable; =none drops them).",
            show_default=False,
        ),
    ] = None,
    classes: ClassesOpt = None,
) -> None:
    """Import one video's behavior labels from a file as manual ranges.

    Rule: for each animal in the file, the import replaces that animal's ranges,
    manual and predicted, of the behaviors the file names (the frame-action
    Actions and long behaviors that occur, the onehot columns, the BORIS
    behaviors with events, after --merge); other behaviors and other animals
    stay.
    The file must cover the video's frames exactly (BORIS: no bout past its end)
    and name only the project's behaviors; otherwise nothing is written.
    """
    from etholoop.behavior_ranges import ranges_from_labels
    from etholoop.errors import FormatError
    from etholoop.io.behavior_files import (
        merge_behaviors,
        parse_merge,
        read_behavior_file,
    )
    from etholoop.project import Project
    from etholoop.sessions import get_session
    from etholoop.store.behaviors import load_behavior_ranges, save_behavior_ranges

    mapping = parse_merge(merge or [])
    with Project.open(project_path) as project, project.store.session() as session:
        video = get_session(session, project, session_name)
        labels = merge_behaviors(
            read_behavior_file(
                file,
                fmt,
                n_frames=video.n_frames,
                fps=video.fps,
                classes=split_list(classes) if classes else None,
            ),
            mapping,
        )
        known = project.config.behaviors
        unknown = [b for b in labels.behaviors if b not in known]
        if unknown:
            raise FormatError(
                f"{file}: behaviors {unknown} are not the project's ({known}); "
                "map them with --merge"
            )
        animals = _animal_map(project, labels, fmt, animal, file)
        replaced = {(a, b) for a in animals.values() for b in labels.behaviors}
        stored = load_behavior_ranges(session, video.id)
        kept = [r for r in stored if (r.individual, r.behavior) not in replaced]
        new = [
            r
            for name, index in animals.items()
            for r in ranges_from_labels(
                labels.animals[name], labels.behaviors, individual=index
            )
        ]
        save_behavior_ranges(
            session,
            video_id=video.id,
            ranges=[*kept, *new],
            base_versions={
                r.id: r.version for r in stored if r.id is not None and r.version
            },
        )
        video_path = video.path
    console.print(
        f"{file}: {len(new)} manual range(s) of {list(labels.behaviors)} for "
        f"animal(s) {sorted(animals.values())} of {video_path}; "
        f"{len(stored) - len(kept)} replaced",
        highlight=False,
    )


@behavior_app.command("export")
def export_command(
    project_path: ProjectArg,
    session_name: SessionOpt,
    fmt: FormatOpt,
    animal: Annotated[
        str | None,
        typer.Option(
            help="The animal (0, 1, ... or animalN). frame-action and onehot hold "
            "one (default 0); boris and long hold every animal unless given "
            "(subjects named animal0, animal1, ...).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="File to write; default: PROJECT/exports/<session>"
            "[.animalN].<format>.csv.",
            show_default=False,
        ),
    ] = None,
    classes: ClassesOpt = None,
) -> None:
    """Export one video's behavior labels (manual and predicted) to a file."""
    from etholoop.atomic import written_atomically
    from etholoop.behavior_ranges import one_hot
    from etholoop.io.behavior_files import write_behavior_file
    from etholoop.project import Project
    from etholoop.sessions import get_session
    from etholoop.sessions import session_name as short_name
    from etholoop.store.behaviors import load_behavior_ranges

    with Project.open(project_path) as project, project.store.session() as session:
        video = get_session(session, project, session_name)
        ranges = load_behavior_ranges(session, video.id)
        n_frames, fps, video_path = video.n_frames, video.fps, video.path
        stem = short_name(session, video)
        if animal is not None:
            indices = [_animal_index(project, animal)]
        elif fmt in SINGLE_ANIMAL_FORMATS:
            indices = [0]
        else:
            indices = list(range(project.config.animals))
        behaviors = list(project.config.behaviors)
        animals = {
            f"animal{i}": one_hot(ranges, behaviors, n_frames=n_frames, individual=i)
            for i in indices
        }
        suffix = (
            f".animal{indices[0]}" if animal is not None or len(indices) == 1 else ""
        )
        path = out or project.exports_dir / f"{stem}{suffix}.{fmt}.csv"
    text = io.StringIO()
    write_behavior_file(
        text,
        fmt,
        animals,
        behaviors,
        fps=fps,
        media=video_path,
        classes=split_list(classes) if classes else None,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(path) as partial:
        partial.write_text(text.getvalue(), encoding="utf-8")
    console.print(
        f"{path}: {fmt} labels of animal(s) {indices} of {video_path} "
        f"({n_frames} frames)",
        highlight=False,
    )
