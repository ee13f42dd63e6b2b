"""The `etholoop` command line: one command per stage, thin over the Python API.

One module per command group registers its commands on `app` when imported:
`project` (init, add-videos, preprocess, info), `labels` (import, export),
`sampling` (sample, split), `status`, `synth`, `pretrain`, `pose` (train,
predict, evaluate, cycle), `track`, `evaluate_tracks` (evaluate-tracks),
`behavior` (behavior import, behavior export), `behavior_runs` (behavior
train, predict, evaluate, next), `tracks` (tracks import), `serve`,
`analyze` (the main job: videos to tracks, ethograms and the report) and
`report`. Heavy libraries (torch, ultralytics) are imported inside the commands
that need them so that `etholoop --help` answers at once.
"""

from etholoop.cli._common import app

# Imported in the order `etholoop --help` lists their commands.
# isort: off
from etholoop.cli import project, labels, sampling, status, synth  # noqa: F401
from etholoop.cli import pretrain, pose, track, evaluate_tracks  # noqa: F401
from etholoop.cli import behavior, behavior_runs, tracks, serve  # noqa: F401
from etholoop.cli import analyze, report  # noqa: F401
# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point."""
    app()
