from __future__ import annotations

import numpy as np
import pytest

from etholoop.behavior import (
    BoostParams,
    LabeledVideo,
    PoseFeatureModel,
    ProximityRule,
)
from etholoop.behavior.features import video_features
from etholoop.evaluate.behavior import frame_counts
from etholoop.synth import make_arena


def test_tiny_lightgbm_fit_beats_the_majority_class_on_a_held_out_arena() -> None:
    train, test = (make_arena(n_animals=2, n_frames=900, seed=s) for s in (0, 1))
    video = LabeledVideo(train.tracks, train.ethogram, np.ones((900, 2), bool))
    model = PoseFeatureModel(boost=BoostParams(n_trees=40), n_inner=2)
    predictor = model.fit([video])
    assert predictor.behaviors == train.ethogram.behaviors
    proba = predictor.predict_proba(test.tracks)
    assert proba.values.shape == test.ethogram.values.shape
    assert ((proba.values >= 0) & (proba.values <= 1)).all()
    pred = predictor.predict(test.tracks).values
    truth = test.ethogram.values
    frequent = int(np.argmax(train.ethogram.values.sum(axis=(0, 1))))
    f1, majority = [], []
    for k in range(len(predictor.behaviors)):
        t = truth[..., k].ravel()
        f1.append(np.nan_to_num(frame_counts(t, pred[..., k].ravel()).f1))
        majority.append(
            np.nan_to_num(frame_counts(t, np.full(t.size, k == frequent)).f1)
        )
    assert np.mean(f1) > np.mean(majority) + 0.3


def test_unlabeled_frames_and_animals_are_not_learned() -> None:
    arena = make_arena(n_animals=2, n_frames=400, seed=2)
    labeled = np.zeros((400, 2), bool)
    labeled[:200, 0] = True
    video = LabeledVideo(arena.tracks, arena.ethogram, labeled)
    rule = ProximityRule().fit([video])
    assert len(rule.thresholds) == len(arena.ethogram.behaviors)
    pred = rule.predict(arena.tracks).values
    assert pred.shape == arena.ethogram.values.shape and pred.dtype == bool


def test_predictor_averages_the_inner_block_models_unless_refit() -> None:
    arena = make_arena(n_animals=2, n_frames=600, seed=3)
    video = LabeledVideo(arena.tracks, arena.ethogram, np.ones((600, 2), bool))
    boost = BoostParams(n_trees=10)
    ensemble = PoseFeatureModel(boost=boost, n_inner=3).fit([video])
    assert len(ensemble.boosters) == 3
    x, _ = video_features(arena.tracks, ensemble.features)
    rows = x.reshape(-1, x.shape[-1])
    each = [
        np.stack(
            [
                np.broadcast_to(
                    b.predict(rows) if not isinstance(b, float) else b, len(rows)
                )
                for b in boosters
            ],
            axis=1,
        )
        for boosters in ensemble.boosters
    ]
    proba = ensemble.predict_proba(arena.tracks).values.reshape(len(rows), -1)
    assert np.allclose(proba, np.mean(each, axis=0), atol=1e-6)
    refit = PoseFeatureModel(boost=boost, n_inner=3, ensemble=False).fit([video])
    assert len(refit.boosters) == 1


def test_unknown_labels_of_one_behavior_are_not_learned() -> None:
    arena = make_arena(n_animals=2, n_frames=600, seed=5)
    labeled = np.ones((600, 2), bool)
    unknown = np.zeros(arena.ethogram.values.shape, bool)
    walk = arena.ethogram.behaviors.index("walk")
    unknown[..., walk] = True  # nobody settled "walk": only constants are possible
    video = LabeledVideo(arena.tracks, arena.ethogram, labeled, unknown)
    predictor = PoseFeatureModel(boost=BoostParams(n_trees=5), n_inner=2).fit([video])
    assert all(model[walk] == 0.0 for model in predictor.boosters)
    assert not any(isinstance(model[0], float) for model in predictor.boosters)
    with pytest.raises(ValueError, match="unknown"):
        LabeledVideo(arena.tracks, arena.ethogram, labeled, unknown[:, :1])
