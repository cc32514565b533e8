"""Audit a dataset for every kind of data issue: :class:`Audit`, one module per check.

Checks (each registered by its module): ``label``, ``outlier``, ``near_duplicate``,
``non_iid``, ``class_imbalance``, ``null``, ``underperforming_group``, ``data_valuation``.
Add your own by subclassing :class:`Check` and decorating it with :func:`register_check`.
"""

from labelaudit.audit import (  # noqa: F401 (each module registers its check)
    class_imbalance,
    data_valuation,
    label,
    near_duplicate,
    non_iid,
    null,
    outlier,
    underperforming_group,
)
from labelaudit.audit._base import (
    Check,
    CheckResult,
    available_checks,
    get_check,
    register_check,
    unregister_check,
)
from labelaudit.audit._inputs import AuditInputs
from labelaudit.audit._knn import KnnGraph
from labelaudit.audit.core import Audit
from labelaudit.audit.outlier import OutOfDistribution

__all__ = [
    "Audit",
    "AuditInputs",
    "Check",
    "CheckResult",
    "KnnGraph",
    "OutOfDistribution",
    "available_checks",
    "get_check",
    "register_check",
    "unregister_check",
]
