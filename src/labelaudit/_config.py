"""Process-wide settings: how many rows a block holds and how many threads run blocks.

Results never depend on these settings; only speed and memory do.

Examples
--------
>>> import labelaudit
>>> with labelaudit.config_context(block_rows=1000, n_jobs=2):
...     labelaudit.get_config()["block_rows"]
1000
>>> labelaudit.get_config()["block_rows"] is None
True
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_DEFAULTS: dict[str, Any] = {"block_rows": None, "n_jobs": None}
_local = threading.local()


def get_config() -> dict[str, Any]:
    """Return a copy of the current settings (``block_rows``, ``n_jobs``)."""
    return dict(getattr(_local, "config", _DEFAULTS))


def set_config(*, block_rows: int | None = None, n_jobs: int | None = None) -> None:
    """Change settings for this thread.

    Parameters
    ----------
    block_rows : int or None
        Rows of ``pred_probs`` processed at a time; ``None`` picks about one million values
        per block.
    n_jobs : int or None
        Threads used over row blocks when a function is called with ``n_jobs=None``;
        ``-1`` means one per core.
    """
    from labelaudit._validate import check_block_rows, check_n_jobs

    config = get_config()
    config["block_rows"] = check_block_rows(block_rows)
    config["n_jobs"] = check_n_jobs(n_jobs)
    _local.config = config


@contextlib.contextmanager
def config_context(*, block_rows: int | None = None, n_jobs: int | None = None) -> Iterator[None]:
    """Temporarily change settings inside a ``with`` block (see :func:`set_config`)."""
    previous = get_config()
    set_config(block_rows=block_rows, n_jobs=n_jobs)
    try:
        yield
    finally:
        _local.config = previous
