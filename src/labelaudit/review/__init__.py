"""Review flagged examples in a local web app and export the cleaned dataset.

* ``labelaudit review DIR`` (:func:`serve`) serves the page and its JSON API (see
  :mod:`labelaudit.review.app`); decisions live in ``DIR/decisions.sqlite``
  (:class:`DecisionStore`). Needs ``pip install 'labelaudit[review]'`` (Starlette, uvicorn),
  imported on first use.
* ``labelaudit export DIR --out cleaned.csv`` (:func:`export_cleaned`) applies them.
"""

from labelaudit.review.app import create_app, serve
from labelaudit.review.export import export_cleaned
from labelaudit.review.store import DecisionStore

__all__ = ["DecisionStore", "create_app", "export_cleaned", "serve"]
