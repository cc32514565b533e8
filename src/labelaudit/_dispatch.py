"""Top-level functions that also take ``multi_label=True``, above the core and the task modules.

The core's single-label functions know nothing of multi-label data; :func:`with_multi_label`
gives one a keyword-only ``multi_label`` flag that sends the call, with every other argument, to
the function of the same name in :mod:`labelaudit.multilabel`. ``labelaudit`` exports the
results.

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

from labelaudit import multilabel, noise
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
            return getattr(multilabel, single_label.__name__)(*args, **kwargs)
        return single_label(*args, **kwargs)

    signature = inspect.signature(single_label)
    flag = inspect.Parameter("multi_label", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool")
    dispatch.__signature__ = signature.replace(parameters=[*signature.parameters.values(), flag])
    head, returns = (single_label.__doc__ or "").split("\n    Returns\n", 1)
    entry = _MULTI_LABEL_DOC.format(name=single_label.__name__)
    dispatch.__doc__ = f"{head}{entry}\n    Returns\n{returns}"
    return dispatch  # type: ignore[return-value]


compute_confident_joint = with_multi_label(noise.compute_confident_joint)
