"""The review server answers only its own page: Host and Origin must name it, writes need the
page's CSRF token and JSON, bodies are capped as they stream, malformed requests are 4xx, a
server beyond loopback needs its access token, and the CLI refuses bad ports before writing."""

from __future__ import annotations

import http.client
import http.server
import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from labelaudit.review.app import LOOPBACK_NAMES, MAX_BODY, _Guard

pytest.importorskip(
    "starlette", reason="the review app needs starlette: pip install 'labelaudit[review]'"
)
pytest.importorskip(
    "uvicorn", reason="the review app needs uvicorn: pip install 'labelaudit[review]'"
)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """An output folder of six examples whose classes are the integers 1, 2 and 3; four flagged."""
    from labelaudit.io import ResultsWriter

    folder = tmp_path / "small"
    issues = pd.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "given_label": [3, 3, 1, 2],
            "predicted_label": [1, 2, 3, 1],
            "label_quality": [0.1, 0.2, 0.3, 0.4],
        }
    )
    with ResultsWriter(folder, command="test") as run:
        run.stage_json("health.json", {"num_examples": 6, "class_names": [1, 2, 3]})
        run.stage_table("issues.csv", issues)
        run.commit(dataset=None, results="label_issues")
    return folder


def startup_lines(process: subprocess.Popen, stream: Any, count: int) -> list[str]:
    """The first ``count`` lines ``process`` writes to ``stream``; it is killed after 60 s."""
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        return [stream.readline() for _ in range(count)]
    finally:
        watchdog.cancel()


class Review:
    """``labelaudit review FOLDER --port 0 ARGS`` in a subprocess, with what it printed."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.stderr = folder.parent / f"review-{id(self)}.err"
        with self.stderr.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "labelaudit", "review", str(folder), "--port", "0", *args],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        first, scripts = startup_lines(self.process, self.process.stdout, 2)
        found = re.search(r" at (http://[^/]+:(\d+)/\S*)", first)
        token = re.search(r"X-CSRF-Token: (\S+)", scripts)
        if found is None or token is None:
            self.close()
            raise RuntimeError(first + scripts + self.stderr.read_text())
        self.url, self.port, self.csrf = found.group(1), int(found.group(2)), token.group(1)
        access = re.search(r"Authorization: Token (\S+)", scripts)
        self.access = access.group(1) if access else None

    def request(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, Any, http.client.HTTPResponse]:
        """Status, answer (parsed when it is JSON, else text) and response; Host is
        127.0.0.1:port unless ``headers`` say otherwise (underscores in names are dashes)."""
        sent = {"Host": f"127.0.0.1:{self.port}"}
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body, sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        kind = response.getheader("content-type", "")
        answer = json.loads(data) if kind == "application/json" else data.decode()
        return response.status, answer, response

    def write(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple:
        """``request`` as the page sends a write: with the CSRF token and JSON."""
        headers = {"Content-Type": "application/json", "X_CSRF_Token": self.csrf, **headers}
        return self.request(method, path, body, **headers)

    def decisions(self) -> list[dict]:
        status, answer, _ = self.request("GET", "/api/decisions", Authorization=self.auth())
        assert status == 200, answer
        return answer["decisions"]

    def auth(self) -> str:
        return f"Token {self.access}" if self.access else ""

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture
def review(small: Path):
    server = Review(small)
    yield server
    server.close()


KEEP = b'{"row": 0, "action": "keep"}'


def test_writes_need_the_token_the_page_carries(review):
    status, page, response = review.request("GET", "/")
    assert status == 200 and f'<meta name="csrf-token" content="{review.csrf}">' in page
    assert "frame-ancestors 'none'" in response.getheader("content-security-policy")
    assert response.getheader("cache-control") == "no-store"

    for headers in ({}, {"X_CSRF_Token": ""}, {"X_CSRF_Token": review.csrf[:-1] + "x"}):
        sent = {"Content-Type": "application/json", **headers}
        status, answer, _ = review.request("POST", "/api/decisions", KEEP, **sent)
        assert (status, list(answer)) == (403, ["error"]), headers
    assert review.decisions() == []
    assert review.write("POST", "/api/decisions", KEEP)[0] == 200
    refused = review.request("DELETE", "/api/decisions/0", Content_Type="application/json")
    assert refused[0] == 403 and len(review.decisions()) == 1
    assert review.write("DELETE", "/api/decisions/0")[:2] == (200, {"row": 0, "deleted": True})


def test_writes_need_a_json_content_type(review):
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""):
        for method, path, body in (
            ("POST", "/api/decisions", KEEP),
            ("DELETE", "/api/decisions/0", None),
        ):
            status, answer, _ = review.write(method, path, body, Content_Type=kind)
            assert (status, list(answer)) == (415, ["error"]), (method, kind)
    assert review.decisions() == []
    assert (
        review.write(
            "POST", "/api/decisions", KEEP, Content_Type="application/json; charset=utf-8"
        )[0]
        == 200
    )
    assert review.write("DELETE", "/api/decisions/0", Content_Type="Application/JSON")[0] == 200


def test_host_and_origin_must_name_the_server(review, small):
    port = review.port
    for path in ("/", "/api/meta", "/api/issues", "/api/decisions", "/static/app.js"):
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", ""):
            status, answer, _ = review.request("GET", path, Host=host)
            assert (status, list(answer)) == (421, ["error"]), (path, host)
    for host in (f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert review.request("GET", "/api/meta", Host=host)[0] == 200, host
    assert review.write("POST", "/api/decisions", KEEP, Host=f"evil.example:{port}")[0] == 421

    for origin in (
        "http://evil.example",
        f"http://evil.example:{port}",
        "null",
        f"https://127.0.0.1:{port}",
    ):
        assert review.request("GET", "/api/meta", Origin=origin)[0] == 403, origin
        assert review.write("POST", "/api/decisions", KEEP, Origin=origin)[0] == 403, origin
        assert review.write("DELETE", "/api/decisions/0", Origin=origin)[0] == 403, origin
    assert review.decisions() == []
    assert review.write("POST", "/api/decisions", KEEP, Origin=f"http://localhost:{port}")[0] == 200

    named = Review(small, "--allow-host", "Review.Example")
    try:
        assert named.request("GET", "/api/meta", Host=f"review.example:{named.port}")[0] == 200
        assert named.request("GET", "/api/meta", Host=f"other.example:{named.port}")[0] == 421
    finally:
        named.close()


def test_on_port_80_a_host_without_port_names_the_server():
    from starlette.requests import HTTPConnection

    guard = _Guard(None, names=LOOPBACK_NAMES, port=80, csrf_token="t", access_token=None)

    def refused(host: str, origin: str | None = None) -> bool:
        headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": b"",
            "headers": headers,
        }
        return guard.refusal(HTTPConnection(scope)) is not None

    assert not refused("localhost") and not refused("127.0.0.1:80", "http://localhost")
    assert refused("localhost:8765") and refused("localhost", "http://localhost:8765")


MALFORMED = [
    ("POST", "/api/decisions", '{"row": "²", "action": "keep"}'.encode(), 422),
    ("POST", "/api/decisions", '{"row": "٣", "action": "keep"}'.encode(), 422),  # Arabic-Indic 3
    ("POST", "/api/decisions", b'{"row": "' + b"9" * 5000 + b'", "action": "keep"}', 422),
    ("POST", "/api/decisions", b'{"row": ' + b"9" * 5000 + b', "action": "keep"}', 400),
    ("POST", "/api/decisions", b'{"row": NaN, "action": "keep"}', 422),
    ("POST", "/api/decisions", b"[" * 20_000 + b"]" * 20_000, 400),
    ("POST", "/api/decisions", b'{"row": [[[[[[[[[[0]]]]]]]]]], "action": "keep"}', 400),
    ("POST", "/api/decisions", b'{"row": 0, "action": "keep", "label": "[[[[[[[[[[[["}', 422),
    ("POST", "/api/decisions", b'{"row": 0, "action": "keep"}\xff', 400),
    ("DELETE", "/api/decisions/%C2%B2", None, 422),
    ("DELETE", "/api/decisions/%D9%A3", None, 422),
    ("DELETE", "/api/decisions/" + "9" * 5000, None, 422),
    ("GET", "/api/issues?offset=%C2%B2", None, 422),
    ("GET", "/api/issues?offset=%D9%A3", None, 422),
    ("GET", "/api/issues?limit=" + "9" * 5000, None, 422),
]


def test_malformed_requests_get_a_json_4xx_never_500(review):
    for method, path, body, expected in MALFORMED:
        status, answer, _ = review.write(method, path, body)
        assert (status, list(answer)) == (expected, ["error"]), (
            method,
            path[:40],
            (body or b"")[:40],
        )
    assert review.decisions() == []


def test_a_chunked_body_over_the_cap_gets_413_before_it_ends(review):
    connection = http.client.HTTPConnection("127.0.0.1", review.port, timeout=10)
    connection.putrequest("POST", "/api/decisions", skip_accept_encoding=True)
    for name, value in (
        ("Content-Type", "application/json"),
        ("X-CSRF-Token", review.csrf),
        ("Transfer-Encoding", "chunked"),
    ):
        connection.putheader(name, value)
    connection.endheaders()
    chunk = b" " * 4096
    for _ in range(MAX_BODY // len(chunk) + 1):  # just over the cap, and no last chunk: never ends
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert response.status == 413 and list(answer) == ["error"]
    assert response.getheader("connection") == "close"  # the rest is never read
    assert review.decisions() == [] and review.request("GET", "/api/meta")[0] == 200


def test_only_a_server_beyond_loopback_needs_the_access_token(small, review):
    assert review.access is None and review.url == f"http://127.0.0.1:{review.port}/"
    assert review.request("GET", "/api/meta")[0] == 200 and review.stderr.read_text() == ""

    remote = Review(small, "--host", "0.0.0.0", "--allow-host", "review.test")
    try:
        host = f"review.test:{remote.port}"
        assert remote.url == f"http://{host}/?token={remote.access}"
        warning = remote.stderr.read_text()
        assert (
            "warning" in warning and "--host 0.0.0.0" in warning and len(warning.splitlines()) == 1
        )
        for path in ("/", "/api/meta", "/api/decisions", "/static/app.js"):
            status, answer, response = remote.request("GET", path, Host=host)
            assert (status, list(answer)) == (401, ["error"]), path
            assert response.getheader("www-authenticate") == "Token"
        for wrong in (
            {"Authorization": "Token nope"},
            {"Cookie": f"labelaudit-token-{remote.port}=nope"},
        ):
            assert remote.request("GET", "/api/meta", Host=host, **wrong)[0] == 403
        assert remote.request("GET", "/?token=nope", Host=host)[0] == 403
        csrf = {"Content_Type": "application/json", "X_CSRF_Token": remote.csrf}
        assert remote.request("POST", "/api/decisions", KEEP, Host=host, **csrf)[0] == 401

        status, _, response = remote.request("GET", f"/?token={remote.access}&view=grid", Host=host)
        assert status == 303 and response.getheader("location") == "/?view=grid"
        cookie = response.getheader("set-cookie")
        assert cookie.startswith(f"labelaudit-token-{remote.port}={remote.access};")
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        with_cookie = {"Cookie": cookie.split(";")[0]}
        assert remote.request("GET", "/api/meta", Host=host, **with_cookie)[0] == 200
        assert (
            remote.request("POST", "/api/decisions", KEEP, Host=host, **with_cookie, **csrf)[0]
            == 200
        )
        assert remote.request("GET", "/api/meta", Host=host, Authorization=remote.auth())[0] == 200
        assert (
            remote.request(
                "GET", "/api/meta", Host=f"other.test:{remote.port}", Authorization=remote.auth()
            )[0]
            == 421
        )
    finally:
        remote.close()


def run_review(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labelaudit", "review", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_cli_refuses_a_bad_port_a_busy_port_and_bad_names_before_writing(small):
    def refused(*args: str) -> str:
        result = run_review(str(small), *args)
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert not list(small.glob("decisions.sqlite*"))
        return result.stderr

    for port in ("99999", "65536"):
        message = refused("--port", port)
        assert "--port" in message and "65535" in message
    with socket.create_server(("127.0.0.1", 0)) as busy:
        message = refused("--port", str(busy.getsockname()[1]))
        assert "--port" in message and "in use" in message
    assert "--allow-host" in refused("--allow-host", "review.test:8765")
    assert "--host" in refused("--host", "192.0.2.1")  # TEST-NET-1: not an address of this machine
    assert "DIR" in run_review(str(small / "missing"), "--port", "0").stderr


def test_serve_logs_the_address_it_listens_on(small):
    code = (
        "import logging, sys; from labelaudit.review import serve; "
        "logging.basicConfig(level=logging.INFO, format='%(message)s'); "
        "serve(sys.argv[1], port=0)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(small)], stderr=subprocess.PIPE, text=True
    )
    try:
        (line,) = startup_lines(process, process.stderr, 1)
        found = re.fullmatch(
            rf"reviewing {re.escape(str(small))} at http://127.0.0.1:(\d+)/\n", line
        )
        assert found, line
        connection = http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=10)
        connection.request("GET", "/api/meta")
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


ATTACKER = """<!DOCTYPE html><title>elsewhere</title><script>
fetch('{target}/api/decisions', {{method: 'POST', mode: 'no-cors',
  headers: {{'Content-Type': 'text/plain'}}, body: JSON.stringify({{row: 0, action: 'remove'}})}})
  .then(function () {{ document.body.dataset.done = 'sent'; }},
        function () {{ document.body.dataset.done = 'failed'; }});
</script><body></body>"""


def test_a_page_from_another_origin_cannot_write(browser, review):
    page = ATTACKER.format(target=f"http://127.0.0.1:{review.port}").encode()

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        tab = browser.new_page()
        try:
            tab.goto(f"http://127.0.0.1:{other.server_address[1]}/")
            tab.wait_for_selector("body[data-done=sent]", state="attached")
        finally:
            tab.close()
            other.shutdown()
    assert review.decisions() == []


def test_digit_keys_pick_the_class_named_by_the_digit_and_g_toggles_the_grid(browser, review):
    from playwright.sync_api import expect

    errors: list[str] = []
    tab = browser.new_page(viewport={"width": 1200, "height": 800})
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(review.url)
    tab.wait_for_selector("body[data-ready]")
    progress = tab.locator("#progress")
    assert tab.locator("#classes button[data-label='1']").get_attribute("title") == "key 1"

    # rows 0 and 1 are labelled 3, row 2 is labelled 1, row 3 is labelled 2
    for decided, key in enumerate("123", start=1):
        tab.keyboard.press(key)
        expect(progress).to_have_text(f"Decided {decided} of 4")
    tab.keyboard.press("0")  # no class is named 0: the first class shown, 1
    expect(progress).to_have_text("Decided 4 of 4")
    stored = {d["row"]: (d["action"], d["label"]) for d in review.decisions()}
    assert stored == {0: ("relabel", 1), 1: ("relabel", 2), 2: ("relabel", 3), 3: ("relabel", 1)}

    grid, single = tab.locator("#grid"), tab.locator("#single")
    tab.keyboard.press("g")
    expect(grid).to_be_visible()
    expect(single).to_be_hidden()
    tab.keyboard.press("g")
    expect(grid).to_be_hidden()
    expect(single).to_be_visible()
    assert review.write("POST", "/api/decisions", b'{"row": 1, "action": "remove"}')[0] == 200
    tab.keyboard.press("g")  # another client's decision shows when the grid reopens
    expect(tab.locator("#grid .card[data-row='1'] .badge")).to_have_text("remove")
    expect(tab.locator("#grid .card[data-row='2'] .badge")).to_have_text("relabel → 3")
    tab.close()
    assert errors == []
