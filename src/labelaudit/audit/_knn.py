"""The k-nearest-neighbour graph that every neighbour-based check shares.

It is built once per audit over the rows whose features are complete, or read from a sparse
matrix the user passes as ``knn_graph``. An example is never its own neighbour; exact
duplicates are each other's neighbours at distance 0.

Euclidean search is :mod:`labelaudit.audit._search`: ``search="exact"`` gives exactly the
neighbours of a float64 brute force (ties broken by row), ``search="approximate"`` searches
each k-means cell among its nearest cells. ``search="auto"`` (the default) is exact while
``m * m * d`` (complete rows squared times features) is at most ``EXACT_BUDGET`` and
approximate above it (a whole audit at 50k x 128 takes 16 CPU-seconds exact, 5.5 approximate). On the
planted benchmark data (``benchmarks/bench_audit.py``) the approximate graph holds 99.1 % of
the exact 10 nearest neighbours at 50k x 128 and 99.0 % at 1M x 64. Other metrics use
scikit-learn's exact ``NearestNeighbors``. No optional dependency is needed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit._config import get_config

logger = logging.getLogger(__name__)

SEARCH_METHODS = ("auto", "exact", "approximate")
EXACT_BUDGET = 2e10  # m * m * d above which search="auto" is approximate (about 1 s of exact)


@dataclass(frozen=True)
class KnnGraph:
    """Each covered row's ``k`` nearest neighbours, nearest first.

    Attributes
    ----------
    rows : ndarray of int64, shape (m,)
        The rows that have neighbours (rows with missing features are left out), ascending.
    indices : ndarray of int64, shape (m, k)
        Neighbours of ``rows[i]`` as row numbers of the whole dataset.
    distances : ndarray of float64, shape (m, k)
        Their distances, ascending along each row.
    num_examples : int
        Rows in the whole dataset.
    """

    rows: np.ndarray
    indices: np.ndarray
    distances: np.ndarray
    num_examples: int

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    @property
    def num_left_out(self) -> int:
        return self.num_examples - len(self.rows)

    def covered(self) -> np.ndarray:
        """Boolean mask of the rows that have neighbours."""
        mask = np.zeros(self.num_examples, dtype=bool)
        mask[self.rows] = True
        return mask

    def notes(self, *sentences: str) -> list[str]:
        """``sentences`` plus, when rows were left out, a sentence saying how many."""
        if self.num_left_out == 0:
            return list(sentences)
        left_out = (
            f"{self.num_left_out} rows without neighbours (missing feature values) were left out "
            "and are not flagged."
        )
        return [*sentences, left_out]

    def to_csr(self) -> Any:
        """The graph as an ``(n, n)`` scipy CSR matrix of distances (what ``knn_graph`` takes)."""
        from scipy import sparse

        counts = np.zeros(self.num_examples, dtype=np.int64)
        counts[self.rows] = self.k
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return sparse.csr_matrix(
            (self.distances.ravel(), self.indices.ravel(), indptr),
            shape=(self.num_examples, self.num_examples),
        )


def build_knn_graph(
    features: np.ndarray,
    k: int,
    *,
    metric: str = "euclidean",
    n_jobs: int | None = None,
    search: str = "auto",
) -> KnnGraph:
    """The ``k`` nearest neighbours of every row of ``features`` without missing values.

    Examples
    --------
    >>> import numpy as np
    >>> g = build_knn_graph(np.array([[0.0], [1.0], [3.0], [np.nan]]), 1)
    >>> g.rows, g.indices.ravel(), g.distances.ravel()
    (array([0, 1, 2]), array([1, 0, 1]), array([1., 1., 2.]))
    """
    rows = np.flatnonzero(~np.isnan(features).any(axis=1))
    if len(rows) < 2:
        raise ValueError(
            "a k-nearest-neighbour graph needs at least 2 rows with complete features."
        )
    k = min(k, len(rows) - 1)
    complete = features if len(rows) == len(features) else features[rows]
    method = choose_search(len(rows), features.shape[1], metric, search)
    logger.info("building the %s %d-nearest-neighbour graph of %d rows", method, k, len(rows))
    if metric != "euclidean":
        from sklearn.neighbors import NearestNeighbors

        search_ = NearestNeighbors(n_neighbors=k, metric=metric, n_jobs=n_jobs).fit(complete)
        distances, positions = search_.kneighbors()
    else:
        distances, positions = euclidean_neighbors(complete, k, method, n_jobs)
    return KnnGraph(
        rows=rows.astype(np.int64),
        indices=rows[positions].astype(np.int64, copy=False),
        distances=distances.astype(np.float64, copy=False),
        num_examples=len(features),
    )


def choose_search(num_rows: int, num_features: int, metric: str, search: str) -> str:
    """``"exact"`` or ``"approximate"``: what ``search`` means for data of this size.

    >>> choose_search(10_000, 64, "euclidean", "auto"), choose_search(50_000, 128, "euclidean", "auto")
    ('exact', 'approximate')
    """
    if search != "auto":
        return search
    if metric != "euclidean" or float(num_rows) ** 2 * num_features <= EXACT_BUDGET:
        return "exact"
    return "approximate"


def euclidean_neighbors(
    points: np.ndarray, k: int, method: str, n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact or approximate Euclidean neighbours, on ``n_jobs`` threads over row blocks.

    ``n_jobs=None`` uses as many threads as BLAS would; while several threads run blocks,
    each block's matrix product runs on one BLAS thread.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    from labelaudit.audit._search import approximate_neighbors, exact_neighbors

    search = approximate_neighbors if method == "approximate" else exact_neighbors
    workers = n_jobs or get_config()["n_jobs"]
    if workers is None:
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        workers = max([1, *blas])
    elif workers == -1:
        workers = os.cpu_count() or 1
    if workers == 1:
        return search(points, k)
    with threadpool_limits(limits=1, user_api="blas"):
        return search(points, k, workers=workers)


def graph_from_csr(knn_graph: Any, num_examples: int, k: int) -> KnnGraph:
    """Read a user's sparse distance matrix: row ``i`` lists ``i``'s neighbours and distances.

    Self-loops are ignored; each row keeps its ``k`` nearest entries (ties by column), and every
    row that has entries must have at least ``k`` of them (``k`` is lowered to the smallest
    count). Rows without entries are left out.

    Examples
    --------
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix([[0, 1.0, 2.0], [1.0, 0, 0.5], [2.0, 0.5, 0]])
    >>> g = graph_from_csr(m, 3, 1)
    >>> g.indices.ravel(), g.distances.ravel()
    (array([1, 2, 1]), array([1. , 0.5, 0.5]))
    """
    from scipy import sparse

    if not sparse.issparse(knn_graph):
        raise TypeError(
            f"knn_graph must be a scipy sparse matrix (CSR) of distances; found "
            f"{type(knn_graph).__name__}. Build one with sklearn.neighbors.kneighbors_graph(..., "
            "mode='distance')."
        )
    if knn_graph.shape != (num_examples, num_examples):
        raise ValueError(
            f"knn_graph must have shape ({num_examples}, {num_examples}), one row and column per "
            f"example; found {knn_graph.shape}."
        )
    coo = sparse.coo_matrix(knn_graph)
    keep = coo.row != coo.col
    row, col, dist = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64), coo.data[keep]
    dist = np.asarray(dist, dtype=np.float64)
    if not np.isfinite(dist).all() or (dist < 0).any():
        raise ValueError("knn_graph must hold finite, non-negative distances.")
    counts = np.bincount(row, minlength=num_examples)
    rows = np.flatnonzero(counts)
    if len(rows) == 0:
        raise ValueError("knn_graph has no entries besides the diagonal; it lists no neighbours.")
    k = min(k, int(counts[rows].min()))
    order = np.lexsort((col, dist, row))
    row, col, dist = row[order], col[order], dist[order]
    starts = np.concatenate([[0], np.cumsum(counts)])[rows]
    take = (starts[:, None] + np.arange(k)).ravel()
    return KnnGraph(
        rows=rows.astype(np.int64),
        indices=col[take].reshape(-1, k),
        distances=dist[take].reshape(-1, k),
        num_examples=num_examples,
    )
