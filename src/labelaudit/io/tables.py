"""Tables on disk: read a user's table refusing what is ambiguous, write one safely.

CSV cells that a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are written with a leading ``'``, and so is text that
already starts with ``'``, so that :func:`read_table` with ``unescape=True`` gives back exactly
what was written. labelaudit escapes the tables it makes (issues, change logs), never a copy of
the user's own data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._optional import import_optional

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


class TableError(ValueError):
    """A table that cannot be read unambiguously; the message names the argument and the fix."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> file_sha256(path)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_pyarrow(argument: str) -> None:
    """Raise an ImportError naming ``argument`` and the install command when pyarrow is missing."""
    import_optional("pyarrow", f"{argument}: parquet")


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a parquet file (by its suffix, in any case)."""
    return Path(path).suffix.lower() in (".parquet", ".pq")


def _header(path: Path) -> list[Any]:
    if is_parquet(path):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    return first.iloc[0].tolist() if len(first) else []


def read_table(path: str | Path, argument: str = "table", *, unescape: bool = False) -> pd.DataFrame:
    """A .csv (with a header row) or .parquet table, refusing duplicate column names.

    pandas renames a repeated CSV header (``y``, ``y.1``), which would let a copy of the label
    column pass as a feature; a repeated name is refused instead, naming ``argument``.
    ``unescape=True`` undoes the formula escaping of :func:`write_table`.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,y,y\\n1,2,3\\n")
    >>> read_table(path, "data")
    Traceback (most recent call last):
    ...
    labelaudit.io.tables.TableError: data: 't.csv' names the column 'y' twice; give every column its own name
    """
    path = Path(path)
    if is_parquet(path):
        require_pyarrow(argument)
    header = _header(path)
    seen: set[Any] = set()
    for name in header:
        if name in seen:
            raise TableError(
                f"{argument}: '{path.name}' names the column {name!r} twice; give every column its own name"
            )
        seen.add(name)
    frame = pd.read_parquet(path) if is_parquet(path) else pd.read_csv(path)
    if unescape:
        for name in frame.columns:
            if _is_text(frame[name]):
                frame[name] = frame[name].map(_unescape)
    return frame


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column)


def _escape(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _unescape(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def write_table(
    frame: pd.DataFrame, path: str | Path, *, suffix: str | None = None, escape_formulas: bool = True
) -> Path:
    """Write ``frame`` as CSV, JSON (records) or parquet, chosen by ``suffix`` (default: the
    path's), in any case.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "issues.CSV"
    >>> _ = write_table(pd.DataFrame({"label": ['=HYPERLINK("x")', "cat"]}), path)
    >>> path.read_text().splitlines()[1]
    '"\\'=HYPERLINK(""x"")"'
    >>> read_table(path, unescape=True)["label"].tolist()
    ['=HYPERLINK("x")', 'cat']
    """
    path = Path(path)
    suffix = (path.suffix if suffix is None else suffix).lower()
    if suffix in (".parquet", ".pq"):
        require_pyarrow(str(path))
        frame.to_parquet(path, index=False)
    elif suffix == ".json":
        frame.to_json(path, orient="records", indent=2)
    elif suffix == ".csv":
        if escape_formulas:
            frame = frame.copy()
            for name in frame.columns:
                if _is_text(frame[name]):
                    frame[name] = frame[name].map(_escape)
        frame.to_csv(path, index=False)
    else:
        raise ValueError(f"'{path}': a table is written as .csv, .json, .parquet or .pq, not {suffix!r}")
    return path


def read_records(path: Path) -> pd.DataFrame:
    """A table labelaudit wrote with :func:`write_table` (CSV unescaped, JSON records, parquet)."""
    if Path(path).suffix.lower() == ".json":
        return pd.read_json(path, orient="records")
    return read_table(path, unescape=True)


def row_hashes(frame: pd.DataFrame, columns: Sequence[Any] | None = None) -> np.ndarray:
    """One 64-bit content hash per row (values and column names, not the index), as hex strings.

    Rows with the same values in the same columns get the same hash in any row order.

    Examples
    --------
    >>> a = row_hashes(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
    >>> b = row_hashes(pd.DataFrame({"x": [2, 1], "y": ["b", "a"]}))
    >>> a[0] == b[1], a[0] == a[1]
    (True, False)
    """
    chosen = frame if columns is None else frame[list(columns)]
    named = chosen.copy()
    named.columns = [str(c) for c in named.columns]
    values = pd.util.hash_pandas_object(named, index=False).to_numpy()
    names = pd.util.hash_array(np.asarray(named.columns, dtype=object))
    salt = np.bitwise_xor.reduce(names * np.arange(1, len(names) + 1, dtype=np.uint64)) if len(names) else 0
    return np.char.mod("%016x", values ^ np.uint64(salt))
