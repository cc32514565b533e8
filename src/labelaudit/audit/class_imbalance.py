"""The ``class_imbalance`` check: examples of classes far rarer than the average class.

A class's score is its count divided by the count it would have if all classes present were
equally common (``n / K``), capped at 1; its examples are flagged when that is below
``threshold``. The dataset's score is the rarest class's score.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelaudit._validate import check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs


@register_check
class ClassImbalanceCheck(Check):
    """Examples of rare classes.

    Parameters: ``threshold`` (default 0.1 of the average class size). Extra column:
    ``class_imbalance_class_size``.
    """

    name = "class_imbalance"
    needs = (("labels",),)
    params: ClassVar[dict[str, Any]] = {"threshold": 0.1}

    def run(self, inputs: AuditInputs, *, threshold: float) -> CheckResult:
        threshold = check_threshold(threshold)
        counts = inputs.labels.counts()
        present = counts[counts > 0]
        expected = inputs.num_examples / len(present)
        class_score = np.minimum(counts / expected, 1.0)
        codes = inputs.labels.codes
        score = class_score[codes]
        rare = np.flatnonzero((class_score < threshold) & (counts > 0))
        names = [c.item() if isinstance(c, np.generic) else c for c in inputs.labels.classes[rare]]
        return CheckResult(
            is_issue=score < threshold,
            score=score,
            columns={"class_imbalance_class_size": counts[codes]},
            summary_score=float(class_score[counts > 0].min()),
            info={"rare_classes": [str(c) for c in names], "class_counts": counts.tolist()},
            notes=[f"rare classes: {', '.join(map(str, names))}."] if names else [],
        )
