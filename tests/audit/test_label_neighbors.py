"""The label check with ``neighbor_evidence``: the neighbours' labels next to the model's pred_probs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit import Audit
from labelaudit.audit.label import neighbor_weights


def _case(seed: int, n: int = 300):
    """Two well separated blobs, 10% flipped labels, a model that is weak (half its rows at chance)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    features = truth[:, None] * 6.0 + rng.normal(0, 1, (n, 2))
    flipped = rng.random(n) < 0.1
    labels = np.where(flipped, 1 - truth, truth)
    p_true = np.where(rng.random(n) < 0.5, 0.5, 0.8)
    pred_probs = np.empty((n, 2))
    pred_probs[np.arange(n), truth] = p_true
    pred_probs[np.arange(n), 1 - truth] = 1 - p_true
    return labels, pred_probs, features, flipped


def _run(labels, pred_probs, features, evidence):
    return Audit(label=labels).run(
        pred_probs=pred_probs, features=features, issue_types={"label": {"neighbor_evidence": evidence}},
        verbose=False,
    )


def test_weights_by_hand():
    model = np.array([.9, .8, .9, .2, .9, .8])
    # the neighbours explain every label at least as well: all the weight; log-likelihood gain 1.62 > log(6) / 2 = 0.90
    assert neighbor_weights(model, np.array([.9, .9, .8, .9, .9, .9]), np.full(6, .5)).round(6).tolist() == [0, 1]
    # neighbours no better than the class shares: weight 0, whatever smoothing they bring
    assert neighbor_weights(model, np.full(6, .5), np.full(6, .5)).tolist() == [1, 0]
    # a gain of 0.22, below that price, is not enough
    slightly = model.copy()
    slightly[3] = .25
    assert neighbor_weights(model, slightly, np.full(6, .5)).tolist() == [1, 0]


def test_neighbours_overturn_a_weak_model_and_find_more_flips():
    labels, pred_probs, features, flipped = _case(0)
    alone = _run(labels, pred_probs, features, False)
    both = _run(labels, pred_probs, features, "auto")
    assert alone.info["label"]["source"] == "pred_probs" and "weights" not in alone.info["label"]
    assert both.info["label"]["source"] == "pred_probs+neighbors"
    weights = both.info["label"]["weights"]
    assert weights["neighbors"] > 0.5 and weights["pred_probs"] + weights["neighbors"] == pytest.approx(1)
    found = {name: a.issues["is_label_issue"].to_numpy() for name, a in (("alone", alone), ("both", both))}
    recall = {name: (mask & flipped).sum() / flipped.sum() for name, mask in found.items()}
    precision = {name: (mask & flipped).sum() / max(mask.sum(), 1) for name, mask in found.items()}
    assert recall["both"] > recall["alone"] and precision["both"] >= precision["alone"]


def test_uninformative_neighbours_change_nothing():
    labels, pred_probs, _, _ = _case(1)
    noise = np.random.default_rng(5).normal(size=(len(labels), 2))
    alone = _run(labels, pred_probs, noise, False)
    both = _run(labels, pred_probs, noise, "auto")
    assert both.info["label"]["weights"] == {"pred_probs": 1.0, "neighbors": 0.0}
    assert both.info["label"]["source"] == "pred_probs"
    label_columns = ["is_label_issue", "label_score"]
    assert both.issues[label_columns].equals(alone.issues[label_columns])


def test_options_and_errors():
    labels, pred_probs, features, _ = _case(2, n=60)
    with pytest.raises(ValueError, match="neighbor_evidence must be"):
        _run(labels, pred_probs, features, "yes")
    with pytest.raises(ValueError, match="neighbor_evidence=True needs features"):
        Audit(label=labels).run(pred_probs=pred_probs, issue_types={"label": {"neighbor_evidence": True}}, verbose=False)
    # "auto" without features is the model alone; features alone are the neighbours alone, as before
    assert Audit(label=labels).run(
        pred_probs=pred_probs, issue_types={"label": {"neighbor_evidence": "auto"}}, verbose=False
    ).info["label"]["source"] == "pred_probs"
    assert Audit(label=labels).run(features=features, verbose=False).info["label"]["source"] == "neighbors"


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1000))
def test_row_order_does_not_matter(seed):
    labels, pred_probs, features, _ = _case(seed, n=120)
    order = np.random.default_rng(seed).permutation(len(labels))
    first = _run(labels, pred_probs, features, "auto")
    second = _run(labels[order], pred_probs[order], features[order], "auto")
    assert first.info["label"]["weights"] == pytest.approx(second.info["label"]["weights"], abs=1e-9)
    np.testing.assert_array_equal(
        first.issues["is_label_issue"].to_numpy()[order], second.issues["is_label_issue"].to_numpy()
    )
    np.testing.assert_allclose(
        first.issues["label_score"].to_numpy()[order], second.issues["label_score"].to_numpy(), atol=1e-12
    )
