"""Dataset health: which classes are noisiest, which pairs overlap, one overall score.

Everything here derives from the estimated joint ``Q[i][j] = P(given = i, true = j)`` (the
calibrated confident joint divided by ``n``):

* per class ``k``: ``label_issues`` = examples labelled ``k`` whose true class is another
  (``n * (sum_j Q[k][j] - Q[k][k])``); ``inverse_label_issues`` = examples of true class ``k``
  labelled as another; ``label_noise = P(true != k | given = k)``; ``inverse_label_noise =
  P(given != k | true = k)``; ``label_quality_score = 1 - label_noise``. A class with no
  examples has undefined (NaN) rates.
* per pair of classes: ``num_overlapping_examples`` = ``n * (Q[a][b] + Q[b][a])`` and
  ``joint_probability = Q[a][b] + Q[b][a]``.
* ``overall_label_health_score`` = ``trace(Q)``, the estimated fraction of correct labels.

``legacy_columns=True`` names the columns of the two tables as the reference library does
(:data:`LEGACY_CLASS_COLUMNS`, :data:`LEGACY_OVERLAP_COLUMNS`), for code that reads them by
those names; the rows and values are the same.
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._ensemble import combine_pred_probs
from labelaudit._json import plain
from labelaudit._passes import open_passes
from labelaudit._validate import (
    as_pred_probs,
    check_bool,
    check_class_names,
    check_classes,
    check_confident_joint,
    check_n_jobs,
    check_positive_int,
    check_two_classes,
    encode_labels,
)
from labelaudit.noise import calibrated_given_joint, latent_from_joint

CLASS_COLUMNS = [
    "class",
    "class_name",
    "label_issues",
    "inverse_label_issues",
    "label_noise",
    "inverse_label_noise",
    "label_quality_score",
]
OVERLAP_COLUMNS = [
    "class_a",
    "class_name_a",
    "class_b",
    "class_name_b",
    "num_overlapping_examples",
    "joint_probability",
]
LEGACY_CLASS_COLUMNS = {
    "class_name": "Class Name",
    "class": "Class Index",
    "label_issues": "Label Issues",
    "inverse_label_issues": "Inverse Label Issues",
    "label_noise": "Label Noise",
    "inverse_label_noise": "Inverse Label Noise",
    "label_quality_score": "Label Quality Score",
}
LEGACY_OVERLAP_COLUMNS = {
    "class_name_a": "Class Name A",
    "class_name_b": "Class Name B",
    "class_a": "Class Index A",
    "class_b": "Class Index B",
    "num_overlapping_examples": "Num Overlapping Examples",
    "joint_probability": "Joint Probability",
}


def _columns(table: pd.DataFrame, legacy: Any, names: dict[str, str]) -> pd.DataFrame:
    """``table`` as it is, or (``legacy``) renamed and ordered as in ``names``."""
    if not check_bool("legacy_columns", legacy):
        return table
    return table[list(names)].rename(columns=names)


@dataclass(frozen=True)
class _Joint:
    joint: np.ndarray
    confident_joint: np.ndarray  # calibrated counts behind ``joint``
    num_examples: int
    class_names: list[Any]


def _resolve_joint(
    labels: Any,
    pred_probs: Any,
    *,
    joint: Any = None,
    confident_joint: Any = None,
    num_examples: int | None = None,
    class_names: Any = None,
    classes: Any = None,
    n_jobs: int | None = None,
) -> _Joint:
    """The calibrated joint from whichever inputs were given (one place for every function)."""
    if joint is not None:
        return _given_distribution(joint, labels, pred_probs, confident_joint, num_examples, class_names, classes)
    if labels is None:
        raise ValueError("pass labels (with pred_probs or confident_joint), or joint= with num_examples=.")
    if confident_joint is not None:
        k = None if pred_probs is None else as_pred_probs(pred_probs).shape[1]
        calibrated, enc = calibrated_given_joint(confident_joint, labels, classes, k)
    else:
        if pred_probs is None:
            raise ValueError("pass pred_probs (or confident_joint) together with labels.")
        pred_probs = combine_pred_probs(labels, pred_probs, classes=classes)
        passes = open_passes(
            labels, pred_probs, classes=classes, n_jobs=check_n_jobs(n_jobs), with_agrees=False
        )
        enc = passes.labels
        calibrated = passes.calibrated_joint()
    n = len(enc.codes)
    return _Joint(calibrated / n, calibrated, n, _names(class_names, enc.classes))


def _given_distribution(
    joint: Any, labels: Any, pred_probs: Any, confident_joint: Any, num_examples: Any,
    class_names: Any, classes: Any,
) -> _Joint:
    """``joint=`` as given: its examples from ``labels`` or ``num_examples`` (one of them)."""
    for name, value in (("confident_joint", confident_joint), ("pred_probs", pred_probs)):
        if value is not None:
            raise ValueError(f"joint= is used as given, so {name} would be ignored; pass one of them.")
    q = check_confident_joint(joint, name="joint").astype(np.float64)
    if not np.isclose(q.sum(), 1.0, atol=1e-6):
        raise ValueError(f"joint must sum to 1 (a joint distribution); it sums to {q.sum():.6g}.")
    k = q.shape[0]
    if labels is not None:
        enc = encode_labels(labels, k, classes=classes, source="joint")
        check_two_classes(enc.counts(), enc.classes)
        if num_examples is not None and num_examples != len(enc.codes):
            raise ValueError(
                f"num_examples={num_examples!r} but labels has {len(enc.codes)} entries; pass one "
                "of them (labels give the number of examples)."
            )
        num_examples, known = len(enc.codes), enc.classes
    elif num_examples is None:
        raise ValueError("with joint= alone, pass num_examples= (or labels) to count issues.")
    else:
        num_examples = check_positive_int("num_examples", num_examples)
        known = np.arange(k) if classes is None else check_classes(classes, k, source="joint")
        check_two_classes(q.sum(axis=1), known, name="the rows of joint")
    return _Joint(q, q * num_examples, num_examples, _names(class_names, known))


def _names(class_names: Any, classes: np.ndarray) -> list[Any]:
    if class_names is None:
        return [c.item() if isinstance(c, np.generic) else c for c in classes]
    return check_class_names(class_names, len(classes))


def _class_table(q: _Joint) -> pd.DataFrame:
    joint, n = q.joint, q.num_examples
    diag = np.diagonal(joint)
    given, true = joint.sum(axis=1), joint.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        noise = np.where(given > 0, (given - diag) / given, np.nan)
        inverse_noise = np.where(true > 0, (true - diag) / true, np.nan)
    table = pd.DataFrame(
        {
            "class": np.arange(len(diag)),
            "class_name": q.class_names,
            "label_issues": np.rint((given - diag) * n).astype(np.int64),
            "inverse_label_issues": np.rint((true - diag) * n).astype(np.int64),
            "label_noise": noise,
            "inverse_label_noise": inverse_noise,
            "label_quality_score": 1.0 - noise,
        }
    )
    return table.sort_values(
        ["label_quality_score", "class"], kind="stable", na_position="last"
    ).reset_index(drop=True)


def _overlap_table(q: _Joint, asymmetric: bool) -> pd.DataFrame:
    joint, n = q.joint, q.num_examples
    k = joint.shape[0]
    a, b = np.nonzero(~np.eye(k, dtype=bool)) if asymmetric else np.triu_indices(k, 1)
    prob = joint[a, b] if asymmetric else joint[a, b] + joint[b, a]
    keep = prob > 0
    a, b, prob = a[keep], b[keep], prob[keep]
    order = np.lexsort((b, a, -prob))
    names = np.array(q.class_names, dtype=object)
    return pd.DataFrame(
        {
            "class_a": a[order],
            "class_name_a": names[a[order]],
            "class_b": b[order],
            "class_name_b": names[b[order]],
            "num_overlapping_examples": np.rint(prob[order] * n).astype(np.int64),
            "joint_probability": prob[order],
        },
        columns=OVERLAP_COLUMNS,
    )


def rank_classes_by_label_quality(
    labels: Any = None,
    pred_probs: Any = None,
    *,
    class_names: Any = None,
    num_examples: int | None = None,
    joint: Any = None,
    confident_joint: Any = None,
    classes: Any = None,
    legacy_columns: bool = False,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """One row per class, worst label quality first (columns in ``CLASS_COLUMNS``, or with
    ``legacy_columns`` those of :data:`LEGACY_CLASS_COLUMNS`).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import rank_classes_by_label_quality
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> rank_classes_by_label_quality(labels, pred_probs)[["class", "label_issues", "label_noise"]]
       class  label_issues  label_noise
    0      0             1     0.333333
    1      1             1     0.333333
    >>> list(rank_classes_by_label_quality(labels, pred_probs, legacy_columns=True).columns)[:3]
    ['Class Name', 'Class Index', 'Label Issues']
    """
    q = _resolve_joint(
        labels, pred_probs, joint=joint, confident_joint=confident_joint,
        num_examples=num_examples, class_names=class_names, classes=classes, n_jobs=n_jobs,
    )
    return _columns(_class_table(q), legacy_columns, LEGACY_CLASS_COLUMNS)


def find_overlapping_classes(
    labels: Any = None,
    pred_probs: Any = None,
    *,
    asymmetric: bool = False,
    class_names: Any = None,
    num_examples: int | None = None,
    joint: Any = None,
    confident_joint: Any = None,
    classes: Any = None,
    legacy_columns: bool = False,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Pairs of classes that the labels confuse, most overlapping first.

    With ``asymmetric=True`` each ordered pair (given ``class_a``, true ``class_b``) is its own
    row. Pairs with no estimated overlap are left out; ties are ordered by class index.
    ``legacy_columns``: the column names of :data:`LEGACY_OVERLAP_COLUMNS`.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import find_overlapping_classes
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> find_overlapping_classes(labels, pred_probs)[["class_a", "class_b", "num_overlapping_examples"]]
       class_a  class_b  num_overlapping_examples
    0        0        1                         2
    """
    q = _resolve_joint(
        labels, pred_probs, joint=joint, confident_joint=confident_joint,
        num_examples=num_examples, class_names=class_names, classes=classes, n_jobs=n_jobs,
    )
    table = _overlap_table(q, check_bool("asymmetric", asymmetric))
    return _columns(table, legacy_columns, LEGACY_OVERLAP_COLUMNS)


def overall_label_health_score(
    labels: Any = None,
    pred_probs: Any = None,
    *,
    num_examples: int | None = None,
    confident_joint: Any = None,
    joint: Any = None,
    classes: Any = None,
    verbose: bool = True,
    n_jobs: int | None = None,
) -> float:
    """Estimated fraction of correct labels, ``trace`` of the joint (1.0 = no issues found).

    With ``verbose`` one line with the estimated number of issues (``n * (1 - score)``,
    rounded) goes to standard output; ``num_examples`` counts them for ``joint=`` alone.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import overall_label_health_score
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> round(overall_label_health_score(labels, pred_probs, verbose=False), 4)
    0.6667
    >>> score = overall_label_health_score(labels, pred_probs)
    About 33% of the labels (2 of 6) may be wrong; overall label health score 0.67.
    """
    verbose = check_bool("verbose", verbose)
    if joint is not None and labels is None and num_examples is None:
        num_examples = 1  # the score needs no count; only the verbose line would
        verbose = False
    q = _resolve_joint(
        labels, pred_probs, joint=joint, confident_joint=confident_joint,
        num_examples=num_examples, classes=classes, n_jobs=n_jobs,
    )
    score = float(np.trace(q.joint))
    if verbose:
        issues = round(q.num_examples * (1 - score))
        # The line is this call's requested output, not a log message.
        sys.stdout.write(
            f"About {1 - score:.0%} of the labels ({issues:,} of {q.num_examples:,}) may be wrong; "
            f"overall label health score {score:.2f}.\n"
        )
    return score


@dataclass(frozen=True)
class HealthSummary:
    """The health of a dataset's labels; see the module documentation for every figure.

    ``str(summary)`` is a readable report, ``summary`` in a notebook renders HTML tables, and
    :meth:`to_dict` gives plain Python types (JSON-ready);
    ``labelaudit.report.summary_to_html(summary, path)`` writes the offline report with charts.
    """

    classes: pd.DataFrame
    overlapping_classes: pd.DataFrame
    overall_label_health_score: float
    joint: np.ndarray
    confident_joint: np.ndarray
    noise_matrix: np.ndarray
    inverse_noise_matrix: np.ndarray
    py: np.ndarray
    num_examples: int
    class_names: list[Any] = field(default_factory=list)

    _KEYS = ("overall_label_health_score", "joint", "classes_by_label_quality", "overlapping_classes")

    def __getitem__(self, key: str) -> Any:
        """The reference library's dict keys: ``summary["classes_by_label_quality"]`` is
        :attr:`classes`; the other three are the attributes of the same name."""
        if key not in self._KEYS:
            raise KeyError(f"{key!r}; a HealthSummary has the keys {', '.join(self._KEYS)}.")
        return self.classes if key == "classes_by_label_quality" else getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return self._KEYS

    @property
    def num_label_issues(self) -> int:
        """Estimated number of mislabelled examples (sum of ``classes.label_issues``)."""
        return int(self.classes["label_issues"].sum())

    def __repr__(self) -> str:
        worst = self.classes.iloc[0]
        return (
            f"HealthSummary(num_examples={self.num_examples}, num_classes={len(self.classes)}, "
            f"overall_label_health_score={self.overall_label_health_score:.4f}, "
            f"num_label_issues={self.num_label_issues}, "
            f"noisiest_class={worst['class_name']!r})"
        )

    def to_text(self, *, max_rows: int = 20) -> str:
        """A readable report; tables are cut to ``max_rows`` rows."""
        lines = [
            f"Label health: {self.num_examples:,} examples, {len(self.classes)} classes",
            (
                f"Overall label health score: {self.overall_label_health_score:.4f} "
                f"(about {self.num_label_issues:,} labels estimated wrong, "
                f"{self.num_label_issues / self.num_examples:.2%})"
            ),
            "",
            "Classes, worst label quality first:",
            _table_text(self.classes, max_rows),
            "",
            "Most overlapping pairs of classes:",
            (_table_text(self.overlapping_classes, max_rows) if len(self.overlapping_classes) else "  (none)"),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        def table(df: pd.DataFrame) -> str:
            return df.head(50).to_html(index=False, float_format=lambda v: f"{v:.4f}", escape=True)

        return (
            "<div class='labelaudit-health'>"
            f"<h4>Label health: {self.num_examples:,} examples, {len(self.classes)} classes</h4>"
            f"<p>Overall label health score: <b>{self.overall_label_health_score:.4f}</b> "
            f"(about {self.num_label_issues:,} labels estimated wrong)</p>"
            f"<h5>Classes, worst label quality first</h5>{table(self.classes)}"
            f"<h5>Most overlapping pairs of classes</h5>{table(self.overlapping_classes)}"
            f"<p style='color:#666'>{html.escape(repr(self))}</p></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Every figure as plain Python types (lists, dicts, floats, ints, strings, None)."""
        return {
            "num_examples": self.num_examples,
            "num_classes": len(self.classes),
            "overall_label_health_score": self.overall_label_health_score,
            "num_label_issues": self.num_label_issues,
            "class_names": plain(list(self.class_names)),
            "classes": [{k: plain(v) for k, v in r.items()} for r in self.classes.to_dict("records")],
            "overlapping_classes": [
                {k: plain(v) for k, v in r.items()} for r in self.overlapping_classes.to_dict("records")
            ],
            "joint": plain(self.joint),
            "confident_joint": plain(self.confident_joint),
            "noise_matrix": plain(self.noise_matrix),
            "inverse_noise_matrix": plain(self.inverse_noise_matrix),
            "py": plain(self.py),
        }


def _table_text(df: pd.DataFrame, max_rows: int) -> str:
    text = df.head(max_rows).to_string(index=False, float_format=lambda v: f"{v:.4f}")
    if len(df) > max_rows:
        text += f"\n  ... {len(df) - max_rows} more rows"
    return text


def health_summary(
    labels: Any = None,
    pred_probs: Any = None,
    *,
    asymmetric: bool = False,
    class_names: Any = None,
    num_examples: int | None = None,
    joint: Any = None,
    confident_joint: Any = None,
    classes: Any = None,
    verbose: bool = True,
    n_jobs: int | None = None,
) -> HealthSummary:
    """Summarise the health of a dataset's labels.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Given labels: indices ``0..K-1`` or class names (see ``classes``).
    pred_probs : array-like of shape (n, K), optional if ``confident_joint`` is given
        Out-of-sample predicted probabilities; a list or tuple of them (several models) is
        combined with weights learned from the labels (:mod:`labelaudit.ensemble`).
    class_names : sequence of K distinct names, optional
        Display names of the classes (default: the classes themselves).
    asymmetric : bool, default False
        List each ordered pair of classes in ``overlapping_classes`` (see
        :func:`find_overlapping_classes`).
    num_examples : int, optional
        With ``joint=`` and no ``labels``: the number of examples it describes.
    joint : array-like of shape (K, K), optional
        A joint distribution (summing to 1) used as given, instead of ``pred_probs``.
    confident_joint : array-like of shape (K, K), optional
        Use these counts (calibrated to ``labels``) instead of computing them; its rows give
        the classes (see :func:`labelaudit.calibrate_confident_joint`). With ``pred_probs`` too,
        both must have ``K`` classes.
    classes : array-like of shape (K,), optional
        The class of each ``pred_probs`` column, when ``labels`` are class names.
    verbose : bool, default True
        Write the readable report to standard output.

    Returns
    -------
    HealthSummary
        Also readable by the reference library's dict keys (``summary["overlapping_classes"]``).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import health_summary
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> summary = health_summary(labels, pred_probs, class_names=["cat", "dog"], verbose=False)
    >>> summary
    HealthSummary(num_examples=6, num_classes=2, overall_label_health_score=0.6667, num_label_issues=2, noisiest_class='cat')
    >>> summary.to_dict()["classes"][0]["label_issues"]
    1
    """
    verbose = check_bool("verbose", verbose)
    q = _resolve_joint(
        labels, pred_probs, joint=joint, confident_joint=confident_joint,
        num_examples=num_examples, class_names=class_names, classes=classes, n_jobs=n_jobs,
    )
    py, noise, inverse = latent_from_joint(q.joint)
    summary = HealthSummary(
        classes=_class_table(q),
        overlapping_classes=_overlap_table(q, asymmetric=check_bool("asymmetric", asymmetric)),
        overall_label_health_score=float(np.trace(q.joint)),
        joint=q.joint,
        confident_joint=q.confident_joint,
        noise_matrix=noise,
        inverse_noise_matrix=inverse,
        py=py,
        num_examples=q.num_examples,
        class_names=q.class_names,
    )
    if verbose:
        # The report is this call's requested output, not a log message.
        sys.stdout.write(summary.to_text() + "\n")
    return summary
