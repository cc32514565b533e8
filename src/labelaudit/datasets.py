"""Synthetic label noise for tests, benchmarks and demos.

``noise_matrix[i][j] = P(given = i | true = j)`` (columns sum to 1), as everywhere in labelaudit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from labelaudit._cells import apportion
from labelaudit._validate import (
    check_bool,
    check_fraction,
    check_nonnegative_int,
    check_positive_int,
)

logger = logging.getLogger(__name__)

Seed = int | np.random.Generator | None


def _check_num_classes(K: Any) -> int:
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 2:
        raise ValueError(f"K={K!r} is not valid; use the number of classes, an integer >= 2.")
    return int(K)


def _check_prior(py: Any, K: int) -> np.ndarray:
    arr = np.asarray(py, dtype=np.float64)
    if arr.shape != (K,) or (arr <= 0).any() or not np.isclose(arr.sum(), 1.0):
        raise ValueError(f"py must be {K} positive probabilities summing to 1 (the true class prior).")
    return arr


def _check_bounds(low_name: str, low: Any, high_name: str, high: Any) -> tuple[float, float]:
    low, high = check_fraction(low_name, low), check_fraction(high_name, high)
    if low > high:
        raise ValueError(f"{low_name}={low!r} exceeds {high_name}={high!r}; use {low_name} <= {high_name}.")
    return low, high


def noise_matrix_is_valid(noise_matrix: np.ndarray, py: np.ndarray, *, verbose: bool = False) -> bool:
    """Whether labels drawn with this noise are still learnable (confident learning's condition).

    Valid means the trace exceeds 1 and, for every given label ``i``, the true class ``i`` is
    strictly the most likely: ``P(given=i, true=i) > P(given=i, true=j)`` for all ``j != i``.
    With ``verbose`` the first given label that breaks the condition is logged (INFO).

    >>> noise_matrix_is_valid(np.array([[.8, .3], [.2, .7]]), np.array([.5, .5]))
    True
    >>> noise_matrix_is_valid(np.array([[.5, .6], [.5, .4]]), np.array([.5, .5]))
    False
    """
    joint = np.asarray(noise_matrix, dtype=np.float64) * np.asarray(py, dtype=np.float64)
    diag = np.diagonal(joint)
    off = joint - np.diag(diag)
    dominant = (diag[:, None] > off).all(axis=1)
    if verbose and not dominant.all():
        i = int(np.flatnonzero(~dominant)[0])
        logger.info("given label %d: P(given=%d, true=%d) = %.4g is not above every other true class "
                    "(largest %.4g)", i, i, i, diag[i], off[i].max())
    return bool(np.trace(noise_matrix) > 1 and dominant.all())


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def generate_n_rand_probabilities_that_sum_to_m(
    n: int, m: float, *, max_prob: float = 1.0, min_prob: float = 0.0, seed: Seed = None
) -> np.ndarray:
    """``n`` random probabilities in ``[min_prob, max_prob]`` that add up to ``m``.

    Drawn uniformly on the simplex (a flat Dirichlet) and scaled to ``m``; where that would put
    entries above ``max_prob`` they are capped and the rest rescaled (water filling), so the
    result is built in one step, never by rejection.

    Examples
    --------
    >>> p = generate_n_rand_probabilities_that_sum_to_m(4, 2.5, max_prob=0.7, min_prob=0.5, seed=0)
    >>> round(float(p.sum()), 12), bool(((p >= 0.5) & (p <= 0.7)).all())
    (2.5, True)
    >>> generate_n_rand_probabilities_that_sum_to_m(2, 2.0)
    array([1., 1.])
    """
    n = check_nonnegative_int("n", n)
    low, high = _check_bounds("min_prob", min_prob, "max_prob", max_prob)
    if isinstance(m, bool) or not isinstance(m, (int, float, np.integer, np.floating)):
        raise TypeError(f"m must be a number (the sum); found {type(m).__name__}.")
    if n == 0:
        return np.zeros(0)
    if not n * low - 1e-9 <= m <= n * high + 1e-9:
        raise ValueError(
            f"m={m!r} cannot be the sum of n={n} probabilities in [{low:g}, {high:g}]; "
            f"use m in [{n * low:g}, {n * high:g}] or widen min_prob / max_prob."
        )
    width, rest = high - low, min(max(float(m) - n * low, 0.0), n * (high - low))
    if width == 0 or rest == n * width:
        return np.full(n, low + width)
    weights = _rng(seed).dirichlet(np.ones(n))
    order = np.argsort(-weights, kind="stable")
    tail = np.cumsum(weights[order][::-1])[::-1]  # weight of the entries from position t on
    for capped in range(n):
        scale = (rest - capped * width) / tail[capped]
        if scale * weights[order[capped]] <= width:
            break
    out = np.minimum(scale * weights, width)
    out[order[:capped]] = width
    return low + out


def randomly_distribute_N_balls_into_K_bins(
    N: int, K: int, *, max_balls_per_bin: int | None = None, min_balls_per_bin: int | None = None,
    seed: Seed = None,
) -> np.ndarray:
    """``N`` balls put into ``K`` bins at random: the count in each bin (int64, length ``K``).

    Each bin gets at least ``min_balls_per_bin`` (lowered to ``N // K`` when there are not
    enough balls) and at most ``max_balls_per_bin``; when the bins cannot hold ``N`` balls,
    they are filled to ``max_balls_per_bin`` (fewer than ``N`` balls in all).

    Examples
    --------
    >>> counts = randomly_distribute_N_balls_into_K_bins(10, 4, max_balls_per_bin=3, seed=0)
    >>> int(counts.sum()), int(counts.max()) <= 3
    (10, True)
    >>> randomly_distribute_N_balls_into_K_bins(10, 2, max_balls_per_bin=3)
    array([3, 3])
    """
    N, K = check_nonnegative_int("N", N), check_positive_int("K", K)
    high = N if max_balls_per_bin is None else min(check_nonnegative_int("max_balls_per_bin", max_balls_per_bin), N)
    low = 0 if min_balls_per_bin is None else check_nonnegative_int("min_balls_per_bin", min_balls_per_bin)
    low = min(low, N // K, high)
    N = min(N, high * K)
    rng = _rng(seed)
    counts = np.full(K, low, dtype=np.int64)
    for _ in range(N - low * K):  # one ball at a time into a bin with room, each equally likely
        counts[rng.choice(np.flatnonzero(counts < high))] += 1
    return counts


@dataclass(frozen=True)
class _NoiseSpec:
    """What a generated noise matrix must satisfy (every constraint is linear in its entries)."""

    K: int
    trace: float
    prior: np.ndarray
    valid: bool
    diagonal: tuple[float, float]  # bounds of each diagonal entry
    noise: tuple[float, float]  # bounds of each non-zero noise rate


def _constraints(spec: _NoiseSpec, support: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``G x <= h`` over the flattened matrix ``x``, and which rows must hold strictly.

    Strict rows: every noise rate in ``support`` is positive and, when ``spec.valid``, each
    given label's diagonal joint entry exceeds the others of its row. Bound rows: the ranges
    of the diagonal and of the noise rates in ``support``, and 0 outside it.
    """
    K, py = spec.K, spec.prior
    rows, bounds, strict = [], [], []

    def add(coefficients: dict[tuple[int, int], float], bound: float, is_strict: bool) -> None:
        row = np.zeros(K * K)
        for (i, j), c in coefficients.items():
            row[i * K + j] += c
        rows.append(row)
        bounds.append(bound)
        strict.append(is_strict)

    for i in range(K):
        add({(i, i): 1.0}, spec.diagonal[1], False)
        add({(i, i): -1.0}, -spec.diagonal[0], False)
        for j in range(K):
            if i == j:
                continue
            if support[i, j]:
                add({(i, j): 1.0}, spec.noise[1], False)
                add({(i, j): -1.0}, -spec.noise[0], False)
                add({(i, j): -1.0}, 0.0, True)
                if spec.valid:
                    add({(i, j): py[j], (i, i): -py[i]}, 0.0, True)
            else:
                add({(i, j): 1.0}, 0.0, False)
        if spec.valid:
            add({(i, i): -py[i]}, 0.0, True)
    return np.array(rows), np.array(bounds), np.array(strict)


def _most_feasible(spec: _NoiseSpec, support: np.ndarray, G: np.ndarray, h: np.ndarray,
                   strict: np.ndarray) -> np.ndarray | None:
    """The matrix with ``support`` whose strict rows hold with the widest common margin (a
    linear program), or None when no margin is positive."""
    K = spec.K
    equalities = np.zeros((K + 1, K * K + 1))
    for j in range(K):
        equalities[j, [i * K + j for i in range(K)]] = 1.0  # each column sums to 1
    equalities[K, [i * K + i for i in range(K)]] = 1.0  # the diagonal sums to the trace
    targets = np.r_[np.ones(K), spec.trace]
    A = np.column_stack([G, strict.astype(np.float64)])  # strict rows: g(x) + margin <= h
    cost = np.zeros(K * K + 1)
    cost[-1] = -1.0
    bounds = [(0.0, 1.0)] * (K * K) + [(None, 1.0)]
    result = linprog(cost, A_ub=A, b_ub=h, A_eq=equalities, b_eq=targets, bounds=bounds, method="highs")
    if result.status != 0 or result.x[-1] <= 1e-9:
        return None
    return result.x[:-1].reshape(K, K)


def _into_feasible(draw: np.ndarray, target: np.ndarray, G: np.ndarray, h: np.ndarray,
                   strict: np.ndarray) -> np.ndarray:
    """The point of the segment from ``draw`` to the strictly feasible ``target`` nearest to
    ``draw`` whose strict rows keep at least half of ``target``'s slack."""
    at_draw, at_target = G @ draw.ravel(), G @ target.ravel()
    limit = h - np.where(strict, (h - at_target) / 2, 0.0)
    over = at_draw > limit
    step = ((at_draw - limit)[over] / (at_draw - at_target)[over]).max() if over.any() else 0.0
    return (1 - step) * draw + step * target


def _exact_sums(matrix: np.ndarray, trace: float) -> np.ndarray:
    """Rounding removed: the diagonal sums to ``trace`` and every column to 1 exactly enough."""
    matrix = np.clip(matrix, 0.0, 1.0)
    diag = np.diagonal(matrix).copy()
    noisy = diag < 1
    diag[noisy] += (trace - diag.sum()) / max(noisy.sum(), 1)
    out = matrix - np.diag(np.diagonal(matrix))
    mass = out.sum(axis=0)
    has = mass > 0
    out[:, has] *= (1 - diag[has]) / mass[has]
    return out + np.diag(diag)


def _generate(spec: _NoiseSpec, draw: Callable[[np.random.Generator], np.ndarray],
              rng: np.random.Generator, max_iter: int) -> np.ndarray | None:
    """Draw matrices with ``draw``; one that breaks a constraint moves toward the most feasible
    matrix of its zero pattern (found once per pattern) just far enough to satisfy them all."""
    found: dict[bytes, np.ndarray | None] = {}
    for _ in range(max_iter):
        matrix = draw(rng)
        support = (matrix > 0) & ~np.eye(spec.K, dtype=bool)
        G, h, strict = _constraints(spec, support)
        values = G @ matrix.ravel()
        if (values[strict] < h[strict]).all() and (values[~strict] <= h[~strict]).all():
            return matrix
        key = support.tobytes()
        if key not in found:
            found[key] = _most_feasible(spec, support, G, h, strict)
        if found[key] is None:
            continue
        moved = _exact_sums(_into_feasible(matrix, found[key], G, h, strict), spec.trace)
        values = G @ moved.ravel()
        if (values[strict] < h[strict]).all() and (values[~strict] <= h[~strict] + 1e-12).all():
            return moved
    return None


def _fill_columns(diagonal: np.ndarray, nonzero: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A matrix with ``diagonal`` whose column ``j`` spreads ``1 - diagonal[j]`` over
    ``nonzero[j]`` random other rows (flat Dirichlet shares)."""
    K = len(diagonal)
    matrix = np.diag(diagonal)
    for j in np.flatnonzero(diagonal < 1):
        rows = rng.choice(np.delete(np.arange(K), j), size=int(nonzero[j]), replace=False)
        matrix[rows, j] = rng.dirichlet(np.ones(len(rows))) * (1 - diagonal[j])
    return matrix


def _check_options(
    K: Any, valid: tuple[str, Any], trace: Any, py: Any, frac_zero: Any, max_iter: Any
) -> tuple[int, bool, float, np.ndarray, float, int]:
    """The checked options both generators share (``valid``: its name and value)."""
    K = _check_num_classes(K)
    is_valid = check_bool(valid[0], valid[1])
    return (
        K, is_valid, _check_trace(trace, K, is_valid, valid[0]),
        np.full(K, 1.0 / K) if py is None else _check_prior(py, K),
        check_fraction("frac_zero_noise_rates", frac_zero), check_positive_int("max_iter", max_iter),
    )


def _check_trace(trace: Any, K: int, valid: bool, valid_name: str) -> float:
    if isinstance(trace, bool) or not isinstance(trace, (int, float, np.integer, np.floating)):
        raise TypeError(f"trace must be a number in (0, {K}]; found {type(trace).__name__}.")
    low = 1.0 if valid else 0.0
    if not low < trace <= K:
        raise ValueError(
            f"trace={trace!r} must be in ({low:g}, {K}]"
            + (f" for a valid (learnable) noise matrix; pass {valid_name}=False for heavier noise."
               if valid else ".")
        )
    return float(trace)


def _not_found(K: int, trace: float, frac_zero: float, max_iter: int, valid_name: str) -> ValueError:
    return ValueError(
        f"no valid noise matrix found for K={K}, trace={trace}, frac_zero_noise_rates={frac_zero} "
        f"in max_iter={max_iter} draws; raise trace, lower frac_zero_noise_rates, widen the "
        f"bounds, raise max_iter, or pass {valid_name}=False."
    )


def generate_noise_matrix(
    K: int,
    trace: float,
    *,
    py: Any = None,
    frac_zero_noise_rates: float = 0.0,
    valid: bool = True,
    seed: Seed = None,
    max_iter: int = 10_000,
) -> np.ndarray:
    """A random K x K noise matrix ``P(given | true)`` whose diagonal sums to ``trace``.

    Parameters
    ----------
    K : int
        Number of classes.
    trace : float in (0, K]
        Sum of the diagonal: ``K`` means no noise, ``trace / K`` is the mean fraction of each
        class that keeps its label.
    py : array-like of shape (K,), optional
        Prior of true labels, used by the validity check (uniform when omitted).
    frac_zero_noise_rates : float in [0, 1]
        Fraction of off-diagonal entries forced to zero (sparsity of the noise); every column
        with noise keeps at least one non-zero off-diagonal entry.
    valid : bool, default True
        Make :func:`noise_matrix_is_valid` hold (needs ``trace > 1``).
    seed : int or numpy Generator, optional
        Seed of the random generator; the same seed gives the same matrix.
    max_iter : int, default 10000
        Random draws allowed. A draw that is not valid is moved toward the most valid matrix
        with its zero pattern (a small linear program) just far enough to become valid, so a
        narrow feasible region (a skewed ``py`` with a low trace) is still reached; a
        ``ValueError`` says when none of the draws could be made valid.

    Examples
    --------
    >>> from labelaudit.datasets import generate_noise_matrix
    >>> nm = generate_noise_matrix(3, 2.4, seed=0)
    >>> nm.shape, round(float(nm.trace()), 6), bool(abs(nm.sum(axis=0) - 1).max() < 1e-12)
    ((3, 3), 2.4, True)
    >>> py = [.1, .1, .2, .6]
    >>> noise_matrix_is_valid(generate_noise_matrix(4, 1.5, py=py, seed=0), np.array(py))
    True
    """
    K, valid, trace, prior, frac_zero, max_iter = _check_options(
        K, ("valid", valid), trace, py, frac_zero_noise_rates, max_iter
    )
    if trace == K:
        return np.eye(K)
    nonzero = np.full(K, max(1, K - 1 - round(frac_zero * (K - 1))))
    spec = _NoiseSpec(K, trace, prior, valid, (0.0, 1.0), (0.0, 1.0))

    def draw(rng: np.random.Generator) -> np.ndarray:
        return _fill_columns(1.0 - rng.dirichlet(np.full(K, 5.0)) * (K - trace), nonzero, rng)

    matrix = _generate(spec, draw, _rng(seed), max_iter)
    if matrix is None:
        raise _not_found(K, trace, frac_zero, max_iter, "valid")
    return matrix


def generate_noise_matrix_from_trace(
    K: int,
    trace: float,
    *,
    max_trace_prob: float = 1.0,
    min_trace_prob: float = 1e-5,
    max_noise_rate: float = 1 - 1e-5,
    min_noise_rate: float = 0.0,
    valid_noise_matrix: bool = True,
    py: Any = None,
    frac_zero_noise_rates: float = 0.0,
    seed: Seed = 0,
    max_iter: int = 10_000,
) -> np.ndarray:
    """A random K x K noise matrix with the given trace, under the reference's options.

    The diagonal is drawn by :func:`generate_n_rand_probabilities_that_sum_to_m` within
    ``[min_trace_prob, max_trace_prob]``; ``int(K (K - 1) frac_zero_noise_rates)`` noise rates
    are set to zero, spread over the columns with noise by
    :func:`randomly_distribute_N_balls_into_K_bins` (at most ``K - 2`` per column); the others
    lie in ``[min_noise_rate, max_noise_rate]``. ``valid_noise_matrix``, ``py`` and
    ``max_iter`` work as ``valid``, ``py`` and ``max_iter`` of :func:`generate_noise_matrix`
    (a draw that breaks a constraint is moved into the feasible region).

    Examples
    --------
    >>> nm = generate_noise_matrix_from_trace(3, 2.0, py=[.2, .3, .5], frac_zero_noise_rates=.5)
    >>> round(float(nm.trace()), 9), int((nm == 0).sum())
    (2.0, 3)
    """
    K, valid, trace, prior, frac_zero, max_iter = _check_options(
        K, ("valid_noise_matrix", valid_noise_matrix), trace, py, frac_zero_noise_rates, max_iter
    )
    diagonal = _check_bounds("min_trace_prob", min_trace_prob, "max_trace_prob", max_trace_prob)
    noise = _check_bounds("min_noise_rate", min_noise_rate, "max_noise_rate", max_noise_rate)
    if not K * diagonal[0] <= trace <= K * diagonal[1]:
        raise ValueError(
            f"trace={trace} cannot be reached with diagonal entries in [{diagonal[0]:g}, "
            f"{diagonal[1]:g}]; widen min_trace_prob / max_trace_prob."
        )
    spec = _NoiseSpec(K, trace, prior, valid, diagonal, noise)

    def draw(rng: np.random.Generator) -> np.ndarray:
        diag = generate_n_rand_probabilities_that_sum_to_m(
            K, trace, max_prob=diagonal[1], min_prob=diagonal[0], seed=rng
        )
        noisy = diag < 1
        zeros = np.zeros(K, dtype=np.int64)
        wanted = int(K * (K - 1) * frac_zero) - (K - int(noisy.sum())) * (K - 1)
        if noisy.any() and K > 2:
            zeros[noisy] = randomly_distribute_N_balls_into_K_bins(
                max(wanted, 0), int(noisy.sum()), max_balls_per_bin=K - 2, seed=rng
            )
        return _fill_columns(diag, K - 1 - zeros, rng)

    matrix = _generate(spec, draw, _rng(seed), max_iter)
    if matrix is None:
        raise _not_found(K, trace, frac_zero, max_iter, "valid_noise_matrix")
    return matrix


def generate_noisy_labels(true_labels: Any, noise_matrix: Any, *, seed: int | None = None) -> np.ndarray:
    """Flip labels according to ``noise_matrix``, exactly: not a coin per example.

    For every true class ``j`` with ``n_j`` examples, ``noise_matrix[i][j] * n_j`` of them
    (rounded by largest remainder, so they add up to ``n_j``) get label ``i``; which ones is
    random. ``true_labels`` is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.datasets import generate_noisy_labels
    >>> true = np.repeat([0, 1], 10)
    >>> noisy = generate_noisy_labels(true, np.array([[.8, .3], [.2, .7]]), seed=0)
    >>> int((noisy[true == 0] == 1).sum()), int((noisy[true == 1] == 0).sum())
    (2, 3)
    """
    y = np.asarray(true_labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError("true_labels must be a non-empty 1-D array of integer class indices.")
    nm = np.asarray(noise_matrix, dtype=np.float64)
    K = nm.shape[0] if nm.ndim == 2 else 0
    if nm.shape != (K, K) or K < 2 or (nm < 0).any() or not np.allclose(nm.sum(axis=0), 1.0):
        raise ValueError("noise_matrix must be a K x K matrix of probabilities whose columns sum to 1.")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"true_labels must lie in 0..{K - 1} (the noise matrix has {K} classes).")
    rng = np.random.default_rng(seed)
    noisy = y.astype(np.int64, copy=True)
    for j in range(K):
        members = rng.permutation(np.flatnonzero(y == j))
        counts = apportion(nm[:, j], len(members))
        noisy[members] = np.repeat(np.arange(K), counts)
    return noisy


# -- Demo data: handwritten digits with known label noise ---------------------------------------

#: The demo's label noise: true digit -> (the digit it is mislabelled as, fraction of its
#: training examples that get that label). Digits 0 and 2 keep their labels; overall about
#: 13.5% of the training labels are wrong.
DIGITS_CONFUSIONS: dict[int, tuple[int, float]] = {
    1: (7, 0.20),
    7: (1, 0.15),
    3: (8, 0.20),
    8: (3, 0.15),
    4: (9, 0.15),
    9: (4, 0.20),
    5: (6, 0.15),
    6: (5, 0.15),
}


def digits_noise_matrix() -> np.ndarray:
    """The 10 x 10 noise matrix ``P(given | true)`` of :data:`DIGITS_CONFUSIONS`.

    Examples
    --------
    >>> from labelaudit.datasets import digits_noise_matrix
    >>> nm = digits_noise_matrix()
    >>> float(nm[7, 1]), float(nm[1, 1]), float(nm[0, 0])
    (0.2, 0.8, 1.0)
    """
    matrix = np.eye(10)
    for true, (given, rate) in DIGITS_CONFUSIONS.items():
        matrix[true, true] = 1.0 - rate
        matrix[given, true] = rate
    return matrix


@dataclass(frozen=True)
class NoisyDigits:
    """Digits split into a noisy training set and a clean test set (see :func:`load_noisy_digits`)."""

    X_train: np.ndarray
    labels: np.ndarray  # the noisy training labels
    true_labels: np.ndarray  # the training labels before the noise
    X_test: np.ndarray
    y_test: np.ndarray  # clean
    noise_matrix: np.ndarray

    @property
    def is_flipped(self) -> np.ndarray:
        """Boolean mask of the training examples whose label the noise changed."""
        return self.labels != self.true_labels


def load_noisy_digits(*, test_size: float = 0.3, seed: int = 0) -> NoisyDigits:
    """scikit-learn's handwritten digits (1,797 8x8 images, 10 classes) with known label noise.

    The data are split (stratified, seeded) into a training set and a held-out test set whose
    labels stay clean; the training labels are then flipped with :func:`digits_noise_matrix`
    by :func:`generate_noisy_labels` (exact counts per class, seeded), so the flipped examples
    are known and the precision and recall of flagged issues can be measured.

    Parameters
    ----------
    test_size : float in (0, 1), default 0.3
        Fraction of the images held out for testing.
    seed : int, default 0
        Seed of the split and of the choice of flipped examples.

    Examples
    --------
    >>> from labelaudit.datasets import load_noisy_digits
    >>> data = load_noisy_digits()
    >>> data.X_train.shape, data.X_test.shape
    ((1257, 64), (540, 64))
    >>> int(data.is_flipped.sum()), round(float(data.is_flipped.mean()), 3)
    (170, 0.135)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not isinstance(test_size, (float, np.floating)) or not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size!r} is not valid; use a fraction in (0, 1) such as 0.3.")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    noise_matrix = digits_noise_matrix()
    labels = generate_noisy_labels(y_train, noise_matrix, seed=seed)
    return NoisyDigits(X_train, labels, y_train.astype(np.int64), X_test, y_test.astype(np.int64), noise_matrix)
