"""The one JSON-safe converter: numpy and pandas values as plain Python, NaN as None."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: numpy scalars unwrapped, arrays, lists and tuples as lists,
    dicts with string keys, NaN as None (recursively).

    Examples
    --------
    >>> plain(np.int64(3)), plain(float("nan")), plain(np.str_("cat"))
    (3, None, 'cat')
    >>> plain({"a": np.array([1.5, np.nan]), 2: (np.float32(0.5),)})
    {'a': [1.5, None], '2': [0.5]}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
