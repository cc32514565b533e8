"""The ``exact_duplicate`` check: images whose decoded pixels are identical.

Two files are exact duplicates when their pixels (as RGB) and sizes are the same, whatever their
names, formats or metadata (a PNG and a BMP of one picture are duplicates); the comparison is by
the SHA-256 of :data:`labelaudit.io.images.MEASUREMENTS`. Every member of a set is flagged, the
set named by its lowest row; a set whose members carry different labels is a label conflict: at
most one of those labels can be right. The score is 0 for a member of a set, else 1.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs
from labelaudit.audit.near_duplicate import conflicting_labels


def duplicate_sets(keys: np.ndarray) -> np.ndarray:
    """Set id (lowest row holding the key) of every row whose key another row shares, else -1;
    missing keys (None or NaN) are in no set.

    >>> duplicate_sets(np.array(["a", "b", "a", None, None], dtype=object)).tolist()
    [0, -1, 0, -1, -1]
    """
    present = np.flatnonzero([isinstance(key, str) for key in keys])
    set_id = np.full(len(keys), -1, dtype=np.int64)
    if not len(present):
        return set_id
    _, first, inverse, counts = np.unique(
        keys[present].astype(str), return_index=True, return_inverse=True, return_counts=True
    )
    inverse = inverse.ravel()
    shared = counts[inverse] > 1
    set_id[present[shared]] = present[first[inverse[shared]]]
    return set_id


@register_check
class ExactDuplicateCheck(Check):
    """Sets of identical images, with label conflicts called out.

    Extra columns: ``exact_duplicate_set`` (lowest row of the set, -1 if none) and
    ``exact_duplicate_label_conflict``.
    """

    name = "exact_duplicate"
    needs = (("images",),)
    default_when_given = "images"
    params: ClassVar[dict[str, Any]] = {}

    def run(self, inputs: AuditInputs) -> CheckResult:
        keys = inputs.images["pixel_hash"].to_numpy(dtype=object)
        set_id = duplicate_sets(keys)
        is_issue = set_id >= 0
        conflict = np.zeros(len(set_id), dtype=bool)
        if inputs.labels is not None:
            conflict = conflicting_labels(set_id, inputs.labels.codes)
        num_sets = len(np.unique(set_id[is_issue]))
        num_conflicting = len(np.unique(set_id[conflict]))
        score = np.where(is_issue, 0.0, 1.0)
        score[[not isinstance(key, str) for key in keys]] = np.nan
        return CheckResult(
            is_issue=is_issue,
            score=score,
            columns={"exact_duplicate_set": set_id, "exact_duplicate_label_conflict": conflict},
            summary_score=1.0 - float(is_issue.mean()),
            info={"num_sets": num_sets, "num_conflicting_sets": num_conflicting},
            notes=[f"{num_sets} sets of identical images; {num_conflicting} with conflicting labels."],
        )
