"""Synthetic label noise for tests, benchmarks and demos.

``noise_matrix[i][j] = P(given = i | true = j)`` (columns sum to 1), as everywhere in labelaudit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit._cells import apportion
from labelaudit._validate import check_fraction

_MAX_TRIES = 10_000


def _check_num_classes(K: Any) -> int:
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 2:
        raise ValueError(f"K={K!r} is not valid; use the number of classes, an integer >= 2.")
    return int(K)


def _check_prior(py: Any, K: int) -> np.ndarray:
    arr = np.asarray(py, dtype=np.float64)
    if arr.shape != (K,) or (arr <= 0).any() or not np.isclose(arr.sum(), 1.0):
        raise ValueError(f"py must be {K} positive probabilities summing to 1 (the true class prior).")
    return arr


def noise_matrix_is_valid(noise_matrix: np.ndarray, py: np.ndarray) -> bool:
    """Whether labels drawn with this noise are still learnable (confident learning's condition).

    Valid means the trace exceeds 1 and, for every given label ``i``, the true class ``i`` is
    strictly the most likely: ``P(given=i, true=i) > P(given=i, true=j)`` for all ``j != i``.

    >>> noise_matrix_is_valid(np.array([[.8, .3], [.2, .7]]), np.array([.5, .5]))
    True
    >>> noise_matrix_is_valid(np.array([[.5, .6], [.5, .4]]), np.array([.5, .5]))
    False
    """
    joint = noise_matrix * py
    diag = np.diagonal(joint)
    off = joint - np.diag(diag)
    return bool(np.trace(noise_matrix) > 1 and (diag[:, None] > off).all(axis=1).all())


def generate_noise_matrix(
    K: int,
    trace: float,
    *,
    py: Any = None,
    frac_zero_noise_rates: float = 0.0,
    valid: bool = True,
    seed: int | None = None,
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
        Redraw until :func:`noise_matrix_is_valid` holds (needs ``trace > 1``).
    seed : int, optional
        Seed of the random generator; the same seed gives the same matrix.

    Examples
    --------
    >>> from labelaudit.datasets import generate_noise_matrix
    >>> nm = generate_noise_matrix(3, 2.4, seed=0)
    >>> nm.shape, round(float(nm.trace()), 6), bool(abs(nm.sum(axis=0) - 1).max() < 1e-12)
    ((3, 3), 2.4, True)
    """
    K = _check_num_classes(K)
    if isinstance(trace, bool) or not isinstance(trace, (int, float, np.integer, np.floating)):
        raise TypeError(f"trace must be a number in (0, {K}]; found {type(trace).__name__}.")
    low = 1.0 if valid else 0.0
    if not low < trace <= K:
        raise ValueError(
            f"trace={trace!r} must be in ({low:g}, {K}]"
            + (" for a valid (learnable) noise matrix; pass valid=False for heavier noise." if valid else ".")
        )
    prior = np.full(K, 1.0 / K) if py is None else _check_prior(py, K)
    frac_zero = check_fraction("frac_zero_noise_rates", frac_zero_noise_rates)
    if trace == K:
        return np.eye(K)
    rng = np.random.default_rng(seed)
    num_zero = round(frac_zero * (K - 1))
    for _ in range(_MAX_TRIES):
        noise_mass = rng.dirichlet(np.full(K, 5.0)) * (K - trace)
        if (noise_mass > 1).any():
            continue
        matrix = np.diag(1.0 - noise_mass)
        for j in range(K):
            others = np.delete(np.arange(K), j)
            nonzero = rng.choice(others, size=max(1, K - 1 - num_zero), replace=False)
            matrix[nonzero, j] = rng.dirichlet(np.ones(len(nonzero))) * noise_mass[j]
        if not valid or noise_matrix_is_valid(matrix, prior):
            return matrix
    raise ValueError(
        f"no valid noise matrix found for K={K}, trace={trace}, frac_zero_noise_rates={frac_zero}; "
        "raise trace, lower frac_zero_noise_rates, or pass valid=False."
    )


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
