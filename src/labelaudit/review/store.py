"""Review decisions in SQLite (WAL mode), committed before anyone is told they were saved.

``decisions.sqlite`` in the results folder holds one row per reviewed example and dataset:
``dataset`` (the fingerprint of the data the decision was made on, see
:class:`labelaudit.io.Dataset`), ``row`` (0-based row of that data), ``example_id`` (the value
of the audit's ``--id`` column, as JSON, when it had one), ``content`` (a hash of the example's
row: its features and given label), ``action`` (``keep``, ``relabel`` or ``remove``), ``label``
(the new label as JSON, for a relabel) and ``decided_at`` (UTC, ISO 8601).

A store opened for one dataset reads and writes only that dataset's decisions; those made on
other data stay in the file (a re-audit never deletes them) and are reached only through
:meth:`DecisionStore.earlier`, for an explicit carry-over. A later decision on the same row
replaces the earlier one; deleting it is an undo. Every call opens its own connection and
commits before it returns, with ``synchronous=FULL``, so a decision survives the process being
killed (even with SIGKILL) the moment :meth:`DecisionStore.put` returns.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from labelaudit.io import DECISIONS_FILE

ACTIONS = ("keep", "relabel", "remove")
STORE_FILE = DECISIONS_FILE
SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    dataset TEXT NOT NULL,
    row INTEGER NOT NULL,
    example_id TEXT,
    content TEXT,
    action TEXT NOT NULL CHECK (action IN ('keep', 'relabel', 'remove')),
    label TEXT,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (dataset, row)
)
"""
_LEGACY_COPY = """
INSERT OR IGNORE INTO decisions (dataset, row, action, label, decided_at)
SELECT '', row, action, label, decided_at FROM decisions_v1
"""
_COLUMNS = "row, action, label, decided_at, dataset, example_id, content"


def describe_nothing(row: int) -> tuple[Any, str | None]:
    """No id and no content hash: decisions are keyed by row and dataset only."""
    return None, None


class DecisionStore:
    """The decisions made on one dataset in one results folder.

    ``describe(row)`` gives ``(example_id or None, content hash or None)`` of a row, stored
    with each decision so that it can be carried over to changed data.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> store = DecisionStore(folder, dataset="first")
    >>> store.put(4, "relabel", "cat")["label"]
    'cat'
    >>> [(d["row"], d["action"]) for d in store.all()]
    [(4, 'relabel')]
    >>> later = DecisionStore(folder, dataset="second")   # other data in the same folder
    >>> later.all(), [d["row"] for d in later.earlier()]
    ([], [4])
    >>> store.delete(4), store.delete(4), store.all()
    (True, False, [])
    """

    def __init__(
        self,
        folder: Path,
        *,
        dataset: str,
        describe: Callable[[int], tuple[Any, str | None]] = describe_nothing,
        create: bool = True,
    ) -> None:
        self.path = Path(folder) / STORE_FILE
        self.dataset = dataset
        self.describe = describe
        self.exists = self.path.is_file()
        if not (self.exists or create):
            return
        try:
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    columns = {r[1] for r in db.execute("PRAGMA table_info(decisions)")}
                    legacy = bool(columns) and "dataset" not in columns
                    db.execute("BEGIN IMMEDIATE")
                    if legacy:  # decisions of labelaudit 0.1: kept, the data they were made on unknown
                        db.execute("ALTER TABLE decisions RENAME TO decisions_v1")
                    db.execute(_SCHEMA)
                    if legacy:
                        db.execute(_LEGACY_COPY)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    db.execute("COMMIT")
        except sqlite3.DatabaseError as err:
            raise ValueError(
                f"{self.path} is not a labelaudit decisions store ({err}); move it away to start "
                "the review afresh, or restore it from a backup"
            ) from None
        self.exists = True

    def __repr__(self) -> str:
        return f"DecisionStore({str(self.path)!r}, dataset={self.dataset[:12]!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def put(self, row: int, action: str, label: Any = None) -> dict[str, Any]:
        """Record (or replace) the decision on ``row``; committed when this returns."""
        if action not in ACTIONS:
            raise ValueError(f"action={action!r} is not one of {ACTIONS}.")
        decided_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        stored = json.dumps(label) if action == "relabel" else None
        example_id, content = self.describe(int(row))
        with self._connect() as db:
            db.execute(
                "INSERT INTO decisions (dataset, row, example_id, content, action, label, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dataset, row) DO UPDATE SET "
                "example_id = excluded.example_id, content = excluded.content, "
                "action = excluded.action, label = excluded.label, decided_at = excluded.decided_at",
                (
                    self.dataset,
                    int(row),
                    None if example_id is None else json.dumps(example_id),
                    content,
                    action,
                    stored,
                    decided_at,
                ),
            )
        return {
            "row": int(row),
            "action": action,
            "label": label if stored else None,
            "decided_at": decided_at,
        }

    def delete(self, row: int) -> bool:
        """Forget the decision on ``row``; whether there was one."""
        with self._connect() as db:
            deleted = db.execute(
                "DELETE FROM decisions WHERE dataset = ? AND row = ?", (self.dataset, int(row))
            )
            return deleted.rowcount > 0

    def _select(self, where: str, *, full: bool) -> list[dict[str, Any]]:
        if not self.exists:
            return []
        try:
            with self._connect() as db:
                found = db.execute(
                    f"SELECT {_COLUMNS} FROM decisions WHERE {where} ORDER BY decided_at, row",
                    (self.dataset,),
                ).fetchall()
        except sqlite3.DatabaseError as err:
            raise ValueError(f"cannot read {self.path}: {err}") from None
        decisions = []
        for row, action, label, at, dataset, example_id, content in found:
            decision = {
                "row": row,
                "action": action,
                "label": None if label is None else json.loads(label),
                "decided_at": at,
            }
            if full:
                decision.update(
                    dataset=dataset,
                    example_id=None if example_id is None else json.loads(example_id),
                    content=content,
                )
            decisions.append(decision)
        return decisions

    def all(self) -> list[dict[str, Any]]:
        """Every decision made on this dataset, by row."""
        return sorted(self._select("dataset = ?", full=False), key=lambda d: d["row"])

    def earlier(self) -> list[dict[str, Any]]:
        """Decisions made on other data (earlier audits into this folder), oldest first, with
        their ``dataset``, ``example_id`` and ``content``."""
        return self._select("dataset != ?", full=True)


def store_for(folder: Path, manifest: dict[str, Any], table: Any = None) -> DecisionStore:
    """The decision store of a results folder, keyed to the data its manifest describes.

    ``table`` (the audited examples, a DataFrame) gives each decision its example id and
    content hash. Without a dataset (an Audit saved without data) decisions belong to the run.
    """
    from labelaudit.io import Dataset, row_hashes

    record = manifest.get("dataset")
    if record is None:
        return DecisionStore(folder, dataset=f"run:{manifest['run_id']}")
    dataset = Dataset.from_dict(record)
    if table is None:
        return DecisionStore(folder, dataset=dataset.fingerprint)

    def describe(row: int) -> tuple[Any, str | None]:
        if not 0 <= row < len(table):
            return None, None
        example_id = None
        if dataset.id_column is not None:
            value = table[dataset.id_column].iloc[row]
            example_id = value.item() if hasattr(value, "item") else value
        return example_id, str(row_hashes(table.iloc[[row]])[0])

    return DecisionStore(folder, dataset=dataset.fingerprint, describe=describe)
