"""Hand-checked small cases for the confident joint, every filter, scores and health.

Example A (K = 3, n = 9). Thresholds t = [17/30, 1/2, 2/3]. Rows 2 and 5 are mislabelled
(0 -> 1 and 1 -> 2); row 8 reaches no threshold and is not counted.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import labelaudit as la
from labelaudit.filter import FILTER_METHODS

LABELS_A = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
PROBS_A = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.7, 0.2, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.8, 0.1],
        [0.1, 0.6, 0.3],
        [0.1, 0.1, 0.8],
        [0.0, 0.1, 0.9],
        [0.1, 0.2, 0.7],
        [0.3, 0.3, 0.4],
    ]
)
RAW_CJ_A = [[2, 1, 0], [0, 2, 1], [0, 0, 2]]
CALIBRATED_CJ_A = [[2, 1, 0], [0, 2, 1], [0, 0, 3]]


def test_confident_joint_example_a() -> None:
    cj, off = la.compute_confident_joint(
        LABELS_A, PROBS_A, calibrate=False, return_indices_of_off_diagonals=True
    )
    assert cj.tolist() == RAW_CJ_A
    assert off.tolist() == [2, 5]
    assert la.compute_confident_joint(LABELS_A, PROBS_A).tolist() == CALIBRATED_CJ_A
    assert la.calibrate_confident_joint(RAW_CJ_A, LABELS_A).tolist() == CALIBRATED_CJ_A


def test_threshold_reached_exactly_counts() -> None:
    # t0 = mean(0.5, 0.5) = 0.5 exactly; both rows reach it.
    cj = la.compute_confident_joint([0, 0, 1], [[0.5, 0.5], [0.5, 0.5], [0.0, 1.0]], calibrate=False)
    assert cj.tolist() == [[2, 0], [0, 1]]


def test_threshold_is_exact_mean_not_a_rounded_sum() -> None:
    # 0.1 + 0.2 + 0.3 summed left to right in float64 is 0.6000000000000001; the exact mean of
    # the three stored values is what a row holding exactly that mean must reach.
    labels = [0, 0, 0, 1]
    p = [[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.0, 1.0]]
    from labelaudit._kernels import class_statistics

    t = class_statistics(np.array(labels), np.array(p), n_jobs=None).thresholds
    from fractions import Fraction

    exact = (Fraction(0.1) + Fraction(0.2) + Fraction(0.3)) / 3
    assert t[0] == float(exact)


def test_several_confident_classes_use_the_most_probable_class() -> None:
    # Thresholds t = [0.8, 0.3, 0.2]. Row 2 (label 1) reaches t1 and t2 but not t0; as in the
    # paper's released code (which reproduces its published tables) it is counted for the most
    # probable class of the row, 0. Row 3 reaches t1 and t2 and goes to 2, its most probable.
    labels = [0, 0, 1, 1, 2, 2]
    p = [[0.8, 0.1, 0.1], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0.1, 0.3, 0.6], [0.7, 0.1, 0.2], [0.8, 0.0, 0.2]]
    cj, off = la.compute_confident_joint(labels, p, calibrate=False, return_indices_of_off_diagonals=True)
    assert cj.tolist() == [[2, 0, 0], [1, 0, 1], [1, 0, 1]]
    assert off.tolist() == [2, 3, 5]


def test_class_without_examples_and_never_predicted() -> None:
    labels = [0, 0, 1, 1, 0]
    p = [[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.05, 0.05, 0.9]]
    cj = la.compute_confident_joint(labels, p, calibrate=False)
    # t = [31/60, 3/4, inf]: class 2 has no examples, so no threshold; row 3 reaches none.
    assert cj.tolist() == [[2, 0, 0], [0, 1, 0], [0, 0, 0]]
    calibrated = la.compute_confident_joint(labels, p)
    assert calibrated.tolist() == [[3, 0, 0], [0, 2, 0], [0, 0, 0]]
    py, noise, inverse = la.estimate_latent(cj, labels)
    assert py.tolist() == [0.6, 0.4, 0.0]
    assert noise[:, 2].tolist() == [0.0, 0.0, 1.0]  # identity column for an absent true class
    assert inverse[:, 2].tolist() == [0.0, 0.0, 1.0]
    assert la.find_label_issues(labels, p, filter_by="predicted_neq_given").tolist() == [
        False, False, False, False, True,
    ]
    summary = la.health_summary(labels, p, verbose=False)
    row = summary.classes.set_index("class").loc[2]
    assert row["label_issues"] == 0 and np.isnan(row["label_noise"])
    assert summary.classes["class"].tolist()[-1] == 2  # undefined rates sort last
    json.dumps(summary.to_dict())  # NaN becomes None


def test_given_class_with_no_confident_row_is_assumed_clean_by_calibration() -> None:
    assert la.calibrate_confident_joint([[0, 0], [1, 3]], [0, 0, 1, 1, 1, 1]).tolist() == [[2, 0], [1, 3]]


def test_latent_example_a() -> None:
    py, noise, inverse = la.estimate_latent(RAW_CJ_A, LABELS_A)
    np.testing.assert_allclose(py, [2 / 9, 3 / 9, 4 / 9])
    np.testing.assert_allclose(noise, [[1, 1 / 3, 0], [0, 2 / 3, 1 / 4], [0, 0, 3 / 4]])
    np.testing.assert_allclose(inverse, [[2 / 3, 0, 0], [1 / 3, 2 / 3, 0], [0, 1 / 3, 1]])
    np.testing.assert_allclose(la.estimate_joint(LABELS_A, PROBS_A), np.array(CALIBRATED_CJ_A) / 9)
    np.testing.assert_allclose(
        la.estimate_joint(LABELS_A, confident_joint=RAW_CJ_A), np.array(CALIBRATED_CJ_A) / 9
    )


def test_num_label_issues_example_a() -> None:
    assert la.num_label_issues(LABELS_A, PROBS_A) == 2  # int(2 / 8 * 9)
    assert la.num_label_issues(LABELS_A, PROBS_A, estimation_method="off_diagonal_calibrated") == 2


def test_off_diagonal_custom_uses_the_given_matrix() -> None:
    cj = [[5, 4, 0], [0, 9, 0], [0, 0, 0]]  # 4 of 18 off the diagonal; 4 / 18 * 9 = 2 exactly
    assert la.num_label_issues(LABELS_A, PROBS_A, estimation_method="off_diagonal_custom", confident_joint=cj) == 2
    cj = [[5, 5, 0], [0, 9, 0], [0, 0, 0]]  # 5 / 19 * 9 = 2.37
    assert la.num_label_issues(LABELS_A, PROBS_A, estimation_method="off_diagonal_custom", confident_joint=cj) == 2


@pytest.mark.parametrize("filter_by", FILTER_METHODS)
def test_every_filter_on_example_a(filter_by: str) -> None:
    mask = la.find_label_issues(LABELS_A, PROBS_A, filter_by=filter_by)
    assert np.flatnonzero(mask).tolist() == [2, 5]


@pytest.mark.parametrize(
    "rank_by, expected",
    [("self_confidence", [5, 2]), ("normalized_margin", [5, 2]), ("confidence_weighted_entropy", [5, 2])],
)
def test_ranked_indices(rank_by: str, expected: list[int]) -> None:
    ranked = la.find_label_issues(LABELS_A, PROBS_A, return_indices_ranked_by=rank_by)
    assert ranked.tolist() == expected
    assert ranked.dtype == np.int64
    assert la.order_label_issues([2, 5], LABELS_A, PROBS_A, rank_by=rank_by).tolist() == expected


TIED_LABELS = np.array([0, 0, 0, 0, 1, 1])
TIED_PROBS = np.array([[0.4, 0.6]] * 4 + [[0.1, 0.9]] * 2)


def test_ties_go_to_the_lower_row_index() -> None:
    cj = [[2, 2], [0, 2]]
    for filter_by in ("prune_by_class", "prune_by_noise_rate", "both"):
        mask = la.find_label_issues(TIED_LABELS, TIED_PROBS, filter_by=filter_by, confident_joint=cj)
        assert np.flatnonzero(mask).tolist() == [0, 1], filter_by
    ranked = la.order_label_issues([3, 1, 2], TIED_LABELS, TIED_PROBS)
    assert ranked.tolist() == [1, 2, 3]


def test_frac_noise_and_min_examples_per_class() -> None:
    cj = [[0, 4], [0, 2]]
    def flagged(**kw):
        return np.flatnonzero(la.find_label_issues(TIED_LABELS, TIED_PROBS, confident_joint=cj, **kw)).tolist()
    assert flagged() == [0, 1, 2]  # 4 wanted, 1 of the 4 kept
    assert flagged(min_examples_per_class=0) == [0, 1, 2, 3]
    assert flagged(frac_noise=0.5) == [0, 1]
    assert flagged(frac_noise=0.0) == []
    assert flagged(min_examples_per_class=4) == []


def test_num_to_remove_per_class() -> None:
    mask = la.find_label_issues(
        TIED_LABELS, TIED_PROBS, filter_by="prune_by_class", num_to_remove_per_class=[3, 2]
    )
    # three lowest p[0] among class 0 (ties: lowest rows); class 1 rows agree with the model
    assert np.flatnonzero(mask).tolist() == [0, 1, 2]


def test_given_label_tied_for_the_top_is_not_an_issue() -> None:
    p = [[0.5, 0.5], [0.5, 0.5], [0.0, 1.0], [0.1, 0.9]]
    assert not la.find_label_issues([0, 1, 1, 1], p, filter_by="predicted_neq_given").any()
    assert not la.find_label_issues([0, 1, 1, 1], p, confident_joint=[[0, 1], [0, 3]]).any()


def test_scores_exact_values() -> None:
    labels = [0, 1, 0, 1]
    p = np.array([[0.5, 0.5], [0.2, 0.8], [1.0, 0.0], [1.0, 0.0]])
    assert la.get_label_quality_scores(labels, p).tolist() == [0.5, 0.8, 1.0, 0.0]
    np.testing.assert_allclose(
        la.get_label_quality_scores(labels, p, method="normalized_margin"), [0.5, 0.8, 1.0, 0.0]
    )
    entropy_08 = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8)) / np.log(2)
    np.testing.assert_allclose(
        la.get_label_quality_scores(labels, p, method="confidence_weighted_entropy"),
        [0.5 / 1.5, 0.8 / (0.8 + entropy_08), 1.0, 0.0],
    )


def test_adjusted_scores_example_a() -> None:
    # Row 2: p - t + max(t) = [0.3, 0.8667, 0.1], renormalised: p[0] = 0.3 / (19 / 15) = 9 / 38.
    scores = la.get_label_quality_scores(LABELS_A, PROBS_A, adjust_pred_probs=True)
    assert scores[2] == pytest.approx(9 / 38, abs=1e-12)
    ranked = la.find_label_issues(
        LABELS_A, PROBS_A, return_indices_ranked_by="self_confidence", rank_by_kwargs={"adjust_pred_probs": True}
    )
    assert sorted(ranked.tolist()) == [2, 5]


def test_float32_stays_float32() -> None:
    p = PROBS_A.astype(np.float32)
    assert la.get_label_quality_scores(LABELS_A, p).dtype == np.float32
    assert la.get_label_quality_scores(LABELS_A, PROBS_A).dtype == np.float64
    assert np.flatnonzero(la.find_label_issues(LABELS_A, p)).tolist() == [2, 5]


def test_class_names_give_the_same_answer_as_indices() -> None:
    names = np.array(["ant", "bee", "cat"])[LABELS_A]
    mask = la.find_label_issues(names, PROBS_A, classes=["ant", "bee", "cat"])
    assert np.flatnonzero(mask).tolist() == [2, 5]
    summary = la.health_summary(names, PROBS_A, classes=["ant", "bee", "cat"], verbose=False)
    assert summary.classes["class_name"].tolist() == ["ant", "bee", "cat"]
    assert summary.overlapping_classes["class_name_a"].tolist() == ["ant", "bee"]
    # pandas Series of strings (object dtype) work too
    assert la.find_label_issues(pd.Series(names), PROBS_A, classes=["ant", "bee", "cat"]).sum() == 2


def test_health_example_a(capsys: pytest.CaptureFixture[str]) -> None:
    summary = la.health_summary(LABELS_A, PROBS_A, class_names=["ant", "bee", "cat"])
    printed = capsys.readouterr().out
    assert "Overall label health score: 0.7778" in printed and "ant" in printed
    classes = summary.classes
    assert list(classes.columns) == [
        "class", "class_name", "label_issues", "inverse_label_issues", "label_noise",
        "inverse_label_noise", "label_quality_score",
    ]
    assert classes["class"].tolist() == [0, 1, 2]
    assert classes["label_issues"].tolist() == [1, 1, 0]
    assert classes["inverse_label_issues"].tolist() == [0, 1, 1]
    np.testing.assert_allclose(classes["label_noise"], [1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(classes["inverse_label_noise"], [0, 1 / 3, 1 / 4])
    np.testing.assert_allclose(classes["label_quality_score"], [2 / 3, 2 / 3, 1])
    overlap = summary.overlapping_classes
    assert overlap[["class_a", "class_b", "num_overlapping_examples"]].values.tolist() == [[0, 1, 1], [1, 2, 1]]
    np.testing.assert_allclose(overlap["joint_probability"], [1 / 9, 1 / 9])
    assert summary.overall_label_health_score == pytest.approx(7 / 9)
    assert summary.num_label_issues == 2
    assert repr(summary) == (
        "HealthSummary(num_examples=9, num_classes=3, overall_label_health_score=0.7778, "
        "num_label_issues=2, noisiest_class='ant')"
    )
    html = summary._repr_html_()
    assert "<table" in html and "0.7778" in html
    as_dict = json.loads(json.dumps(summary.to_dict()))
    assert as_dict["confident_joint"] == CALIBRATED_CJ_A
    assert as_dict["classes"][0]["class_name"] == "ant"
    # the three pieces as functions agree with the summary
    pd.testing.assert_frame_equal(la.rank_classes_by_label_quality(LABELS_A, PROBS_A, class_names=["ant", "bee", "cat"]), classes)
    pd.testing.assert_frame_equal(la.find_overlapping_classes(LABELS_A, PROBS_A, class_names=["ant", "bee", "cat"]), overlap)
    assert la.overall_label_health_score(LABELS_A, PROBS_A) == pytest.approx(7 / 9)
    assert la.overall_label_health_score(joint=summary.joint) == pytest.approx(7 / 9)
    asym = la.find_overlapping_classes(LABELS_A, PROBS_A, asymmetric=True)
    assert asym[["class_a", "class_b"]].values.tolist() == [[0, 1], [1, 2]]


def test_health_from_confident_joint_only() -> None:
    summary = la.health_summary(LABELS_A, confident_joint=RAW_CJ_A, verbose=False)
    assert summary.confident_joint.tolist() == CALIBRATED_CJ_A
    with pytest.raises(ValueError, match="class_names has 2 entries but there are 3 classes"):
        la.health_summary(LABELS_A, PROBS_A, class_names=["a", "b"], verbose=False)
