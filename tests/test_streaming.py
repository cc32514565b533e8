"""Label issues over batches (labelaudit.streaming): what the finder reads and checks."""

from __future__ import annotations

import numpy as np
import pytest

import labelaudit as la


def test_finder_reads_only_what_it_needs_and_checks_the_batches() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 50)
    pred_probs = rng.dirichlet([1, 1, 1], 50)
    finder = la.LabelIssueFinder(filter_by="confident_learning")
    finder.update(labels, pred_probs)
    finder.end_pass()
    with pytest.raises(ValueError, match="same batches in the same order"):
        finder.update(labels[::-1], pred_probs)
    finder = la.LabelIssueFinder(filter_by="confident_learning")
    finder.update(labels, pred_probs)
    finder.end_pass()
    finder.update(labels[:20], pred_probs[:20])
    with pytest.raises(ValueError, match="feed every batch"):
        finder.end_pass()
    finder = la.LabelIssueFinder(filter_by="confident_learning").fit(lambda: [(labels, pred_probs)])
    assert finder.num_passes_ == 2 and finder.done
    with pytest.raises(RuntimeError):
        finder.update(labels, pred_probs)


def test_finder_checks_values_like_the_array_functions() -> None:
    finder = la.LabelIssueFinder()
    with pytest.raises(ValueError, match="NaN"):
        finder.update([0, 1], np.array([[np.nan, 1.0], [0.5, 0.5]]))
