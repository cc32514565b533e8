"""Multi-label: hand-checked cases, planted errors, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

import labelaudit as la
from labelaudit import multilabel as ml

LABELS = [[0], [0], [0, 1], [1], [1], [0, 1]]
PROBS = np.array([[0.9, 0.1], [0.8, 0.2], [0.9, 0.8], [0.1, 0.9], [0.2, 0.8], [0.9, 0.1]])


def test_list_of_lists_equals_indicator() -> None:
    indicator = np.array([[1, 0], [1, 0], [1, 1], [0, 1], [0, 1], [1, 1]])
    for func in (ml.find_label_issues, ml.get_label_quality_scores, ml.compute_confident_joint):
        np.testing.assert_array_equal(func(LABELS, PROBS), func(indicator, PROBS))


def test_class_names() -> None:
    named = [["cat"], ["cat"], ["cat", "dog"], ["dog"], ["dog"], ["dog", "cat"]]
    got = ml.find_label_issues(named, PROBS, classes=["cat", "dog"])
    np.testing.assert_array_equal(got, ml.find_label_issues(LABELS, PROBS))
    table = ml.rank_classes_by_multilabel_quality(named, PROBS, classes=["cat", "dog"])
    assert table["class_name"].tolist() == ["dog", "cat"]


def test_per_class_scores_and_aggregators() -> None:
    per_class = ml.get_label_quality_scores_per_class(LABELS, PROBS)
    np.testing.assert_allclose(per_class[5], [0.9, 0.1])
    np.testing.assert_allclose(per_class[3], [0.9, 0.9])
    scores = ml.get_label_quality_scores(LABELS, PROBS)
    np.testing.assert_allclose(scores[5], 0.8 * 0.1 + 0.2 * 0.9)
    np.testing.assert_allclose(ml.get_label_quality_scores(LABELS, PROBS, aggregator="mean")[5], 0.5)
    np.testing.assert_allclose(ml.get_label_quality_scores(LABELS, PROBS, alpha=1.0), per_class.min(axis=1))


def test_one_vs_rest_matches_core() -> None:
    cj = ml.compute_confident_joint(LABELS, PROBS, calibrate=False)
    assert cj.shape == (2, 2, 2)
    for k in range(2):
        y = np.array([k in row for row in LABELS], dtype=int)
        binary = np.column_stack([1 - PROBS[:, k], PROBS[:, k]])
        np.testing.assert_array_equal(cj[k], la.compute_confident_joint(y, binary, calibrate=False))
    np.testing.assert_array_equal(la.compute_confident_joint(LABELS, PROBS, multi_label=True),
                                  ml.compute_confident_joint(LABELS, PROBS))
    _, off = la.compute_confident_joint(
        LABELS, PROBS, multi_label=True, return_indices_of_off_diagonals=True
    )
    assert [rows.tolist() for rows in off] == [[], [5]]


def test_common_issues_and_class_ranking() -> None:
    common = ml.common_multilabel_issues(LABELS, PROBS)
    assert common.to_dict("records") == [
        {"class": 1, "class_name": 1, "issue": "extra_label", "num_examples": 1,
         "issue_probability": pytest.approx(1 / 6)}
    ]
    table = ml.rank_classes_by_multilabel_quality(LABELS, PROBS)
    assert list(table.columns) == ml.CLASS_COLUMNS
    assert table.loc[0, "class"] == 1 and table.loc[0, "extra_labels"] == 1


def planted_multilabel(seed: int = 0, n: int = 1500, k: int = 5, d: int = 10):
    """Linear multi-label data; 10% of examples get one class flipped; pred_probs by 5-fold CV."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = (X @ rng.normal(size=(d, k)) + rng.normal(scale=0.5, size=(n, k)) > 0.5).astype(int)
    noisy = Y.copy()
    flipped = rng.random(n) < 0.1
    cls = rng.integers(0, k, n)
    noisy[flipped, cls[flipped]] ^= 1
    probs = np.column_stack([
        cross_val_predict(LogisticRegression(max_iter=1000), X, noisy[:, j], cv=5, method="predict_proba")[:, 1]
        for j in range(k)
    ])
    return noisy, probs, flipped


def test_planted_errors_are_found() -> None:
    labels, probs, flipped = planted_multilabel()
    scores = ml.get_label_quality_scores(labels, probs)
    assert roc_auc_score(flipped, -scores) > 0.93  # measured 0.951
    assert average_precision_score(flipped, -scores) > 0.75  # measured 0.807
    mask = ml.find_label_issues(labels, probs)
    assert flipped[mask].mean() > 0.55 and mask[flipped].mean() > 0.75  # measured 0.61, 0.81
    ranked = ml.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
    assert sorted(ranked.tolist()) == np.flatnonzero(mask).tolist()
    assert np.all(np.diff(scores[ranked]) >= 0)
    with la.config_context(block_rows=97, n_jobs=2):
        np.testing.assert_array_equal(ml.find_label_issues(labels, probs), mask)
        np.testing.assert_array_equal(ml.get_label_quality_scores(labels, probs), scores)


@pytest.mark.parametrize(
    ("labels", "probs", "kwargs", "error", "match"),
    [
        ([[0], [2]], np.full((2, 2), 0.5), {}, ValueError, r"labels\[1\] contains 2"),
        ([0, 1], np.full((2, 2), 0.5), {}, TypeError, r"labels\[0\] is 0"),
        ([[0], [1]], np.array([[0.5, 1.5], [0.2, 0.2]]), {}, ValueError, "pred_probs must hold per-class"),
        ([[0], [1]], np.array([[0.5, np.nan], [0.2, 0.2]]), {}, ValueError, "row 0, column 1"),
        (np.ones((3, 2)), np.full((2, 2), 0.5), {}, ValueError, "same shape"),
        (np.array([[2, 0], [0, 1]]), np.full((2, 2), 0.5), {}, ValueError, "only 0 and 1"),
        ([[0], [1]], np.full((3, 2), 0.5), {}, ValueError, "labels has 2 entries"),
        ([[0], [1]], np.full((2, 2), 0.5), {"filter_by": "nope"}, ValueError, "filter_by='nope'"),
        ("ab", np.full((2, 2), 0.5), {}, TypeError, "labels must be a list of lists"),
    ],
)
def test_bad_input(labels, probs, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        ml.find_label_issues(labels, probs, **kwargs)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="aggregator='median'"):
        ml.get_label_quality_scores(LABELS, PROBS, aggregator="median")
    with pytest.raises(ValueError, match="alpha=0"):
        ml.get_label_quality_scores(LABELS, PROBS, alpha=0)
    with pytest.raises(ValueError, match="multi_label=False"):
        ml.compute_confident_joint(LABELS, PROBS, multi_label=False)
