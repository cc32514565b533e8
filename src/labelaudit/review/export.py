"""Apply review decisions: the dataset with relabels applied and removed rows dropped.

The original table is only read. Next to the cleaned table comes its change log,
``<name>.changes.<csv|parquet>``: one row per decision that changed something, with ``row`` (the
0-based row of the original table), ``old_label``, ``new_label`` (empty when removed), ``action``
(``relabel`` or ``remove``) and ``decided_at`` (UTC).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from labelaudit.report._findings import file_sha256, read_manifest, read_table
from labelaudit.review.store import DecisionStore

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".parquet")
CHANGE_COLUMNS = ["row", "old_label", "new_label", "action", "decided_at"]


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def export_cleaned(folder: str | Path, out: str | Path) -> tuple[Path, Path]:
    """Write the cleaned dataset to ``out`` (.csv or .parquet) and its change log beside it.

    Parameters
    ----------
    folder : path
        An output folder of ``labelaudit demo`` or ``labelaudit audit`` (with ``dataset.json``)
        that ``labelaudit review`` recorded decisions in.
    out : path
        The cleaned table; the change log goes to ``<stem>.changes<suffix>``.

    Returns
    -------
    (cleaned path, change log path)

    Raises
    ------
    FileNotFoundError
        When the folder has no ``dataset.json`` or the table it names is gone.
    ValueError
        For another suffix, an ``out`` that is the original table, or a table that changed
        since the audit (its rows may no longer match the decisions).

    Examples
    --------
    >>> import tempfile
    >>> from labelaudit.report import write_dataset
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_dataset(folder, classes=["a", "b"], label_column="y",
    ...                   table=pd.DataFrame({"x": [1, 2, 3], "y": ["a", "a", "b"]}))
    >>> store = DecisionStore(folder)
    >>> _ = store.put(1, "relabel", "b"), store.put(2, "remove")
    >>> cleaned, changes = export_cleaned(folder, folder / "clean.csv")
    >>> pd.read_csv(cleaned)
       x  y
    0  1  a
    1  2  b
    >>> pd.read_csv(changes)[["row", "old_label", "new_label", "action"]]
       row old_label new_label   action
    0    1         a         b  relabel
    1    2         b       NaN   remove
    """
    folder, out = Path(folder), Path(out)
    if out.suffix.lower() not in SUFFIXES:
        raise ValueError(f"--out: '{out}' must end in .csv or .parquet")
    manifest = read_manifest(folder)
    if manifest is None:
        raise FileNotFoundError(
            f"{folder} has no dataset.json, so the labels to fix are unknown; run 'labelaudit demo' or "
            "'labelaudit audit' with --out to write it."
        )
    source = Path(manifest["table"])
    source = source if source.is_absolute() else folder / source
    if not source.is_file():
        raise FileNotFoundError(f"the audited table {source} is gone; put it back to export.")
    if out.resolve() == source.resolve():
        raise ValueError(
            f"--out: '{out}' is the original table, which is never modified; choose another path"
        )
    if manifest.get("sha256") and file_sha256(source) != manifest["sha256"]:
        raise ValueError(
            f"{source} changed since it was audited, so its rows may not match the decisions; "
            "restore the audited version or audit it again."
        )
    table = read_table(source)
    column = manifest["label_column"]
    decisions = [d for d in DecisionStore(folder).all() if d["action"] != "keep"]
    outside = [d["row"] for d in decisions if d["row"] >= len(table)]
    if outside:
        raise ValueError(f"decisions name rows {outside[:5]} beyond the table's {len(table)} rows.")
    rows = [d["row"] for d in decisions]
    changes = pd.DataFrame(
        {
            "row": pd.Series(rows, dtype="int64"),
            "old_label": pd.Series(table[column].iloc[rows].tolist(), dtype=object),
            "new_label": pd.Series([d["label"] for d in decisions], dtype=object),
            "action": pd.Series([d["action"] for d in decisions], dtype=object),
            "decided_at": pd.Series([d["decided_at"] for d in decisions], dtype=object),
        },
        columns=CHANGE_COLUMNS,
    )
    relabels = {d["row"]: d["label"] for d in decisions if d["action"] == "relabel"}
    cleaned = table.copy()
    if relabels:
        labels = cleaned[column].astype(object)
        labels.iloc[list(relabels)] = list(relabels.values())
        cleaned[column] = labels.infer_objects()
    removed = [d["row"] for d in decisions if d["action"] == "remove"]
    cleaned = cleaned.drop(index=cleaned.index[removed])
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_name(f"{out.stem}.changes{out.suffix}")
    _write(cleaned.reset_index(drop=True), out)
    _write(changes, log)
    logger.info(
        "exported %d rows (%d relabelled, %d removed) to %s",
        len(cleaned),
        len(relabels),
        len(removed),
        out,
    )
    return out, log
