"""`etholoop evaluate-tracks`: score identity tracks against ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from etholoop.cli._common import app, console
from etholoop.evaluate.tracking import DEFAULT_GATE_PX
from etholoop.formatting import format_metric


def _positive(value: float) -> float:
    if not value > 0:
        raise typer.BadParameter(f"must be positive, got {value:g}")
    return value


@app.command("evaluate-tracks")
def evaluate_tracks(
    tracks: Annotated[
        Path,
        typer.Argument(
            help="Tracks to score: .slp, .nc, .csv/.h5 (DeepLabCut) or .nwb.",
            show_default=False,
        ),
    ],
    ground_truth: Annotated[
        Path,
        typer.Argument(
            help="Tracks with the true identities, in any of the same formats.",
            show_default=False,
        ),
    ],
    gate: Annotated[
        float,
        typer.Option(
            "--gate",
            callback=_positive,
            help="Largest distance in px between the two keypoint centroids of a "
            "match.",
        ),
    ] = DEFAULT_GATE_PX,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print IDF1, MOTA, identity switches, precision, recall and HOTA.

    Each animal is placed at the centroid of the keypoints both files name;
    frames are matched by index over the shorter of the two. Writes nothing.
    """
    from etholoop.evaluate import score_tracks
    from etholoop.io.tracks import read_tracks

    scores = score_tracks(
        read_tracks(tracks),
        read_tracks(ground_truth),
        gate_px=gate,
        predicted_name=str(tracks),
        truth_name=str(ground_truth),
    )
    if as_json:
        typer.echo(json.dumps(scores.to_dict(), indent=2))
        return
    values = scores.to_dict()
    table = Table("metric", "value", title=f"{escape(str(tracks))} vs ground truth")
    for name, key in (
        ("IDF1", "idf1"),
        ("MOTA", "mota"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("HOTA", "hota"),
    ):
        table.add_row(name, format_metric(values[key]))
    table.add_row("identity switches", str(scores.id_switches))
    table.add_row(
        "ids predicted / true", f"{scores.n_predicted_ids} / {scores.n_true_ids}"
    )
    console.print(table)
    console.print(
        f"  {scores.n_frames} frames; matched within {scores.gate_px:g} px by the "
        f"centroid of {', '.join(scores.keypoints)}",
        highlight=False,
    )
