"""The ``null`` check: examples with missing values, and which columns are missing.

It inspects ``features`` when given, else the data's columns besides the label. Missing means
NaN or None. An example is flagged when the share of its values that are missing is at least
``threshold`` (default 1.0: only rows with every value missing); its score is the share present.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelaudit._validate import check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs


def _describe(missing: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The missing columns' names of every row, joined by ``", "`` (one join per pattern).

    >>> _describe(np.array([[True, False], [False, False], [True, False]]), np.array(["a", "b"]))
    array(['a', '', 'a'], dtype=object)
    """
    described = np.full(len(missing), "", dtype=object)
    rows = np.flatnonzero(missing.any(axis=1))
    if len(rows):
        packed = np.packbits(missing[rows], axis=1)
        _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        texts = np.array([", ".join(names[missing[rows[i]]]) for i in first], dtype=object)
        described[rows] = texts[inverse.ravel()]
    return described


@register_check
class NullCheck(Check):
    """Rows with missing values.

    Parameters: ``threshold`` (default 1.0). Extra columns: ``null_count`` and
    ``null_columns`` (the missing columns' names joined by ``", "``).
    """

    name = "null"
    needs = (("columns",),)
    params: ClassVar[dict[str, Any]] = {"threshold": 1.0}

    def run(self, inputs: AuditInputs, *, threshold: float) -> CheckResult:
        threshold = check_threshold(threshold)
        missing = inputs.columns.isna().to_numpy()
        names = np.array([str(c) for c in inputs.columns.columns], dtype=object)
        count = missing.sum(axis=1)
        share = count / missing.shape[1]
        described = _describe(missing, names)
        per_column = missing.sum(axis=0)
        is_issue = share >= threshold
        notes = []
        if per_column.any():
            worst = np.argsort(-per_column, kind="stable")[:5]
            shown = ", ".join(f"{names[c]} ({per_column[c]})" for c in worst if per_column[c])
            notes.append(f"{int((count > 0).sum())} rows have missing values; most in: {shown}.")
        return CheckResult(
            is_issue=is_issue,
            score=1.0 - share,
            columns={"null_count": count.astype(np.int64), "null_columns": described},
            summary_score=1.0 - float(share.mean()),
            info={"missing_per_column": {str(n): int(c) for n, c in zip(names, per_column)}},
            notes=notes,
        )
