"""Synthetic noise: exact traces, sparsity, validity, exact flip counts, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.datasets import generate_noise_matrix, generate_noisy_labels, noise_matrix_is_valid


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
    if trace < k:
        off = nm - np.diag(np.diagonal(nm))
        nonzero = max(1, k - 1 - int(round(frac * (k - 1))))  # sparsity, at least one per column
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
