"""Confident joint, calibration, joint distribution, noise matrices and issue counts.

Conventions (as in the confident learning paper and the tools people already use):

* ``confident_joint[i][j]``: examples with given label ``i`` confidently counted as true class
  ``j`` (rows given, columns true).
* ``noise_matrix[i][j] = P(given = i | true = j)``; each column sums to 1.
* ``inverse_noise_matrix[i][j] = P(true = i | given = j)``; each column sums to 1.
* ``py[j] = P(true = j)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labelaudit._cells import Cells, calibrate
from labelaudit._passes import open_passes
from labelaudit._validate import (
    EncodedLabels,
    as_pred_probs,
    check_bool,
    check_choice,
    check_confident_joint,
    check_joint_fits_labels,
    check_two_classes,
    encode_labels,
)

ESTIMATION_METHODS = ("off_diagonal", "off_diagonal_calibrated", "off_diagonal_custom", "off_diagonal_rows")
PY_METHODS = ("cnt", "eqn", "marginal", "marginal_ps")
CONVERGE_ROUNDS = 100  # at most this many rounds of converge_latent_estimates (it stops when stable)


def _calibrate(confident_joint: np.ndarray, label_counts: np.ndarray) -> np.ndarray:
    """Dense form of :func:`labelaudit._cells.calibrate`."""
    return calibrate(Cells.from_dense(confident_joint), label_counts).dense()


def num_issues_off_diagonal(confident_joint: np.ndarray, num_examples: int) -> int:
    """The ``"off_diagonal"`` estimate of :func:`num_label_issues` from a confident joint.

    ``floor((1 - trace / sum) * n)``: the fraction of counted examples off the diagonal, scaled
    to all ``num_examples``.

    >>> num_issues_off_diagonal(np.array([[3, 1], [0, 4]]), 10)
    1
    """
    total = confident_joint.sum()
    if total == 0:
        return 0
    off = total - np.trace(confident_joint)
    if np.issubdtype(confident_joint.dtype, np.integer):
        return int(off) * num_examples // int(total)
    return int(np.floor(off / total * num_examples))


def calibrated_given_joint(
    confident_joint: Any, labels: Any, classes: Any, num_classes: int | None = None
) -> tuple[np.ndarray, EncodedLabels]:
    """A confident joint given by the user, checked against ``labels`` and calibrated to them.

    The joint gives the classes (``K`` = its size, which must equal ``num_classes`` when known):
    integer labels are row indices ``0..K-1``, at least two classes need examples, and a row
    that counts examples needs labels of its class. Returns the calibrated joint and labels.
    """
    cj = check_confident_joint(confident_joint, num_classes)
    enc = encode_labels(labels, cj.shape[0], classes=classes, source="confident_joint")
    counts = check_two_classes(enc.counts(), enc.classes)
    check_joint_fits_labels(cj, counts, enc.classes)
    return _calibrate(cj, counts), enc


def get_confident_thresholds(
    labels: Any, pred_probs: Any, *, classes: Any = None, n_jobs: int | None = None
) -> np.ndarray:
    """Per-class thresholds: ``t_j``, the mean of ``pred_probs[:, j]`` over the examples labelled ``j``.

    The means are summed exactly (the same for any row order or block size). A class with no
    examples has no threshold: ``inf``, which no probability reaches. A row counts as confidently
    class ``j`` when ``p[j] >= t_j - 1e-6`` and ``p[j] >= 1e-6`` (see
    :func:`compute_confident_joint`).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import get_confident_thresholds
    >>> get_confident_thresholds([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    array([0.55, 0.8 ])
    >>> get_confident_thresholds([0, 0], np.array([[.9, .1], [.6, .4]]))
    array([0.75,  inf])
    """
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs, with_agrees=False)
    return passes.stats.thresholds.copy()


def compute_confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    thresholds: Any = None,
    calibrate: bool = True,
    return_indices_of_off_diagonals: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray | tuple[np.ndarray, Any]:
    """Count examples by given label (rows) and confidently predicted true label (columns).

    An example with given label ``i`` goes to cell ``(i, j)`` where ``j`` is the most probable
    class among those whose probability reaches the class threshold ``t_j`` (the mean
    ``pred_probs[:, j]`` over examples labelled ``j``, see :func:`get_confident_thresholds`);
    examples above no threshold are not counted. "Reaches" allows for rounding: ``p[j] >= t_j -
    1e-6``, and a probability below ``1e-6`` is never confident (a class whose examples all get
    probability 0 has threshold 0). With ``calibrate`` each row is scaled to the number of examples with that given
    label, rounded to integers that keep the row totals.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given labels: indices ``0..K-1`` or class names (see ``classes``). At least two
        classes need examples (as for every estimate here); a class with a column but no
        example is fine.
    pred_probs : array-like of shape (n, K)
        Out-of-sample predicted probabilities, one column per class.
    thresholds : array-like of shape (K,), optional
        Per-class thresholds to use instead of :func:`get_confident_thresholds` (``inf``: none).
    calibrate : bool, default True
        Scale rows to the given label counts (paper, Eq. 2).
    return_indices_of_off_diagonals : bool, default False
        Also return the sorted row indices counted off the diagonal (before calibration).
    classes : array-like of shape (K,), optional
        The class of each ``pred_probs`` column, when ``labels`` are not column indices.
    n_jobs : int, optional
        Threads over row blocks; results do not depend on it.

    Returns
    -------
    confident_joint : ndarray of shape (K, K), int64
    off_diagonal_indices : ndarray, only with ``return_indices_of_off_diagonals``

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import compute_confident_joint
    >>> labels = [0, 0, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]])
    >>> compute_confident_joint(labels, pred_probs, calibrate=False)  # row 2 reaches no threshold
    array([[1, 1],
           [0, 1]])
    >>> compute_confident_joint(labels, pred_probs)  # rows scaled to the label counts (2, 2)
    array([[1, 1],
           [0, 2]])
    """
    calibrate = check_bool("calibrate", calibrate)
    return_indices_of_off_diagonals = check_bool(
        "return_indices_of_off_diagonals", return_indices_of_off_diagonals
    )
    passes = open_passes(
        labels, pred_probs, classes=classes, n_jobs=n_jobs, with_agrees=False, thresholds=thresholds
    )
    cj = passes.calibrated_joint() if calibrate else passes.counts.confident_joint  # a new array
    if return_indices_of_off_diagonals:
        return cj, passes.counts.off_diagonal_rows
    return cj


def calibrate_confident_joint(confident_joint: Any, labels: Any, *, classes: Any = None) -> np.ndarray:
    """Scale each row of ``confident_joint`` to the count of that given label in ``labels``.

    Rows are rounded to integers by largest remainder so that row ``i`` sums exactly to the
    number of examples labelled ``i``; the result sums to ``len(labels)``. The matrix gives the
    classes: integer ``labels`` are its row indices ``0..K-1`` (or pass ``classes``, the class
    of each row), a class may have no example (an empty row), and at least two need some.

    Examples
    --------
    >>> from labelaudit import calibrate_confident_joint
    >>> calibrate_confident_joint([[1, 1], [0, 2]], [0, 0, 0, 1, 1])
    array([[2, 1],
           [0, 2]])
    """
    return calibrated_given_joint(confident_joint, labels, classes)[0]


def _joint_from_calibrated(calibrated: np.ndarray) -> np.ndarray:
    return calibrated / calibrated.sum()


def estimate_joint(
    labels: Any,
    pred_probs: Any = None,
    *,
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Estimate ``P(given = i, true = j)``: the calibrated confident joint divided by ``n``.

    ``pred_probs`` may be omitted when ``confident_joint`` is given; labels then follow the rule
    of :func:`calibrate_confident_joint`.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import estimate_joint
    >>> estimate_joint([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    array([[0.25, 0.25],
           [0.  , 0.5 ]])
    """
    if confident_joint is None:
        if pred_probs is None:
            raise ValueError("estimate_joint needs pred_probs or confident_joint; pass one of them.")
        return _joint_from_calibrated(
            open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs, with_agrees=False).calibrated_joint()
        )
    k = None if pred_probs is None else as_pred_probs(pred_probs).shape[1]
    return _joint_from_calibrated(calibrated_given_joint(confident_joint, labels, classes, k)[0])


def latent_from_joint(
    joint: np.ndarray, *, py_method: str = "marginal", converge_latent_estimates: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``py``, ``noise_matrix`` and ``inverse_noise_matrix`` of a joint distribution.

    A true class with no mass keeps an identity column in the noise matrix, and a given class
    with no examples an identity column in the inverse noise matrix. ``py_method`` and
    ``converge_latent_estimates`` are those of :func:`estimate_latent`.

    >>> py, noise, inverse = latent_from_joint(np.array([[.5, .1], [0, .4]]))
    >>> py, noise[:, 0]
    (array([0.5, 0.5]), array([1., 0.]))
    """
    k = joint.shape[0]
    true_mass = joint.sum(axis=0)
    ps = joint.sum(axis=1)
    noise = np.eye(k)
    inverse = np.eye(k)
    has_true, has_given = true_mass > 0, ps > 0
    noise[:, has_true] = joint[:, has_true] / true_mass[has_true]
    inverse[:, has_given] = joint[has_given].T / ps[has_given]
    py = _prior(py_method, ps, true_mass, noise, inverse)
    if converge_latent_estimates:
        py, noise, inverse = _converge(ps, py, noise, inverse)
    return py, noise, inverse


def _normalised(values: np.ndarray) -> np.ndarray:
    """Negative entries set to 0, then scaled to sum to 1 (left as they are when all are 0)."""
    values = np.clip(values, 0.0, None)
    total = values.sum()
    return values / total if total > 0 else values


def _prior(
    py_method: str, ps: np.ndarray, true_mass: np.ndarray, noise: np.ndarray, inverse: np.ndarray
) -> np.ndarray:
    """``P(true = j)`` by ``py_method`` (see :func:`estimate_latent`)."""
    if py_method == "marginal":
        return true_mass
    if py_method == "marginal_ps":
        return _normalised(inverse @ ps)
    if py_method == "cnt":
        diag = np.diagonal(noise)
        ratio = np.divide(np.diagonal(inverse), diag, out=np.zeros(len(ps)), where=diag > 0)
        return _normalised(ratio * ps)
    try:
        return _normalised(np.linalg.solve(noise, ps))
    except np.linalg.LinAlgError:
        raise ValueError(
            "py_method='eqn' solves noise_matrix @ py = ps, but this noise matrix is singular; "
            "use py_method='cnt' or 'marginal'."
        ) from None


def _columns_normalised(matrix: np.ndarray) -> np.ndarray:
    """Negative entries set to 0 and each column scaled to sum to 1 (an empty column: identity)."""
    matrix = np.clip(matrix, 0.0, None)
    sums = matrix.sum(axis=0)
    out = np.eye(len(matrix))
    out[:, sums > 0] = matrix[:, sums > 0] / sums[sums > 0]
    return out


def _converge(
    ps: np.ndarray, py: np.ndarray, noise: np.ndarray, inverse: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Make ``py`` and the two matrices agree by Bayes' rule, given the label prior ``ps``.

    Each round sets ``inverse[j][i] = noise[i][j] py[j] / ps[i]``, then ``py = inverse @ ps``,
    then ``noise[i][j] = inverse[j][i] ps[i] / py[j]`` (columns renormalised), until nothing moves
    by more than 1e-12 (at most :data:`CONVERGE_ROUNDS` rounds).
    """
    for _ in range(CONVERGE_ROUNDS):
        new_inverse = _columns_normalised((noise * py).T)
        new_py = _normalised(new_inverse @ ps)
        new_noise = _columns_normalised((new_inverse * ps).T)
        moved = max(
            np.abs(new_py - py).max(), np.abs(new_noise - noise).max(), np.abs(new_inverse - inverse).max()
        )
        py, noise, inverse = new_py, new_noise, new_inverse
        if moved <= 1e-12:
            break
    return py, noise, inverse


def estimate_latent(
    confident_joint: Any,
    labels: Any,
    *,
    py_method: str = "cnt",
    converge_latent_estimates: bool = False,
    classes: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate the prior of true labels and the two noise matrices.

    Returns ``(py, noise_matrix, inverse_noise_matrix)`` where ``py[j] = P(true = j)``,
    ``noise_matrix[i][j] = P(given = i | true = j)`` and
    ``inverse_noise_matrix[i][j] = P(true = i | given = j)``. The confident joint is calibrated
    to the label counts first (calibrating a calibrated joint changes nothing); labels follow the
    rule of :func:`calibrate_confident_joint`.

    ``py_method`` (``ps`` is the fraction of each given label):

    * ``"cnt"``: ``inverse[j][j] / noise[j][j] * ps[j]`` (0 where ``noise[j][j] = 0``);
    * ``"eqn"``: the solution of ``noise_matrix @ py = ps``;
    * ``"marginal"``: the column sums of the calibrated joint;
    * ``"marginal_ps"``: ``inverse_noise_matrix @ ps``.

    The first three equal the marginal for a calibrated joint, except ``"cnt"`` for a class
    never confidently on the diagonal. Negative values become 0 and ``py`` sums to 1.
    ``converge_latent_estimates`` then iterates Bayes' rule between the three until they agree.

    Examples
    --------
    >>> from labelaudit import estimate_latent
    >>> py, nm, inv = estimate_latent([[3, 1], [0, 4]], [0, 0, 0, 0, 1, 1, 1, 1])
    >>> py
    array([0.375, 0.625])
    >>> nm[:, 1]   # of the true class 1, 1/5 carries label 0
    array([0.2, 0.8])
    >>> estimate_latent([[3, 1], [0, 4]], [0, 0, 0, 0, 1, 1, 1, 1], py_method="eqn")[0]
    array([0.375, 0.625])
    """
    check_choice("py_method", py_method, PY_METHODS)
    converge = check_bool("converge_latent_estimates", converge_latent_estimates)
    calibrated = calibrated_given_joint(confident_joint, labels, classes)[0]
    return latent_from_joint(
        _joint_from_calibrated(calibrated), py_method=py_method, converge_latent_estimates=converge
    )


def estimate_py_and_noise_matrices_from_probabilities(
    labels: Any,
    pred_probs: Any,
    *,
    thresholds: Any = None,
    converge_latent_estimates: bool = True,
    py_method: str = "cnt",
    calibrate: bool = True,
    classes: Any = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(py, noise_matrix, inverse_noise_matrix, confident_joint)`` from ``pred_probs``.

    :func:`compute_confident_joint` (with ``thresholds`` and ``calibrate``) followed by
    :func:`estimate_latent` (with ``py_method`` and ``converge_latent_estimates``). The latent
    estimates always come from the calibrated joint; ``calibrate=False`` only returns the
    confident joint as counted.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import estimate_py_and_noise_matrices_from_probabilities
    >>> pred_probs = np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]])
    >>> py, nm, inv, cj = estimate_py_and_noise_matrices_from_probabilities([0, 0, 1, 1], pred_probs)
    >>> py, cj.tolist()
    (array([0.25, 0.75]), [[1, 1], [0, 2]])
    """
    check_choice("py_method", py_method, PY_METHODS)
    converge = check_bool("converge_latent_estimates", converge_latent_estimates)
    calibrate = check_bool("calibrate", calibrate)
    passes = open_passes(
        labels, pred_probs, classes=classes, n_jobs=n_jobs, with_agrees=False, thresholds=thresholds
    )
    calibrated = passes.calibrated_joint()
    py, noise, inverse = latent_from_joint(
        _joint_from_calibrated(calibrated), py_method=py_method, converge_latent_estimates=converge
    )
    return py, noise, inverse, calibrated if calibrate else passes.counts.confident_joint


def num_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    estimation_method: str = "off_diagonal",
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> int:
    """Estimate how many examples are mislabelled.

    ``estimation_method``:

    * ``"off_diagonal"``: the fraction of confidently counted examples that lie off the
      diagonal of the uncalibrated confident joint, times ``n``, truncated
      (``int((1 - trace(C) / C.sum()) * n)``, the rule of the label-errors paper);
    * ``"off_diagonal_calibrated"``: the off-diagonal total of the calibrated confident joint
      (the number that pruning by class removes);
    * ``"off_diagonal_custom"``: the first rule applied to the ``confident_joint`` you pass
      (``labels`` and ``pred_probs`` are still checked, in one pass);
    * ``"off_diagonal_rows"``: the rows counted off the diagonal of the confident joint whose
      given label is not a top prediction (what ``filter_by="confident_learning"`` flags; the
      reference library's ``"off_diagonal"``).

    The first rule reproduces the published label-error counts; it counts a row off the
    diagonal even where its given label ties the model's top class (CIFAR-100 in float16 has
    two), which the last rule does not.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import num_label_issues
    >>> num_label_issues([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
    1
    """
    check_choice("estimation_method", estimation_method, ESTIMATION_METHODS)
    if (confident_joint is None) == (estimation_method == "off_diagonal_custom"):
        raise ValueError(
            "confident_joint goes with estimation_method='off_diagonal_custom' and only with it; "
            f"got estimation_method={estimation_method!r} and "
            f"confident_joint={'None' if confident_joint is None else 'a matrix'}."
        )
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs, with_agrees=False)
    if estimation_method == "off_diagonal_custom":
        cj = check_confident_joint(confident_joint, passes.num_classes)
        passes.class_counts  # noqa: B018 - pass 1: every value and the classes are checked
        return num_issues_off_diagonal(cj, passes.num_examples)
    if estimation_method == "off_diagonal":
        return num_issues_off_diagonal(passes.counts.confident_joint, passes.num_examples)
    if estimation_method == "off_diagonal_rows":
        return int((~passes.counts.off_diagonal_agrees).sum())
    calibrated = passes.calibrated_joint()
    return int(calibrated.sum() - np.trace(calibrated))
