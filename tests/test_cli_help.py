"""Every command answers `--help`, and closed choices list every registered value.

Choices come from the registries and literals the stages dispatch on, so a new
format or strategy shows in `--help` and an unknown value is refused by the parser
(exit 2) with the valid ones named, before any project is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.io import FORMATS
from etholoop.io._registry import REGISTRY
from etholoop.sampling import STRATEGIES
from etholoop.types import SOURCES, SUBSETS

runner = CliRunner()
COMMAND_NAMES = {
    "pretrain",
    "init",
    "add-videos",
    "preprocess",
    "info",
    "import",
    "export",
    "sample",
    "split",
    "status",
    "synth",
    "train",
    "predict",
    "evaluate",
    "cycle",
    "track",
    "evaluate-tracks",
    "behavior",
    "next",
    "tracks",
    "serve",
    "analyze",
    "report",
}


def _command_paths(
    command: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """The path of `command` and of every command below it, depth first."""
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _command_paths(sub, (*path, name))


COMMAND_PATHS = list(_command_paths(typer.main.get_command(app)))


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_the_tree_holds_every_command() -> None:
    assert {path[-1] for path in COMMAND_PATHS if path} == COMMAND_NAMES


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "root")
def test_every_command_answers_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(('etholoop', *path))} ")


def test_import_help_lists_nwb_and_sample_help_lists_random() -> None:
    assert "nwb" in _help("import").split("--format")[1].split("--")[0]
    assert "random" in _help("sample").split("--strategy")[1].split("--")[0]


CHOICES = [
    ("import", "--format", (*(n for n in FORMATS if REGISTRY[n].reader), "auto")),
    ("export", "--format", tuple(n for n in FORMATS if REGISTRY[n].writer)),
    ("import", "--source", SOURCES),
    (
        "sample",
        "--strategy",
        tuple(n for n, s in STRATEGIES.items() if not s.needs_scores),
    ),
    ("cycle", "--strategy", tuple(STRATEGIES)),
    ("predict", "--subset", SUBSETS),
]


@pytest.mark.parametrize(("command", "option", "values"), CHOICES)
def test_help_lists_every_choice(
    command: str, option: str, values: tuple[str, ...]
) -> None:
    assert f"{option} <{'|'.join(values)}>" in _help(command)


@pytest.mark.parametrize(("command", "option", "values"), CHOICES)
def test_an_unknown_choice_is_refused_with_the_valid_ones(
    command: str, option: str, values: tuple[str, ...], tmp_path: Any
) -> None:
    args = [command, str(tmp_path), option, "bogus"]
    if command == "export":
        args.insert(2, str(tmp_path / "out"))
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"'bogus' is not one of {', '.join(map(repr, values))}" in result.output
