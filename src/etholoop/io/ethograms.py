"""Predicted ethograms as files: per-frame CSVs, a netCDF, a bouts table.

For a session stem `S`:

- `S.probabilities.csv`: `frame,individual,<behavior>...`, one row per frame and
  animal, probabilities in [0, 1].
- `S.ethogram.csv`: the same rows, 0/1 after thresholds and bout rules.
- `S.ethogram.nc`: both, as variables `probability` and `label` with dims
  `time`, `individuals`, `behaviors` (attrs `fps` when known), in the spirit of
  movement's poses files.
- `S.bouts.csv`: `animal,behavior,start,stop,duration,duration_s,mean_probability`,
  one row per bout; frames [start, stop), duration in frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etholoop.atomic import written_atomically
from etholoop.behavior_ranges import runs_of_true
from etholoop.errors import FormatError
from etholoop.types import Ethogram

SUFFIXES = {
    "probabilities": ".probabilities.csv",
    "ethogram": ".ethogram.csv",
    "netcdf": ".ethogram.nc",
    "bouts": ".bouts.csv",
}
"""File kind -> suffix after the session stem."""


def _per_frame_table(ethogram: Ethogram) -> pd.DataFrame:
    n_frames, n_animals, _ = ethogram.values.shape
    table = pd.DataFrame(
        {
            "frame": np.repeat(np.arange(n_frames), n_animals),
            "individual": np.tile(np.asarray(ethogram.individuals), n_frames),
        }
    )
    flat = ethogram.values.reshape(n_frames * n_animals, -1)
    for k, behavior in enumerate(ethogram.behaviors):
        column = flat[:, k]
        table[behavior] = column.astype(np.uint8) if column.dtype == bool else column
    return table


def bouts_table(
    probabilities: Ethogram, labels: Ethogram, fps: float | None
) -> pd.DataFrame:
    """One row per bout of `labels`: animal, behavior, frames, duration, probability."""
    rows = []
    for i, animal in enumerate(labels.individuals):
        for k, behavior in enumerate(labels.behaviors):
            for start, stop in runs_of_true(np.asarray(labels.values[:, i, k], bool)):
                p = np.asarray(probabilities.values[start:stop, i, k], np.float64)
                rows.append(
                    {
                        "animal": animal,
                        "behavior": behavior,
                        "start": start,
                        "stop": stop,
                        "duration": stop - start,
                        "duration_s": (stop - start) / fps if fps else np.nan,
                        "mean_probability": float(np.nanmean(p)) if p.size else np.nan,
                    }
                )
    columns = [
        "animal",
        "behavior",
        "start",
        "stop",
        "duration",
        "duration_s",
        "mean_probability",
    ]
    return pd.DataFrame(rows, columns=columns).sort_values(["start", "animal"])


def write_ethogram_files(
    stem: Path, probabilities: Ethogram, labels: Ethogram, fps: float | None
) -> dict[str, Path]:
    """Write the four files of one session beside `stem`; kind -> path."""
    import xarray as xr

    paths = {kind: stem.with_name(stem.name + s) for kind, s in SUFFIXES.items()}
    tables = {
        "probabilities": _per_frame_table(probabilities),
        "ethogram": _per_frame_table(labels),
        "bouts": bouts_table(probabilities, labels, fps),
    }
    dims = ("time", "individuals", "behaviors")
    dataset = xr.Dataset(
        {
            "probability": (dims, np.asarray(probabilities.values, np.float32)),
            "label": (dims, np.asarray(labels.values, np.uint8)),
        },
        coords={
            "time": np.arange(probabilities.values.shape[0]),
            "individuals": list(probabilities.individuals),
            "behaviors": list(probabilities.behaviors),
        },
        attrs={"fps": fps} if fps else {},
    )
    try:
        for kind, table in tables.items():
            with written_atomically(paths[kind]) as partial:
                table.to_csv(partial, index=False, float_format="%.4f")
        with written_atomically(paths["netcdf"], ".nc") as partial:
            dataset.to_netcdf(partial, engine="h5netcdf")
    except OSError as exc:
        raise FormatError(f"{stem}: cannot write the ethogram files ({exc})") from None
    return paths


def read_probabilities(path: Path) -> Ethogram:
    """The probabilities of an `.ethogram.nc` file.

    Raises:
        FormatError: the file is missing or not such a file.
    """
    return _read_variable(path, "probability", np.float32)


def read_labels(path: Path) -> Ethogram:
    """The 0/1 labels of an `.ethogram.nc` file, as booleans.

    Raises:
        FormatError: the file is missing or not such a file.
    """
    return _read_variable(path, "label", np.bool_)


def _read_variable(path: Path, name: str, dtype: type[np.generic]) -> Ethogram:
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as dataset:
            values = dataset[name].transpose("time", "individuals", "behaviors")
            return Ethogram(
                values.to_numpy().astype(dtype),
                [str(b) for b in dataset["behaviors"].to_numpy()],
                [str(i) for i in dataset["individuals"].to_numpy()],
            )
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"{path}: not an ethogram file ({exc})") from None
