"""The review web app: a Starlette application over an output folder and its decision store.

JSON API (every error is a 4xx response ``{"error": "..."}`` and changes nothing):

* ``GET /api/meta``: ``title``, ``num_examples``, ``num_issues``, ``classes``, ``issue_types``.
* ``GET /api/issues?offset=0&limit=100``: ``{"total", "offset", "limit", "issues": [...]}``, the
  flagged rows from the lowest score up, each with ``row``, ``given_label``,
  ``predicted_label``, ``score``, ``decision`` (null or the decision), ``issue_types``,
  ``example`` (``{"kind": "image", "src": URL or data URI}``, or ``kind`` text/features with
  ``text``) and, for image files, ``path`` (relative to the audited folder).
* ``GET /api/examples/{row}/image``: the image file of ``row`` as a PNG scaled to fit
  ``IMAGE_SIDE`` pixels; only files inside the audited folder are served (404 otherwise).
  ``offset`` and ``limit`` (1..1000) are plain ASCII integers.
* ``POST /api/decisions`` with ``{"row": int, "action": "keep"|"relabel"|"remove", "label": ...}``
  (``label`` only with relabel: one of ``classes``, not the given label): the stored decision,
  once it is committed. 404 for a row outside the dataset, 422 for an unknown action or label
  or a row that is not an integer, 400 for a body that is not UTF-8 JSON or nests arrays and
  objects deeper than ``MAX_DEPTH``, 413 for a body over ``MAX_BODY`` bytes (counted as it
  arrives, chunked or not; the connection is then closed).
* ``GET /api/decisions``: ``{"decisions": [...]}`` by row.
* ``DELETE /api/decisions/{row}``: ``{"row": row, "deleted": true}``; 404 when there is none.

Protections, checked before any route runs, in this order:

* **Host**: the ``Host`` header must be one of the server's names with its port (for a loopback
  server ``127.0.0.1``, ``localhost`` and ``[::1]``, plus the address it listens on and any
  ``allow_hosts``), else 421, which defeats DNS rebinding.
* **Access token**, only when the server listens beyond loopback: ``?token=...`` on a GET sets
  an HttpOnly, SameSite=Strict cookie and redirects (303) to the same URL without it; later
  requests send the cookie, scripts send ``Authorization: Token ...``. None: 401; wrong: 403.
* **Origin**: when a request carries ``Origin``, it must be ``http://`` and one of those names
  with the port, else 403.
* **Writes** (any method but GET, HEAD and OPTIONS) must send the page's CSRF token as the
  ``X-CSRF-Token`` header (403 otherwise) and ``Content-Type: application/json`` (a
  ``charset`` parameter is allowed; 415 otherwise). The token is random per app
  (``app.state.csrf_token``) and is served in the page as ``<meta name="csrf-token">``.

The page is served with ``Cache-Control: no-store`` and a Content-Security-Policy that allows
only its own scripts and styles and forbids framing it.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import json
import logging
import re
import secrets
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from labelaudit._optional import import_optional
from labelaudit.report._findings import Findings, image_file_png, load_findings
from labelaudit.review.store import ACTIONS, store_for

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_LIMIT = 1000
MAX_BODY = 64 * 1024
IMAGE_SIDE = 512  # image files are scaled to fit this many pixels for the page
MAX_DEPTH = 8
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
TOKEN_PLACEHOLDER = "__CSRF_TOKEN__"
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_HOST_NAME = re.compile(r"[a-z0-9._-]+")


def import_server() -> tuple[Any, Any]:
    """``(starlette, uvicorn)``, or an ImportError saying how to install them."""
    purpose = "the review app"
    return import_optional("starlette", purpose), import_optional("uvicorn", purpose)


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
    >>> state.row("²")
    Traceback (most recent call last):
    ...
    labelaudit.review.app._Invalid: row must be an integer; got '²'
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
        offset = _integer("offset", "0" if offset is None else offset, 0, None)
        limit = _integer("limit", "100" if limit is None else limit, 1, MAX_LIMIT)
        decisions = {d["row"]: d for d in self.store.all()}
        page = []
        for item in self.items[offset : offset + limit]:
            shown = {**item, "decision": decisions.get(item["row"]), "example": self.example(item["row"])}
            path = self.path(item["row"])
            page.append(shown if path is None else {**shown, "path": path})
        return {"total": len(self.items), "offset": offset, "limit": limit, "issues": page}

    def path(self, row: int) -> str | None:
        """The image file of ``row`` relative to the audited folder (None without image files)."""
        examples = self.findings.examples
        if examples is None or not examples.image or "files" not in examples.image:
            return None
        return str(examples.table[examples.image["files"]].iloc[row])

    def example(self, row: int) -> dict[str, str] | None:
        """How the page shows ``row``: image files through :meth:`image` (a URL, not a data URI)."""
        examples = self.findings.examples
        if examples is None:
            return None
        if examples.image and "files" in examples.image:
            return {"kind": "image", "src": f"/api/examples/{row}/image"}
        return examples.render(row)

    def image(self, value: str) -> bytes:
        """The image file of row ``value``, scaled for the browser; only files inside the audited folder."""
        relative = self.path(self.row(value))
        if relative is None:
            raise _Invalid(404, "this dataset has no image files")
        try:
            return image_file_png(Path(self.findings.examples.image["root"]), relative, IMAGE_SIDE)
        except ValueError as err:
            raise _Invalid(404, str(err)) from None

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
            raise _Invalid(422, f"action must be one of {list(ACTIONS)}; got {_shown(action)}")
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
            classes = list(self.classes.values())
            raise _Invalid(422, f"label must be one of the classes {classes}; got {_shown(label)}")
        label = self.classes[str(label)]
        if str(self.given_label(row)) == str(label):
            raise _Invalid(422, f"row {row} is already labelled {label!r}; use keep")
        return self.store.put(row, action, label)

    def row(self, value: Any) -> int:
        number = _as_int(value)
        if number is None:
            raise _Invalid(422, f"row must be an integer; got {_shown(value)}")
        if not 0 <= number < self.findings.num_examples:
            raise _Invalid(
                404, f"unknown row {number}; rows are 0..{self.findings.num_examples - 1}"
            )
        return number

    def undo(self, value: str) -> dict[str, Any]:
        row = self.row(value)
        if not self.store.delete(row):
            raise _Invalid(404, f"row {row} has no decision to delete")
        return {"row": row, "deleted": True}


def _as_int(value: Any) -> int | None:
    """``value`` if it is an int, or the int a plain ASCII integer string spells, else None."""
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(name: str, value: str, low: int, high: int | None) -> int:
    number = _as_int(value)
    if number is None:
        raise _Invalid(422, f"{name} must be an integer; got {_shown(value)}")
    if number < low or (high is not None and number > high):
        raise _Invalid(
            422, f"{name} must be in {low}..{'' if high is None else high}; got {number}"
        )
    return number


def _too_deep(body: bytes) -> bool:
    """Whether the JSON text ``body`` nests arrays and objects deeper than ``MAX_DEPTH``.

    Examples
    --------
    >>> _too_deep(b'{"a": [[1]], "b": "[[[[[[[[[[["}'), _too_deep(b"[" * 9 + b"]" * 9)
    (False, True)
    """
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:  # UTF-8: the bytes of other characters are never ASCII
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


async def _read_json(request: Any) -> Any:
    """The JSON body of ``request``, read chunk by chunk and never beyond ``MAX_BODY`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        raise _Invalid(413, f"the body is larger than {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _Invalid(413, f"the body is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid(400, "the body is not valid JSON (UTF-8)") from None
    if _too_deep(body):
        raise _Invalid(400, f"the body nests arrays or objects deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except ValueError:  # also an integer too long to convert
        raise _Invalid(400, "the body is not valid JSON (UTF-8)") from None


# -- who may ask -------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only (127.0.0.0/8, ::1, localhost).

    Examples
    --------
    >>> [is_loopback(h) for h in ("127.0.0.1", "127.9.9.9", "::1", "localhost", "0.0.0.0", "lab")]
    [True, True, True, True, False, False]
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(text: str) -> str:
    """``text`` as a Host header names it: lower case, an IPv6 address in brackets.

    Raises ValueError for anything else (a port, a scheme, a path).

    Examples
    --------
    >>> host_name("Review.Example"), host_name("::1"), host_name("[FD00::1]")
    ('review.example', '[::1]', '[fd00::1]')
    """
    name = text.strip().lower()
    try:
        return f"[{ipaddress.IPv6Address(name.strip('[]'))}]"
    except ValueError:
        pass
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(
            f"{text!r} is not a host name or address; give it without a scheme, port or path"
        )
    return name


def host_names(host: str, allow_hosts: Iterable[str] = ()) -> list[str]:
    """The names a browser may reach a server listening on ``host`` by.

    Examples
    --------
    >>> host_names("0.0.0.0", ["lab.example"])
    ['127.0.0.1', 'localhost', '[::1]', 'lab.example']
    """
    names = list(LOOPBACK_NAMES)
    if not _wildcard(host):
        names.append(host_name(host))
    names += [host_name(name) for name in allow_hosts]
    return list(dict.fromkeys(names))


def _wildcard(host: str) -> bool:
    try:
        return host == "" or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _same(offered: str | None, token: str) -> bool:
    if offered is None:
        return False
    return hmac.compare_digest(offered.encode("utf-8", "replace"), token.encode())


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status, headers=headers)


class _Guard:
    """ASGI middleware refusing requests not meant for this server's own page (module docstring)."""

    def __init__(
        self,
        app: Any,
        *,
        names: Sequence[str],
        port: int,
        csrf_token: str,
        access_token: str | None,
    ) -> None:
        self.app = app
        self.hosts = {f"{name}:{port}" for name in names}
        if port == 80:
            self.hosts.update(names)
        self.origins = {f"http://{host}" for host in self.hosts}
        self.csrf_token = csrf_token
        self.access_token = access_token
        self.cookie = f"labelaudit-token-{port}"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            from starlette.requests import HTTPConnection

            refusal = self.refusal(HTTPConnection(scope))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, request: Any) -> Any:
        """The response refusing ``request``, or None when it may go on."""
        host = request.headers.get("host", "").lower()
        if host not in self.hosts:
            return _error(
                421,
                f"this server answers to Host {', '.join(sorted(self.hosts))}, not {_shown(host)}"
                " (labelaudit review --allow-host NAME adds a name)",
            )
        if self.access_token is not None:
            refusal = self.authenticate(request)
            if refusal is not None:
                return refusal
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return _error(403, f"requests from pages of {_shown(origin)} are refused")
        if request.scope["method"] in _SAFE_METHODS:
            return None
        if not _same(request.headers.get("x-csrf-token"), self.csrf_token):
            return _error(403, "a write needs the page's token in the X-CSRF-Token header")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return _error(415, "a write must send Content-Type: application/json")
        return None

    def authenticate(self, request: Any) -> Any:
        """The response to a request without the access token, or to one bringing it in the URL."""
        from starlette.responses import RedirectResponse

        offered = request.query_params.get("token")
        if offered is not None and request.scope["method"] in ("GET", "HEAD"):
            if not _same(offered, self.access_token):
                return _error(403, "wrong access token")
            clean = request.url.remove_query_params("token")
            response = RedirectResponse(
                clean.path + (f"?{clean.query}" if clean.query else ""), status_code=303
            )
            response.set_cookie(self.cookie, self.access_token, httponly=True, samesite="strict")
            return response
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        offered = (
            credentials.strip() if scheme.lower() == "token" else request.cookies.get(self.cookie)
        )
        if offered is None:
            return _error(
                401,
                "this server needs its access token: open the URL it printed at start-up, "
                "or send Authorization: Token ...",
                {"WWW-Authenticate": "Token"},
            )
        if not _same(offered, self.access_token):
            return _error(403, "wrong access token")
        return None


# -- the app and its server --------------------------------------------------------------------


def create_app(
    folder: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    allow_hosts: Iterable[str] = (),
) -> Any:
    """The Starlette app reviewing ``folder`` (what ``demo --out``, ``audit --out`` or ``Audit.save`` wrote).

    ``host`` and ``port`` are where it is served and ``allow_hosts`` further names it may be
    reached by; a ``host`` beyond loopback makes every request need an access token.
    ``app.state`` holds ``review`` (the :class:`ReviewState`), ``csrf_token``, ``access_token``
    (None on loopback) and ``url``, the
    address to open (with the access token).
    """
    import_server()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    allowed = [host_name(name) for name in allow_hosts]
    names = host_names(host, allowed)
    state = ReviewState(Path(folder))
    csrf_token = secrets.token_urlsafe(32)
    access_token = None if is_loopback(host) else secrets.token_urlsafe(32)
    page = (
        (STATIC / "index.html")
        .read_text(encoding="utf-8")
        .replace(TOKEN_PLACEHOLDER, html.escape(csrf_token))
    )

    async def index(request: Request) -> HTMLResponse:
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_POLICY}
        return HTMLResponse(page, headers=headers)

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
        return JSONResponse(state.decide(await _read_json(request)))

    async def image(request: Request) -> Response:
        png = state.image(request.path_params["row"])
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    async def undo(request: Request) -> JSONResponse:
        return JSONResponse(state.undo(request.path_params["row"]))

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        # 413: close the connection rather than read the rest of the body
        return _error(exc.status, str(exc), {"Connection": "close"} if exc.status == 413 else None)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    routes = [
        Route("/", index),
        Route("/api/meta", meta),
        Route("/api/issues", issues),
        Route("/api/decisions", decisions, methods=["GET", "POST"]),
        Route("/api/decisions/{row}", undo, methods=["DELETE"]),
        Route("/api/examples/{row}/image", image),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    guard = Middleware(
        _Guard, names=names, port=port, csrf_token=csrf_token, access_token=access_token
    )
    app = Starlette(
        routes=routes,
        middleware=[guard],
        exception_handlers={_Invalid: invalid, HTTPException: http_error},
    )
    if access_token is not None and allowed:
        shown = allowed[0]
    else:
        shown = "127.0.0.1" if _wildcard(host) else host_name(host)
    app.state.review = state
    app.state.csrf_token = csrf_token
    app.state.access_token = access_token
    app.state.url = f"http://{shown}:{port}/" + (f"?token={access_token}" if access_token else "")
    return app


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host`` and ``port`` (0: any free port).

    Raises ValueError for a port outside 0..65535 and OSError when the port is taken or
    ``host`` is not an address of this machine.
    """
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be in 0..65535 (0: any free port); got {port}")
    family, _, _, _, address = socket.getaddrinfo(
        host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return socket.create_server(address, family=family)


def run(app: Any, sock: socket.socket) -> None:
    """Serve ``app`` on the listening ``sock`` until interrupted."""
    _, uvicorn = import_server()
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


def serve(
    folder: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    allow_hosts: Iterable[str] = (),
) -> None:
    """Run the review app until interrupted (bound to loopback unless ``host`` says otherwise).

    The address to open is logged; beyond loopback it holds the access token every request needs.
    """
    with listen(host, port) as sock:
        app = create_app(folder, host=host, port=sock.getsockname()[1], allow_hosts=allow_hosts)
        if app.state.access_token is None:
            logger.info("reviewing %s at %s", folder, app.state.url)
        else:
            logger.warning(
                "reviewing %s at %s, reachable beyond this machine", folder, app.state.url
            )
        run(app, sock)
