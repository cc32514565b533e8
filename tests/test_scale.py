"""Same answer at any scale setting: block size, threads, memory map, batches, pass-3 bounds."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labelaudit as la
import labelaudit._kernels as kernels
from labelaudit._cells import Cells
from labelaudit.filter import noise_rate_counts
from labelaudit.noise import _calibrate
from labelaudit.streaming import STREAMING_METHODS

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tied_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """float16 / float32 / float64 probabilities on a coarse grid: exact ties everywhere."""
    k = draw(st.integers(2, 6))
    n = draw(st.integers(k, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, draw(st.integers(2, 6)), (n, k)).astype(np.float64)
    labels = rng.integers(0, k, n)
    weights[np.arange(n), labels] += rng.integers(0, 4, n)  # the given label often leads
    weights[weights.sum(axis=1) == 0, 0] = 1
    labels[:k] = np.arange(k)
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    return labels, (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)


def _results(labels: np.ndarray, pred_probs: object) -> dict[str, list]:
    out = {m: la.find_label_issues(labels, pred_probs, filter_by=m).tolist() for m in STREAMING_METHODS}
    out["cj"] = la.compute_confident_joint(labels, pred_probs).tolist()
    out["ranked"] = la.find_label_issues(labels, pred_probs, return_indices_ranked_by="normalized_margin").tolist()
    out["scores"] = la.get_label_quality_scores(labels, pred_probs).tolist()
    return out


@contextlib.contextmanager
def sparse_sample() -> Iterator[None]:
    """Pass 3 bounds its cells from a sparse sample (bounds miss, cells are read again) and
    compacts its pairs after every block; threads run even on tiny inputs."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(kernels, "SAMPLE_VALUES", 64)
        m.setattr(kernels, "MIN_SAMPLE_PER_CLASS", 1)
        m.setattr(kernels, "BOUND_SIGMAS", 0.0)
        m.setattr(kernels, "BOUND_ROWS", 0.0)
        m.setattr(kernels, "COMPACT_MIN_PAIRS", 0)
        m.setattr(kernels, "PARALLEL_MIN_VALUES", 0)
        yield


@contextlib.contextmanager
def kernel_layout(layout: str) -> Iterator[None]:
    """Force the code path that many classes take: tests along rows ("wide"), and K x K
    counts kept as sparse cells ("sparse"); "narrow" is what few classes use anyway."""
    with pytest.MonkeyPatch.context() as m:
        if layout in ("wide", "sparse"):
            m.setattr(kernels, "NARROW_CLASSES", 0)
        if layout == "sparse":
            m.setattr(kernels, "DENSE_CELLS", 0)
        yield


@FAST
@given(
    data=tied_inputs(),
    block_rows=st.sampled_from([1, 2, 5, 16, None]),
    n_jobs=st.sampled_from([1, 2]),
    layout=st.sampled_from(["narrow", "wide", "sparse"]),
)
def test_block_size_threads_layout_and_sampled_bounds_do_not_change_results(
    data: tuple[np.ndarray, np.ndarray], block_rows: int | None, n_jobs: int, layout: str
) -> None:
    labels, pred_probs = data
    expected = _results(labels, pred_probs)
    with sparse_sample(), kernel_layout(layout), la.config_context(block_rows=block_rows, n_jobs=n_jobs):
        assert _results(labels, pred_probs) == expected


def _brute_force_noise_rate(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """Prune by noise rate by sorting every (row, cell) margin: the rule, written plainly."""
    k = pred_probs.shape[1]
    counts = np.bincount(labels, minlength=k)
    joint = la.compute_confident_joint(labels, pred_probs, calibrate=False)
    per_cell = noise_rate_counts(Cells.from_dense(_calibrate(joint, counts)), counts, 1.0, 1).dense()
    return _largest_margins_plainly(labels, pred_probs, per_cell)


def _largest_margins_plainly(labels: np.ndarray, pred_probs: np.ndarray, per_cell: np.ndarray) -> np.ndarray:
    p = pred_probs.astype(np.float64)
    chosen = set()
    for i, j in zip(*np.nonzero(per_cell)):
        rows = np.flatnonzero(labels == i)
        margin = p[rows, j] - p[rows, i]
        order = np.lexsort((rows, -margin))
        chosen.update(rows[order[: per_cell[i, j]]].tolist())
    agrees = p[np.arange(len(labels)), labels] >= p.max(axis=1)
    mask = np.zeros(len(labels), dtype=bool)
    mask[sorted(chosen)] = True
    return mask & ~agrees


@FAST
@given(data=tied_inputs())
def test_pass_three_bounds_give_the_plain_selection(data: tuple[np.ndarray, np.ndarray]) -> None:
    labels, pred_probs = data
    expected = _brute_force_noise_rate(labels, pred_probs)
    assert np.array_equal(la.find_label_issues(labels, pred_probs), expected)
    with sparse_sample():
        assert np.array_equal(la.find_label_issues(labels, pred_probs), expected)


@pytest.mark.parametrize("sampled_margin", [-1.0, 1.0])
def test_pass_three_recovers_from_a_misleading_sample(sampled_margin: float) -> None:
    """A sample whose margins are all -1 makes every pair look sure (too many are: everything is
    read again without bounds); margins of +1 put the lower bound too high (cells read again)."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 600)
    pred_probs = rng.dirichlet(np.ones(3), 600).astype(np.float32)
    per_cell = np.array([[0, 60, 20], [30, 0, 5], [40, 10, 0]])
    sample_labels = np.repeat(np.arange(3), 100)
    target = sample_labels if sampled_margin < 0 else (sample_labels + 1) % 3
    sample = kernels.RowSample(np.arange(300), sample_labels, np.eye(3, dtype=np.float32)[target])
    mask = kernels.largest_margin_rows(
        labels, pred_probs, Cells.from_dense(per_cell), np.bincount(labels), sample, n_jobs=1
    )
    assert np.array_equal(mask, _largest_margins_plainly(labels, pred_probs, per_cell))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=tied_inputs(), cuts=st.lists(st.integers(1, 119), max_size=4))
def test_memory_map_and_batches_give_the_in_memory_answer(
    data: tuple[np.ndarray, np.ndarray], cuts: list[int]
) -> None:
    labels, pred_probs = data
    expected = _results(labels, pred_probs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.bin")
        mapped = np.memmap(path, dtype=pred_probs.dtype, mode="w+", shape=pred_probs.shape)
        mapped[:] = pred_probs
        mapped.flush()
        with la.config_context(block_rows=7):
            assert _results(labels, np.memmap(path, dtype=pred_probs.dtype, mode="r", shape=pred_probs.shape)) == expected
        del mapped
    bounds = [0, *sorted({c for c in cuts if c < len(labels)}), len(labels)]

    def batches() -> list[tuple[np.ndarray, np.ndarray]]:
        return [(labels[a:b], pred_probs[a:b]) for a, b in zip(bounds, bounds[1:])]

    for method in STREAMING_METHODS:
        finder = la.LabelIssueFinder(filter_by=method).fit(batches)
        assert finder.label_issues_.tolist() == expected[method], method


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
