from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.behavior import BoostParams, LabeledVideo, PoseFeatureModel
from etholoop.behavior.persist import load_predictor, save_predictor
from etholoop.errors import FormatError
from etholoop.synth import make_arena


def test_a_saved_model_predicts_the_same_after_loading(tmp_path: Path) -> None:
    arena = make_arena(n_animals=2, n_frames=400, seed=4)
    video = LabeledVideo(arena.tracks, arena.ethogram, np.ones((400, 2), bool))
    predictor = PoseFeatureModel(boost=BoostParams(n_trees=8), n_inner=2).fit([video])
    loaded = load_predictor(save_predictor(predictor, tmp_path / "model.json"))
    assert loaded.behaviors == predictor.behaviors
    assert loaded.features == predictor.features
    assert loaded.bout_params == predictor.bout_params
    np.testing.assert_allclose(
        loaded.predict_proba(arena.tracks).values,
        predictor.predict_proba(arena.tracks).values,
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [("{not json", "cannot read"), ('{"format": "other"}', "not an etholoop")],
)
def test_a_file_that_is_not_a_model_is_one_error(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "model.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=problem):
        load_predictor(path)
