"""Audit a dataset for every kind of data issue: :class:`Audit`, one module per check.

Checks (each registered by its module): ``label``, ``outlier``, ``exact_duplicate``,
``near_duplicate``, ``non_iid``, ``class_imbalance``, ``null``, ``underperforming_group``,
``data_valuation``, and for images ``dark``, ``light``, ``blurry``, ``low_information``,
``odd_size``, ``odd_aspect_ratio`` and ``grayscale`` (:data:`IMAGE_CHECKS` are the checks
an audit of images runs besides the label check).
Add your own by subclassing :class:`Check` and decorating it with :func:`register_check`.
"""

from labelaudit.audit import (  # noqa: F401 (each module registers its check)
    class_imbalance,
    data_valuation,
    exact_duplicate,
    image_quality,
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

# the built-in checks that read images: what an audit of images runs beside the label check
IMAGE_CHECKS = tuple(
    name for name in available_checks() if any("images" in group for group in get_check(name).needs)
)

__all__ = [
    "IMAGE_CHECKS",
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
