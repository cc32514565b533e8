"""Health summary, class ranking, overlapping classes and the overall score (labelaudit.health)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import CALIBRATED_CJ_A, LABELS_A, PROBS_A, RAW_CJ_A

import labelaudit as la


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
