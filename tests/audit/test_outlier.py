"""OutOfDistribution: the reference's params dict, scikit-learn estimator behaviour, sharper scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from labelaudit import OutOfDistribution


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    train = rng.normal(0, 1, (300, 4))
    new = np.vstack([rng.normal(0, 1, (20, 4)), rng.normal(0, 1, (5, 4)) + 6])
    y = rng.integers(0, 3, 400)
    probs = np.exp(3 * np.eye(3)[y] + rng.normal(0, 0.7, (400, 3)))
    probs /= probs.sum(axis=1, keepdims=True)
    return train, new, y, probs


def test_params_keys_act_like_keywords(data):
    train, new, _, probs = data
    by_params = OutOfDistribution(params={"k": 5, "threshold": 3.0}).fit(features=train)
    by_keywords = OutOfDistribution(k=5, threshold=3.0).fit(features=train)
    np.testing.assert_array_equal(by_params.score(features=new), by_keywords.score(features=new))
    raw = OutOfDistribution(params={"adjust_pred_probs": False, "method": "least_confidence"})
    np.testing.assert_array_equal(
        raw.fit(pred_probs=probs).scores_,
        OutOfDistribution(adjust_pred_probs=False, method="least_confidence").fit(pred_probs=probs).scores_,
    )
    assert raw.fit_score(pred_probs=probs).shape == (400,)


def test_get_params_set_params_and_clone(data):
    train, new, _, _ = data
    ood = OutOfDistribution(params={"t": 2}, k=7)
    assert ood.get_params() == {
        "params": {"t": 2}, "k": 7, "threshold": 4.0, "method": "entropy",
        "adjust_pred_probs": True, "metric": "euclidean", "n_jobs": None,
    }
    fitted = ood.fit(features=train)
    copy = clone(fitted)
    assert copy.get_params() == ood.get_params() and not hasattr(copy, "center_")
    np.testing.assert_array_equal(copy.fit(features=train).score(features=new), fitted.score(features=new))
    assert copy.set_params(k=3) is copy and copy.k == 3
    assert not np.array_equal(copy.fit(features=train).score(features=new), fitted.score(features=new))
    assert repr(OutOfDistribution(k=5)) == "OutOfDistribution(k=5)"


def test_t_sharpens_scores_without_changing_their_order(data):
    train, new, _, _ = data
    base = OutOfDistribution().fit(features=train)
    sharp = OutOfDistribution(params={"t": 3}).fit(features=train)
    np.testing.assert_allclose(sharp.score(features=new), base.score(features=new) ** 3)
    np.testing.assert_array_equal(sharp.predict(features=new), base.predict(features=new))
    assert base.predict(features=new)[20:].all() and not base.predict(features=new)[:20].any()


def test_a_fitted_knn_is_the_reference_set(data):
    train, new, _, _ = data
    knn = NearestNeighbors(n_neighbors=6).fit(train)
    ood = OutOfDistribution(params={"knn": knn})
    scores = ood.score(features=new)  # no fit needed
    np.testing.assert_allclose(scores, OutOfDistribution(k=6).fit(features=train).score(features=new))
    assert ood.k_ == 6 and ood.search_ is knn
    fewer = OutOfDistribution(params={"knn": knn, "k": 3}).fit(features=train)
    np.testing.assert_allclose(fewer.scores_, OutOfDistribution(k=3).fit(features=train).scores_)
    np.testing.assert_array_equal(OutOfDistribution(params={"knn": knn}).predict(features=new), scores < 0.5)


def test_given_confident_thresholds_replace_labels(data):
    _, _, y, probs = data
    learnt = OutOfDistribution().fit(pred_probs=probs, labels=y)
    given = OutOfDistribution(params={"confident_thresholds": learnt.thresholds_}).fit(pred_probs=probs)
    np.testing.assert_array_equal(given.scores_, learnt.scores_)
    np.testing.assert_array_equal(given.score(pred_probs=probs[:7]), learnt.score(pred_probs=probs[:7]))


@pytest.mark.parametrize(
    ("ood", "error", "match"),
    [
        (OutOfDistribution(params={"n_neighbours": 3}), ValueError, r"unknown key\(s\) \['n_neighbours'\]; valid keys: adjust_pred_probs, k, "),
        (OutOfDistribution(params={"k": 3}, k=4), ValueError, "k given both in params and as a keyword"),
        (OutOfDistribution(params={"t": 0}), ValueError, r"params\['t'\]=0 is not valid"),
        (OutOfDistribution(params=[("k", 3)]), TypeError, "params must be a dict of settings; found list"),
        (OutOfDistribution(params={"knn": NearestNeighbors()}), ValueError, r"params\['knn'\] must be a fitted NearestNeighbors"),
        (OutOfDistribution(params={"method": "gen"}), ValueError, "method='gen' is not recognised"),
    ],
)
def test_bad_params_name_the_key(data, ood, error, match):
    train = data[0]
    with pytest.raises(error, match=match):
        ood.fit(features=train)


def test_bad_confident_thresholds_and_small_knn(data):
    train, _, _, probs = data
    with pytest.raises(ValueError, match=r"params\['confident_thresholds'\] must be 3 numbers in \[0, 1\]"):
        OutOfDistribution(params={"confident_thresholds": [0.5, 0.5]}).fit(pred_probs=probs)
    with pytest.raises(ValueError, match=r"fitted on 4 rows; it needs more than k=10"):
        OutOfDistribution(params={"knn": NearestNeighbors(n_neighbors=2).fit(train[:4]), "k": 10}).fit()
    with pytest.raises(ValueError, match=r"features has 5 rows but params\['knn'\] was fitted on 300"):
        OutOfDistribution(params={"knn": NearestNeighbors().fit(train)}).fit(features=train[:5])
    with pytest.raises(ValueError, match="fit needs exactly one of features= or pred_probs="):
        OutOfDistribution().fit()
