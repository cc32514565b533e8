"""Each check finds what was planted in synthetic data, and flags few clean rows."""

from __future__ import annotations

import numpy as np
import pytest

from labelaudit import Audit
from labelaudit.audit import IMAGE_CHECKS, available_checks
from labelaudit.audit.synthetic import Planted, make_planted, recall_and_false_rate

TABLE_CHECKS = [c for c in available_checks() if c not in IMAGE_CHECKS or c == "near_duplicate"]


@pytest.fixture(scope="module")
def planted() -> Planted:
    return make_planted()


@pytest.fixture(scope="module")
def audit(planted: Planted) -> Audit:
    return Audit(data={"y": planted.labels}, label="y").run(
        pred_probs=planted.pred_probs,
        features=planted.features,
        issue_types=TABLE_CHECKS,  # images: tests/audit/test_image_checks.py
        verbose=False,
    )


def flagged(audit: Audit, name: str) -> np.ndarray:
    return audit.issues[f"is_{name}_issue"].to_numpy()


@pytest.mark.parametrize(
    ("name", "attribute", "min_recall", "max_false_rate"),
    [
        ("outlier", "outliers", 1.0, 0.002),
        ("near_duplicate", "duplicates", 1.0, 0.0),
        ("null", "blank", 1.0, 0.0),
        ("non_iid", "block", 0.95, 0.002),
        ("class_imbalance", "rare", 1.0, 0.0),
        ("underperforming_group", "shuffled_cluster", 0.95, 0.0),
        ("label", "flipped", 0.85, 0.01),
        ("data_valuation", "flipped", 0.9, 0.005),
    ],
)
def test_each_check_finds_what_was_planted(
    audit: Audit,
    planted: Planted,
    name: str,
    attribute: str,
    min_recall: float,
    max_false_rate: float,
) -> None:
    recall, false_rate = recall_and_false_rate(
        flagged(audit, name), getattr(planted, attribute), ~planted.planted
    )
    assert recall >= min_recall, f"{name}: recall {recall:.3f}"
    assert false_rate <= max_false_rate, f"{name}: {false_rate:.4f} of clean rows flagged"


def test_label_conflicts_among_copies_are_called_out(audit: Audit, planted: Planted) -> None:
    conflict = audit.issues["near_duplicate_label_conflict"].to_numpy()
    assert conflict[planted.conflicting_copies].all()
    assert conflict.sum() == len(
        planted.conflicting_copies
    )  # copies with the same label are not conflicts
    sets = audit.issues["near_duplicate_set"].to_numpy()
    assert (sets[planted.duplicates] >= 0).all() and audit.info["near_duplicate"]["num_sets"] == 30


def test_rows_with_missing_features_are_left_out_and_said_so(
    audit: Audit, planted: Planted
) -> None:
    issues = audit.issues
    for name in ("outlier", "near_duplicate", "non_iid", "underperforming_group"):
        assert np.isnan(issues[f"{name}_score"].to_numpy()[planted.blank]).all()
        assert not flagged(audit, name)[planted.blank].any()
        note = audit.summary.set_index("issue_type").loc[name, "note"]
        assert "20 rows without neighbours (missing feature values) were left out" in note
    assert issues["null_columns"].to_numpy()[planted.blank[0]] == "0, 1, 2, 3, 4, 5, 6, 7"


def test_summary_has_one_row_per_check_with_scores_in_range(audit: Audit) -> None:
    summary = audit.summary
    assert summary["issue_type"].tolist() == TABLE_CHECKS
    assert (summary["status"] == "ran").all()
    assert summary["score"].between(0, 1).all()
    assert summary.set_index("issue_type").loc["non_iid", "score"] < 0.05  # the p-value


def test_get_issues_is_worst_first(audit: Audit) -> None:
    rows = audit.get_issues("outlier")
    assert (
        rows["is_issue"].all()
        and len(rows) == audit.summary.set_index("issue_type").loc["outlier", "num_issues"]
    )
    assert rows["score"].is_monotonic_increasing
    assert "outlier_strangeness" in rows.columns


def test_labels_from_features_alone(planted: Planted) -> None:
    audit = Audit(data={"y": planted.labels}, label="y").run(
        features=planted.features, issue_types={"label": {}}, verbose=False
    )
    recall, false_rate = recall_and_false_rate(
        flagged(audit, "label"), planted.flipped, ~planted.planted
    )
    assert recall >= 0.9 and false_rate <= 0.005
    assert np.isnan(audit.issues["label_score"].to_numpy()[planted.blank]).all()


def test_given_knn_graph_gives_the_same_results(audit: Audit, planted: Planted) -> None:
    from labelaudit.audit._knn import build_knn_graph

    graph = build_knn_graph(planted.features, 10).to_csr()
    again = Audit(data={"y": planted.labels}, label="y").run(
        pred_probs=planted.pred_probs,
        knn_graph=graph,
        issue_types=["outlier", "near_duplicate", "non_iid"],
        verbose=False,
    )
    for name in ("outlier", "near_duplicate", "non_iid"):
        np.testing.assert_array_equal(flagged(again, name), flagged(audit, name))


def test_clean_data_flags_almost_nothing() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 2000)
    X = rng.normal(0, 1, (2000, 6)) + 6 * np.eye(3, 6)[y]
    probs = np.exp(3 * np.eye(3)[y] + rng.normal(0, 0.5, (2000, 3)))
    probs /= probs.sum(axis=1, keepdims=True)
    audit = Audit(data={"y": y}, label="y").run(pred_probs=probs, features=X, verbose=False)
    counts = audit.summary.set_index("issue_type")["num_issues"]
    assert counts["near_duplicate"] == 0 and counts["null"] == 0 and counts["class_imbalance"] == 0
    assert counts["non_iid"] == 0 and counts["underperforming_group"] == 0
    assert counts["outlier"] <= 10  # 0.5 %


def test_approximate_search_finds_the_same_issues(audit: Audit, planted: Planted) -> None:
    approx = Audit(data={"y": planted.labels}, label="y").run(
        pred_probs=planted.pred_probs,
        features=planted.features,
        search="approximate",
        issue_types=["outlier", "near_duplicate", "non_iid", "underperforming_group"],
        verbose=False,
    )
    for name in ("outlier", "near_duplicate", "non_iid", "underperforming_group"):
        agreement = float((flagged(approx, name) == flagged(audit, name)).mean())
        assert agreement >= 0.995, f"{name}: approximate and exact agree on {agreement:.4f} of rows"
