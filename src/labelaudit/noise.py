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

ESTIMATION_METHODS = ("off_diagonal", "off_diagonal_calibrated", "off_diagonal_custom")


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


def compute_confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    calibrate: bool = True,
    return_indices_of_off_diagonals: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray | tuple[np.ndarray, Any]:
    """Count examples by given label (rows) and confidently predicted true label (columns).

    An example with given label ``i`` goes to cell ``(i, j)`` where ``j`` is the most probable
    class among those whose probability reaches the class threshold ``t_j`` (the mean
    ``pred_probs[:, j]`` over examples labelled ``j``); examples above no threshold are not
    counted. With ``calibrate`` each row is scaled to the number of examples with that given
    label, rounded to integers that keep the row totals.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given labels: indices ``0..K-1`` or class names (see ``classes``). At least two
        classes need examples (as for every estimate here); a class with a column but no
        example is fine.
    pred_probs : array-like of shape (n, K)
        Out-of-sample predicted probabilities, one column per class.
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
    passes = open_passes(labels, pred_probs, classes=classes, n_jobs=n_jobs, with_agrees=False)
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


def latent_from_joint(joint: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``py``, ``noise_matrix`` and ``inverse_noise_matrix`` of a joint distribution.

    A true class with no mass keeps an identity column in the noise matrix, and a given class
    with no examples an identity column in the inverse noise matrix.

    >>> py, noise, inverse = latent_from_joint(np.array([[.5, .1], [0, .4]]))
    >>> py, noise[:, 0]
    (array([0.5, 0.5]), array([1., 0.]))
    """
    k = joint.shape[0]
    py = joint.sum(axis=0)
    ps = joint.sum(axis=1)
    noise = np.eye(k)
    inverse = np.eye(k)
    has_true, has_given = py > 0, ps > 0
    noise[:, has_true] = joint[:, has_true] / py[has_true]
    inverse[:, has_given] = joint[has_given].T / ps[has_given]
    return py, noise, inverse


def estimate_latent(
    confident_joint: Any, labels: Any, *, classes: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate the prior of true labels and the two noise matrices.

    Returns ``(py, noise_matrix, inverse_noise_matrix)`` where ``py[j] = P(true = j)``,
    ``noise_matrix[i][j] = P(given = i | true = j)`` and
    ``inverse_noise_matrix[i][j] = P(true = i | given = j)``. The confident joint is calibrated
    to the label counts first; labels follow the rule of :func:`calibrate_confident_joint`.

    Examples
    --------
    >>> from labelaudit import estimate_latent
    >>> py, nm, inv = estimate_latent([[3, 1], [0, 4]], [0, 0, 0, 0, 1, 1, 1, 1])
    >>> py
    array([0.375, 0.625])
    >>> nm[:, 1]   # of the true class 1, 1/5 carries label 0
    array([0.2, 0.8])
    """
    calibrated = calibrated_given_joint(confident_joint, labels, classes)[0]
    return latent_from_joint(_joint_from_calibrated(calibrated))


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
      (``labels`` and ``pred_probs`` are still checked, in one pass).

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
    calibrated = passes.calibrated_joint()
    return int(calibrated.sum() - np.trace(calibrated))
