"""The README's Python snippets run as written, in order, in one session (as a reader pastes
them); the snippet on the real fixture runs where ../shared/data is present."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SHARED_DATA

README = Path(__file__).resolve().parents[1] / "README.md"
FIXTURE_PATH = "../shared/data"


def snippets() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.DOTALL | re.MULTILINE)


def test_the_readme_has_snippets():
    assert len(snippets()) >= 4


def test_every_readme_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # snippets may write (Audit.save) into the working folder
    namespace: dict = {}
    for code in snippets():
        if FIXTURE_PATH in code:
            if not SHARED_DATA.exists():
                continue
            code = code.replace(FIXTURE_PATH, str(SHARED_DATA))
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert "is_label_issue" in printed
    if SHARED_DATA.exists():
        assert "284 [3828 2405 6753 9643 9039 6786 3957 4942]" in printed
    pytest.importorskip("pyarrow")
    assert (tmp_path / "audit-dir" / "manifest.json").is_file()
