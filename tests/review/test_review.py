"""The review app: every invalid API request refused, and a keyboard session in a real browser
that survives SIGKILL of the server, followed by the export."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip(
    "starlette", reason="the review app needs starlette: pip install 'labelaudit[review]'"
)
pytest.importorskip(
    "uvicorn", reason="the review app needs uvicorn: pip install 'labelaudit[review]'"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    base: str, method: str, path: str, body: bytes | None = None, token: str = ""
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "X-CSRF-Token": token}
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


class Server:
    """``labelaudit review DIR`` in a subprocess on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.token = ""

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
        """``request`` with the CSRF token of the running server's page."""
        return request(self.base, method, path, body, self.token)

    def start(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labelaudit",
                "review",
                str(self.folder),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(self.base, "GET", "/api/meta")[0] == 200:
                    with urllib.request.urlopen(self.base + "/", timeout=10) as page:
                        found = re.search(
                            r'name="csrf-token" content="([^"]+)"', page.read().decode()
                        )
                    self.token = found.group(1)
                    return self
            except OSError:
                time.sleep(0.1)
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode())
        raise RuntimeError("the review server did not start within 30 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.process is not None:
            self.process.stderr.close()


@pytest.fixture
def folder(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo's output folder (decisions are written into it)."""
    return Path(shutil.copytree(demo_dir, tmp_path / "demo"))


@pytest.fixture
def server(folder: Path):
    running = Server(folder).start()
    yield running
    running.kill()


INVALID = [
    ("POST", "/api/decisions", b"{not json", 400),
    ("POST", "/api/decisions", b"\xff\xfe", 400),
    ("POST", "/api/decisions", b"[1, 2]", 422),
    ("POST", "/api/decisions", b'{"action": "keep"}', 422),
    ("POST", "/api/decisions", b'{"row": "first", "action": "keep"}', 422),
    ("POST", "/api/decisions", b'{"row": true, "action": "keep"}', 422),
    ("POST", "/api/decisions", b'{"row": 1.5, "action": "keep"}', 422),
    ("POST", "/api/decisions", b'{"row": 99999, "action": "keep"}', 404),
    ("POST", "/api/decisions", b'{"row": -1, "action": "keep"}', 404),
    ("POST", "/api/decisions", b'{"row": 297, "action": "burn"}', 422),
    ("POST", "/api/decisions", b'{"row": 297}', 422),
    ("POST", "/api/decisions", b'{"row": 297, "action": "relabel"}', 422),
    ("POST", "/api/decisions", b'{"row": 297, "action": "relabel", "label": 11}', 422),
    ("POST", "/api/decisions", b'{"row": 297, "action": "relabel", "label": "cat"}', 422),
    ("POST", "/api/decisions", b'{"row": 297, "action": "relabel", "label": [1]}', 422),
    (
        "POST",
        "/api/decisions",
        b'{"row": 297, "action": "relabel", "label": 3}',
        422,
    ),  # its given label
    ("POST", "/api/decisions", b'{"row": 297, "action": "keep", "label": 1}', 422),
    ("POST", "/api/decisions", b'{"row": 297, "action": "keep", "note": "x"}', 422),
    (
        "POST",
        "/api/decisions",
        b'{"row": 297, "action": "keep", "pad": "' + b"x" * 70_000 + b'"}',
        413,
    ),
    ("DELETE", "/api/decisions/297", None, 404),
    ("DELETE", "/api/decisions/99999", None, 404),
    ("DELETE", "/api/decisions/abc", None, 422),
    ("GET", "/api/issues?offset=-1", None, 422),
    ("GET", "/api/issues?limit=0", None, 422),
    ("GET", "/api/issues?limit=1001", None, 422),
    ("GET", "/api/issues?limit=ten", None, 422),
    ("PUT", "/api/decisions", b"{}", 405),
    ("GET", "/api/nothing", None, 404),
]


def test_every_invalid_request_gets_a_json_4xx_and_changes_nothing(server, folder):
    status, first = server.request("GET", "/api/issues?limit=1")
    assert (
        status == 200
        and first["issues"][0]["row"] == 297
        and first["issues"][0]["given_label"] == 3
    )
    for method, path, body, expected in INVALID:
        status, answer = server.request(method, path, body)
        assert (status, sorted(answer)) == (expected, ["error"]), (
            method,
            path,
            body[:60] if body else None,
        )
    assert server.request("GET", "/api/decisions") == (200, {"decisions": []})
    with sqlite3.connect(folder / "decisions.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM decisions").fetchone() == (0,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_api_decide_replace_undo_and_page(server):
    assert (
        server.request(
            "POST",
            "/api/decisions",
            b'{"row": 297, "action": "relabel", "label": "8"}',
        )[1]["label"]
        == 8
    )
    assert (
        server.request("POST", "/api/decisions", b'{"row": 297, "action": "remove"}')[1]["action"]
        == "remove"
    )
    assert (
        server.request("POST", "/api/decisions", b'{"row": 0, "action": "keep"}')[0] == 200
    )  # any row
    decisions = server.request("GET", "/api/decisions")[1]["decisions"]
    assert [(d["row"], d["action"]) for d in decisions] == [(0, "keep"), (297, "remove")]
    assert server.request("DELETE", "/api/decisions/0") == (200, {"row": 0, "deleted": True})
    page = server.request("GET", "/api/issues?offset=1&limit=2")[1]
    assert (
        page["offset"] == 1
        and len(page["issues"]) == 2
        and page["issues"][0]["score"] <= page["issues"][1]["score"]
    )
    assert (
        server.request("GET", "/api/issues?limit=1")[1]["issues"][0]["decision"]["action"]
        == "remove"
    )


def card_row(page) -> int:
    return int(page.locator("#card").get_attribute("data-row"))


def test_keyboard_session_two_tabs_sigkill_restart_and_export(browser, server, folder, tmp_path):
    from playwright.sync_api import expect

    errors: list[str] = []
    tab = browser.new_page(viewport={"width": 1200, "height": 800})
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(server.base + "/")
    tab.wait_for_selector("body[data-ready]")
    total = server.request("GET", "/api/meta")[1]["num_issues"]
    progress = tab.locator("#progress")
    expect(progress).to_have_text(f"Decided 0 of {total}")

    made: dict[int, tuple[str, object]] = {}
    kept = card_row(tab)
    tab.keyboard.press("k")
    expect(progress).to_have_text(f"Decided 1 of {total}")
    made[kept] = ("keep", None)

    accepted = card_row(tab)
    suggested = int(tab.locator("#card dd[data-field=predicted_label]").inner_text())
    tab.keyboard.press("a")
    expect(progress).to_have_text(f"Decided 2 of {total}")
    made[accepted] = ("relabel", suggested)

    relabelled = card_row(tab)
    given = int(tab.locator("#card dd[data-field=given_label]").inner_text())
    other = 0 if given != 0 else 2
    tab.keyboard.press(str(other))
    expect(progress).to_have_text(f"Decided 3 of {total}")
    made[relabelled] = ("relabel", other)

    removed = card_row(tab)
    tab.keyboard.press("x")
    expect(progress).to_have_text(f"Decided 4 of {total}")
    made[removed] = ("remove", None)

    undone = card_row(tab)
    tab.keyboard.press("k")
    expect(progress).to_have_text(f"Decided 5 of {total}")
    tab.keyboard.press("u")
    expect(progress).to_have_text(f"Decided 4 of {total}")
    assert card_row(tab) == undone

    tab.keyboard.press("g")
    expect(tab.locator("#grid .card.selected")).to_have_count(1)
    tab.keyboard.press("g")

    second = browser.new_page()  # another tab deciding at the same time
    second.goto(server.base + "/")
    second.wait_for_selector("body[data-ready]")
    assert card_row(second) == undone
    second.keyboard.press("x")
    expect(second.locator("#progress")).to_have_text(f"Decided 5 of {total}")
    made[undone] = ("remove", None)
    tab.keyboard.press("ArrowRight")  # the first tab goes on at the same time
    made[card_row(tab)] = ("keep", None)
    tab.keyboard.press("k")
    expect(tab.locator("#decision")).to_have_count(1)
    deadline = time.monotonic() + 10
    while (
        len(server.request("GET", "/api/decisions")[1]["decisions"]) < 6
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    decided = {
        d["row"]: (d["action"], d["label"])
        for d in server.request("GET", "/api/decisions")[1]["decisions"]
    }
    assert decided == made

    assert errors == []
    server.kill()  # SIGKILL: no chance to flush anything
    server.start()
    after = {
        d["row"]: (d["action"], d["label"])
        for d in server.request("GET", "/api/decisions")[1]["decisions"]
    }
    assert after == decided
    tab.reload()
    tab.wait_for_selector("body[data-ready]")
    expect(progress).to_have_text(f"Decided 6 of {total}")
    assert [e for e in errors if "ERR_CONNECTION_REFUSED" not in e] == []  # polls while it was down
    tab.close()
    second.close()

    out = tmp_path / "cleaned.csv"
    before = (folder / "examples.csv").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "labelaudit", "export", str(folder), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert (folder / "examples.csv").read_bytes() == before
    original = pd.read_csv(folder / "examples.csv")
    cleaned = pd.read_csv(out)
    removed_rows = sorted(r for r, (a, _) in after.items() if a == "remove")
    assert len(cleaned) == len(original) - len(removed_rows)
    expected = original.drop(index=removed_rows)
    for row, (action, label) in after.items():
        if action == "relabel":
            expected.loc[row, "label"] = label
    pd.testing.assert_frame_equal(cleaned, expected.reset_index(drop=True))
    log = pd.read_csv(tmp_path / "cleaned.changes.csv")
    assert list(log.columns) == ["row", "old_label", "new_label", "action", "decided_at"]
    assert sorted(log["row"]) == sorted(r for r, (a, _) in after.items() if a != "keep")


def test_export_refuses_bad_outputs_and_a_changed_table(folder, tmp_path):
    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "labelaudit", "export", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    assert export(str(folder), "--out", str(tmp_path / "x.txt")).returncode == 2
    assert "which is only read" in export(str(folder), "--out", str(folder / "examples.csv")).stderr
    assert export(str(tmp_path / "missing"), "--out", str(tmp_path / "x.csv")).returncode == 2
    with (folder / "examples.csv").open("a") as handle:
        handle.write(",".join(["0"] * 65) + "\n")
    changed = export(str(folder), "--out", str(tmp_path / "x.csv"))
    assert changed.returncode == 2 and "changed since the run" in changed.stderr
    assert not (tmp_path / "x.csv").exists()
