"""An audit's results as plain data, and the files that hold them in a results folder.

An audit is a *record* and an *issues table*. The record is a dict: ``task``, ``label`` (the
label column of the data, or None), ``num_examples`` and ``checks``, one dict per check with
``issue_type``, ``params``, ``status`` ("ran" or "skipped"), ``num_issues``, ``score``,
``info``, ``note`` and ``columns`` (the check's extra columns). The issues table has one row
per example: ``is_<type>_issue`` and ``<type>_score`` for every check run, then each check's
extra columns.

``Audit.save`` writes them into a results folder (:mod:`labelaudit.io.results`): ``audit.json``
(the record, with the issues table's file name and column types), ``issues.<format>`` (parquet
or CSV), ``examples.<format>`` (a copy of the audited table, when there was one, for review and
export) and the manifest, atomically; never pickle. :func:`read_audit_record` reads them back,
for :class:`labelaudit.Audit` and for the report alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._json import plain
from labelaudit._optional import import_optional
from labelaudit._validate import check_choice
from labelaudit.io.results import Dataset, Results, ResultsWriter

FORMAT_VERSION = 1
FORMATS = ("parquet", "csv")
META_FILE = "audit.json"


def flagged_rows(issues: pd.DataFrame, check: dict[str, Any]) -> pd.DataFrame:
    """The rows one check flagged, worst first (by score, then row), with its columns.

    ``check`` is that check's entry of the record's ``checks``. The index holds the row numbers;
    the columns are ``is_issue``, ``score`` and the check's extra columns.

    Examples
    --------
    >>> issues = pd.DataFrame({"is_x_issue": [True, False, True], "x_score": [0.5, 0.9, 0.1]})
    >>> flagged_rows(issues, {"issue_type": "x", "columns": []})
       is_issue  score
    2      True    0.1
    0      True    0.5
    """
    name = check["issue_type"]
    frame = issues[[f"is_{name}_issue", f"{name}_score", *check["columns"]]]
    frame = frame.rename(columns={f"is_{name}_issue": "is_issue", f"{name}_score": "score"})
    flagged = frame[frame["is_issue"]]
    order = np.lexsort((flagged.index.to_numpy(), flagged["score"].to_numpy()))
    return flagged.iloc[order]


def _stage_examples(
    run: ResultsWriter, data: pd.DataFrame | None, label: str | None, format: str
) -> Dataset | None:
    """Stage the audited table as ``examples.<format>`` (a faithful copy, for review and export)."""
    if data is None:
        return None
    name = f"examples.{format}"
    run.stage_table(name, data, escape_formulas=False)
    labels = data[label] if label is not None else None
    classes = [] if labels is None else sorted({plain(v) for v in labels}, key=lambda v: (str(type(v)), v))
    return Dataset(name, run.staged_record(name)["sha256"], label, classes, len(data))


def write_audit_record(
    path: Path,
    record: dict[str, Any],
    issues: pd.DataFrame,
    data: pd.DataFrame | None,
    format: str,
) -> Path:
    """Write an audit's record, issues table and audited ``data`` (or None) as a results folder.

    Parquet needs pyarrow; CSV round-trips as exactly (the column types are kept in
    ``audit.json``). Returns ``path``.
    """
    check_choice("format", format, FORMATS)
    if format == "parquet":
        import_optional("pyarrow", "saving or loading an audit as parquet", otherwise="save with format='csv'")
    table = f"issues.{format}"
    meta = {
        "format_version": FORMAT_VERSION,
        "task": record["task"],
        "label": record["label"],
        "num_examples": record["num_examples"],
        "checks": plain(record["checks"]),
        "issues_file": table,
        "issues_dtypes": {name: str(dtype) for name, dtype in issues.dtypes.items()},
    }
    with ResultsWriter(path, command="Audit.save", argument="path") as run:
        run.stage_table(table, issues, escape_formulas=False)
        run.stage(META_FILE, lambda p: p.write_text(json.dumps(meta, indent=1, allow_nan=False)))
        dataset = _stage_examples(run, data, record["label"], format)
        run.commit(dataset=dataset, results="audit")
    return path


def read_audit_record(results: Results) -> tuple[dict[str, Any], pd.DataFrame]:
    """The record and issues table a results folder of ``Audit.save`` holds.

    Raises
    ------
    FileNotFoundError
        When the folder holds label issues rather than an audit.
    ValueError
        When ``audit.json`` has another format version.
    """
    if results.manifest["results"] != "audit" or not results.has(META_FILE):
        raise FileNotFoundError(
            f"{results.folder} holds label issues, not an Audit; pass a folder written by Audit.save."
        )
    meta = results.read_json(META_FILE)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{results.folder / META_FILE} has format_version {meta.get('format_version')!r}; this labelaudit reads {FORMAT_VERSION}."
        )
    dtypes = meta["issues_dtypes"]
    table = results.path(meta["issues_file"])
    if table.suffix == ".parquet":
        import_optional("pyarrow", "saving or loading an audit as parquet", otherwise="save with format='csv'")
        issues = pd.read_parquet(table)
    else:
        text = [name for name, dtype in dtypes.items() if dtype in ("object", "str", "string")]
        issues = pd.read_csv(
            table,
            dtype={name: str for name in text},
            keep_default_na=False,
            na_values={name: [""] for name in dtypes if name not in text},
        )
    issues = (
        issues.astype(dtypes)
        if len(issues.columns)
        else pd.DataFrame(index=pd.RangeIndex(meta["num_examples"]))
    )
    record = {
        "task": meta["task"],
        "label": meta["label"],
        "num_examples": meta["num_examples"],
        "checks": [
            {**check, "score": float("nan") if check["score"] is None else check["score"]}
            for check in meta["checks"]
        ],
    }
    return record, issues.set_axis(pd.RangeIndex(len(issues)))
