"""Every optional dependency, imported on first use, with the extra that installs it.

The core needs numpy, scipy, pandas, scikit-learn and tqdm; everything else is an extra, and
this is the one place that imports it. A missing one raises :class:`MissingDependency` (an
ImportError) that says what needed it and the command that installs it.

Examples
--------
>>> import sys
>>> sys.modules["pyarrow"] = None          # as if pyarrow were not installed
>>> import_optional("pyarrow", "writing parquet")
Traceback (most recent call last):
...
labelaudit._optional.MissingDependency: writing parquet requires pyarrow: pip install 'labelaudit[parquet]'
>>> del sys.modules["pyarrow"]
"""

from __future__ import annotations

from types import ModuleType

EXTRAS = {
    "pyarrow": "parquet",
    "matplotlib": "plot",
    "starlette": "review",
    "uvicorn": "review",
    "dask": "dask",
    "distributed": "dask",
    "PIL": "images",
}


class MissingDependency(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


def install_hint(name: str) -> str:
    """The command that installs the optional module ``name`` (its top-level package)."""
    return f"pip install 'labelaudit[{EXTRAS[name.split('.')[0]]}]'"


def import_optional(name: str, purpose: str, *, otherwise: str = "") -> ModuleType:
    """Import the optional module ``name`` (e.g. ``"dask.array"``) for ``purpose``.

    Raises
    ------
    MissingDependency
        When it is not installed: "<purpose> requires <package>: pip install 'labelaudit[<extra>]'"
        and, when given, ", or <otherwise>".
    """
    try:  # through __import__, as an ``import`` statement would
        return __import__(name, fromlist=["__name__"])
    except ImportError:
        package = name.split(".")[0]
        alternative = f", or {otherwise}" if otherwise else ""
        raise MissingDependency(f"{purpose} requires {package}: {install_hint(name)}{alternative}") from None
