"""Every filter_by rule and its options (labelaudit.filter), on small cases checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import LABELS_A, PROBS_A

import labelaudit as la
from labelaudit.filter import FILTER_METHODS


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


def test_class_names_give_the_same_answer_as_indices() -> None:
    names = np.array(["ant", "bee", "cat"])[LABELS_A]
    mask = la.find_label_issues(names, PROBS_A, classes=["ant", "bee", "cat"])
    assert np.flatnonzero(mask).tolist() == [2, 5]
    summary = la.health_summary(names, PROBS_A, classes=["ant", "bee", "cat"], verbose=False)
    assert summary.classes["class_name"].tolist() == ["ant", "bee", "cat"]
    assert summary.overlapping_classes["class_name_a"].tolist() == ["ant", "bee"]
    # pandas Series of strings (object dtype) work too
    assert la.find_label_issues(pd.Series(names), PROBS_A, classes=["ant", "bee", "cat"]).sum() == 2
