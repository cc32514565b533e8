"""Per-row values of ``pred_probs`` that checks read, computed together in one pass.

A check says what it reads as ``{name: function}``, where ``function(block, rows)`` turns one
block of ``pred_probs`` (rows ``rows``, a slice, in the input's own dtype) into one value per
row. :meth:`labelaudit.audit.AuditInputs.row_values` computes the values every check of an
audit reads in a single pass over the row blocks (the core's, :mod:`labelaudit._kernels`), so
``pred_probs`` is read once for all of them and never copied whole; equal names are computed
once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labelaudit._kernels import (
    check_block_values,
    map_blocks,
    read_block,
    score_block,
    self_confidence_dtype,
    storage_chunk_rows,
)

RowFunction = Callable[[np.ndarray, slice], np.ndarray]


def row_pass(
    pred_probs: Any, functions: dict[str, RowFunction], *, n_jobs: int | None, validate: bool
) -> dict[str, np.ndarray]:
    """Every ``functions[name]`` over all rows, in one pass; checks every value when ``validate``.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.3, 0.7]])
    >>> row_pass(p, predicted_labels(), n_jobs=None, validate=True)
    {'predicted_label': array([0, 1])}
    """

    def work(start: int, stop: int) -> tuple[int, int, dict[str, np.ndarray]]:
        block = read_block(pred_probs, start, stop)
        if validate:
            check_block_values(block, start)
        rows = slice(start, stop)
        return start, stop, {name: f(block, rows) for name, f in functions.items()}

    out: dict[str, np.ndarray] = {}
    n = pred_probs.shape[0]
    chunk_rows = storage_chunk_rows(pred_probs)
    for start, stop, part in map_blocks(work, tuple(pred_probs.shape), n_jobs, chunk_rows=chunk_rows):
        for name, values in part.items():
            if name not in out:
                out[name] = np.empty(n, dtype=values.dtype)
            out[name][start:stop] = values
    return out


def predicted_labels() -> dict[str, RowFunction]:
    """The most probable class of each row (the first on a tie)."""
    return {"predicted_label": lambda block, rows: np.argmax(block, axis=1)}


def label_score_name(method: str) -> str:
    """The name of the label quality scores by ``method`` among the per-row values."""
    return f"label_score {method}"


def label_scores(codes: np.ndarray, method: str) -> dict[str, RowFunction]:
    """Label quality scores of the given labels ``codes``, as :func:`labelaudit.get_label_quality_scores`."""

    def scores(block: np.ndarray, rows: slice) -> np.ndarray:
        values = score_block(block, codes[rows], method, None)
        return values.astype(self_confidence_dtype(block.dtype), copy=False)

    return {label_score_name(method): scores}
