"""Save and load audit results as JSON plus a parquet (or CSV) table; never pickle.

``Audit.save`` writes a results folder (:mod:`labelaudit.io.results`): ``issues.<format>`` (one
row per example), ``audit.json`` (the checks), ``examples.<format>`` (a copy of ``data``, when
the audit had a table, for review and export) and the manifest, atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelaudit._validate import check_choice
from labelaudit.io import Dataset, FolderError, Results, ResultsWriter, file_sha256, read_results

if TYPE_CHECKING:  # pragma: no cover
    from labelaudit.audit.core import Audit

FORMAT_VERSION = 1
FORMATS = ("parquet", "csv")
META_FILE = "audit.json"


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays converted, NaN written as null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError(
            "saving or loading an audit as parquet requires pyarrow: pip install "
            "'labelaudit[parquet]', or save with format='csv'."
        ) from None


def _audit_dataset(audit: Audit, run: ResultsWriter, format: str) -> Dataset | None:
    """Stage the audited table as ``examples.<format>`` (a faithful copy, for review and export)."""
    if audit.data is None:
        return None
    name = f"examples.{format}"
    staged = run.stage_table(name, audit.data, escape_formulas=False)
    labels = audit.data[audit.label] if audit.label is not None else None
    classes = [] if labels is None else sorted({_jsonable(v) for v in labels}, key=lambda v: (str(type(v)), v))
    return Dataset(name, file_sha256(staged), audit.label, classes, len(audit.data))


def save_audit(audit: Audit, path: Path, format: str) -> Path:
    check_choice("format", format, FORMATS)
    if format == "parquet":
        _require_pyarrow()
    issues = audit._issues
    table = f"issues.{format}"
    meta = {
        "format_version": FORMAT_VERSION,
        "task": audit.task,
        "label": audit.label,
        "num_examples": audit.num_examples,
        "checks": _jsonable(audit._checks),
        "issues_file": table,
        "issues_dtypes": {name: str(dtype) for name, dtype in issues.dtypes.items()},
    }
    with ResultsWriter(path, command="Audit.save", argument="path") as run:
        run.stage_table(table, issues, escape_formulas=False)
        run.stage(META_FILE, lambda p: p.write_text(json.dumps(meta, indent=1, allow_nan=False)))
        dataset = _audit_dataset(audit, run, format)
        run.commit(dataset=dataset, results="audit")
    return path


def load_audit(cls: type[Audit], path: Path) -> Audit:
    try:
        results = read_results(path, "path")
    except FolderError as err:
        raise FileNotFoundError(f"{err}; pass a folder written by Audit.save.") from None
    return load_audit_results(results, cls)


def load_audit_results(results: Results, cls: type[Audit] | None = None) -> Audit:
    """The :class:`~labelaudit.Audit` a results folder of ``Audit.save`` holds (without its data)."""
    if cls is None:
        from labelaudit.audit.core import Audit as cls
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
        _require_pyarrow()
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
    audit = cls.__new__(cls)
    audit.data = None
    audit._labels = None
    audit.classes = None
    audit.knn_graph = None
    audit.task = meta["task"]
    audit.label = meta["label"]
    audit.num_examples = meta["num_examples"]
    audit._checks = [
        {**record, "score": float("nan") if record["score"] is None else record["score"]}
        for record in meta["checks"]
    ]
    audit._issues = issues.set_axis(pd.RangeIndex(len(issues)))
    return audit
