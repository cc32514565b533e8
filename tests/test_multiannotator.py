"""Several annotators: hand-checked cases, simulated annotators of known accuracy, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

from labelaudit.multiannotator import (
    ANNOTATOR_COLUMNS,
    LABEL_QUALITY_COLUMNS,
    get_active_learning_scores,
    get_label_quality_multiannotator,
)

WIDE = np.array([[0, 0, np.nan], [1, 1, 0], [1, np.nan, 1], [0, 1, 1]])


def _long(wide: np.ndarray) -> pd.DataFrame:
    i, a = np.nonzero(~np.isnan(wide))
    return pd.DataFrame({"example": i, "annotator": [f"a{j}" for j in a], "label": wide[i, a]})


def test_majority_hand_checked() -> None:
    result = get_label_quality_multiannotator(WIDE, consensus_method="majority")
    lq, stats = result["label_quality"], result["annotator_stats"]
    assert list(lq.columns) == LABEL_QUALITY_COLUMNS and list(stats.columns) == ANNOTATOR_COLUMNS
    assert lq["consensus_label"].tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(lq["annotator_agreement"], [1, 2 / 3, 1, 2 / 3])
    assert lq["num_annotations"].tolist() == [2, 3, 2, 3]
    by_name = stats.set_index("annotator")
    np.testing.assert_allclose(by_name.loc[[0, 1, 2], "agreement_with_consensus"], [3 / 4, 1.0, 2 / 3])
    assert by_name.loc[[0, 1, 2], "num_examples_labeled"].tolist() == [4, 3, 3]
    # g = 1 - 4 / 10; the label quality of annotator 1's labels: 1, 2/3, 2/3 -> mean 7/9
    np.testing.assert_allclose(by_name.loc[1, "annotator_quality"], 0.6 * 1.0 + 0.4 * 7 / 9)
    assert by_name.loc[0, "worst_class"] == 1


def test_long_table_equals_wide() -> None:
    for method in ("majority", "best_quality", "dawid_skene"):
        wide = get_label_quality_multiannotator(WIDE, consensus_method=method)
        long = get_label_quality_multiannotator(_long(WIDE).iloc[::-1], consensus_method=method)
        pd.testing.assert_frame_equal(wide["label_quality"], long["label_quality"])
        assert long["annotator_stats"]["annotator"].tolist() == [
            f"a{j}" for j in wide["annotator_stats"]["annotator"]
        ]


def test_ties_go_to_model_then_lowest_class() -> None:
    tied = np.array([[0, 1], [1, 0], [2, 2]])
    probs = np.array([[0.2, 0.7, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    no_model = get_label_quality_multiannotator(tied, consensus_method="majority")
    assert no_model["label_quality"]["consensus_label"].tolist() == [0, 0, 2]
    model = get_label_quality_multiannotator(tied, probs, consensus_method="majority")
    assert model["label_quality"]["consensus_label"].tolist() == [1, 1, 2]


def test_crowdlab_hand_checked() -> None:
    # Annotators agree on every shared example: pooled agreement P = 1, each annotation is
    # certain, so the posterior of example 3 (one annotation, weight 1) is
    # (1 * onehot(0) + w_m * p) / (1 + w_m) with w_m = (1 - e_m / e_B) * sqrt(7 / 4).
    labels = np.array([[0, 0], [1, 1], [1, 1], [0, np.nan]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    lq = get_label_quality_multiannotator(labels, probs)["label_quality"]
    w_m = (1 - (1 / 3) / (1 / 3)) * np.sqrt(7 / 4)  # model wrong on 1 of 3 shared; baseline 1/3
    w_m = max(w_m, 1e-3 * np.sqrt(7 / 4))
    np.testing.assert_allclose(lq["consensus_quality_score"][3], (1 + w_m * 0.3) / (1 + w_m))
    assert lq["consensus_label"].tolist() == [0, 1, 1, 0]


def test_crowdlab_votes_are_chance_corrected() -> None:
    # Three annotators, K = 2; shared examples 0-3 and 5, majority 0, 1, 1, 0, 1 (e_B = 2/5).
    # Agreement with the others: 4/5, 4/5, 1/2 -> w = 1/2, 1/2, 0.001. Annotations equal to the
    # majority: 12 of 14, P = 6/7, kappa = (2 P - 1) / (2 - 1) = 5/7. The model misses example
    # 3 of the five: w_m = (1 - (1/5) / (2/5)) * sqrt(15 / 6).
    labels = np.array(
        [[0, 0, 0], [1, 1, 1], [1, 1, 0], [0, 0, 1], [1, np.nan, np.nan], [1, 1, np.nan]]
    )
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7], [0.45, 0.55], [0.45, 0.55]])
    lq = get_label_quality_multiannotator(labels, probs)["label_quality"]
    kappa, w_m = 5 / 7, 0.5 * np.sqrt(15 / 6)
    vote = kappa * 0.5
    expected = [
        (2 * vote + w_m * 0.6) / (2 * vote + kappa * 0.001 + w_m),  # example 2: 1, 1 and 0
        (vote + w_m * 0.55) / (vote + w_m),  # example 4: one vote for 1
        (2 * vote + w_m * 0.55) / (2 * vote + w_m),  # example 5: two votes for 1
    ]
    np.testing.assert_allclose(lq["consensus_quality_score"][[2, 4, 5]], expected)
    assert lq["consensus_label"].tolist() == [0, 1, 1, 0, 1, 1]
    # one more agreeing annotation never lowers the score (the paper's uniform part can)
    assert lq["consensus_quality_score"][5] > lq["consensus_quality_score"][4]


def simulate(seed: int = 0, n: int = 3000, k: int = 4, m: int = 15, sep: float = 2.0):
    """Gaussian classes; m annotators of accuracy U(0.45, 0.95), 1-3 per example; CV pred_probs
    from a model trained on the majority consensus."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, 8)) + sep * np.eye(k, 8)[y]
    accuracy = rng.uniform(0.45, 0.95, m)
    labels = np.full((n, m), np.nan)
    per_example = rng.integers(1, 4, n)
    for i in range(n):
        for a in rng.choice(m, size=per_example[i], replace=False):
            wrong = (y[i] + rng.integers(1, k)) % k
            labels[i, a] = y[i] if rng.random() < accuracy[a] else wrong
    majority = get_label_quality_multiannotator(labels, consensus_method="majority")["label_quality"]
    probs = cross_val_predict(
        LogisticRegression(max_iter=500), X, majority["consensus_label"], cv=5, method="predict_proba"
    )
    return labels, probs, y, accuracy


def test_simulated_annotators() -> None:
    labels, probs, y, accuracy = simulate()
    acc = {}
    for method in ("majority", "dawid_skene", "best_quality"):
        result = get_label_quality_multiannotator(labels, probs, consensus_method=method)
        lq = result["label_quality"]
        acc[method] = float((lq["consensus_label"] == y).mean())
        stats = result["annotator_stats"].sort_values("annotator")
        assert np.corrcoef(stats["annotator_quality"], accuracy)[0, 1] > 0.9
        wrong = lq["consensus_label"].to_numpy() != y
        assert roc_auc_score(wrong, -lq["consensus_quality_score"]) > 0.75
    assert acc["best_quality"] > 0.9  # measured 0.918 (majority 0.859, dawid_skene 0.822)
    assert acc["best_quality"] > acc["majority"] + 0.05 and acc["best_quality"] > acc["dawid_skene"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crowdlab_detects_wrong_consensus(seed: int) -> None:
    # measured AUROC / AUPRC 0.895 / 0.406, 0.870 / 0.418, 0.882 / 0.465 (the paper's uniform
    # likelihood part: 0.888 / 0.396, 0.864 / 0.413, 0.874 / 0.454, the same consensus)
    labels, probs, y, _ = simulate(seed)
    lq = get_label_quality_multiannotator(labels, probs)["label_quality"]
    wrong = lq["consensus_label"].to_numpy() != y
    scores = lq["consensus_quality_score"].to_numpy()
    assert roc_auc_score(wrong, -scores) > 0.86
    assert average_precision_score(wrong, -scores) > 0.40
    # deterministic, and rows in another order give the same rows' results
    again = get_label_quality_multiannotator(labels, probs)["label_quality"]
    pd.testing.assert_frame_equal(lq, again)
    order = np.random.default_rng(seed).permutation(len(y))
    shuffled = get_label_quality_multiannotator(labels[order], probs[order])["label_quality"]
    pd.testing.assert_frame_equal(lq.iloc[order].reset_index(drop=True), shuffled)


def test_ensemble_of_copies_equals_one_model() -> None:
    labels, probs, _, _ = simulate(n=400)
    one = get_label_quality_multiannotator(labels, probs)
    two = get_label_quality_multiannotator(labels, [probs, probs])
    pd.testing.assert_frame_equal(one["label_quality"], two["label_quality"])


def test_active_learning_scores() -> None:
    labels, probs, _, _ = simulate(n=600)
    unlabeled = np.array([[0.97, 0.01, 0.01, 0.01], [0.25, 0.25, 0.25, 0.25]])
    labeled, scores = get_active_learning_scores(labels, probs, unlabeled)
    assert labeled.shape == (600,) and scores.shape == (2,)
    assert scores[1] < scores[0]
    quality = get_label_quality_multiannotator(labels, probs)["label_quality"]
    np.testing.assert_allclose(labeled, quality["consensus_quality_score"])
    assert get_active_learning_scores(pred_probs_unlabeled=unlabeled)[1].tolist() == [0.97, 0.25]


@pytest.mark.parametrize(
    ("labels", "probs", "kwargs", "error", "match"),
    [
        (WIDE, None, {"consensus_method": "vote"}, ValueError, "consensus_method='vote'"),
        (WIDE, np.full((3, 2), 0.5), {}, ValueError, "labels_multiannotator has 4 rows but pred_probs has 3"),
        (np.array([[0, 3]]), np.full((1, 3), 1 / 3), {}, ValueError, "class indices 0..2"),
        (np.array([[0, np.nan], [np.nan, np.nan]]), None, {}, ValueError, "example 1 of labels_multiannotator"),
        (np.array([[0, np.nan], [1, np.nan]]), None, {}, ValueError, "annotator 1 .* labelled no example"),
        (np.array([["a", "b"]], dtype=object), None, {}, TypeError, "non-numeric"),
        (np.array([0, 1, 1]), None, {}, ValueError, "n x M table"),
        (pd.DataFrame({"example": [0, 0], "annotator": ["x", "x"], "label": [1, 0]}), None, {},
         ValueError, "twice by annotator 'x'"),
        (WIDE, [np.full((4, 2), 0.5), np.full((4, 3), 1 / 3)], {}, ValueError, r"pred_probs\[1\] has shape"),
        (WIDE, np.full((4, 2), 0.7), {}, ValueError, "must sum to 1"),
        (WIDE, None, {"max_iter": 0}, ValueError, "max_iter=0"),
    ],
)
def test_bad_input(labels, probs, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        get_label_quality_multiannotator(labels, probs, **kwargs)
