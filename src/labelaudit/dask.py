"""The core functions over dask arrays, on the current dask scheduler or a ``distributed.Client``.

``labels`` (shape ``(n,)``) and ``pred_probs`` (shape ``(n, K)``) may be dask arrays chunked
along rows (columns are joined into one chunk if they are not); either may also be a numpy
array, which is chunked like the other. The answers are exactly those of the in-memory
functions, for every ``filter_by`` and ranking method and whatever the chunking: the top-level
functions themselves take dask arrays, and their passes run as dask tasks (the dask engine of
:mod:`labelaudit._passes`, described in ``labelaudit._dask_passes``). Per-row outputs (masks,
scores) stay on the cluster as lazy dask arrays with the chunks of ``pred_probs``; ranked
indices are numpy. Only small objects reach the client.

The functions here are those top-level functions with two more options: ``client=`` (compute
there) and ``compute=`` (numpy rather than a lazy dask array).

Reading from shared storage, a zarr array of probabilities and one of labels:

.. code-block:: python

    import dask.array as da
    from labelaudit.dask import find_label_issues

    pred_probs = da.from_zarr("s3://bucket/run.zarr", component="pred_probs")  # (n, K)
    labels = da.from_zarr("s3://bucket/run.zarr", component="labels")  # (n,)
    ranked = find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")

or parquet with a ``label`` column and ``K`` probability columns ``p0 .. p{K-1}``:

.. code-block:: python

    import dask.dataframe as dd

    frame = dd.read_parquet("s3://bucket/run/*.parquet")
    # one conversion, so both arrays get the same partitions; the casts are exact
    table = frame[["label", *(f"p{j}" for j in range(K))]].to_dask_array(lengths=True)
    labels = table[:, 0].astype("int64")
    pred_probs = table[:, 1:].astype("float32")
    mask = find_label_issues(labels, pred_probs)  # lazy, chunked like the parquet files

Examples
--------
>>> import dask.array as da
>>> import numpy as np
>>> import labelaudit
>>> rng = np.random.default_rng(0)
>>> labels = rng.integers(0, 3, 10_000)
>>> pred_probs = rng.dirichlet([1, 1, 1], 10_000).astype(np.float32)
>>> chunked = da.from_array(pred_probs, chunks=(3_000, 3))
>>> ranked = find_label_issues(labels, chunked, return_indices_ranked_by="normalized_margin")
>>> np.array_equal(ranked, labelaudit.find_label_issues(
...     labels, pred_probs, return_indices_ranked_by="normalized_margin"))
True
>>> find_label_issues(labels, chunked)  # a lazy mask
dask.array<concatenate, shape=(10000,), dtype=bool, chunksize=(3000,), chunktype=numpy.ndarray>
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from labelaudit._optional import import_optional

dask = import_optional("dask", "labelaudit.dask")
da = import_optional("dask.array", "labelaudit.dask")

from labelaudit import filter, health, noise, rank
from labelaudit._passes import is_dask_array
from labelaudit.health import HealthSummary

__all__ = [
    "compute_confident_joint",
    "find_label_issues",
    "get_label_quality_scores",
    "health_summary",
    "num_label_issues",
]


def _scheduler(client: Any) -> Any:
    """Run on ``client`` (a ``distributed.Client``), or on the current scheduler when None."""
    return dask.config.set(scheduler=client) if client is not None else contextlib.nullcontext()


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    return_indices_ranked_by: str | None = None,
    rank_by_kwargs: dict[str, Any] | None = None,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
    compute: bool = False,
) -> Any:
    """:func:`labelaudit.find_label_issues` over dask arrays, with the same answer.

    Parameters
    ----------
    labels, pred_probs : dask arrays of shape (n,) and (n, K)
        Row-chunked; either may be numpy (chunked like the other).
    filter_by, frac_noise, num_to_remove_per_class, min_examples_per_class, confident_joint, \
return_indices_ranked_by, rank_by_kwargs, classes
        As in :func:`labelaudit.find_label_issues`.
    n_jobs : ignored
        Parallelism comes from the dask scheduler.
    client : distributed.Client, optional
        Compute there (default: the current dask scheduler).
    compute : bool, default False
        Return the mask as numpy rather than as a lazy dask array.

    Returns
    -------
    dask array or ndarray
        Boolean mask of shape (n,), chunked like ``pred_probs``; or the flagged row indices
        (numpy, int64), most likely mislabelled first, with ``return_indices_ranked_by``.

    Examples
    --------
    >>> import dask.array as da
    >>> labels = da.from_array([0, 0, 0, 1, 1, 1], chunks=4)
    >>> pred_probs = da.from_array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]], chunks=(4, 2))
    >>> find_label_issues(labels, pred_probs, compute=True)
    array([False, False,  True, False, False,  True])
    >>> find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")
    array([2, 5])
    """
    with _scheduler(client):
        found = filter.find_label_issues(
            labels, _on_dask(labels, pred_probs), filter_by=filter_by, frac_noise=frac_noise,
            num_to_remove_per_class=num_to_remove_per_class,
            min_examples_per_class=min_examples_per_class, confident_joint=confident_joint,
            return_indices_ranked_by=return_indices_ranked_by, rank_by_kwargs=rank_by_kwargs,
            classes=classes,
        )
        return _computed(found) if compute else found


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
    compute: bool = False,
) -> Any:
    """:func:`labelaudit.get_label_quality_scores` over dask arrays: lazy scores, same values.

    With ``adjust_pred_probs`` pass 1 (the thresholds) runs first; otherwise nothing runs
    until the result is computed. ``client`` and ``compute`` as in :func:`find_label_issues`.

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.2, .8], [.3, .7]], chunks=(2, 2))
    >>> get_label_quality_scores([0, 0, 1], pred_probs, compute=True)
    array([0.9, 0.2, 0.7])
    """
    with _scheduler(client):
        scores = rank.get_label_quality_scores(
            labels, _on_dask(labels, pred_probs), method=method,
            adjust_pred_probs=adjust_pred_probs, classes=classes,
        )
        return _computed(scores) if compute else scores


def compute_confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    calibrate: bool = True,
    return_indices_of_off_diagonals: bool = False,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """:func:`labelaudit.compute_confident_joint` over dask arrays (numpy results).

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]], chunks=(3, 2))
    >>> compute_confident_joint([0, 0, 1, 1], pred_probs, calibrate=False)
    array([[1, 1],
           [0, 1]])
    """
    with _scheduler(client):
        return noise.compute_confident_joint(
            labels, _on_dask(labels, pred_probs), calibrate=calibrate,
            return_indices_of_off_diagonals=return_indices_of_off_diagonals, classes=classes,
        )


def num_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    estimation_method: str = "off_diagonal",
    confident_joint: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
    client: Any = None,
) -> int:
    """:func:`labelaudit.num_label_issues` over dask arrays.

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]], chunks=(3, 2))
    >>> num_label_issues([0, 0, 1, 1], pred_probs)
    1
    """
    with _scheduler(client):
        return noise.num_label_issues(
            labels, _on_dask(labels, pred_probs), estimation_method=estimation_method,
            confident_joint=confident_joint, classes=classes,
        )


def health_summary(
    labels: Any,
    pred_probs: Any = None,
    *,
    class_names: Any = None,
    confident_joint: Any = None,
    classes: Any = None,
    verbose: bool = True,
    n_jobs: int | None = None,
    client: Any = None,
) -> HealthSummary:
    """:func:`labelaudit.health_summary` over dask arrays.

    Examples
    --------
    >>> import dask.array as da
    >>> pred_probs = da.from_array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]], chunks=(4, 2))
    >>> health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False).num_label_issues
    2
    """
    with _scheduler(client):
        return health.health_summary(
            labels, None if pred_probs is None else _on_dask(labels, pred_probs),
            class_names=class_names, confident_joint=confident_joint, classes=classes,
            verbose=verbose,
        )


def _on_dask(labels: Any, pred_probs: Any) -> Any:
    """``pred_probs`` such that the passes run on dask: as it is when an input is a dask array
    (the engine chunks the other like it), else as one chunk."""
    return pred_probs if is_dask_array(labels, pred_probs) else da.from_array(np.asarray(pred_probs))


def _computed(result: Any) -> Any:
    """A lazy dask result as numpy (ranked indices already are)."""
    return result.compute() if isinstance(result, da.Array) else result
