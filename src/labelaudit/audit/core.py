"""The :class:`Audit` facade: run every kind of data check in one call and keep the results."""

from __future__ import annotations

import copy
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._ensemble import combine_pred_probs
from labelaudit._passes import open_passes as Passes
from labelaudit._validate import as_pred_probs, check_choice, check_k, check_n_jobs
from labelaudit.audit._base import Check, CheckResult, available_checks, get_check
from labelaudit.audit._inputs import (
    AuditInputs,
    as_features,
    as_frame,
    as_image_measurements,
    encode_audit_labels,
)
from labelaudit.audit._knn import SEARCH_METHODS, KnnGraph
from labelaudit.io import (
    FolderError,
    flagged_rows,
    read_audit_record,
    read_results,
    write_audit_record,
)

logger = logging.getLogger(__name__)

TASKS = ("classification",)
SUMMARY_COLUMNS = ["issue_type", "num_issues", "score", "status", "note"]


def resolve_issue_types(issue_types: Any) -> list[tuple[type[Check], dict[str, Any]]]:
    """Checks to run with their full parameters; unknown names or parameters raise ValueError."""
    if issue_types is None:
        chosen: dict[str, Any] = {
            name: {} for name in available_checks() if get_check(name).default
        }
    elif isinstance(issue_types, dict):
        chosen = issue_types
    elif isinstance(issue_types, (list, tuple, set)) and all(
        isinstance(t, str) for t in issue_types
    ):
        chosen = {name: {} for name in issue_types}
    else:
        raise TypeError(
            "issue_types must be a dict {check name: {parameter: value}} (or a list of check "
            f"names); found {type(issue_types).__name__}."
        )
    plan = []
    for name, params in chosen.items():
        check = get_check(name)
        params = {} if params is None else params
        if not isinstance(params, dict):
            raise TypeError(
                f"issue_types[{name!r}] must be a dict of parameters; found {type(params).__name__}."
            )
        unknown = sorted(set(params) - set(check.params))
        if unknown:
            raise ValueError(
                f"issue_types[{name!r}] has unknown parameters {unknown}; {name!r} accepts "
                f"{sorted(check.params) or 'none'}."
            )
        plan.append((check, {**check.params, **params}))
    return plan


class Audit:
    """Check a dataset for every kind of data issue in one call.

    Parameters
    ----------
    data : DataFrame, dict of columns, 2-D array or None
        The dataset (its columns besides the label are what the ``null`` check inspects when no
        ``features`` are given).
    label : str, array-like or None
        The name of the label column in ``data``, or the labels themselves; ``None`` runs only
        the checks that need no labels.
    task : {"classification"}
        The kind of labels.
    classes : array-like, optional
        The class of each ``pred_probs`` column when labels are class names.

    Attributes
    ----------
    summary : DataFrame
        One row per check: ``issue_type``, ``num_issues``, ``score`` (0 worst .. 1 best, NaN
        when skipped), ``status`` ("ran" or "skipped") and ``note`` (why it was skipped, which
        rows it left out, what it found).
    issues : DataFrame
        One row per example: ``is_<type>_issue`` and ``<type>_score`` for every check run, then
        each check's extra columns.
    knn_graph : KnnGraph or None
        The neighbour graph the last ``run`` built or read (not saved); pass
        ``audit.knn_graph.to_csr()`` as ``knn_graph`` to reuse it.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import Audit
    >>> rng = np.random.default_rng(0)
    >>> y = rng.permutation(np.repeat([0, 1], 60))
    >>> X = rng.normal(0, 1, (120, 3)) + 8 * y[:, None]
    >>> X[7] = [40.0, 40.0, 40.0]                  # far from everything
    >>> y[5] = 1 - y[5]                            # a wrong label
    >>> audit = Audit(data={"y": y}, label="y").run(features=X, verbose=False)
    >>> audit.summary[["issue_type", "num_issues", "status"]]
                  issue_type  num_issues   status
    0                  label           2      ran
    1                outlier           1      ran
    2         near_duplicate           0      ran
    3                non_iid           0      ran
    4        class_imbalance           0      ran
    5                   null           0      ran
    6  underperforming_group           0  skipped
    >>> audit.get_issues("label").index.tolist(), audit.get_issues("outlier").index.tolist()
    ([5, 7], [7])
    """

    def __init__(
        self,
        data: Any = None,
        label: Any = None,
        *,
        task: str = "classification",
        classes: Any = None,
    ) -> None:
        check_choice("task", task, TASKS)
        self.data = as_frame(data)
        self.task = task
        self.classes = classes
        if isinstance(label, str):
            if self.data is None or label not in self.data.columns:
                found = (
                    "no data" if self.data is None else f"columns {list(self.data.columns)[:10]}"
                )
                raise ValueError(
                    f"label={label!r} is not a column of data ({found}); pass the label column's name or the labels."
                )
            self.label = label
            self._labels = self.data[label].to_numpy()
        else:
            self.label = None
            self._labels = None if label is None else np.asarray(label)
            if self._labels is not None and self._labels.ndim != 1:
                raise ValueError(
                    f"label must be a column name or a 1-D array of labels; found shape {self._labels.shape}."
                )
        sizes = {
            name: len(v)
            for name, v in (("data", self.data), ("label", self._labels))
            if v is not None
        }
        if len(set(sizes.values())) > 1:
            raise ValueError(f"data and label describe different numbers of examples: {sizes}.")
        if not sizes:
            raise ValueError("Audit needs data or label (or both) to know the examples.")
        self.num_examples = next(iter(sizes.values()))
        if self.num_examples == 0:
            raise ValueError("data is empty (0 rows); pass at least one example.")
        self._checks: list[dict[str, Any]] = []
        self._issues = pd.DataFrame(index=pd.RangeIndex(self.num_examples))
        self.knn_graph: KnnGraph | None = None

    def __repr__(self) -> str:
        ran = [c["issue_type"] for c in self._checks if c["status"] == "ran"]
        return f"Audit(num_examples={self.num_examples}, task={self.task!r}, checks_run={ran})"

    def run(
        self,
        *,
        pred_probs: Any = None,
        features: Any = None,
        knn_graph: Any = None,
        images: Any = None,
        issue_types: Any = None,
        k: int = 10,
        metric: str = "euclidean",
        search: str = "auto",
        n_jobs: int | None = None,
        verbose: bool | None = None,
    ) -> Audit:
        """Run the checks (all default ones unless ``issue_types`` chooses) and keep the results.

        Every input is checked before any check runs. Results of an earlier ``run`` are replaced.

        Parameters
        ----------
        pred_probs : array-like of shape (n, K), or a list or tuple of them, optional
            Out-of-sample predicted probabilities; several models' are combined with weights
            learned from the labels (:mod:`labelaudit.ensemble`).
        features : array-like of shape (n, d), DataFrame or list of column names, optional
            Numeric features or embeddings; NaN marks a missing value.
        knn_graph : scipy sparse matrix of shape (n, n), optional
            Precomputed neighbour distances (row ``i`` lists ``i``'s neighbours); used instead
            of searching ``features``.
        images : image folder, sequence or str, optional
            The examples' images, for the image checks (``exact_duplicate``, ``dark``, ...; see
            :data:`labelaudit.audit.IMAGE_CHECKS`) and ``near_duplicate`` by perceptual hashes:
            ``labelaudit.load_image_folder(DIR)``, file paths, PIL images, or the name of a column
            of ``data`` holding file paths. Each file is read once, on ``n_jobs`` threads.
        issue_types : dict, optional
            ``{check name: {parameter: value}}``; ``None`` runs every default check.
        k : int, default 10
            Neighbours per example in the shared graph.
        metric : str, default "euclidean"
            Distance for the neighbour search (any scikit-learn metric).
        search : {"auto", "exact", "approximate"}, default "auto"
            Neighbour search: exact, or approximate (Euclidean only) for large data; "auto"
            is exact up to about 10k rows of 128 features (see :mod:`labelaudit.audit._knn`
            for the rule and the measured recall).
        n_jobs : int, optional
            Parallel jobs for the neighbour search and the core passes.
        verbose : bool, optional
            Progress bar per check; by default on when stderr is a terminal.

        Returns
        -------
        Audit
            ``self``, so calls can be chained.
        """
        from tqdm.auto import tqdm

        plan = resolve_issue_types(issue_types)
        check_choice("search", search, SEARCH_METHODS)
        if search == "approximate" and metric != "euclidean":
            raise ValueError(
                f"search='approximate' supports metric='euclidean' only; got metric={metric!r}."
            )
        inputs = self._inputs(
            pred_probs, features, knn_graph, images, check_k(k), metric, search, check_n_jobs(n_jobs)
        )
        available = inputs.available()
        if issue_types is None:  # checks of an input not given are not defaults (images)
            plan = [
                (check, params)
                for check, params in plan
                if check.default_when_given is None or check.default_when_given in available
            ]
        steps = [(check, check(), params) for check, params in plan]
        if inputs.pred_probs is not None:  # one pass: every value checked, what the checks read
            inputs.row_values(
                {
                    name: function
                    for check, instance, params in steps
                    if not check.missing_inputs(available)
                    for name, function in instance.reads(inputs, **params).items()
                }
            )
        show = sys.stderr.isatty() if verbose is None else bool(verbose)
        checks: list[dict[str, Any]] = []
        results: dict[str, CheckResult] = {}
        with tqdm(steps, desc="audit", disable=not show, unit="check") as bar:
            for check, instance, params in bar:
                bar.set_postfix_str(check.name)
                record = {"issue_type": check.name, "params": params, "columns": []}
                missing = check.missing_inputs(available)
                if missing:
                    record.update(
                        status="skipped",
                        num_issues=0,
                        score=float("nan"),
                        info={},
                        note=f"not run: needs {' and '.join(missing)}.",
                    )
                    checks.append(record)
                    continue
                start = time.perf_counter()
                result = instance.run(inputs, **params)
                self._check_result(check.name, result)
                logger.info(
                    "%s: %d issues in %.2f s",
                    check.name,
                    int(result.is_issue.sum()),
                    time.perf_counter() - start,
                )
                results[check.name] = result
                summary_score = result.summary_score
                if summary_score is None:
                    summary_score = (
                        float(np.nanmean(result.score))
                        if np.isfinite(result.score).any()
                        else float("nan")
                    )
                record.update(
                    status="ran",
                    num_issues=int(result.is_issue.sum()),
                    score=float(summary_score),
                    info=result.info,
                    note=" ".join(result.notes),
                    columns=list(result.columns),
                )
                checks.append(record)
        self._checks = checks
        self._issues = self._issue_frame(results)
        self.knn_graph = inputs.__dict__.get("graph")
        return self

    def _inputs(
        self,
        pred_probs: Any,
        features: Any,
        knn_graph: Any,
        images: Any,
        k: int,
        metric: str,
        search: str,
        n_jobs: int | None,
    ) -> AuditInputs:
        n = self.num_examples
        labels = None
        passes = None
        if pred_probs is not None:
            if self._labels is not None:  # several models' pred_probs are combined
                pred_probs = combine_pred_probs(self._labels, pred_probs, classes=self.classes)
            pred_probs = as_pred_probs(pred_probs)
            if pred_probs.shape[0] != n:
                raise ValueError(
                    f"pred_probs has {pred_probs.shape[0]} rows but the audit has {n} examples; they must describe the same examples in the same order."
                )
        if self._labels is not None:
            labels = encode_audit_labels(self._labels, pred_probs, self.classes)
        if pred_probs is not None and labels is not None:
            passes = Passes(
                labels.codes, pred_probs, n_jobs=n_jobs, keep_self_confidence=True, with_sample=True
            )
        feature_array = None
        columns = None
        if features is not None:
            feature_array, names = as_features(features, n, self.data)
            columns = pd.DataFrame(feature_array, columns=names, copy=False)
        elif self.data is not None:
            columns = self.data.drop(columns=[self.label]) if self.label is not None else self.data
            columns = columns if columns.shape[1] else None
        measurements = None
        if images is not None:
            measurements, unreadable = as_image_measurements(images, n, self.data, n_jobs)
            if len(unreadable):
                logger.warning(
                    "%d of %d images could not be read (first: %s: %s); the image checks leave them out",
                    len(unreadable), n, unreadable["path"].iloc[0], unreadable["reason"].iloc[0],
                )
        return AuditInputs(
            num_examples=n,
            labels=labels,
            pred_probs=pred_probs,
            features=feature_array,
            columns=columns,
            knn_graph=knn_graph,
            passes=passes,
            k=k,
            metric=metric,
            n_jobs=n_jobs,
            search=search,
            images=measurements,
        )

    def _check_result(self, name: str, result: CheckResult) -> None:
        n = self.num_examples
        arrays = {"is_issue": result.is_issue, "score": result.score, **result.columns}
        for key, value in arrays.items():
            if np.shape(value) != (n,):
                raise ValueError(
                    f"check {name!r} returned {key} of shape {np.shape(value)}; expected ({n},)."
                )

    def _issue_frame(self, results: dict[str, CheckResult]) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for name, result in results.items():
            columns[f"is_{name}_issue"] = np.asarray(result.is_issue, dtype=bool)
            columns[f"{name}_score"] = np.asarray(result.score, dtype=np.float64)
        for result in results.values():
            columns.update(result.columns)
        return pd.DataFrame(columns, index=pd.RangeIndex(self.num_examples))

    @property
    def summary(self) -> pd.DataFrame:
        """One row per check (see the class documentation)."""
        frame = pd.DataFrame(
            [{c: record[c] for c in SUMMARY_COLUMNS} for record in self._checks],
            columns=SUMMARY_COLUMNS,
        )
        return frame.astype({"num_issues": np.int64, "score": np.float64})

    @property
    def issues(self) -> pd.DataFrame:
        """One row per example (see the class documentation)."""
        return self._issues.copy()

    @property
    def info(self) -> dict[str, dict[str, Any]]:
        """Each check's details (thresholds, counts, p-values), by check name."""
        return {c["issue_type"]: c["info"] for c in self._checks if c["status"] == "ran"}

    def get_issues(self, issue_type: str) -> pd.DataFrame:
        """The flagged examples of one check, worst first (by score, then row), with its columns.

        The index holds the row numbers; the columns are ``is_issue``, ``score`` and the check's
        extra columns.
        """
        ran = {c["issue_type"]: c for c in self._checks if c["status"] == "ran"}
        if issue_type not in ran:
            skipped = {c["issue_type"]: c["note"] for c in self._checks}
            hint = f" ({skipped[issue_type]})" if issue_type in skipped else ""
            raise ValueError(
                f"issue_type={issue_type!r} has no results{hint}; checks run: {sorted(ran)}."
            )
        return flagged_rows(self._issues, ran[issue_type])

    def report(self, *, num_examples: int = 5) -> str:
        """Readable text: the summary, then the worst ``num_examples`` of each check that found any."""
        lines = [
            f"Audit of {self.num_examples} examples ({self.task})",
            "",
            self.summary.to_string(index=False),
        ]
        for record in self._checks:
            if record["status"] == "ran" and record["num_issues"]:
                worst = self.get_issues(record["issue_type"]).head(num_examples)
                lines += [
                    "",
                    f"{record['issue_type']}: {record['num_issues']} issues, worst first",
                    worst.to_string(),
                ]
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        """The results as plain data: ``task``, ``label``, ``num_examples`` and ``checks``.

        ``checks`` holds one dict per check (``issue_type``, ``params``, ``status``,
        ``num_issues``, ``score``, ``info``, ``note``, ``columns``); with :attr:`issues` it is
        everything :meth:`save` writes and :meth:`from_record` needs (see
        :mod:`labelaudit.io.audit_record`).
        """
        return {
            "task": self.task,
            "label": self.label,
            "num_examples": self.num_examples,
            "checks": copy.deepcopy(self._checks),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], issues: pd.DataFrame) -> Audit:
        """The audit whose :meth:`to_record` and :attr:`issues` these are (without its data)."""
        audit = cls.__new__(cls)
        audit.data = None
        audit._labels = None
        audit.classes = None
        audit.knn_graph = None
        audit.task = record["task"]
        audit.label = record["label"]
        audit.num_examples = record["num_examples"]
        audit._checks = copy.deepcopy(record["checks"])
        audit._issues = issues.copy()
        return audit

    def save(self, path: str | Path, *, format: str = "parquet") -> Path:
        """Write the results to a folder: ``audit.json`` plus ``issues.parquet`` (or ``.csv``).

        Parquet needs pyarrow (``pip install 'labelaudit[parquet]'``); ``format="csv"`` needs
        nothing extra and round-trips just as exactly (column types are kept in the JSON).
        No pickle is ever written. Returns the folder. ``labelaudit report DIR`` makes the HTML
        report of it (or :func:`labelaudit.report.audit_to_html` of the audit in memory).
        """
        return write_audit_record(Path(path), self.to_record(), self._issues, self.data, format)

    @classmethod
    def load(cls, path: str | Path) -> Audit:
        """Read results written by :meth:`save` (the data and inputs are not stored)."""
        try:
            results = read_results(path, "path")
        except FolderError as err:
            raise FileNotFoundError(f"{err}; pass a folder written by Audit.save.") from None
        return cls.from_record(*read_audit_record(results))
