"""The sparse K x K arithmetic against the rules written plainly, one class at a time."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit._cells import Cells, apportion, apportion_groups, calibrate
from labelaudit.filter import class_counts, noise_rate_counts


def _largest_remainder(weights: list[int], total: int) -> list[int]:
    whole = sum(weights)
    if whole == 0 or total == 0:
        return [0] * len(weights)
    exact = [Fraction(w * total, whole) for w in weights]
    share = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - share[i]), i))
    for i in order[: total - sum(share)]:
        share[i] += 1
    return share


matrices = st.integers(2, 7).flatmap(
    lambda k: st.lists(st.lists(st.integers(0, 9) | st.just(0), min_size=k, max_size=k), min_size=k, max_size=k)
).map(np.array)


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(st.tuples(st.lists(st.integers(0, 50), max_size=6), st.integers(0, 40)), min_size=1, max_size=6))
def test_apportion_groups_is_largest_remainder_per_group(groups: list[tuple[list[int], int]]) -> None:
    group = np.concatenate([np.full(len(w), g) for g, (w, _) in enumerate(groups)]).astype(np.int64)
    weights = np.concatenate([np.array(w, dtype=np.int64) for w, _ in groups])
    totals = np.array([t for _, t in groups])
    expected = [x for w, t in groups for x in _largest_remainder(w, t)]
    assert apportion_groups(group, weights, totals).tolist() == expected


def test_apportion_breaks_ties_towards_the_lower_index() -> None:
    assert apportion(np.array([1, 1, 1, 1]), 2).tolist() == [1, 1, 0, 0]
    assert apportion(np.array([0.5, 0.25, 0.25]), 3).tolist() == [1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(joint=matrices, data=st.data())
def test_calibration_and_pruning_counts_match_the_per_class_rules(joint: np.ndarray, data: st.DataObject) -> None:
    k = len(joint)
    counts = np.array(data.draw(st.lists(st.integers(0, 60), min_size=k, max_size=k)))
    expected = np.zeros((k, k), dtype=np.int64)
    for i in range(k):
        if counts[i] and joint[i].sum():
            expected[i] = _largest_remainder(joint[i].tolist(), int(counts[i]))
        elif counts[i]:
            expected[i, i] = counts[i]
    calibrated = calibrate(Cells.from_dense(joint), counts)
    assert calibrated.dense().tolist() == expected.tolist()

    frac = data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    keep = data.draw(st.integers(0, 3))
    per_cell = np.zeros((k, k), dtype=np.int64)
    for i in range(k):
        off = expected[i].copy()
        off[i] = 0
        total = min(int(np.floor(frac * off.sum() + 0.5)), max(int(counts[i]) - keep, 0))
        per_cell[i] = _largest_remainder(off.tolist(), total)
    assert noise_rate_counts(calibrated, counts, frac, keep).dense().tolist() == per_cell.tolist()
    unconfirmed = np.maximum(counts - np.diagonal(expected), 0)
    by_class = [min(int(np.floor(frac * u + 0.5)), max(int(c) - keep, 0)) for u, c in zip(unconfirmed, counts)]
    assert class_counts(calibrated, counts, frac, keep).tolist() == by_class


def test_cells_add_repeated_indices_and_drop_zeros() -> None:
    cells = Cells.from_counts(3, np.array([4, 0, 4, 8, 8]), np.array([1, 2, 3, 5, -5]))
    assert cells.index.tolist() == [0, 4] and cells.value.tolist() == [2, 4]
    assert cells.diagonal().tolist() == [2, 4, 0] and cells.row_sums().tolist() == [2, 4, 0]
