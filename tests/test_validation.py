"""Every bad input gets a clear error naming the argument, before any work."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import labelaudit as la

LABELS = np.array([0, 0, 1, 1])
PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])


def _with(row: int, values: list[float]) -> np.ndarray:
    p = PROBS.copy()
    p[row] = values
    return p


@pytest.mark.parametrize(
    "pred_probs, exc, pattern",
    [
        (_with(1, [np.nan, 0.4]), ValueError, r"pred_probs contains NaN or inf \(first in row 1\)"),
        (_with(2, [np.inf, 0.0]), ValueError, r"pred_probs contains NaN or inf \(first in row 2\)"),
        (_with(0, [-0.2, 1.2]), ValueError, r"pred_probs must hold probabilities in \[0, 1\].*first bad row 0"),
        (_with(3, [1.5, -0.5]), ValueError, r"pred_probs must hold probabilities in \[0, 1\].*first bad row 3"),
        (_with(2, [0.3, 0.3]), ValueError, r"rows of pred_probs must sum to 1.*row 2 sums to 0\.6.*pred_probs\.sum\(axis=1"),
        (PROBS[:, 0], ValueError, r"pred_probs must be 2-D .* found 1-D"),
        (PROBS[None], ValueError, r"pred_probs must be 2-D .* found 3-D"),
        (PROBS[:3], ValueError, r"labels has 4 entries but pred_probs has 3 rows"),
        (np.ones((4, 1)), ValueError, r"pred_probs has 1 column; label issues need at least 2 classes"),
        (np.array([[0.5, 0.5], [1.0], [0.2, 0.8], [0.1, 0.9]], dtype=object), TypeError, r"pred_probs must be a 2-D numeric array; found dtype object"),
        ([[0.5, 0.5], [1.0], [0.2, 0.8], [0.1, 0.9]], TypeError, r"pred_probs must be a 2-D numeric array.*could not be read"),
        (PROBS > 0.5, TypeError, r"pred_probs must hold real numbers .* found dtype bool"),
        (PROBS.astype(np.complex128), TypeError, r"pred_probs must hold real numbers"),
    ],
)
def test_bad_pred_probs(pred_probs, exc, pattern) -> None:
    for call in (
        lambda: la.find_label_issues(LABELS, pred_probs),
        lambda: la.get_label_quality_scores(LABELS, pred_probs),
        lambda: la.compute_confident_joint(LABELS, pred_probs),
        lambda: la.health_summary(LABELS, pred_probs, verbose=False),
    ):
        with pytest.raises(exc, match=pattern):
            call()


def test_rounding_noise_is_accepted_as_given() -> None:
    p = np.array([[1.00001, 0.00001], [0.5, 0.5], [0.0, 1.0], [-0.00002, 1.00002]])
    before = p.copy()
    mask = la.find_label_issues([0, 0, 1, 1], p)
    assert mask.dtype == bool and mask.shape == (4,)
    assert np.array_equal(p, before)  # nothing the user gave is changed
    assert la.get_label_quality_scores([0, 0, 1, 1], p)[0] == 1.00001


def test_float16_rows_that_do_not_sum_exactly_to_one_are_accepted() -> None:
    p = np.array([[0.3333, 0.3333, 0.3333], [0.1, 0.2, 0.7]], dtype=np.float16)
    assert la.get_label_quality_scores([0, 2], p).dtype == np.float32


@pytest.mark.parametrize(
    "labels, exc, pattern",
    [
        ([0, 0, 1, 2], ValueError, r"labels contain 2, but pred_probs has 2 columns \(classes 0\.\.1\)"),
        ([0, -1, 1, 1], ValueError, r"labels contain -1"),
        ([], ValueError, r"labels is empty"),
        ([[0, 1], [0], [1], [1]], ValueError, r"labels must hold one class per example; found lists.*multilabel"),
        (np.zeros((4, 2), dtype=int), ValueError, r"labels must be 1-D"),
        ([0.0, np.nan, 1.0, 1.0], ValueError, r"labels contain missing values"),
        ([0.5, 0.0, 1.0, 1.0], ValueError, r"labels are non-integer floats"),
        (["a", None, "b", "b"], ValueError, r"labels contain missing values"),
        (["a", "b", "c", "c"], ValueError, r"labels hold 3 distinct class names but pred_probs has 2 columns.*classes="),
        ("0011", TypeError, r"labels must be a 1-D array"),
    ],
)
def test_bad_labels(labels, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        la.find_label_issues(labels, PROBS)


def test_empty_input() -> None:
    with pytest.raises(ValueError, match=r"pred_probs is empty \(0 rows\)"):
        la.find_label_issues([], np.empty((0, 2)))


def test_classes_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"classes must list one class per pred_probs column \(2\); found 3"):
        la.find_label_issues(["a", "a", "b", "b"], PROBS, classes=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"classes lists 'a' twice"):
        la.find_label_issues(["a", "a", "b", "b"], PROBS, classes=["a", "a"])
    with pytest.raises(ValueError, match=r"labels contain \['c'\], which are not in classes \['a', 'b'\]"):
        la.find_label_issues(["a", "c", "b", "b"], PROBS, classes=["a", "b"])


def test_string_labels_without_classes_warn_and_say_the_order() -> None:
    with pytest.warns(UserWarning, match=r"sorted unique labels \['cat', 'dog'\]"):
        mask = la.find_label_issues(["cat", "cat", "dog", "dog"], PROBS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = la.find_label_issues(["cat", "cat", "dog", "dog"], PROBS, classes=["cat", "dog"])
    assert np.array_equal(mask, same)
    # The column order is what classes= says, not the sorted order.
    flipped = la.get_label_quality_scores(["cat", "dog"], [[0.9, 0.1], [0.2, 0.8]], classes=["dog", "cat"])
    assert flipped.tolist() == [0.1, 0.2]


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        ({"frac_noise": -0.1}, ValueError, r"frac_noise=-0\.1 is outside \[0, 1\]"),
        ({"frac_noise": 1.5}, ValueError, r"frac_noise=1\.5 is outside \[0, 1\]"),
        ({"frac_noise": "all"}, TypeError, r"frac_noise must be a number"),
        ({"filter_by": "prune"}, ValueError, r"filter_by='prune' is not recognised; use one of: 'prune_by_noise_rate', 'prune_by_class', 'both', 'confident_learning', 'predicted_neq_given', 'low_normalized_margin', 'low_self_confidence'"),
        ({"return_indices_ranked_by": "margin"}, ValueError, r"return_indices_ranked_by='margin' is not recognised; use one of: 'self_confidence', 'normalized_margin', 'confidence_weighted_entropy'"),
        ({"rank_by_kwargs": {"adjust": True}}, ValueError, r"rank_by_kwargs=.* the only key it accepts is 'adjust_pred_probs'"),
        ({"min_examples_per_class": -1}, ValueError, r"min_examples_per_class=-1 is not valid"),
        ({"num_to_remove_per_class": [1, 1]}, ValueError, r"num_to_remove_per_class is used only with filter_by='prune_by_class' or 'both'"),
        ({"filter_by": "prune_by_class", "num_to_remove_per_class": [1]}, ValueError, r"num_to_remove_per_class must be 2 non-negative integers"),
        ({"filter_by": "prune_by_class", "num_to_remove_per_class": [3, 0]}, ValueError, r"num_to_remove_per_class\[0\] = 3 but class 0 has only 2 examples"),
        ({"confident_joint": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, ValueError, r"confident_joint is 3 x 3 but pred_probs has 2 columns"),
        ({"confident_joint": [[1, -1], [0, 1]]}, ValueError, r"confident_joint must hold finite, non-negative counts"),
        ({"filter_by": "confident_learning", "confident_joint": [[1, 0], [0, 1]]}, ValueError, r"does not use confident_joint"),
        ({"n_jobs": 0}, ValueError, r"n_jobs=0 is not valid"),
    ],
)
def test_bad_options(kwargs, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        la.find_label_issues(LABELS, PROBS, **kwargs)


def test_bad_method_names_list_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=re.escape("method='entropy' is not recognised; use one of: 'self_confidence'")):
        la.get_label_quality_scores(LABELS, PROBS, method="entropy")
    with pytest.raises(ValueError, match=r"rank_by='x' is not recognised"):
        la.order_label_issues([0], LABELS, PROBS, rank_by="x")
    with pytest.raises(ValueError, match=r"estimation_method='exact' is not recognised; use one of: 'off_diagonal'"):
        la.num_label_issues(LABELS, PROBS, estimation_method="exact")
    with pytest.raises(ValueError, match=r"confident_joint goes with estimation_method='off_diagonal_custom'"):
        la.num_label_issues(LABELS, PROBS, estimation_method="off_diagonal_custom")


def test_order_label_issues_bad_rows() -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.3"):
        la.order_label_issues([0, 4], LABELS, PROBS)
    with pytest.raises(ValueError, match=r"a mask needs one entry per example \(4\)"):
        la.order_label_issues(np.array([True, False]), LABELS, PROBS)
    with pytest.raises(ValueError, match=r"lists a row more than once"):
        la.order_label_issues([1, 1], LABELS, PROBS)


def test_errors_come_before_any_output_even_late_in_the_data() -> None:
    """A bad value in the last block stops the call; nothing partial is returned."""
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=5000)
    p[-1] = [0.5, 0.5, 0.5]
    labels = rng.integers(0, 3, size=5000)
    with la.config_context(block_rows=100):
        with pytest.raises(ValueError, match=r"row 4999 sums to 1\.5"):
            la.find_label_issues(labels, p, filter_by="predicted_neq_given")
        with pytest.raises(ValueError, match=r"row 4999"):
            la.order_label_issues([0], labels, p)


def test_label_and_probability_containers() -> None:
    import pandas as pd

    expected = la.find_label_issues(LABELS, PROBS).tolist()
    assert la.find_label_issues(LABELS.astype(np.uint64), PROBS).tolist() == expected
    assert la.find_label_issues(LABELS.astype(np.int8), PROBS).tolist() == expected
    assert la.find_label_issues(pd.Series(LABELS), pd.DataFrame(PROBS)).tolist() == expected
    assert la.find_label_issues(LABELS.tolist(), PROBS.tolist()).tolist() == expected
    assert la.find_label_issues(LABELS, PROBS.astype(np.float16)).tolist() == expected
