"""The blocked exact search equals a float64 brute force; the approximate one keeps its recall."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.audit._knn import EXACT_BUDGET, build_knn_graph, choose_search
from labelaudit.audit._search import approximate_neighbors, exact_neighbors


def brute_force(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pairwise distance in float64; the k nearest other rows, ties by row."""
    x = points.astype(np.float64)
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    rows = np.arange(len(x))
    order = np.array([np.lexsort((rows, r))[:k] for r in d2])
    return np.sqrt(np.take_along_axis(d2, order, axis=1)), order


def assert_same(found: tuple[np.ndarray, np.ndarray], expected: tuple[np.ndarray, np.ndarray]):
    np.testing.assert_array_equal(found[1], expected[1])
    np.testing.assert_allclose(found[0], expected[0], rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_equals_scikit_learn_brute_force(dtype) -> None:
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(3000, 20)) * 5 + 100).astype(dtype)  # far from the origin
    distances, rows = exact_neighbors(x, 10)
    reference = NearestNeighbors(n_neighbors=10, algorithm="brute").fit(x).kneighbors()
    np.testing.assert_array_equal(rows, reference[1])
    np.testing.assert_allclose(distances, reference[0], rtol=1e-5)


def test_ties_and_duplicates_are_broken_by_row() -> None:
    rng = np.random.default_rng(1)
    grid = rng.integers(0, 3, size=(600, 3)).astype(np.float32)  # many equal distances
    grid[100:140] = grid[7]  # 41 exact copies of row 7
    distances, rows = exact_neighbors(grid, 12, block_rows=64)
    assert_same((distances, rows), brute_force(grid, 12))
    assert (distances[7] == 0).all() and 7 not in rows[7]
    assert (distances[100] == 0).all() and 100 not in rows[100]


def test_all_rows_identical() -> None:
    x = np.ones((50, 4), dtype=np.float32)
    distances, rows = exact_neighbors(x, 3)
    assert (distances == 0).all()
    np.testing.assert_array_equal(rows[0], [1, 2, 3])
    np.testing.assert_array_equal(rows[10], [0, 1, 2])


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(2, 300),
    d=st.integers(1, 6),
    k=st.integers(1, 12),
    block_rows=st.integers(1, 80),
    workers=st.integers(1, 3),
    integers=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_exact_for_any_block_size_and_threads(m, d, k, block_rows, workers, integers, seed):
    rng = np.random.default_rng(seed)
    if integers:  # exact ties everywhere
        x = rng.integers(-2, 3, size=(m, d)).astype(np.float32)
    else:
        x = rng.normal(size=(m, d)) * 10.0 ** rng.integers(-3, 4)
        x[rng.integers(0, m, m // 4)] = x[0]  # copies of row 0
    k = min(k, m - 1)
    found = exact_neighbors(x, k, workers=workers, block_rows=block_rows)
    assert_same(found, brute_force(x, k))


def test_approximate_recall_on_clustered_data() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8000, 16)) + 6 * rng.normal(size=(8, 16))[rng.integers(0, 8, 8000)]
    x = x.astype(np.float32)
    found = approximate_neighbors(x, 10, workers=2)
    exact = exact_neighbors(x, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found[1], exact[1])])
    assert recall >= 0.97
    assert (found[1] != np.arange(len(x))[:, None]).all()
    assert (np.diff(found[0], axis=1) >= 0).all()


def test_automatic_choice_of_search(caplog) -> None:
    assert choose_search(1000, 10, "euclidean", "auto") == "exact"
    big = int(np.sqrt(EXACT_BUDGET / 64)) + 1
    assert choose_search(big, 64, "euclidean", "auto") == "approximate"
    assert choose_search(big, 64, "cosine", "auto") == "exact"
    assert choose_search(big, 64, "euclidean", "exact") == "exact"
    assert choose_search(100, 2, "euclidean", "approximate") == "approximate"
    x = np.random.default_rng(3).normal(size=(300, 4))
    with caplog.at_level(logging.INFO, logger="labelaudit.audit._knn"):
        exact = build_knn_graph(x, 5)
        approx = build_knn_graph(x, 5, search="approximate")
        cosine = build_knn_graph(x, 5, metric="cosine")
    assert "building the exact" in caplog.text and "building the approximate" in caplog.text
    assert_same((exact.distances, exact.indices), brute_force(x, 5))
    assert approx.indices.shape == cosine.indices.shape == (300, 5)


def test_n_jobs_does_not_change_the_graph() -> None:
    x = np.random.default_rng(4).normal(size=(2500, 8)).astype(np.float32)
    one = build_knn_graph(x, 10, n_jobs=1, search="exact")
    two = build_knn_graph(x, 10, n_jobs=2, search="exact")
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.distances, two.distances)
    approx_one = build_knn_graph(x, 10, n_jobs=1, search="approximate")
    approx_two = build_knn_graph(x, 10, n_jobs=-1, search="approximate")
    np.testing.assert_array_equal(approx_one.indices, approx_two.indices)
