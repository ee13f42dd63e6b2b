"""Pure split assignment: test fraction per stratum, counts, validation share."""

from __future__ import annotations

import numpy as np

from etholoop.sampling.splits import assign_splits, draw_test


def test_test_split_takes_the_fraction_of_every_stratum(rng):
    strata = np.repeat([0, 1, 2], [100, 60, 40])
    test = draw_test(strata, 0.15, rng)
    assert test.sum() == 30
    assert np.bincount(strata[test]).tolist() == [15, 9, 6]


def test_the_rest_is_split_into_trainval_predict_and_reserve(rng):
    strata = np.repeat([0, 1], [100, 100])
    test = draw_test(strata, 0.2, rng)
    result = assign_splits(
        strata, test, n_trainval=50, val_fraction=0.2, n_predict=40, rng=rng
    )
    counts = {s: len(result.members(s)) for s in ("test", "trainval", "predict")}
    assert counts == {"test": 40, "trainval": 50, "predict": 40}
    assert len(result.members("reserve")) == 70
    assert np.array_equal(result.members("test"), np.flatnonzero(test))
    assert result.val.sum() == 10
    assert (result.split[result.val] == "trainval").all()
    assert np.bincount(strata[result.members("trainval")]).tolist() == [25, 25]
