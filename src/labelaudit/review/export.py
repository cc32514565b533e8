"""Apply review decisions: the dataset with relabels applied and removed rows dropped.

The audited table is only read, and only when it is still the one audited (its SHA-256 is in
the results folder's manifest). Only decisions made on this very data are applied. Decisions
made on other data (an earlier audit into the same folder) are kept in ``decisions.sqlite`` and
refused by default; ``earlier="carry"`` applies those whose example is unchanged (the same
``--id`` value with the same content, or without ids the same content hash found exactly once,
else at the same row) and drops the rest, ``earlier="ignore"`` leaves them all out.

Next to the cleaned table comes its change log, ``<name>.changes.<csv|parquet>``: one row per
decision that changed something, with ``row`` (the 0-based row of the audited table),
``old_label``, ``new_label`` (empty when removed), ``action`` (``relabel`` or ``remove``) and
``decided_at`` (UTC). Both files are written under temporary names and renamed into place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit.io import (
    FolderError,
    Results,
    atomic_write,
    check_new_output,
    overlaps,
    read_results,
    read_table,
    row_hashes,
    write_table,
)
from labelaudit.io.tables import TABLE_SUFFIXES
from labelaudit.review.store import DecisionStore

logger = logging.getLogger(__name__)

CHANGE_COLUMNS = ["row", "old_label", "new_label", "action", "decided_at"]
EARLIER = ("refuse", "carry", "ignore")


@dataclass(frozen=True)
class Export:
    """What :func:`export_cleaned` wrote and how many decisions it applied."""

    cleaned: Path
    changes: Path
    num_rows: int
    num_relabelled: int
    num_removed: int
    num_kept: int
    num_carried: int = 0
    num_dropped: int = 0
    copied_to: Path | None = None

    def describe(self) -> str:
        """One line for the terminal."""
        counts = (
            f"{self.num_relabelled:,} relabelled, {self.num_removed:,} removed, {self.num_kept:,} kept "
            "as they were after review"
        )
        if self.changes == self.cleaned:  # images: one row per decided file
            text = f"Wrote {self.cleaned} (the decided files: {counts})"
            if self.copied_to is not None:
                text += f" and the cleaned tree of {self.num_rows:,} images in {self.copied_to}"
        else:
            text = f"Wrote {self.cleaned} ({self.num_rows:,} rows: {counts}) and the change log {self.changes}"
        if self.num_carried or self.num_dropped:
            text += (
                f"; carried over {self.num_carried:,} decisions of an earlier audit, dropped "
                f"{self.num_dropped:,} whose examples changed or are gone"
            )
        return text


def audited_table(results: Results) -> tuple[pd.DataFrame, Any]:
    """The audited table and its dataset, refusing a table that changed since the audit."""
    dataset = results.dataset
    if dataset is None or dataset.label_column is None:
        raise FolderError(
            f"{results.argument}: {results.folder} has no table of labelled examples to fix "
            "(an Audit saved without data); audit a table to export it"
        )
    source, problem = results.audited_table()
    if problem == "is missing":
        raise FolderError(f"{results.argument}: the audited table {source} is gone; put it back to export")
    if problem:
        raise FolderError(
            f"{results.argument}: {source} changed since it was audited, so its rows may not match the "
            "decisions; restore the audited version, or audit it again (export can then carry over "
            "the decisions whose examples are unchanged with --earlier-decisions carry)"
        )
    return read_table(source, results.argument), dataset


def _carry(earlier: list[dict[str, Any]], table: pd.DataFrame, id_column: Any) -> list[dict[str, Any]]:
    """Earlier decisions moved onto the rows of ``table`` holding the same example."""
    hashes = row_hashes(table)
    by_hash: dict[str, list[int]] = {}
    for row, value in enumerate(hashes):
        by_hash.setdefault(value, []).append(row)
    ids = None
    if id_column is not None:
        ids = {str(v): i for i, v in enumerate(table[id_column].tolist())}
    carried: dict[int, dict[str, Any]] = {}
    for decision in earlier:  # oldest first: a later decision on the same example wins
        content, row = decision["content"], None
        if content is None:
            continue
        if ids is not None and decision["example_id"] is not None:
            row = ids.get(str(decision["example_id"]))
        elif len(by_hash.get(content, [])) == 1:
            row = by_hash[content][0]
        elif decision["row"] < len(table):
            row = decision["row"]
        if row is not None and hashes[row] == content:
            carried[row] = {**decision, "row": row}
    return list(carried.values())


def _image_root(dataset: Any) -> Path | None:
    image = dataset.image or {}
    return Path(image["root"]) if "files" in image else None


def _free_name(folder: Path, relative: Path, label: str, taken: set[Path]) -> Path:
    """``relative`` under ``folder``, or ``<stem>__from_<label><suffix>`` when that is taken."""
    target = folder / relative
    if target in taken:
        target = target.with_name(f"{relative.stem}__from_{label}{relative.suffix}")
    taken.add(target)
    return target


def copy_cleaned_tree(
    table: pd.DataFrame, column: str, files: str, root: Path, copy_to: Path, *, from_folders: bool
) -> int:
    """Materialise the cleaned images (``files``: the column of their paths under ``root``) as a
    class-folder tree under ``copy_to`` (hard links where the file system allows, else copies);
    returns the number of files. The originals are only read.

    ``from_folders``: paths start with their class folder (``cat/indoor/a.jpg`` relabelled dog
    becomes ``dog/indoor/a.jpg``); otherwise the whole path goes under the label's folder.
    """
    import os
    import shutil

    taken: set[Path] = set()
    for path, label in zip(table[files].astype(str), table[column]):
        parts = Path(path).parts
        relative = Path(*parts[1:]) if from_folders and len(parts) > 1 else Path(path)
        target = _free_name(copy_to / str(label), relative, str(parts[0]), taken)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = root / path
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    return len(taken)


def _check_copy_to(copy_to: Path, root: Path | None, results: Results) -> Path:
    if root is None:
        raise FolderError("--copy-to: applies only to images (an audited folder of class folders)")
    for name, place in (("the audited images", root.resolve()), ("the results folder", results.folder.resolve())):
        if overlaps(copy_to, place):
            raise FolderError(f"--copy-to: '{copy_to}' overlaps {name} '{place}'; pick a folder outside both")
    if copy_to.exists() and (not copy_to.is_dir() or any(copy_to.iterdir())):
        raise FolderError(f"--copy-to: '{copy_to}' exists and is not an empty folder; pick a new folder")
    return copy_to


def export_cleaned(
    folder: str | Path,
    out: str | Path,
    *,
    earlier: str = "refuse",
    copy_to: str | Path | None = None,
    argument: str = "--out",
) -> Export:
    """Write the cleaned dataset to ``out`` (.csv or .parquet) and its change log beside it.

    Parameters
    ----------
    folder : path
        A results folder of ``labelaudit demo``, ``labelaudit audit`` or ``Audit.save`` that
        ``labelaudit review`` recorded decisions in.
    out : path
        The cleaned table; the change log goes to ``<stem>.changes<suffix>``. Neither may be a
        file the export reads or a file of the results folder.
    earlier : {"refuse", "carry", "ignore"}
        What to do with decisions made on other data in the same folder (see the module).
    copy_to : path, optional
        For image data: a new or empty folder that receives the cleaned class-folder tree
        (:func:`copy_cleaned_tree`). For image data ``out`` holds one row per decided file
        (``row, path, given_label, new_label, action, decided_at``) instead of the whole table.

    Raises
    ------
    FolderError
        For a bad ``out``, a folder that is not a results folder, a table that changed since
        the audit, or earlier decisions with ``earlier="refuse"``.

    Examples
    --------
    >>> import tempfile
    >>> from labelaudit.io import Dataset, ResultsWriter, file_sha256
    >>> folder = Path(tempfile.mkdtemp()) / "out"
    >>> with ResultsWriter(folder, command="example") as run:
    ...     staged = run.stage_table("examples.csv", pd.DataFrame({"x": [1, 2, 3], "y": ["a", "a", "b"]}))
    ...     dataset = Dataset("examples.csv", file_sha256(staged), "y", ["a", "b"], 3)
    ...     _ = run.commit(dataset=dataset, results="label_issues")
    >>> store = DecisionStore(folder, dataset=dataset.fingerprint)
    >>> _ = store.put(1, "relabel", "b"), store.put(2, "remove")
    >>> result = export_cleaned(folder, folder.parent / "clean.csv")
    >>> result.num_relabelled, result.num_removed
    (1, 1)
    >>> pd.read_csv(result.cleaned)
       x  y
    0  1  a
    1  2  b
    """
    if earlier not in EARLIER:
        raise ValueError(f"earlier={earlier!r} is not one of {EARLIER}")
    results = read_results(folder)
    dataset = results.dataset
    inputs = [("audited table", dataset.table_path(results.folder))] if dataset is not None else []
    suffixes = tuple(s for s in TABLE_SUFFIXES if s != ".pq")
    out = check_new_output(out, argument=argument, suffixes=suffixes, protected=inputs, results=results)
    root = None if dataset is None else _image_root(dataset)
    log = out  # images: one table of the decided files, no separate change log
    if root is None:
        log = out.with_name(f"{out.stem}.changes{out.suffix}")
        check_new_output(log, argument=argument, suffixes=suffixes, protected=inputs, results=results)
    table, dataset = audited_table(results)
    if copy_to is not None:
        copy_to = _check_copy_to(Path(copy_to), root, results)
    store = DecisionStore(results.folder, dataset=dataset.fingerprint, create=False)
    decisions = store.all()
    earlier_decisions = store.earlier()
    carried: list[dict[str, Any]] = []
    if earlier_decisions and earlier == "refuse":
        raise FolderError(
            f"{results.argument}: {results.folder} holds {len(earlier_decisions):,} review decisions made on "
            "other data (an earlier audit into this folder); they are kept but not applied. Pass "
            "--earlier-decisions carry to apply those whose examples are unchanged, or "
            "--earlier-decisions ignore to leave them out"
        )
    if earlier_decisions and earlier == "carry":
        decided = {d["row"] for d in decisions}
        carried = [
            d for d in _carry(earlier_decisions, table, dataset.id_column) if d["row"] not in decided
        ]
        decisions = sorted(decisions + carried, key=lambda d: d["row"])
    outside = [d["row"] for d in decisions if d["row"] >= len(table)]
    if outside:
        raise FolderError(f"decisions name rows {outside[:5]} beyond the table's {len(table)} rows.")
    column = dataset.label_column
    changed = [d for d in decisions if d["action"] != "keep"]
    rows = [d["row"] for d in changed]
    changes = pd.DataFrame(
        {
            "row": pd.Series(rows, dtype="int64"),
            "old_label": pd.Series(table[column].iloc[rows].tolist(), dtype=object),
            "new_label": pd.Series([d["label"] for d in changed], dtype=object),
            "action": pd.Series([d["action"] for d in changed], dtype=object),
            "decided_at": pd.Series([d["decided_at"] for d in changed], dtype=object),
        },
        columns=CHANGE_COLUMNS,
    )
    relabels = {d["row"]: d["label"] for d in changed if d["action"] == "relabel"}
    cleaned = table.copy()
    if relabels:
        labels = cleaned[column].astype(object)
        labels.iloc[list(relabels)] = list(relabels.values())
        cleaned[column] = labels.infer_objects()
    removed = np.array([d["row"] for d in changed if d["action"] == "remove"], dtype=np.int64)
    cleaned = cleaned.drop(index=cleaned.index[removed]).reset_index(drop=True)
    if root is None:
        atomic_write(out, lambda path: write_table(cleaned, path, suffix=out.suffix, escape_formulas=False))
        atomic_write(log, lambda path: write_table(changes, path, suffix=out.suffix))
    else:
        rows = [d["row"] for d in decisions]
        given = table[column].iloc[rows].tolist()
        manifest = pd.DataFrame(
            {
                "row": pd.Series(rows, dtype="int64"),
                "path": table[dataset.image["files"]].iloc[rows].tolist(),
                "given_label": given,
                "new_label": [d["label"] if d["action"] == "relabel" else (None if d["action"] == "remove" else g)
                              for d, g in zip(decisions, given)],
                "action": [d["action"] for d in decisions],
                "decided_at": [d["decided_at"] for d in decisions],
            }
        )
        atomic_write(out, lambda path: write_table(manifest, path, suffix=out.suffix))
        if copy_to is not None:
            copy_cleaned_tree(
                cleaned, column, dataset.image["files"], root, copy_to,
                from_folders=dataset.table == "examples.csv",
            )
    result = Export(
        out,
        log,
        len(cleaned),
        len(relabels),
        len(removed),
        len(decisions) - len(changed),
        len(carried),
        len(earlier_decisions) - len(carried) if earlier == "carry" else 0,
        copy_to,
    )
    logger.info("%s", result.describe())
    return result
