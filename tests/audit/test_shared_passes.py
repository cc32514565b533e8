"""Every check of an audit shares the passes over ``pred_probs``: few reads, no copy, same answers."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from labelaudit import Audit, find_label_issues, get_label_quality_scores
from labelaudit.filter import FILTER_METHODS


class RowCounting:
    """A row-sliceable ``pred_probs`` (as a memory map or zarr array is) that counts rows read."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.ndim = array.ndim
        self.rows_read = 0

    def __getitem__(self, key):
        out = self.array[key]
        self.rows_read += len(out) if np.ndim(out) == 2 else 1
        return out


def noisy(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels with 10% flipped, float32 ``pred_probs`` and features that follow the labels."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)).astype(np.float32)
    logits[np.arange(n), true] += 3
    pred_probs = np.exp(logits)
    pred_probs /= pred_probs.sum(axis=1, keepdims=True)
    labels = true.copy()
    flip = rng.random(n) < 0.1
    labels[flip] = rng.integers(0, k, int(flip.sum()))
    features = rng.normal(size=(n, 3)) + true[:, None]
    return labels, pred_probs, features


@pytest.fixture(scope="module")
def data():
    return noisy(20_000, 10)


@pytest.mark.parametrize(
    ("filter_by", "with_features"),
    [(filter_by, False) for filter_by in FILTER_METHODS] + [("prune_by_noise_rate", True)],
)
def test_pred_probs_are_read_at_most_four_times(data, filter_by, with_features):
    labels, pred_probs, features = data
    counting = RowCounting(pred_probs)
    issue_types = {"label": {"filter_by": filter_by}, "outlier": {}, "underperforming_group": {}}
    audit = Audit(label=labels).run(
        pred_probs=counting,
        features=features if with_features else None,
        issue_types=issue_types,
        verbose=False,
    )
    ran = audit.summary.loc[audit.summary["status"] == "ran", "issue_type"]
    assert len(ran) == (3 if with_features else 2)  # underperforming_group needs neighbours
    # auto: 2 more passes, and the flagged rows once more for their suggested labels
    flagged = int(audit.issues["is_label_issue"].sum()) if filter_by == "auto" else 0
    assert (counting.rows_read - flagged) / len(labels) <= (5 if filter_by == "auto" else 4)


@pytest.mark.parametrize("filter_by", FILTER_METHODS)
@pytest.mark.parametrize("method", ["self_confidence", "normalized_margin"])
def test_the_label_check_gives_what_the_core_functions_give(data, filter_by, method):
    labels, pred_probs, _ = data
    audit = Audit(label=labels).run(
        pred_probs=pred_probs,
        issue_types={"label": {"filter_by": filter_by, "method": method}},
        verbose=False,
    )
    issues = audit.issues
    expected = find_label_issues(labels, pred_probs, filter_by=filter_by)
    np.testing.assert_array_equal(issues["is_label_issue"], expected)
    scores = get_label_quality_scores(labels, pred_probs, method=method)
    np.testing.assert_array_equal(issues["label_score"], scores.astype(np.float64))
    np.testing.assert_array_equal(issues["predicted_label"], pred_probs.argmax(axis=1))


def test_underperforming_groups_use_the_core_label_quality(data):
    labels, pred_probs, features = data
    audit = Audit(label=labels).run(
        pred_probs=pred_probs, features=features, issue_types=["underperforming_group"], verbose=False
    )
    quality = get_label_quality_scores(labels, pred_probs).astype(np.float64)
    assert audit.info["underperforming_group"]["overall_quality"] == float(quality.mean())


def test_an_audit_of_pred_probs_allocates_less_than_pred_probs():
    labels, pred_probs, _ = noisy(100_000, 100)
    Audit(label=labels[:1000]).run(pred_probs=pred_probs[:1000], verbose=False)  # imports done
    tracemalloc.start()
    try:
        audit = Audit(label=labels).run(pred_probs=pred_probs, verbose=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert set(audit.summary.loc[audit.summary["status"] == "ran", "issue_type"]) == {
        "label",
        "outlier",
        "class_imbalance",
    }
    assert peak <= pred_probs.nbytes, f"peak {peak / 1e6:.1f} MB, pred_probs {pred_probs.nbytes / 1e6:.1f} MB"


def test_values_are_checked_once_before_any_check_runs(data):
    labels, pred_probs, _ = data
    bad = pred_probs.copy()
    bad[12_345, 0] = np.nan
    for given in (labels, None):
        audit = Audit(label=given) if given is not None else Audit(data={"x": np.zeros(len(bad))})
        with pytest.raises(ValueError, match="row 12345"):
            audit.run(pred_probs=RowCounting(bad), verbose=False)
        assert audit.summary.empty
