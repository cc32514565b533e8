"""Euclidean nearest-neighbour search over row blocks: exact, and a cell-probing approximation.

**Exact.** For a block of query rows ``x`` and every base row ``y``, one float32 matrix
product gives ``s = |y|^2 - 2 x.y`` (rows are centred first; ``|y|^2`` rides along as an extra
column). With ``c = 2 k + 1``, ``t`` is the ``c``-th smallest of the minima of ``s`` over
interleaved column groups, so at least ``c`` columns have ``s <= t``; those are the candidates,
found without sorting a whole row. Their squared distances are computed exactly in float64 from
the original rows and the ``k`` nearest kept, ties broken by row number. The rounding of ``s``
is at most ``E = 2 (d + 8) 2^-24 (|x| + R)^2`` (``R``: the largest centred base norm), so a
column outside the candidates is farther than ``|x|^2 + t - E``; a row where that does not
exceed its ``k``-th candidate distance ``D_k`` takes every column with
``s <= D_k - |x|^2 + E`` instead. The answer is exact: the neighbours and distances of a
float64 brute force with ties broken by row, for any block size or number of threads.

**Approximate** (:func:`approximate_neighbors`). k-means splits the rows into about
``sqrt(m)`` cells; the rows of a cell are searched exactly, as above, among the rows of the
``P`` cells whose centres are nearest its own centre. ``P`` is measured, not guessed: the exact
neighbours of ``RECALL_SAMPLE`` random rows are found first, and ``P`` is the smallest number
of probed cells that holds ``TARGET_RECALL`` of them. The work is the probed share of an exact
search, still done as matrix products, and the recall on the sample is logged.

In both, a row is never its own neighbour and exact duplicates are each other's neighbours
at distance 0.
"""

from __future__ import annotations

import logging
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse

from labelaudit._threads import thread_map

logger = logging.getLogger(__name__)

BLOCK_BYTES = 64 << 20  # a block's float32 screen matrix
MAX_BLOCK_ROWS = 2048
TARGET_RECALL = 0.99  # share of the sampled rows' exact neighbours the probed cells must hold
RECALL_SAMPLE = 1000  # rows whose exact neighbours choose how many cells are probed
KMEANS_ITERATIONS = 10
KMEANS_SAMPLE_PER_CELL = 64
_PREPARE_ROWS = 1 << 16  # rows centred and converted at a time
_PAIRS = 4096  # candidate pairs whose exact distances are computed at a time
_ROUNDING = 2.0 * 2.0**-24  # twice the unit roundoff of float32


def screen_rows(points: np.ndarray, rows: np.ndarray | None, center: np.ndarray) -> np.ndarray:
    """Float32 ``[y - center, |y - center|^2]`` of the given rows (all rows for ``None``).

    With ``rows=None`` the array is padded to the group layout of :class:`Base` (padding
    rows have an infinite norm), so that a base of all rows makes no copy.
    """
    size, d = (len(points) if rows is None else len(rows)), points.shape[1]
    group = _group_size(size)
    padded = group * -(-size // group) if rows is None else size
    out = np.zeros((padded, d + 1), dtype=np.float32)
    out[size:, d] = np.inf
    for start in range(0, size, _PREPARE_ROWS):
        part = slice(start, min(start + _PREPARE_ROWS, size))
        values = points[part] if rows is None else points[rows[part]]
        centred = np.asarray(values, dtype=np.float64) - center
        out[part, :d] = centred
        out[part, d] = np.einsum("ij,ij->i", centred, centred)
    return out


class Base:
    """Rows searched among, prepared for the float32 screen.

    Parameters
    ----------
    points : ndarray of shape (m, d)
        Float32 or float64, no missing values.
    rows : ndarray of int64
        The rows of ``points`` searched among, ascending.
    screen : ndarray of float32, shape (at least len(rows), d + 1)
        :func:`screen_rows` of those rows (any rows beyond are padding, as it makes).
    center : ndarray of float64, shape (d,)
        The centre ``screen`` was made with.
    """

    def __init__(
        self, points: np.ndarray, rows: np.ndarray, screen: np.ndarray, center: np.ndarray
    ) -> None:
        self.points, self.rows, self.center = points, rows, center
        size, d = len(rows), points.shape[1]
        self.group = _group_size(size)
        self.num_groups = -(-size // self.group)
        missing = self.group * self.num_groups - len(screen)
        if missing > 0:
            padding = np.zeros((missing, d + 1), dtype=np.float32)
            padding[:, d] = np.inf  # padding columns never qualify
            screen = np.concatenate([screen, padding])
        self.screen = screen
        self.radius = float(np.sqrt(screen[:size, d].max()))

    def __len__(self) -> int:
        return len(self.rows)

    def nearest(
        self, queries: np.ndarray, k: int, *, own: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Squared distances and rows of the ``k`` nearest base rows of each query, nearest first.

        ``queries`` is an array of points; ``own`` gives their rows in ``points`` when they are
        rows of it, so that no query is its own neighbour. Ties are broken by row.
        """
        b, d = queries.shape
        centred = np.asarray(queries, dtype=np.float64) - self.center
        query_norms = np.einsum("ij,ij->i", centred, centred)
        screen = np.empty((b, d + 1), dtype=np.float32)
        screen[:, :d] = -2.0 * centred
        screen[:, d] = 1.0
        s = screen @ self.screen.T
        excluded = 0
        if own is not None:
            at = np.minimum(np.searchsorted(self.rows, own), len(self.rows) - 1)
            hit = np.flatnonzero(self.rows[at] == own)
            s[hit, at[hit]] = np.inf
            excluded = int(len(hit) > 0)
        by_group = s.reshape(b, self.group, self.num_groups)
        minima = by_group.min(axis=1)
        c = min(2 * k + 1, len(self.rows) - excluded)
        t = np.partition(minima if c <= self.num_groups else s, c - 1, axis=1)[:, c - 1]
        slack = _ROUNDING * (d + 8) * (np.sqrt(query_norms) + self.radius) ** 2
        d2, found = self._top(queries, *self._within(by_group, minima, np.arange(b), t), k, slack)
        unsure = np.flatnonzero(query_norms + t - slack < d2[:, -1])
        if len(unsure):
            bound = d2[unsure, -1] - query_norms[unsure] + slack[unsure]
            candidates = self._within(by_group, minima, unsure, bound)
            d2[unsure], found[unsure] = self._top(queries[unsure], *candidates, k, slack[unsure])
        return d2, found

    def _within(
        self, by_group: np.ndarray, minima: np.ndarray, rows: np.ndarray, bound: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(i, column, value)`` of every screen value of row ``rows[i]`` at most ``bound[i]``."""
        i, group = np.nonzero(minima[rows] <= bound[:, None])
        values = by_group[rows[i], :, group]
        pair, member = np.nonzero(values <= bound[i, None])
        return i[pair], member * self.num_groups + group[pair], values[pair, member]

    def _top(
        self,
        queries: np.ndarray,
        row: np.ndarray,
        column: np.ndarray,
        value: np.ndarray,
        k: int,
        slack: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest of candidate pairs (query ``row`` ascending, base ``column``).

        A candidate whose screen ``value`` exceeds the ``k``-th smallest of its row by more
        than twice the rounding ``slack`` is farther than ``k`` others and is dropped first.
        """
        b = len(queries)
        kth = np.partition(_table(row, value, b, np.inf), k - 1, axis=1)[:, k - 1]
        keep = value <= kth[row] + 2 * slack[row]
        row, found = row[keep], self.rows[column[keep]]
        d2 = np.empty(len(row))
        for start in range(0, len(row), _PAIRS):  # small pieces stay in cache
            part = slice(start, start + _PAIRS)
            diff = np.asarray(queries[row[part]], dtype=np.float64)
            diff -= self.points[found[part]]
            d2[part] = np.einsum("ij,ij->i", diff, diff)
        d2_table = _table(row, d2, b, np.inf)
        rows_table = _table(row, found, b, np.iinfo(np.int64).max)
        order = np.lexsort((rows_table, d2_table), axis=1)[:, :k]
        return np.take_along_axis(d2_table, order, 1), np.take_along_axis(rows_table, order, 1)


def _table(row: np.ndarray, values: np.ndarray, b: int, fill: Any) -> np.ndarray:
    """``values`` laid out as ``b`` table rows by their (ascending) ``row``, padded with ``fill``.

    >>> _table(np.array([0, 0, 2]), np.array([5, 6, 7]), 3, -1)
    array([[ 5,  6],
           [-1, -1],
           [ 7, -1]])
    """
    counts = np.bincount(row, minlength=b)
    place = np.arange(len(row)) - (np.cumsum(counts) - counts)[row]
    table = np.full((b, max(1, counts.max(initial=0))), fill, dtype=values.dtype)
    table[row, place] = values
    return table


def exact_neighbors(
    points: np.ndarray, k: int, *, workers: int = 1, block_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and rows of each row's ``k`` nearest other rows (exact, ties by row).

    ``workers`` threads share the row blocks; ``block_rows`` defaults to what keeps a block's
    screen matrix near ``BLOCK_BYTES``.

    Examples
    --------
    >>> import numpy as np
    >>> distances, rows = exact_neighbors(np.array([[0.0], [1.0], [1.0], [3.0]]), 2)
    >>> rows
    array([[1, 2],
           [2, 0],
           [1, 0],
           [1, 2]])
    >>> distances
    array([[1., 1.],
           [0., 1.],
           [0., 1.],
           [2., 2.]])
    """
    m = len(points)
    center = _center(points)
    base = Base(points, np.arange(m), screen_rows(points, None, center), center)
    return _search_blocks(base, np.arange(m), k, workers, block_rows)


def approximate_neighbors(
    points: np.ndarray, k: int, *, workers: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and rows of each row's ``k`` approximately nearest other rows.

    See the module documentation; deterministic for a given ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 3))
    >>> found = approximate_neighbors(x, 5)[1]
    >>> exact = exact_neighbors(x, 5)[1]
    >>> float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found, exact)])) > 0.95
    True
    """
    m = len(points)
    rng = np.random.default_rng(seed)
    center = _center(points)
    screen = screen_rows(points, None, center)
    centers = kmeans(points, max(1, int(np.sqrt(m))), center, rng=rng, workers=workers)
    cell = nearest_center(points, centers, center, workers)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(len(centers) + 1))
    members = [order[a:b] for a, b in pairwise(bounds)]
    ranking = _rank_centers(centers)
    sample = np.sort(rng.choice(m, size=min(m, RECALL_SAMPLE), replace=False))
    full = Base(points, np.arange(m), screen, center)
    truth = _search_blocks(full, sample, k, workers, None)
    rank = np.empty_like(ranking)
    rank[np.arange(len(centers))[:, None], ranking] = np.arange(len(centers))
    needed = np.sort(rank[cell[sample][:, None], cell[truth[1]]].ravel())
    probes = int(needed[int(np.ceil(TARGET_RECALL * len(needed))) - 1]) + 1
    logger.info(
        "approximate search: %d cells, each searched among its %d nearest; recall@%d on %d "
        "sampled rows %.4f",
        len(centers),
        probes,
        k,
        len(sample),
        float(np.mean(needed < probes)),
    )
    distances = np.empty((m, k))
    found = np.empty((m, k), dtype=np.int64)

    def work(c: int) -> None:
        if len(members[c]) == 0:
            return
        rows = np.sort(np.concatenate([members[p] for p in ranking[c, :probes]]))
        base = Base(points, rows, screen[rows], center) if len(rows) > k else full
        distances[members[c]], found[members[c]] = _search_blocks(base, members[c], k, 1, None)

    run_blocks(work, range(len(centers)), workers)
    return distances, found


def _rank_centers(centers: np.ndarray) -> np.ndarray:
    """For every centre, all centres by their distance from it, nearest (itself) first."""
    norms = np.einsum("ij,ij->i", centers, centers)
    d2 = norms[:, None] + norms[None, :] - 2.0 * (centers @ centers.T)
    np.fill_diagonal(d2, -np.inf)
    return np.argsort(d2, axis=1, kind="stable")


def kmeans(
    points: np.ndarray,
    num_centers: int,
    center: np.ndarray,
    *,
    rng: np.random.Generator,
    workers: int,
) -> np.ndarray:
    """Centres of ``num_centers`` k-means cells fitted on a sample of the rows (Lloyd's steps).

    Cells left empty keep their previous centre.
    """
    m = len(points)
    sample = np.sort(
        rng.choice(m, size=min(m, KMEANS_SAMPLE_PER_CELL * num_centers), replace=False)
    )
    values = np.asarray(points[sample], dtype=np.float64)
    centers = values[rng.choice(len(sample), size=num_centers, replace=False)]
    for _ in range(KMEANS_ITERATIONS):
        cell = nearest_center(values, centers, center, workers)
        counts = np.bincount(cell, minlength=num_centers)
        members = sparse.csr_matrix(
            (np.ones(len(cell)), (cell, np.arange(len(cell)))), shape=(num_centers, len(cell))
        )
        sums = members @ values
        filled = counts > 0
        centers[filled] = sums[filled] / counts[filled, None]
    return centers


def nearest_center(
    points: np.ndarray, centers: np.ndarray, center: np.ndarray, workers: int
) -> np.ndarray:
    """Index of the nearest of ``centers`` for every row of ``points``, by the float32 screen.

    Rounding may pick a centre a hair farther than the nearest; a cell is only a search region.
    """
    screen = screen_rows(centers, np.arange(len(centers)), center)
    weights, norms = np.ascontiguousarray(-2.0 * screen[:, :-1].T), screen[:, -1]
    rows = block_rows_for(len(centers), points.shape[1])

    def work(start: int) -> np.ndarray:
        block = np.asarray(points[start : start + rows], dtype=np.float64) - center
        return np.argmin(block.astype(np.float32) @ weights + norms, axis=1)

    return np.concatenate(run_blocks(work, range(0, len(points), rows), workers))


def _search_blocks(
    base: Base, queries: np.ndarray, k: int, workers: int, block_rows: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and rows of the ``k`` nearest base rows of the rows ``queries``, in blocks."""
    rows = block_rows or block_rows_for(len(base), base.points.shape[1])

    def work(start: int) -> tuple[np.ndarray, np.ndarray]:
        own = queries[start : start + rows]
        return base.nearest(np.asarray(base.points[own]), k, own=own)

    parts = run_blocks(work, range(0, len(queries), rows), workers)
    d2 = np.concatenate([p[0] for p in parts])
    return np.sqrt(d2), np.concatenate([p[1] for p in parts])


def block_rows_for(base_rows: int, d: int) -> int:
    """Query rows per block so that the screen matrix stays near ``BLOCK_BYTES``."""
    return int(np.clip(BLOCK_BYTES // (4 * (base_rows + d + 1)), 1, MAX_BLOCK_ROWS))


def run_blocks(work: Any, items: Any, workers: int) -> list[Any]:
    """``[work(item) for item in items]``, on ``workers`` threads when more than one."""
    return list(thread_map(work, items, workers))


def _center(points: np.ndarray) -> np.ndarray:
    total = np.zeros(points.shape[1])
    for start in range(0, len(points), _PREPARE_ROWS):
        total += np.asarray(points[start : start + _PREPARE_ROWS], dtype=np.float64).sum(axis=0)
    return total / len(points)


def _group_size(columns: int) -> int:
    """Columns per group of the screen: about ``sqrt(columns / 2)``, a power of two up to 256."""
    return int(min(256, 2 ** max(0, round(np.log2(np.sqrt(columns / 2))))))
