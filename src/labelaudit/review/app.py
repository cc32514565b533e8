"""The review web app: a Starlette application over an output folder and its decision store.

JSON API (every error is a 4xx response ``{"error": "..."}`` and changes nothing):

* ``GET /api/meta``: ``title``, ``num_examples``, ``num_issues``, ``classes``, ``issue_types``.
* ``GET /api/issues?offset=0&limit=100``: ``{"total", "offset", "limit", "issues": [...]}``, the
  flagged rows from the lowest score up, each with ``row``, ``given_label``,
  ``suggested_label``, ``score``, ``decision`` (null or the decision), ``issue_types`` and
  ``example`` (``{"kind": "image", "src": data URI}``, or ``kind`` text/features with ``text``).
  ``limit`` is 1..1000.
* ``POST /api/decisions`` with ``{"row": int, "action": "keep"|"relabel"|"remove", "label": ...}``
  (``label`` only with relabel: one of ``classes``, not the given label): the stored decision,
  once it is committed. 404 for a row outside the dataset, 422 for an unknown action or label,
  400 for a body that is not JSON.
* ``GET /api/decisions``: ``{"decisions": [...]}`` by row.
* ``DELETE /api/decisions/{row}``: ``{"row": row, "deleted": true}``; 404 when there is none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelaudit.report._findings import Findings, load_findings
from labelaudit.review.store import ACTIONS, store_for

STATIC = Path(__file__).parent / "static"
MAX_LIMIT = 1000
MAX_BODY = 64 * 1024


def import_server() -> tuple[Any, Any]:
    """``(starlette, uvicorn)``, or an ImportError saying how to install them."""
    try:
        import starlette
        import uvicorn
    except ImportError:
        raise ImportError(
            "the review app requires starlette and uvicorn: pip install 'labelaudit[review]'"
        ) from None
    return starlette, uvicorn


class _Invalid(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ReviewState:
    """The flagged rows of an output folder and their decisions; checks every request.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from labelaudit import Audit
    >>> folder = Path(tempfile.mkdtemp()) / "saved"
    >>> data = pd.DataFrame({"x": [0.1, 0.2, 0.9, 0.8], "y": ["a", "a", "b", "a"]})
    >>> pred_probs = [[.9, .1], [.8, .2], [.1, .9], [.2, .8]]
    >>> audit = Audit(data=data, label="y").run(pred_probs=pred_probs, issue_types=["label"], verbose=False)
    >>> _ = audit.save(folder, format="csv")
    >>> state = ReviewState(folder)
    >>> state.decide({"row": 3, "action": "relabel", "label": "b"})["label"]
    'b'
    >>> state.decide({"row": 3, "action": "relabel", "label": "z"})
    Traceback (most recent call last):
    ...
    labelaudit.review.app._Invalid: label must be one of the classes ['a', 'b']; got 'z'
    """

    def __init__(self, folder: Path) -> None:
        self.findings: Findings = load_findings(folder)
        self.items = self.findings.review_items()
        self.by_row = {item["row"]: item for item in self.items}
        self.classes = {str(c): c for c in self.findings.classes}
        examples = self.findings.examples
        self.store = store_for(folder, self.findings.manifest, examples.table if examples else None)

    def given_label(self, row: int) -> Any:
        if row in self.by_row:
            return self.by_row[row]["given_label"]
        examples = self.findings.examples
        if examples is not None and examples.label_column in examples.table:
            return examples.table[examples.label_column].iloc[row]
        return None

    def issues(self, offset: Any, limit: Any) -> dict[str, Any]:
        offset = _integer("offset", 0 if offset is None else offset, 0, None)
        limit = _integer("limit", 100 if limit is None else limit, 1, MAX_LIMIT)
        decisions = {d["row"]: d for d in self.store.all()}
        page = []
        for item in self.items[offset : offset + limit]:
            example = self.findings.examples.render(item["row"]) if self.findings.examples else None
            page.append({**item, "decision": decisions.get(item["row"]), "example": example})
        return {"total": len(self.items), "offset": offset, "limit": limit, "issues": page}

    def decide(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _Invalid(
                422, 'the body must be a JSON object {"row": int, "action": ..., "label": ...}'
            )
        unknown = sorted(set(body) - {"row", "action", "label"})
        if unknown:
            raise _Invalid(
                422, f"unknown field(s) {unknown}; send row, action and (for relabel) label"
            )
        row = self.row(body.get("row"))
        action = body.get("action")
        if action not in ACTIONS:
            raise _Invalid(422, f"action must be one of {list(ACTIONS)}; got {action!r}")
        label = body.get("label")
        if action != "relabel":
            if label is not None:
                raise _Invalid(422, f"label applies only to relabel, not to {action}")
            return self.store.put(row, action)
        if (
            isinstance(label, bool)
            or not isinstance(label, (str, int))
            or str(label) not in self.classes
        ):
            raise _Invalid(
                422,
                f"label must be one of the classes {list(self.classes.values())}; got {label!r}",
            )
        label = self.classes[str(label)]
        if str(self.given_label(row)) == str(label):
            raise _Invalid(422, f"row {row} is already labelled {label!r}; use keep")
        return self.store.put(row, action, label)

    def row(self, value: Any) -> int:
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(422, f"row must be an integer; got {value!r}")
        if not 0 <= value < self.findings.num_examples:
            raise _Invalid(
                404, f"unknown row {value}; rows are 0..{self.findings.num_examples - 1}"
            )
        return value

    def undo(self, value: str) -> dict[str, Any]:
        row = self.row(value)
        if not self.store.delete(row):
            raise _Invalid(404, f"row {row} has no decision to delete")
        return {"row": row, "deleted": True}


def _integer(name: str, value: Any, low: int, high: int | None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Invalid(422, f"{name} must be an integer; got {value!r}") from None
    if number < low or (high is not None and number > high):
        raise _Invalid(
            422, f"{name} must be in {low}..{'' if high is None else high}; got {number}"
        )
    return number


def create_app(folder: str | Path) -> Any:
    """The Starlette app reviewing ``folder`` (what ``demo --out``, ``audit --out`` or ``Audit.save`` wrote)."""
    import_server()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    state = ReviewState(Path(folder))

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def meta(request: Request) -> JSONResponse:
        findings = state.findings
        return JSONResponse(
            {
                "title": findings.title,
                "num_examples": findings.num_examples,
                "num_issues": len(state.items),
                "classes": list(state.classes.values()),
                "issue_types": list(findings.tables),
            }
        )

    async def issues(request: Request) -> JSONResponse:
        params = request.query_params
        return JSONResponse(state.issues(params.get("offset"), params.get("limit")))

    async def decisions(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse({"decisions": state.store.all()})
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return error(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return error(400, "the body is not valid JSON")
        return JSONResponse(state.decide(body))

    async def undo(request: Request) -> JSONResponse:
        return JSONResponse(state.undo(request.path_params["row"]))

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        return error(exc.status, str(exc))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    routes = [
        Route("/", index),
        Route("/api/meta", meta),
        Route("/api/issues", issues),
        Route("/api/decisions", decisions, methods=["GET", "POST"]),
        Route("/api/decisions/{row}", undo, methods=["DELETE"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={_Invalid: invalid, HTTPException: http_error},
    )


def serve(folder: str | Path, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the review app until interrupted (bound to loopback unless ``host`` says otherwise)."""
    _, uvicorn = import_server()
    uvicorn.run(create_app(folder), host=host, port=port, log_level="warning")
