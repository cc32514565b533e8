"""Label quality scores (labelaudit.rank): exact values, adjustment, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LABELS_A, PROBS_A

import labelaudit as la


def test_scores_exact_values() -> None:
    labels = [0, 1, 0, 1]
    p = np.array([[0.5, 0.5], [0.2, 0.8], [1.0, 0.0], [1.0, 0.0]])
    assert la.get_label_quality_scores(labels, p).tolist() == [0.5, 0.8, 1.0, 0.0]
    np.testing.assert_allclose(
        la.get_label_quality_scores(labels, p, method="normalized_margin"), [0.5, 0.8, 1.0, 0.0]
    )
    entropy_08 = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8)) / np.log(2)
    r_05, r_08 = 1 / 0.5, entropy_08 / 0.8  # r = H(p) / p[y]; the score is log(1 + r) / r
    np.testing.assert_allclose(
        la.get_label_quality_scores(labels, p, method="confidence_weighted_entropy"),
        [np.log(3) / 2, np.log1p(r_08) / r_08, 1.0, 0.0],
    )
    assert np.log1p(r_05) / r_05 == pytest.approx(0.5493061443340548)


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
