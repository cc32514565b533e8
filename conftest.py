"""Doctest collection: optional modules whose extra is not installed are left out (not failed)."""

from __future__ import annotations

import importlib.util

OPTIONAL_MODULES = {"src/labelaudit/dask.py": ("dask", "distributed")}

collect_ignore = [
    path
    for path, needs in OPTIONAL_MODULES.items()
    if not all(importlib.util.find_spec(name) for name in needs)
]
