"""Confident joint, calibration, latent estimates and issue counts (labelaudit.noise), checked by hand."""

from __future__ import annotations

import json

import numpy as np
from conftest import CALIBRATED_CJ_A, LABELS_A, PROBS_A, RAW_CJ_A

import labelaudit as la


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
