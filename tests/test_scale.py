"""Same answer at any scale setting: block size, threads, memory map, batches, pass-3 bounds."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import FAST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labelaudit as la
import labelaudit._kernels as kernels
from labelaudit._cells import Cells
from labelaudit.filter import noise_rate_counts
from labelaudit.noise import _calibrate
from labelaudit.streaming import STREAMING_METHODS


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
