"""What every command module shares: the app, consoles, progress bars, parsing.

Commands register on `app` when their module is imported (`etholoop.cli`
imports them all).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

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


def choice(values: Iterable[str]) -> Any:
    """A `Literal` of `values`, for an option whose values a registry names.

    Typer lists a Literal's values in `--help` and its parser refuses any other,
    naming the valid ones. Registries are filled at run time, so a module
    annotates with the result under `if not TYPE_CHECKING` (and `str` for mypy).
    """
    return Literal[tuple(values)]


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
def progress() -> Iterator[RichReporter]:
    """Progress bars on stderr while the block runs (none unless a terminal)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bars:
        yield RichReporter(bars)


def split_list(text: str | None) -> list[str]:
    """The comma-separated items of an option, stripped; none for None."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def split_pairs(text: str | None, sep: str, option: str) -> list[tuple[str, str]]:
    """The `a<sep>b` items of a comma-separated option, as pairs.

    Raises:
        typer.BadParameter: an item is not of that form.
    """
    pairs = []
    for item in split_list(text):
        parts = item.split(sep)
        if len(parts) != 2 or not all(parts):
            raise typer.BadParameter(
                f"{item!r} is not of the form a{sep}b", param_hint=option
            )
        pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def fail_if(failures: list[Any], what: str) -> None:
    """Print each failure's message and exit 1 if there was any.

    Raises:
        typer.Exit: with code 1, when `failures` is not empty.
    """
    for failure in failures:
        err_console.print(
            f"[bold red]error:[/] {escape(failure.message)}", highlight=False
        )
    if failures:
        err_console.print(f"{len(failures)} {what} failed; the others were processed.")
        raise typer.Exit(1)


def run_id_option(value: str, option: str) -> int | None:
    """The run id an option such as `--pose-run` names: a number, or None for 'latest'.

    Raises:
        ConfigError: `value` is neither.
    """
    from etholoop.errors import ConfigError

    if value == "latest":
        return None
    if not value.isdigit():
        raise ConfigError(f"{option} {value}: give a run id or 'latest'")
    return int(value)
