"""The hot path (labelaudit._kernels): exact thresholds, the fast value check, ties in the
selection, blocks aligned to stored chunks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAST
from hypothesis import given
from hypothesis import strategies as st

import labelaudit as la
import labelaudit._kernels as kernels


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


@FAST
@given(
    groups=st.lists(st.integers(0, 3), min_size=1, max_size=60),
    offsets=st.lists(st.integers(-3, 3), min_size=60, max_size=60),
    limit=st.lists(st.integers(0, 20), min_size=4, max_size=4),
)
def test_selection_resolves_keys_that_tie_in_float32(groups: list[int], offsets: list[int], limit: list[int]) -> None:
    group = np.array(groups)
    key = 0.25 + np.array(offsets[: len(group)]) * 1e-12  # distinct in float64, equal in float32
    limit = np.array(limit)
    order = np.lexsort((np.arange(len(group)), key, group))
    rank = np.arange(len(order)) - np.searchsorted(group[order], group[order])
    expected = np.sort(order[rank < limit[group[order]]])
    assert np.array_equal(kernels.smallest_per_group(group, key, limit), expected)


@pytest.mark.parametrize("k", [10, 3000, 12000])  # float32 row sums; 12000: float64 sums
def test_values_just_inside_the_tolerance_pass_the_fast_check(k: int) -> None:
    pred_probs = np.full((4, k), 1 / k, dtype=np.float32)
    pred_probs[0, 0] += np.float32(0.00099)  # rows sum to 1.00099: accepted
    pred_probs[1, 0] = -0.00009  # the first value moved to the second, plus what it lost
    pred_probs[1, 1] += np.float32(1 / k + 0.00009)
    assert la.find_label_issues([0, 1, 2, 3], pred_probs).shape == (4,)
    pred_probs[2, 0] += np.float32(0.0011)
    with pytest.raises(ValueError, match="row 2 sums to"):
        la.find_label_issues([0, 1, 2, 3], pred_probs)


class ChunkedArray:
    """A stand-in for a zarr / h5py array: ``.shape``, ``.ndim``, ``.dtype``, ``.chunks``, row
    slicing; it records every row range read."""

    def __init__(self, values: np.ndarray, chunk_rows: int) -> None:
        self.values, self.shape, self.ndim, self.dtype = values, values.shape, 2, values.dtype
        self.chunks = (chunk_rows, values.shape[1])
        self.reads: list[tuple[int, int]] = []

    def __getitem__(self, rows: slice) -> np.ndarray:
        self.reads.append((rows.start, rows.stop))
        return self.values[rows]


@pytest.mark.parametrize("chunk_rows", [7, 300, 5000])
def test_blocks_follow_the_stored_chunks(chunk_rows: int) -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, 2000)
    pred_probs = rng.dirichlet(np.ones(4), 2000).astype(np.float32)
    chunked = ChunkedArray(pred_probs, chunk_rows)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(kernels, "VALUES_PER_BLOCK", 1000)  # 250 rows per block before aligning
        assert np.array_equal(la.find_label_issues(labels, chunked), la.find_label_issues(labels, pred_probs))
    starts = sorted({a for a, _ in chunked.reads})
    assert all(a % chunk_rows == 0 for a in starts)  # every read starts a chunk ...
    assert all(b == min(a + max(chunk_rows, 250 - 250 % chunk_rows), 2000) for a, b in chunked.reads)
