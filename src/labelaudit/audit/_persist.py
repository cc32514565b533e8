"""Save and load audit results as JSON plus a parquet (or CSV) table; never pickle."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelaudit._validate import check_choice

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


def save_audit(audit: Audit, path: Path, format: str) -> Path:
    check_choice("format", format, FORMATS)
    if format == "parquet":
        _require_pyarrow()
    path.mkdir(parents=True, exist_ok=True)
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
    if format == "parquet":
        issues.to_parquet(path / table, index=False)
    else:
        issues.to_csv(path / table, index=False)
    (path / META_FILE).write_text(json.dumps(meta, indent=1, allow_nan=False))
    return path


def load_audit(cls: type[Audit], path: Path) -> Audit:
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} does not exist; pass a folder written by Audit.save.")
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_path} has format_version {meta.get('format_version')!r}; this labelaudit reads {FORMAT_VERSION}."
        )
    dtypes = meta["issues_dtypes"]
    table = path / meta["issues_file"]
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
