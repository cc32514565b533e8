"""What a check is, what it returns, and the registry that names every check.

A check is a small class with a ``name``, the inputs it ``needs``, default ``params`` and a
``run`` method that turns :class:`AuditInputs` into a :class:`CheckResult`. Registering it with
:func:`register_check` makes it available to :class:`labelaudit.Audit` by name.

A check that reads ``pred_probs`` row by row says what it reads in :meth:`Check.reads`; the
audit computes what all its checks read in one pass (:meth:`AuditInputs.row_values`).

Inputs a check can ask for (``needs`` is a tuple of groups; every group must be met by one of
its members):

* ``"labels"``: the given labels;
* ``"pred_probs"``: out-of-sample predicted probabilities;
* ``"features"``: the feature matrix (missing values allowed);
* ``"neighbors"``: the shared k-nearest-neighbour graph (given as ``knn_graph`` or built from
  ``features``);
* ``"columns"``: columns to inspect for missing values (``features`` or the data's columns);
* ``"images"``: the measurements of each image (:data:`labelaudit.io.images.MEASUREMENTS`),
  from ``images`` (an image folder, file paths or PIL images).

A check with ``default_when_given = "images"`` (say) is one of the default checks only when that
input is given: the image checks are not listed as skipped in the audit of a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from labelaudit.audit._inputs import AuditInputs
    from labelaudit.audit._rows import RowFunction

INPUT_NAMES = ("labels", "pred_probs", "features", "neighbors", "columns", "images")
_HOW_TO_GIVE = {
    "labels": "labels (Audit(label=...))",
    "pred_probs": "pred_probs",
    "features": "features",
    "neighbors": "features or knn_graph (for the neighbour graph)",
    "columns": "features or data columns besides the label",
    "images": "images (an image folder, file paths or PIL images)",
}

# built-in checks run in this order; checks users register run after them, in registration order
BUILTIN_ORDER = (
    "label",
    "outlier",
    "exact_duplicate",
    "near_duplicate",
    "non_iid",
    "class_imbalance",
    "null",
    "underperforming_group",
    "data_valuation",
    "dark",
    "light",
    "blurry",
    "low_information",
    "odd_size",
    "odd_aspect_ratio",
    "grayscale",
)
_REGISTRY: dict[str, type[Check]] = {}


@dataclass
class CheckResult:
    """What one check found: a flag and a score per example, plus details.

    Parameters
    ----------
    is_issue : ndarray of bool, shape (n,)
        Whether each example has this kind of issue.
    score : ndarray of float, shape (n,)
        0 (worst) .. 1 (best) per example; NaN for examples the check left out.
    columns : dict of str to ndarray, optional
        Extra per-example columns (named in full, e.g. ``"near_duplicate_set"``).
    summary_score : float, optional
        One number for the dataset, 0 (worst) .. 1 (best); the mean of ``score`` when omitted.
    info : dict, optional
        JSON-serialisable details (counts, thresholds, p-values).
    notes : list of str, optional
        Plain sentences for the summary (e.g. which rows were left out).
    """

    is_issue: np.ndarray
    score: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    summary_score: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Check:
    """Base class of a data check; subclass it and decorate with :func:`register_check`.

    Subclasses set ``name``, ``needs``, ``params`` (every keyword ``run`` accepts, with its
    default), ``default`` (whether ``Audit.run`` runs it when ``issue_types`` is omitted) and
    optionally ``default_when_given`` (an input without which it is not one of the defaults),
    and implement :meth:`run` (and :meth:`reads` when it reads ``pred_probs`` row by row).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.audit import Check, CheckResult, register_check, unregister_check
    >>> @register_check
    ... class FirstRow(Check):
    ...     name = "first_row"
    ...     needs = ()
    ...     params = {"flag": True}
    ...     default = False
    ...     def run(self, inputs, *, flag):
    ...         n = inputs.num_examples
    ...         is_issue = np.arange(n) == 0 if flag else np.zeros(n, bool)
    ...         return CheckResult(is_issue=is_issue, score=np.where(is_issue, 0.0, 1.0))
    >>> from labelaudit import Audit
    >>> audit = Audit(data={"y": [0, 1, 1]}, label="y")
    >>> audit.run(issue_types={"first_row": {}}, verbose=False).summary[["issue_type", "num_issues", "score"]]
      issue_type  num_issues     score
    0  first_row           1  0.666667
    >>> unregister_check("first_row")
    """

    name: ClassVar[str] = ""
    needs: ClassVar[tuple[tuple[str, ...], ...]] = ()
    params: ClassVar[dict[str, Any]] = {}
    default: ClassVar[bool] = True
    default_when_given: ClassVar[str | None] = None

    def run(self, inputs: AuditInputs, **params: Any) -> CheckResult:
        """Run the check on validated inputs with the given parameters."""
        raise NotImplementedError

    def reads(self, inputs: AuditInputs, **params: Any) -> dict[str, RowFunction]:
        """The per-row values of ``pred_probs`` that :meth:`run` reads (none by default).

        ``Audit.run`` computes those of every check in one pass before the first check runs;
        ``run`` gets them from :meth:`AuditInputs.row_values`.
        """
        return {}

    @classmethod
    def missing_inputs(cls, available: set[str]) -> list[str]:
        """Describe each group of ``needs`` that ``available`` does not meet."""
        return [
            " or ".join(_HOW_TO_GIVE[name] for name in group)
            for group in cls.needs
            if not available.intersection(group)
        ]


def register_check(cls: type[Check]) -> type[Check]:
    """Make a :class:`Check` subclass available to :class:`labelaudit.Audit` under its name.

    Registering a name again replaces the earlier check. Returns the class, so it can be used
    as a decorator (see :class:`Check`).
    """
    if not (isinstance(cls, type) and issubclass(cls, Check)):
        raise TypeError(f"register_check expects a subclass of Check; found {cls!r}.")
    if not isinstance(cls.name, str) or not cls.name.isidentifier():
        raise ValueError(
            f"{cls.__name__}.name={cls.name!r} is not valid; use a short identifier such as "
            "'outlier' (it becomes the column names is_<name>_issue and <name>_score)."
        )
    for group in cls.needs:
        unknown = set(group) - set(INPUT_NAMES)
        if unknown:
            raise ValueError(
                f"{cls.__name__}.needs names unknown inputs {sorted(unknown)}; use {INPUT_NAMES}."
            )
    _REGISTRY[cls.name] = cls
    return cls


def unregister_check(name: str) -> None:
    """Remove the check registered under ``name``."""
    if name not in _REGISTRY:
        raise ValueError(
            f"no check named {name!r} is registered; registered: {available_checks()}."
        )
    del _REGISTRY[name]


def available_checks() -> list[str]:
    """Names of every registered check: the built-in ones first, then in registration order.

    Examples
    --------
    >>> from labelaudit.audit import available_checks
    >>> available_checks()[:3]
    ['label', 'outlier', 'exact_duplicate']
    """
    position = {name: i for i, name in enumerate(BUILTIN_ORDER)}
    return sorted(_REGISTRY, key=lambda name: position.get(name, len(position)))


def get_check(name: str) -> type[Check]:
    """The check class registered under ``name``."""
    if name not in _REGISTRY:
        raise ValueError(
            f"issue_types names {name!r}, which is not a registered check; use one of: "
            f"{', '.join(map(repr, _REGISTRY))} (or register it with register_check)."
        )
    return _REGISTRY[name]
