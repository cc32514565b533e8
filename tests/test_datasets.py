"""Synthetic noise: exact traces, sparsity, validity, exact flip counts, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.datasets import (
    generate_n_rand_probabilities_that_sum_to_m,
    generate_noise_matrix,
    generate_noise_matrix_from_trace,
    generate_noisy_labels,
    noise_matrix_is_valid,
    randomly_distribute_N_balls_into_K_bins,
)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 12), frac=st.floats(0.0, 1.0), seed=st.integers(0, 10**6), data=st.data())
def test_noise_matrix_properties(k: int, frac: float, seed: int, data: st.DataObject) -> None:
    trace = data.draw(st.floats(max(1.01, k * 0.6), float(k)))
    nm = generate_noise_matrix(k, trace, frac_zero_noise_rates=frac, seed=seed)
    assert nm.shape == (k, k)
    assert np.trace(nm) == pytest.approx(trace, abs=1e-9)
    np.testing.assert_allclose(nm.sum(axis=0), 1.0, atol=1e-12)
    assert (nm >= 0).all()
    assert noise_matrix_is_valid(nm, np.full(k, 1 / k)) or trace == k
    if trace < k - 1e-9:  # (a trace within float rounding of k leaves no noise to spread)
        off = nm - np.diag(np.diagonal(nm))
        nonzero = max(1, k - 1 - round(frac * (k - 1)))  # sparsity, at least one per column
        assert ((off > 0).sum(axis=0) == nonzero).all()
    assert np.array_equal(nm, generate_noise_matrix(k, trace, frac_zero_noise_rates=frac, seed=seed))


def test_identity_when_trace_is_k_and_invalid_when_asked() -> None:
    assert np.array_equal(generate_noise_matrix(4, 4), np.eye(4))
    nm = generate_noise_matrix(3, 0.9, valid=False, seed=0)
    assert np.trace(nm) == pytest.approx(0.9)


@pytest.mark.parametrize(
    "args, kwargs, pattern",
    [
        ((1, 1.0), {}, r"K=1 is not valid"),
        ((3, 1.0), {}, r"trace=1\.0 must be in \(1, 3\] for a valid"),
        ((3, 3.5), {"valid": False}, r"trace=3\.5 must be in \(0, 3\]"),
        ((3, 2.0), {"py": [0.5, 0.5]}, r"py must be 3 positive probabilities"),
        ((3, 2.0), {"frac_zero_noise_rates": 2}, r"frac_zero_noise_rates=2 is outside \[0, 1\]"),
    ],
)
def test_noise_matrix_errors(args, kwargs, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        generate_noise_matrix(*args, **kwargs)


def test_noisy_labels_flip_exact_counts_and_keep_the_input() -> None:
    true = np.repeat(np.arange(3), [100, 50, 10])
    before = true.copy()
    nm = np.array([[0.8, 0.1, 0.0], [0.2, 0.8, 0.3], [0.0, 0.1, 0.7]])
    noisy = generate_noisy_labels(true, nm, seed=3)
    assert np.array_equal(true, before)
    counts = np.array([[((true == j) & (noisy == i)).sum() for j in range(3)] for i in range(3)])
    assert counts.tolist() == [[80, 5, 0], [20, 40, 3], [0, 5, 7]]
    assert np.array_equal(noisy, generate_noisy_labels(true, nm, seed=3))
    assert not np.array_equal(noisy, generate_noisy_labels(true, nm, seed=4))


def test_noisy_labels_errors() -> None:
    with pytest.raises(ValueError, match="columns sum to 1"):
        generate_noisy_labels([0, 1], [[0.5, 0.5], [0.4, 0.4]])
    with pytest.raises(ValueError, match=r"true_labels must lie in 0\.\.1"):
        generate_noisy_labels([0, 2], np.eye(2))
    with pytest.raises(ValueError, match="integer class indices"):
        generate_noisy_labels([0.5, 1.0], np.eye(2))


# -- issue 16: constructive generation, the reference's helpers -----------------------------------

@pytest.mark.parametrize("trace", [1.5, 1.8, 1.2])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_a_skewed_prior_with_a_low_trace_still_gives_a_valid_matrix(trace: float, seed: int) -> None:
    py = np.array([0.1, 0.1, 0.2, 0.6])
    nm = generate_noise_matrix(4, trace, py=py, valid=True, seed=seed)
    assert noise_matrix_is_valid(nm, py)
    assert np.trace(nm) == pytest.approx(trace, abs=1e-12)
    np.testing.assert_allclose(nm.sum(axis=0), 1.0, atol=1e-12)


def _prior(data: st.DataObject, k: int) -> np.ndarray:
    weights = np.array(data.draw(st.lists(st.floats(0.05, 1.0), min_size=k, max_size=k)))
    return weights / weights.sum()


@settings(max_examples=60, deadline=None)
@given(k=st.integers(2, 8), seed=st.integers(0, 10**6), data=st.data())
def test_generated_matrices_are_valid_exact_and_seeded(k: int, seed: int, data: st.DataObject) -> None:
    py = _prior(data, k)
    trace = data.draw(st.floats(1.05, float(k) - 1e-3))
    frac = data.draw(st.sampled_from([0.0, 0.5]))
    for generate in (
        lambda: generate_noise_matrix(k, trace, py=py, frac_zero_noise_rates=frac, seed=seed),
        lambda: generate_noise_matrix_from_trace(k, trace, py=py, frac_zero_noise_rates=frac, seed=seed),
    ):
        nm = generate()
        assert noise_matrix_is_valid(nm, py)
        assert np.trace(nm) == pytest.approx(trace, abs=1e-9)
        np.testing.assert_allclose(nm.sum(axis=0), 1.0, atol=1e-12)
        assert (nm >= 0).all()
        assert np.array_equal(nm, generate())


def test_from_trace_respects_its_bounds_and_zero_count() -> None:
    py = np.array([0.2, 0.3, 0.5])
    nm = generate_noise_matrix_from_trace(
        3, 2.1, py=py, max_trace_prob=0.8, min_trace_prob=0.6, max_noise_rate=0.3, seed=3
    )
    diag = np.diagonal(nm)
    assert ((diag >= 0.6) & (diag <= 0.8 + 1e-12)).all()
    assert (nm - np.diag(diag)).max() <= 0.3 + 1e-12
    assert noise_matrix_is_valid(nm, py)
    # K=4, frac .5: int(4 * 3 * .5) = 6 zero noise rates when every column has noise
    nm = generate_noise_matrix_from_trace(4, 2.0, max_trace_prob=0.9, frac_zero_noise_rates=0.5, seed=0)
    assert int((nm == 0).sum()) == 6


def test_generation_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"max_iter=0 is not valid"):
        generate_noise_matrix(3, 2.0, max_iter=0)
    with pytest.raises(ValueError, match=r"trace=1\.0 must be in \(1, 3\].*valid_noise_matrix=False"):
        generate_noise_matrix_from_trace(3, 1.0)
    with pytest.raises(ValueError, match=r"cannot be reached with diagonal entries in \[0\.5, 0\.6\]"):
        generate_noise_matrix_from_trace(3, 2.5, min_trace_prob=0.5, max_trace_prob=0.6)
    with pytest.raises(ValueError, match=r"min_trace_prob=0\.7 exceeds max_trace_prob=0\.6"):
        generate_noise_matrix_from_trace(3, 2.0, min_trace_prob=0.7, max_trace_prob=0.6)
    # noise rates of at most .1 leave each diagonal entry >= .8, so no trace of 1.5
    with pytest.raises(ValueError, match=r"no valid noise matrix found .* max_iter=3 draws"):
        generate_noise_matrix_from_trace(3, 1.5, max_noise_rate=0.1, max_iter=3)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 10**6), data=st.data())
def test_probabilities_sum_to_m_within_bounds(n: int, seed: int, data: st.DataObject) -> None:
    low = data.draw(st.floats(0.0, 0.5))
    high = data.draw(st.floats(low, 1.0))
    m = data.draw(st.floats(n * low, n * high))
    p = generate_n_rand_probabilities_that_sum_to_m(n, m, min_prob=low, max_prob=high, seed=seed)
    assert p.shape == (n,)
    assert p.sum() == pytest.approx(m, abs=1e-9)
    assert (p >= low - 1e-12).all() and (p <= high + 1e-12).all()
    np.testing.assert_array_equal(
        p, generate_n_rand_probabilities_that_sum_to_m(n, m, min_prob=low, max_prob=high, seed=seed)
    )


def test_probabilities_hand_checked_and_errors() -> None:
    assert generate_n_rand_probabilities_that_sum_to_m(0, 0.0).shape == (0,)
    np.testing.assert_array_equal(generate_n_rand_probabilities_that_sum_to_m(3, 1.5, max_prob=0.5), [0.5] * 3)
    with pytest.raises(ValueError, match=r"m=2\.0 cannot be the sum of n=3 probabilities in \[0, 0\.5\]"):
        generate_n_rand_probabilities_that_sum_to_m(3, 2.0, max_prob=0.5)


def test_balls_into_bins() -> None:
    counts = randomly_distribute_N_balls_into_K_bins(20, 5, min_balls_per_bin=3, max_balls_per_bin=6, seed=1)
    assert counts.sum() == 20 and counts.min() >= 3 and counts.max() <= 6
    # the bins hold at most 2 x 3 = 6 of the 10 balls; a minimum above N // K is lowered
    np.testing.assert_array_equal(randomly_distribute_N_balls_into_K_bins(10, 2, max_balls_per_bin=3), [3, 3])
    np.testing.assert_array_equal(randomly_distribute_N_balls_into_K_bins(3, 3, min_balls_per_bin=5), [1, 1, 1])
    np.testing.assert_array_equal(randomly_distribute_N_balls_into_K_bins(0, 3), [0, 0, 0])
    with pytest.raises(ValueError, match=r"K=0 is not valid"):
        randomly_distribute_N_balls_into_K_bins(3, 0)
