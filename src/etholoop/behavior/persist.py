"""A fitted `PosePredictor` as one JSON file: behaviors, parameters, boosters as text.

LightGBM boosters are kept in LightGBM's own text format (`model_to_string`), so a
saved model reads back with any LightGBM of the same major version and no pickle
is ever loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from etholoop.atomic import written_atomically
from etholoop.behavior.features import CleanParams, FeatureParams
from etholoop.behavior.model import PosePredictor
from etholoop.behavior.postprocess import BoutParams
from etholoop.errors import FormatError

FORMAT = "etholoop-pose-behavior-model"
VERSION = 1


def save_predictor(predictor: PosePredictor, path: Path) -> Path:
    """Write `predictor` to `path` (JSON), atomically."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "behaviors": list(predictor.behaviors),
        "features": attrs.asdict(predictor.features),
        "bout_params": [attrs.asdict(p) for p in predictor.bout_params],
        "boosters": [
            [b if isinstance(b, float) else b.model_to_string() for b in boosters]
            for boosters in predictor.boosters
        ],
    }
    with written_atomically(path) as partial:
        partial.write_text(json.dumps(data), encoding="utf-8")
    return path


def load_predictor(path: Path) -> PosePredictor:
    """Read a predictor `save_predictor` wrote.

    Raises:
        FormatError: the file is missing, not JSON, or not such a model.
    """
    import lightgbm

    try:
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot read the behavior model ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FormatError(f"{path}: not an etholoop pose behavior model")
    if data.get("version") != VERSION:
        raise FormatError(
            f"{path}: behavior model version {data.get('version')}; this etholoop "
            f"reads version {VERSION}"
        )
    try:
        features = dict(data["features"])
        clean = CleanParams(**features.pop("clean"))
        feature_params = FeatureParams(
            clean=clean,
            windows=tuple(features.pop("windows")),
            **features,
        )
        boosters = [
            [
                b if isinstance(b, float) else lightgbm.Booster(model_str=b)
                for b in model
            ]
            for model in data["boosters"]
        ]
        return PosePredictor(
            tuple(data["behaviors"]),
            feature_params,
            boosters,
            tuple(BoutParams(**p) for p in data["bout_params"]),
        )
    except (KeyError, TypeError, ValueError, lightgbm.basic.LightGBMError) as exc:
        raise FormatError(f"{path}: broken behavior model ({exc})") from None
