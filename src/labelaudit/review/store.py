"""Review decisions in SQLite (WAL mode), committed before anyone is told they were saved.

One row per reviewed example in ``decisions.sqlite`` inside the output folder: ``row``,
``action`` (``keep``, ``relabel`` or ``remove``), ``label`` (the new label as JSON, for a
relabel) and ``decided_at`` (UTC, ISO 8601). A later decision on the same row replaces the
earlier one; deleting it is an undo. Every call opens its own connection and commits before it
returns, with ``synchronous=FULL``, so a decision survives the process being killed (even with
SIGKILL) the moment :meth:`DecisionStore.put` returns, and concurrent writers never lose one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ACTIONS = ("keep", "relabel", "remove")
STORE_FILE = "decisions.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    row INTEGER PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('keep', 'relabel', 'remove')),
    label TEXT,
    decided_at TEXT NOT NULL
)
"""


class DecisionStore:
    """The decisions of one output folder.

    Examples
    --------
    >>> import tempfile
    >>> store = DecisionStore(Path(tempfile.mkdtemp()))
    >>> store.put(4, "relabel", "cat")["label"]
    'cat'
    >>> [(d["row"], d["action"]) for d in store.all()]
    [(4, 'relabel')]
    >>> store.delete(4), store.delete(4), store.all()
    (True, False, [])
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / STORE_FILE
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"DecisionStore({str(self.path)!r})"

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
        with self._connect() as db:
            db.execute(
                "INSERT INTO decisions (row, action, label, decided_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(row) DO UPDATE SET action = excluded.action, label = excluded.label, "
                "decided_at = excluded.decided_at",
                (int(row), action, stored, decided_at),
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
            return db.execute("DELETE FROM decisions WHERE row = ?", (int(row),)).rowcount > 0

    def all(self) -> list[dict[str, Any]]:
        """Every decision, by row."""
        with self._connect() as db:
            found = db.execute(
                "SELECT row, action, label, decided_at FROM decisions ORDER BY row"
            ).fetchall()
        return [
            {
                "row": row,
                "action": action,
                "label": None if label is None else json.loads(label),
                "decided_at": at,
            }
            for row, action, label, at in found
        ]
