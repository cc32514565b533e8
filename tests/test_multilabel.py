"""Multi-label: hand-checked cases, planted errors, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
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
    mean = ml.get_label_quality_scores(LABELS, PROBS, aggregator_kwargs={"method": "mean"})
    np.testing.assert_allclose(mean[5], 0.5)
    ema_one = {"method": "exponential_moving_average", "alpha": 1.0}
    np.testing.assert_allclose(
        ml.get_label_quality_scores(LABELS, PROBS, aggregator_kwargs=ema_one), per_class.min(axis=1)
    )
    soft = ml.get_label_quality_scores(
        LABELS, PROBS, aggregator_kwargs={"method": "softmin", "temperature": 0.5}
    )
    w = np.exp(-np.array([0.9, 0.1]) / 0.5)
    np.testing.assert_allclose(soft[5], (w * [0.9, 0.1]).sum() / w.sum())
    second = ml.get_label_quality_scores(
        LABELS, PROBS, aggregator_kwargs={"method": lambda s: s[:, 1]}
    )
    np.testing.assert_allclose(second, per_class[:, 1])


def _one_vs_rest(k: int, probs: np.ndarray = PROBS) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([k in row for row in LABELS], dtype=int)
    return y, np.column_stack([1 - probs[:, k], probs[:, k]])


def test_adjusted_scores_are_the_cores_per_class() -> None:
    per_class = ml.get_label_quality_scores_per_class(LABELS, PROBS, adjust_pred_probs=True)
    for k in range(2):
        expected = la.get_label_quality_scores(*_one_vs_rest(k), adjust_pred_probs=True)
        np.testing.assert_allclose(per_class[:, k], expected)
    # class 1, example 5: thresholds 0.85 (absent) and 0.65 (present) subtracted from [.9, .1],
    # clipped at 0 and renormalised: [0.05, 0] + ... -> the reference's 0.25
    np.testing.assert_allclose(per_class[5, 1], 0.25)
    pooled = ml.get_label_quality_scores(LABELS, PROBS, adjust_pred_probs=True)
    np.testing.assert_allclose(pooled, np.sort(per_class, axis=1) @ [0.8, 0.2])
    ranked = ml.find_label_issues(
        LABELS,
        PROBS,
        return_indices_ranked_by="self_confidence",
        rank_by_kwargs={"adjust_pred_probs": True},
    )
    assert ranked.tolist() == [5]


def test_per_class_issues_and_options_reach_the_core() -> None:
    probs = PROBS.copy()
    probs[1, 1] = 0.6  # example 1 probably misses class 1
    mask = ml.find_multilabel_issues_per_class(LABELS, probs)
    assert mask.shape == (6, 2) and np.argwhere(mask).tolist() == [[5, 1]]
    np.testing.assert_array_equal(mask.any(axis=1), ml.find_label_issues(LABELS, probs))
    # K counts: examples missing each class (as the reference); K x 2: (missing, extra)
    by_class = {"filter_by": "prune_by_class"}
    missing = ml.find_multilabel_issues_per_class(
        LABELS, probs, num_to_remove_per_class=[0, 1], **by_class
    )
    assert np.argwhere(missing).tolist() == [[1, 1]]
    extra = ml.find_multilabel_issues_per_class(
        LABELS, probs, num_to_remove_per_class=[[0, 0], [0, 1]], **by_class
    )
    assert np.argwhere(extra).tolist() == [[5, 1]]
    issues, labels, pairs = ml.find_multilabel_issues_per_class(
        LABELS, probs, return_indices_ranked_by="self_confidence", filter_by="predicted_neq_given"
    )
    assert [rows.tolist() for rows in issues] == [[], [5, 1]]
    np.testing.assert_array_equal(labels[1], _one_vs_rest(1)[0])
    np.testing.assert_array_equal(pairs[1], _one_vs_rest(1, probs)[1])
    cj = ml.compute_confident_joint(LABELS, probs)
    np.testing.assert_array_equal(
        ml.find_label_issues(LABELS, probs, confident_joint=cj), ml.find_label_issues(LABELS, probs)
    )
    nothing = np.zeros((2, 2, 2), dtype=int)
    nothing[:, 0, 0] = nothing[:, 1, 1] = 3
    assert not ml.find_label_issues(LABELS, probs, confident_joint=nothing).any()


def test_health_summary_and_class_names() -> None:
    summary = ml.multilabel_health_summary(LABELS, PROBS, class_names=["cat", "dog"], verbose=False)
    assert summary["overall_multilabel_health_score"] == pytest.approx(5 / 6)
    assert ml.overall_multilabel_health_score(LABELS, PROBS) == pytest.approx(5 / 6)
    assert summary["classes_by_multilabel_quality"]["class_name"].tolist() == ["dog", "cat"]
    assert summary["common_multilabel_issues"]["class_name"].tolist() == ["dog"]
    joint = ml.compute_confident_joint(LABELS, PROBS)
    from_joint = ml.rank_classes_by_multilabel_quality(LABELS, PROBS, joint=joint / 6)
    pd.testing.assert_frame_equal(from_joint, ml.rank_classes_by_multilabel_quality(LABELS, PROBS))
    with pytest.raises(ValueError, match="num_examples=7 but labels and pred_probs have 6"):
        ml.multilabel_health_summary(LABELS, PROBS, num_examples=7)
    with pytest.raises(ValueError, match="class_names has 1 entries but there are 2 classes"):
        ml.common_multilabel_issues(LABELS, PROBS, class_names=["cat"])


def test_one_vs_rest_matches_core() -> None:
    cj = ml.compute_confident_joint(LABELS, PROBS, calibrate=False)
    assert cj.shape == (2, 2, 2)
    for k in range(2):
        y = np.array([k in row for row in LABELS], dtype=int)
        binary = np.column_stack([1 - PROBS[:, k], PROBS[:, k]])
        np.testing.assert_array_equal(cj[k], la.compute_confident_joint(y, binary, calibrate=False))
    np.testing.assert_array_equal(
        la.compute_confident_joint(LABELS, PROBS, multi_label=True),
        ml.compute_confident_joint(LABELS, PROBS),
    )
    _, off = la.compute_confident_joint(
        LABELS, PROBS, multi_label=True, return_indices_of_off_diagonals=True
    )
    assert [rows.tolist() for rows in off] == [[], [5]]


def test_common_issues_and_class_ranking() -> None:
    common = ml.common_multilabel_issues(LABELS, PROBS)
    assert common.to_dict("records") == [
        {
            "class": 1,
            "class_name": 1,
            "issue": "extra_label",
            "num_examples": 1,
            "issue_probability": pytest.approx(1 / 6),
        }
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
    probs = np.column_stack(
        [
            cross_val_predict(
                LogisticRegression(max_iter=1000), X, noisy[:, j], cv=5, method="predict_proba"
            )[:, 1]
            for j in range(k)
        ]
    )
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
        (
            [[0], [1]],
            np.array([[0.5, 1.5], [0.2, 0.2]]),
            {},
            ValueError,
            "pred_probs must hold per-class",
        ),
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
    with pytest.raises(ValueError, match=r"aggregator_kwargs\['method'\]='median'"):
        ml.get_label_quality_scores(LABELS, PROBS, aggregator_kwargs={"method": "median"})
    with pytest.raises(ValueError, match="alpha=0"):
        ml.get_label_quality_scores(
            LABELS, PROBS, aggregator_kwargs={"method": "exponential_moving_average", "alpha": 0}
        )
    with pytest.raises(ValueError, match=r"aggregator_kwargs has \['alpha'\] but method='min'"):
        ml.get_label_quality_scores(
            LABELS, PROBS, aggregator_kwargs={"method": "min", "alpha": 0.5}
        )
    with pytest.raises(ValueError, match="pass a dict with a 'method' key"):
        ml.get_label_quality_scores(LABELS, PROBS, aggregator_kwargs={"alpha": 0.5})
    with pytest.raises(ValueError, match=r"returned shape \(6, 2\)"):
        ml.get_label_quality_scores(LABELS, PROBS, aggregator_kwargs={"method": lambda s: s})
    with pytest.raises(
        ValueError, match="num_to_remove_per_class is used only with filter_by='prune_by_class'"
    ):
        ml.find_label_issues(LABELS, PROBS, num_to_remove_per_class=[1, 1])
    with pytest.raises(ValueError, match="num_to_remove_per_class must be 2 non-negative integers"):
        ml.find_label_issues(
            LABELS, PROBS, filter_by="prune_by_class", num_to_remove_per_class=[1, -1]
        )
    with pytest.raises(ValueError, match=r"confident_joint must have shape \(2, 2, 2\)"):
        ml.find_label_issues(LABELS, PROBS, confident_joint=np.eye(2))
    with pytest.raises(ValueError, match="rank_by_kwargs="):
        ml.find_label_issues(
            LABELS, PROBS, return_indices_ranked_by="self_confidence", rank_by_kwargs={"x": 1}
        )
    with pytest.raises(TypeError, match="adjust_pred_probs must be True or False"):
        ml.get_label_quality_scores_per_class(LABELS, PROBS, adjust_pred_probs="yes")
    with pytest.raises(ValueError, match="multi_label=False"):
        ml.compute_confident_joint(LABELS, PROBS, multi_label=False)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda k: st.tuples(
            arrays(np.int8, (8, k), elements=st.integers(0, 1)),
            arrays(np.float64, (8, k), elements=st.floats(0, 1)),
            st.permutations(range(k)),
        )
    ),
    st.sampled_from(["exponential_moving_average", "softmin", "mean", "min"]),
)
def test_pooled_scores_do_not_depend_on_the_class_order(data, aggregator) -> None:
    indicator, probs, order = data
    kwargs = {"aggregator_kwargs": {"method": aggregator}}
    scores = ml.get_label_quality_scores(indicator, probs, **kwargs)
    permuted = ml.get_label_quality_scores(indicator[:, order], probs[:, order], **kwargs)
    np.testing.assert_allclose(scores, permuted, rtol=1e-12, atol=1e-12)
    per_class = ml.get_label_quality_scores_per_class(indicator, probs)
    assert np.all(scores >= per_class.min(axis=1) - 1e-12) and np.all(
        scores <= per_class.max(axis=1) + 1e-12
    )
