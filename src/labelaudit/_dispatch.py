"""Top-level functions that also take ``multi_label=True``, above the core and the task modules.

The core's single-label functions know nothing of multi-label data; :func:`with_multi_label`
gives one a keyword-only ``multi_label`` flag that sends the call, with every other argument, to
the function of the same name in :mod:`labelaudit.multilabel` (a clear error where that module
has none). ``labelaudit`` exports the results.

Examples
--------
>>> import numpy as np
>>> labels = np.array([[1, 0], [1, 0], [1, 1], [0, 1]])
>>> pred_probs = np.array([[.9, .1], [.8, .9], [.7, .8], [.2, .9]])
>>> compute_confident_joint(labels, pred_probs, multi_label=True).shape
(2, 2, 2)
>>> compute_confident_joint([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))
array([[1, 1],
       [0, 2]])
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from labelaudit import filter, multilabel, noise, rank
from labelaudit._validate import check_bool

F = TypeVar("F", bound=Callable[..., Any])

_MULTI_LABEL_DOC = """\
    multi_label : bool, default False
        ``labels`` are lists of classes (or an indicator matrix) and ``pred_probs`` independent
        per-class probabilities: the call goes to
        :func:`labelaudit.multilabel.{name}`, which says what it returns.
"""


def with_multi_label(single_label: F) -> F:
    """``single_label`` with a keyword-only ``multi_label`` flag (see the module documentation)."""

    @functools.wraps(single_label)
    def dispatch(*args: Any, multi_label: bool = False, **kwargs: Any) -> Any:
        if check_bool("multi_label", multi_label):
            name = single_label.__name__
            if not hasattr(multilabel, name):
                raise ValueError(
                    f"{name} has no multi-label form (multi_label=True); labelaudit.multilabel "
                    "offers find_label_issues, get_label_quality_scores and compute_confident_joint."
                )
            return getattr(multilabel, name)(*args, **kwargs)
        return single_label(*args, **kwargs)

    signature = inspect.signature(single_label)
    flag = inspect.Parameter("multi_label", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool")
    dispatch.__signature__ = signature.replace(parameters=[*signature.parameters.values(), flag])
    doc = single_label.__doc__ or ""
    entry = _MULTI_LABEL_DOC.format(name=single_label.__name__)
    section = next((s for s in ("Returns", "Examples") if f"\n    {s}\n" in doc), None)
    if section is None:
        dispatch.__doc__ = f"{doc}\n\n    Parameters\n    ----------\n{entry}"
    else:
        head, tail = doc.split(f"\n    {section}\n", 1)
        if "\n    Parameters\n" not in head:
            head = f"{head}\n    Parameters\n    ----------\n"
        dispatch.__doc__ = f"{head}{entry}\n    {section}\n{tail}"
    return dispatch  # type: ignore[return-value]


compute_confident_joint = with_multi_label(noise.compute_confident_joint)
calibrate_confident_joint = with_multi_label(noise.calibrate_confident_joint)
estimate_joint = with_multi_label(noise.estimate_joint)
get_confident_thresholds = with_multi_label(noise.get_confident_thresholds)
num_label_issues = with_multi_label(noise.num_label_issues)
find_label_issues = with_multi_label(filter.find_label_issues)
find_predicted_neq_given = with_multi_label(filter.find_predicted_neq_given)
get_label_quality_scores = with_multi_label(rank.get_label_quality_scores)
