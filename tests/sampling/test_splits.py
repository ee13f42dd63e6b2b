"""Pure split assignment: test fraction per stratum, counts, validation share."""

from __future__ import annotations

import numpy as np

from etholoop.sampling.splits import assign_splits, draw_test


def test_test_split_takes_the_fraction_of_every_stratum(rng):
    strata = np.repeat([0, 1, 2], [100, 60, 40])
    test = draw_test(strata, 0.15, rng, labeled=np.zeros(200, np.bool_))
    assert test.sum() == 30
    assert np.bincount(strata[test]).tolist() == [15, 9, 6]


def test_the_rest_is_split_into_trainval_predict_and_reserve(rng):
    strata = np.repeat([0, 1], [100, 100])
    unlabeled = np.zeros(200, np.bool_)
    test = draw_test(strata, 0.2, rng, labeled=unlabeled)
    result = assign_splits(
        strata,
        test,
        labeled=unlabeled,
        n_trainval=50,
        val_fraction=0.2,
        n_predict=40,
        rng=rng,
    )
    counts = {s: len(result.members(s)) for s in ("test", "trainval", "predict")}
    assert counts == {"test": 40, "trainval": 50, "predict": 40}
    assert len(result.members("reserve")) == 70
    assert np.array_equal(result.members("test"), np.flatnonzero(test))
    assert result.val.sum() == 10
    assert (result.split[result.val] == "trainval").all()
    assert np.bincount(strata[result.members("trainval")]).tolist() == [25, 25]


def test_labeled_frames_make_the_test_split_when_there_are_any(rng):
    strata = np.repeat([0, 1, 2], [100, 60, 40])
    labeled = np.zeros(200, np.bool_)
    labeled[[*range(0, 40), *range(100, 120)]] = True  # none in stratum 2
    test = draw_test(strata, 0.25, rng, labeled=labeled)
    assert (labeled[test]).all()
    assert np.bincount(strata[test], minlength=3).tolist() == [10, 5, 0]


def test_labeled_frames_fill_trainval_first(rng):
    strata = np.repeat([0, 1], [100, 100])
    labeled = np.zeros(200, np.bool_)
    labeled[[*range(0, 30), *range(100, 110)]] = True
    test = draw_test(strata, 0.25, rng, labeled=labeled)
    result = assign_splits(
        strata,
        test,
        labeled=labeled,
        n_trainval=50,
        val_fraction=0.2,
        n_predict=40,
        rng=rng,
    )
    trainval = result.members("trainval")
    assert len(trainval) == 50 and len(result.members("predict")) == 40
    assert set(np.flatnonzero(labeled & ~test)) <= set(trainval)
    assert not labeled[result.members("predict")].any()
    assert not labeled[result.members("reserve")].any()
    assert result.val[labeled].sum() == round(0.2 * (labeled & ~test).sum())
    assert result.val.sum() == 10


def test_labels_beyond_trainval_still_go_to_trainval(rng):
    strata = np.repeat([0, 1], [100, 100])
    labeled = np.zeros(200, np.bool_)
    labeled[[*range(0, 50), *range(100, 150)]] = True
    test = draw_test(strata, 0.2, rng, labeled=labeled)
    result = assign_splits(
        strata,
        test,
        labeled=labeled,
        n_trainval=30,
        val_fraction=0.2,
        n_predict=40,
        rng=rng,
    )
    assert np.array_equal(result.members("trainval"), np.flatnonzero(labeled & ~test))
    assert len(result.members("predict")) == 40
