"""Parity with the reference library's filter / rank / count / dataset functions (issue 16):
the defects it showed, the names it has, and the differences labelaudit keeps on purpose."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAST, LABELS_A, PROBS_A, RAW_CJ_A
from hypothesis import given
from hypothesis import strategies as st

import labelaudit as la
from labelaudit.filter import FILTER_METHODS

# Defect 4: row 0 (label 0) is counted off the diagonal (t0 = 0.784 > 0.668, t1 = 0.25 <= 0.332)
# although its label is the model's most probable class. Row 3 ([.8, .2], label 1) is a real issue.
TOP_LABELS = [0, 0, 1, 1]
TOP_PROBS = np.array([[0.668, 0.332], [0.9, 0.1], [0.7, 0.3], [0.8, 0.2]])


def test_defect_4_no_rule_flags_a_label_that_is_the_top_class() -> None:
    cj, off = la.compute_confident_joint(
        TOP_LABELS, TOP_PROBS, calibrate=False, return_indices_of_off_diagonals=True
    )
    assert cj.tolist() == [[1, 1], [1, 1]] and off.tolist() == [0, 3]  # the joint is the paper's
    assert la.find_label_issues(TOP_LABELS, TOP_PROBS, filter_by="confident_learning").tolist() == [
        False, False, False, True,
    ]
    for filter_by in FILTER_METHODS:
        assert not la.find_label_issues(TOP_LABELS, TOP_PROBS, filter_by=filter_by)[0], filter_by
    assert la.num_label_issues(TOP_LABELS, TOP_PROBS, estimation_method="off_diagonal_rows") == 1
    assert la.num_label_issues(TOP_LABELS, TOP_PROBS) == 2  # the paper's estimate: 2 / 4 * 4


ZERO_LABELS = [0, 0, 1, 2, 2]
ZERO_PROBS = np.array([[0.9, 0, 0.1], [0.45, 0, 0.55], [0.6, 0, 0.4], [0.1, 0, 0.9], [0.2, 0, 0.8]])


def test_defect_5_a_probability_of_zero_is_never_confident() -> None:
    assert la.get_confident_thresholds(ZERO_LABELS, ZERO_PROBS).tolist() == [0.675, 0.0, 0.8500000000000001]
    # rows 1, 2 and 4 reach no threshold; class 1 keeps its example on the diagonal
    assert la.compute_confident_joint(ZERO_LABELS, ZERO_PROBS, calibrate=False).tolist() == [
        [1, 0, 0], [0, 0, 0], [0, 0, 1],
    ]
    for filter_by in ("prune_by_noise_rate", "confident_learning", "both", "prune_by_class"):
        assert not la.find_label_issues(ZERO_LABELS, ZERO_PROBS, filter_by=filter_by).any(), filter_by
    assert la.num_label_issues(ZERO_LABELS, ZERO_PROBS, estimation_method="off_diagonal_calibrated") == 0
    assert la.num_label_issues(ZERO_LABELS, ZERO_PROBS) == 0


ROUND_LABELS = [0, 0, 1, 1, 2, 2]
ROUND_PROBS = np.array(
    [[.9, .05, .05], [.8, .1, .1], [.05, .9, .05], [.1, .8, .1], [.85, .1, .05], [.1, .85, .05]]
)


def test_defect_6_a_threshold_is_reached_despite_float_rounding() -> None:
    thresholds = la.get_confident_thresholds(ROUND_LABELS, ROUND_PROBS)
    assert thresholds[1] == (0.9 + 0.8) / 2 > 0.85  # the mean of .9 and .8 in floats
    cj, off = la.compute_confident_joint(
        ROUND_LABELS, ROUND_PROBS, calibrate=False, return_indices_of_off_diagonals=True
    )
    assert cj.tolist() == [[1, 0, 1], [0, 1, 1], [1, 1, 0]]  # rows 4 and 5 reach t0, t1
    assert off.tolist() == [1, 3, 4, 5]
    # Class 2 has two issues, one kept by min_examples_per_class=1: the tie of cells (2, 0) and
    # (2, 1) goes to the lower class, row 4 (the reference, whose calibration differs, picks 5).
    assert np.flatnonzero(la.find_label_issues(ROUND_LABELS, ROUND_PROBS)).tolist() == [4]
    assert np.flatnonzero(
        la.find_label_issues(ROUND_LABELS, ROUND_PROBS, filter_by="confident_learning")
    ).tolist() == [4, 5]  # rows 1 and 3 are off the diagonal but their label is the top class
    assert np.flatnonzero(
        la.find_label_issues(ROUND_LABELS, ROUND_PROBS, min_examples_per_class=0)
    ).tolist() == [4, 5]


def test_defect_7_a_label_within_the_tolerance_of_the_maximum_is_on_top() -> None:
    labels, p = [0, 1, 1], np.array([[0.4999996, 0.5000004], [0.2, 0.8], [0.3, 0.7]])
    assert not la.find_label_issues(labels, p, filter_by="predicted_neq_given").any()
    assert not la.find_predicted_neq_given(labels, p).any()
    p[0] = [0.499998, 0.500002]  # 4e-6 apart: no longer a tie
    assert la.find_predicted_neq_given(labels, p).tolist() == [True, False, False]


def test_tolerance_is_the_same_in_float32_and_for_any_block_size() -> None:
    p32 = ROUND_PROBS.astype(np.float32)
    p32 /= p32.sum(axis=1, keepdims=True)
    expected = la.find_label_issues(ROUND_LABELS, p32, filter_by="confident_learning")
    assert np.flatnonzero(expected).tolist() == [4, 5]
    with la.config_context(block_rows=2):
        again = la.find_label_issues(ROUND_LABELS, p32, filter_by="confident_learning")
    assert np.array_equal(again, expected)


def test_thresholds_given_and_the_argmax_confusion_matrix() -> None:
    zeros = np.zeros(3)
    assert la.compute_confident_joint(LABELS_A, PROBS_A, thresholds=zeros, calibrate=False).tolist() == [
        [2, 1, 0], [0, 2, 1], [0, 0, 3],  # argmax counts: row 8 goes to its most probable class 2
    ]
    mask = la.find_label_issues_using_argmax_confusion_matrix(LABELS_A, PROBS_A)
    assert np.flatnonzero(mask).tolist() == [2, 5]
    with pytest.raises(ValueError, match="thresholds must be 3 non-negative numbers"):
        la.compute_confident_joint(LABELS_A, PROBS_A, thresholds=[0.5, -1, 0.5])
    with pytest.raises(ValueError, match="thresholds must be 3"):
        la.compute_confident_joint(LABELS_A, PROBS_A, thresholds=[0.5, 0.5])


def test_estimate_latent_py_methods() -> None:
    py, _, _ = la.estimate_latent(RAW_CJ_A, LABELS_A)  # calibrated [[2,1,0],[0,2,1],[0,0,3]] / 9
    np.testing.assert_allclose(py, [2 / 9, 3 / 9, 4 / 9])
    for method in ("eqn", "marginal", "marginal_ps"):
        np.testing.assert_allclose(la.estimate_latent(RAW_CJ_A, LABELS_A, py_method=method)[0], py)
    # "cnt" gives 0 to a true class never on the diagonal, and renormalises
    labels = [0, 0, 1, 1, 1, 1]
    assert la.estimate_latent([[0, 2], [2, 2]], labels, py_method="cnt")[0].tolist() == [0.0, 1.0]
    marginal = la.estimate_latent([[0, 2], [2, 2]], labels, py_method="marginal")[0]
    np.testing.assert_allclose(marginal, [1 / 3, 2 / 3])
    with pytest.raises(ValueError, match="py_method"):
        la.estimate_latent(RAW_CJ_A, LABELS_A, py_method="counts")
    with pytest.raises(ValueError, match="singular"):
        la.estimate_latent([[1, 1], [1, 1]], [0, 0, 1, 1], py_method="eqn")


def test_converge_latent_estimates_keeps_a_consistent_estimate_and_fixes_eqn() -> None:
    py, nm, inv = la.estimate_latent(RAW_CJ_A, LABELS_A, converge_latent_estimates=True)
    np.testing.assert_allclose(py, [2 / 9, 3 / 9, 4 / 9])
    np.testing.assert_allclose(nm, la.estimate_latent(RAW_CJ_A, LABELS_A)[1])
    # with eqn the three estimates then agree by Bayes' rule: inverse[j][i] = nm[i][j] py[j] / ps[i]
    py, nm, inv = la.estimate_latent([[3, 1], [2, 4]], [0] * 4 + [1] * 6, py_method="eqn",
                                     converge_latent_estimates=True)
    ps = np.array([0.4, 0.6])
    np.testing.assert_allclose(inv, (nm * py).T / ps, atol=1e-9)
    np.testing.assert_allclose(nm.sum(axis=0), 1) and np.testing.assert_allclose(inv.sum(axis=0), 1)


def test_estimate_py_and_noise_matrices_from_probabilities() -> None:
    py, _, _, cj = la.estimate_py_and_noise_matrices_from_probabilities(LABELS_A, PROBS_A)
    assert cj.tolist() == [[2, 1, 0], [0, 2, 1], [0, 0, 3]]
    np.testing.assert_allclose(py, [2 / 9, 3 / 9, 4 / 9])
    raw = la.estimate_py_and_noise_matrices_from_probabilities(LABELS_A, PROBS_A, calibrate=False)[3]
    assert raw.tolist() == RAW_CJ_A


def test_per_method_score_functions_and_find_top_issues() -> None:
    for name, method in [
        ("get_self_confidence_for_each_label", "self_confidence"),
        ("get_normalized_margin_for_each_label", "normalized_margin"),
        ("get_confidence_weighted_entropy_for_each_label", "confidence_weighted_entropy"),
    ]:
        expected = la.get_label_quality_scores(LABELS_A, PROBS_A, method=method)
        assert np.array_equal(getattr(la, name)(LABELS_A, PROBS_A), expected)
    scores = la.get_self_confidence_for_each_label(LABELS_A, PROBS_A)
    assert la.find_top_issues(scores, top=3).tolist() == [5, 2, 8]  # 0.1, 0.2, 0.4
    assert la.find_top_issues(scores, top=None).tolist() == [5, 2, 8, 4, 1, 7, 0, 3, 6]
    with pytest.raises(ValueError, match="top=0 is not valid"):
        la.find_top_issues(scores, top=0)
    with pytest.raises(ValueError, match="quality_scores must be a 1-D array"):
        la.find_top_issues([[0.1]])


def test_multi_label_reaches_the_multilabel_module_or_says_it_cannot() -> None:
    labels = [[0], [0, 1], [1], [1]]
    p = np.array([[.9, .1], [.8, .9], [.2, .7], [.1, .9]])
    direct = la.multilabel.find_label_issues(labels, p)
    assert np.array_equal(la.find_label_issues(labels, p, multi_label=True), direct)
    with pytest.raises(ValueError, match="num_label_issues has no multi-label form"):
        la.num_label_issues(labels, p, multi_label=True)
    with pytest.raises(TypeError, match="multi_label must be True or False"):
        la.find_label_issues(LABELS_A, PROBS_A, multi_label="yes")


def test_health_keywords_legacy_columns_and_dict_access(capsys: pytest.CaptureFixture[str]) -> None:
    classes = la.rank_classes_by_label_quality(LABELS_A, PROBS_A, legacy_columns=True)
    assert list(classes.columns) == [
        "Class Name", "Class Index", "Label Issues", "Inverse Label Issues", "Label Noise",
        "Inverse Label Noise", "Label Quality Score",
    ]
    assert classes["Label Issues"].tolist() == [1, 1, 0]
    overlap = la.find_overlapping_classes(LABELS_A, PROBS_A, legacy_columns=True)
    assert overlap[["Class Index A", "Class Index B", "Num Overlapping Examples"]].values.tolist() == [
        [0, 1, 1], [1, 2, 1],
    ]
    summary = la.health_summary(LABELS_A, PROBS_A, asymmetric=True, verbose=False)
    assert summary["overlapping_classes"][["class_a", "class_b"]].values.tolist() == [[0, 1], [1, 2]]
    assert summary["classes_by_label_quality"] is summary.classes
    assert summary["overall_label_health_score"] == pytest.approx(7 / 9)
    with pytest.raises(KeyError, match="has the keys"):
        summary["joint_matrix"]
    from_joint = la.health_summary(joint=summary.joint, num_examples=9, verbose=False)
    assert from_joint.classes["label_issues"].tolist() == [1, 1, 0]
    capsys.readouterr()
    assert la.overall_label_health_score(LABELS_A, PROBS_A) == pytest.approx(7 / 9)
    assert capsys.readouterr().out == (
        "About 22% of the labels (2 of 9) may be wrong; overall label health score 0.78.\n"
    )
    assert la.overall_label_health_score(joint=summary.joint, num_examples=9) == pytest.approx(7 / 9)
    with pytest.raises(TypeError, match="legacy_columns must be True or False"):
        la.find_overlapping_classes(LABELS_A, PROBS_A, legacy_columns=1)


@FAST
@given(st.integers(0, 2**32 - 1))
def test_no_rule_flags_a_top_label_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(3, 0.7), size=40)
    labels = rng.integers(0, 3, size=40)
    labels[:3] = [0, 1, 2]
    top = p[np.arange(40), labels] >= p.max(axis=1) - 1e-6
    for filter_by in FILTER_METHODS:
        assert not la.find_label_issues(labels, p, filter_by=filter_by)[top].any(), filter_by
    confident = la.find_label_issues(labels, p, filter_by="confident_learning")
    assert confident.sum() == la.num_label_issues(labels, p, estimation_method="off_diagonal_rows")
