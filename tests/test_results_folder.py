"""The results folder and the file layer: nothing a user gave is lost or changed, a failed run
leaves earlier results as they were, decisions stay with the data they were made on, and every
CLI failure is one line with exit status 2."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelaudit import cli
from labelaudit.io import FolderError, ResultsWriter, read_results, read_table, write_table
from labelaudit.review.store import DecisionStore, store_for

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labelaudit", *args], capture_output=True, text=True, cwd=cwd,
        env=env or ENV, check=False, timeout=120,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the SHA-256 of its bytes (SQLite's own files, whose bytes
    change when a reader checkpoints them, by their decisions instead)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.name.startswith("decisions.sqlite-") or not path.is_file():
            continue
        if path.name == "decisions.sqlite":
            with sqlite3.connect(path) as db:
                content = repr(db.execute("SELECT * FROM decisions ORDER BY dataset, row").fetchall())
            found[str(path.relative_to(folder))] = content
        else:
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def one_line_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def species_frame(seed: int = 0, n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = np.repeat([0, 1, 2], n // 3)
    centers = np.array([[-6, 0], [6, 0], [0, 7.5]])
    frame = pd.DataFrame(centers[truth] + rng.normal(0, 1, (len(truth), 2)), columns=["x1", "x2"])
    species = np.array(["ant", "bee", "cat"])[truth]
    species[[0, n // 3 + 1, 2 * n // 3 + 2]] = ["cat", "ant", "bee"]
    frame["species"] = species
    frame.insert(0, "id", [f"ex{i:03d}" for i in range(len(frame))])
    return frame


@pytest.fixture()
def user_folder(tmp_path: Path) -> Path:
    """A folder of the user's files: a dataset, labels and probabilities."""
    folder = tmp_path / "mine"
    folder.mkdir()
    species_frame().to_csv(folder / "iris.csv", index=False)
    pd.DataFrame({"species": ["ant"] * 3 + ["bee"] * 3}).to_csv(folder / "examples.csv", index=False)
    np.save(folder / "pp.npy", np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]]))
    return folder


# -- a results folder belongs to labelaudit ----------------------------------------------------


def test_out_dot_in_a_folder_of_user_files_is_refused_and_nothing_changes(user_folder):
    before = snapshot(user_folder)
    one_line_failure(run("audit", "iris.csv", "--label", "species", "--out", ".", cwd=user_folder),
                     "--out", "iris.csv")
    one_line_failure(
        run("audit", "--labels", "examples.csv", "--label", "species", "--pred-probs", "pp.npy",
            "--out", ".", cwd=user_folder),
        "--out", "examples.csv",
    )
    (user_folder / "results").mkdir()
    (user_folder / "results" / "notes.txt").write_text("mine")
    one_line_failure(run("audit", "iris.csv", "--label", "species", "--out", "results", cwd=user_folder),
                     "did not write", "notes.txt")
    assert snapshot(user_folder) == {**before, "results/notes.txt": snapshot(user_folder)["results/notes.txt"]}


def test_an_input_inside_the_results_folder_is_refused(user_folder):
    out = user_folder / "out"
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    before = snapshot(out)
    one_line_failure(run("audit", "out/issues.csv", "--label", "given_label", "--out", "out", cwd=user_folder),
                     "holds the data", "issues.csv")
    assert snapshot(out) == before


def test_manifest_names_inputs_classes_and_every_file_written(user_folder):
    result = run("audit", "iris.csv", "--label", "species", "--id", "id", "--out", "out", cwd=user_folder)
    assert result.returncode == 0, result.stderr
    assert "labelaudit review out" in result.stdout and "labelaudit export out" in result.stdout
    manifest = json.loads((user_folder / "out" / "manifest.json").read_text())
    assert manifest["format"] == "labelaudit-results" and manifest["command"] == "audit"
    (data,) = manifest["inputs"]
    assert data["role"] == "data" and data["path"] == str((user_folder / "iris.csv").resolve())
    assert data["sha256"] == hashlib.sha256((user_folder / "iris.csv").read_bytes()).hexdigest()
    assert manifest["dataset"]["classes"] == ["ant", "bee", "cat"]
    assert manifest["dataset"]["label_column"] == "species" and manifest["dataset"]["id_column"] == "id"
    assert sorted(manifest["files"]) == ["health.json", "issues.csv", "report.html"]
    for name, record in manifest["files"].items():
        path = user_folder / "out" / name
        assert record == {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    issues = pd.read_csv(user_folder / "out" / "issues.csv")
    assert set(issues["row"]) >= {0, 51, 102}


def test_another_format_replaces_the_old_issues_file_and_readers_follow_the_manifest(user_folder):
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", "--format", "json",
               cwd=user_folder).returncode == 0
    out = user_folder / "out"
    assert not (out / "issues.csv").exists() and (out / "issues.json").exists()
    from labelaudit.report import load_findings

    assert len(load_findings(out).tables["label"]) == len(json.loads((out / "issues.json").read_text()))


def test_a_run_that_fails_late_leaves_the_earlier_results_exactly_as_they_were(user_folder, monkeypatch, capsys):
    out = user_folder / "out"
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    before = snapshot(out)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("labelaudit.report.render_html", broken)
    monkeypatch.chdir(user_folder)
    frame = species_frame(seed=1)
    frame.to_csv(user_folder / "iris.csv", index=False)
    assert cli.main(["audit", "iris.csv", "--label", "species", "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: disk full" in err and len(err.strip().splitlines()) == 1
    assert snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_datetime_labels_are_refused_before_anything_is_written(user_folder):
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    before = snapshot(user_folder / "out")
    frame = species_frame()
    frame["when"] = pd.date_range("2024-01-01", periods=len(frame), freq="D")
    frame.to_parquet(user_folder / "dated.parquet", index=False)
    one_line_failure(run("audit", "dated.parquet", "--label", "when", "--out", "out", cwd=user_folder),
                     "--label", "datetime")
    assert snapshot(user_folder / "out") == before


def test_writer_refuses_and_cleans_up(tmp_path):
    with pytest.raises(FolderError, match="exists and is not a directory"):
        (tmp_path / "f").write_text("x")
        ResultsWriter(tmp_path / "f", command="t")
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), ResultsWriter(out, command="t") as writer:
        writer.stage_json("health.json", {"a": 1})
        raise RuntimeError("late")
    assert not out.exists()  # created by the run, removed with what it staged
    with ResultsWriter(out, command="t") as writer:
        writer.stage_json("health.json", {"a": 1})
        writer.commit(dataset=None, results="label_issues")
    (out / ".issues.csv.killed.labelaudit-tmp").write_text("half")  # a run killed while staging
    with ResultsWriter(out, command="t") as writer:
        writer.stage_json("health.json", {"a": 2})
        writer.commit(dataset=None, results="label_issues")
    assert sorted(p.name for p in out.iterdir()) == ["health.json", "manifest.json"]
    (out / "health.json").write_text('{"a": 3}')
    with pytest.raises(FolderError, match="changed since the run"):
        read_results(out).read_json("health.json")


def test_audit_save_writes_the_same_format_and_refuses_a_foreign_folder(tmp_path):
    from labelaudit import Audit

    y = np.repeat([0, 1], 20)
    audit = Audit(data={"y": y, "x": np.arange(40.0)}, label="y").run(features=np.c_[y * 5.0], verbose=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("mine")
    with pytest.raises(FolderError, match="did not write"):
        audit.save(tmp_path / "mine", format="csv")
    audit.save(tmp_path / "saved", format="csv")
    audit.save(tmp_path / "saved", format="csv")  # its own folder: fine
    assert read_results(tmp_path / "saved").manifest["results"] == "audit"
    result = run("export", str(tmp_path / "saved"), "--out", str(tmp_path / "clean.csv"))
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(tmp_path / "clean.csv").shape == (40, 2)


# -- decisions belong to one dataset -----------------------------------------------------------


def decide(folder: Path, decisions: list[tuple[int, str, object]]) -> None:
    from labelaudit.review.app import ReviewState

    state = ReviewState(folder)
    for row, action, label in decisions:
        body = {"row": row, "action": action} | ({"label": label} if action == "relabel" else {})
        state.decide(body)


def test_reaudit_of_changed_data_keeps_decisions_but_export_needs_a_choice(user_folder, tmp_path):
    """End to end: review, change the data, re-audit into the same folder, export."""
    out = user_folder / "out"
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    decide(out, [(0, "relabel", "ant"), (51, "remove", None), (102, "relabel", "cat"), (5, "keep", None)])
    first = run("export", "out", "--out", str(tmp_path / "first.csv"), cwd=user_folder)
    assert first.returncode == 0, first.stderr
    assert "149 rows: 2 relabelled, 1 removed, 1 kept" in first.stdout
    # the user fixes row 102 themselves and deletes row 10: rows 11.. shift up by one
    frame = species_frame()
    frame.loc[102, "species"] = "cat"
    frame.drop(index=10).to_csv(user_folder / "iris.csv", index=False)
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    with sqlite3.connect(out / "decisions.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM decisions").fetchone() == (4,)  # never deleted
    from labelaudit.review.app import ReviewState

    assert ReviewState(out).store.all() == []  # the review of the new data starts empty
    before = snapshot(user_folder)
    refused = run("export", "out", "--out", str(tmp_path / "second.csv"), cwd=user_folder)
    one_line_failure(refused, "4 review decisions made on other data", "--earlier-decisions carry")
    assert snapshot(user_folder) == before and not (tmp_path / "second.csv").exists()
    carried = run("export", "out", "--out", str(tmp_path / "second.csv"), "--earlier-decisions", "carry",
                  cwd=user_folder)
    assert carried.returncode == 0, carried.stderr
    # row 0 unchanged (relabel carried), old row 51 is new row 50 (removed, found by content),
    # old row 102 changed (its label): dropped, and row 5's keep carried
    assert "carried over 3 decisions" in carried.stdout and "dropped 1" in carried.stdout
    cleaned = pd.read_csv(tmp_path / "second.csv")
    assert len(cleaned) == 148 and cleaned.loc[0, "species"] == "ant"
    assert "ex051" not in set(cleaned["id"]) and "ex010" not in set(cleaned["id"])
    ignored = run("export", "out", "--out", str(tmp_path / "third.csv"), "--earlier-decisions", "ignore",
                  cwd=user_folder)
    assert ignored.returncode == 0 and len(pd.read_csv(tmp_path / "third.csv")) == 149


def test_decisions_follow_the_id_column_when_rows_are_reordered(user_folder, tmp_path):
    out = user_folder / "out"
    assert run("audit", "iris.csv", "--label", "species", "--id", "id", "--out", "out", cwd=user_folder).returncode == 0
    decide(out, [(0, "relabel", "ant"), (51, "remove", None)])
    frame = species_frame().iloc[::-1]
    frame.to_csv(user_folder / "iris.csv", index=False)
    assert run("audit", "iris.csv", "--label", "species", "--id", "id", "--out", "out", cwd=user_folder).returncode == 0
    result = run("export", "out", "--out", str(tmp_path / "c.csv"), "--earlier-decisions", "carry", cwd=user_folder)
    assert result.returncode == 0, result.stderr
    cleaned = pd.read_csv(tmp_path / "c.csv").set_index("id")
    assert len(cleaned) == 149 and "ex051" not in cleaned.index and cleaned.loc["ex000", "species"] == "ant"
    one_line_failure(run("audit", "iris.csv", "--label", "species", "--id", "species", "--out", "o2",
                         cwd=user_folder), "--id")


def test_a_store_of_labelaudit_0_1_is_migrated_and_kept(tmp_path):
    with sqlite3.connect(tmp_path / "decisions.sqlite") as db:
        db.execute("CREATE TABLE decisions (row INTEGER PRIMARY KEY, action TEXT, label TEXT, decided_at TEXT)")
        db.execute("INSERT INTO decisions VALUES (3, 'remove', NULL, '2026-01-01')")
    store = DecisionStore(tmp_path, dataset="new")
    assert store.all() == [] and [d["row"] for d in store.earlier()] == [3]


def test_corrupt_decisions_file_is_one_line(user_folder, tmp_path):
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    (user_folder / "out" / "decisions.sqlite").write_bytes(b"not a database at all" * 100)
    one_line_failure(run("export", "out", "--out", str(tmp_path / "c.csv"), cwd=user_folder),
                     "decisions.sqlite")


# -- inputs are sacred -------------------------------------------------------------------------


def test_export_and_report_never_write_over_what_they_read(user_folder, tmp_path):
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    before = snapshot(user_folder)
    for target in ("out/issues.csv", "out/manifest.json", "iris.csv", "out/decisions.sqlite"):
        one_line_failure(run("export", "out", "--out", target, cwd=user_folder), "--out")
    one_line_failure(run("export", "out", "--out", "out", cwd=user_folder), "is a folder")
    one_line_failure(run("report", "out", "-o", "out", cwd=user_folder), "-o", "is a folder")
    one_line_failure(run("report", "out", "-o", "iris.csv", cwd=user_folder), "-o")
    assert snapshot(user_folder) == before
    assert run("report", "out", cwd=user_folder).returncode == 0
    upper = run("export", "out", "--out", str(tmp_path / "x.PARQUET"), cwd=user_folder)
    assert upper.returncode == 0, upper.stderr
    assert (tmp_path / "x.PARQUET").read_bytes()[:4] == b"PAR1"


def test_a_hand_edited_health_file_is_refused_in_one_line(user_folder):
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    health = json.loads((user_folder / "out" / "health.json").read_text())
    del health["num_examples"]
    (user_folder / "out" / "health.json").write_text(json.dumps(health))
    one_line_failure(run("report", "out", cwd=user_folder), "health.json", "changed since")


# -- refuse what is ambiguous ------------------------------------------------------------------


def test_a_repeated_column_name_is_refused(user_folder):
    (user_folder / "dup.csv").write_text("a,b,y,y\n1,2,0,0\n3,4,1,1\n")
    one_line_failure(run("audit", "dup.csv", "--label", "y", cwd=user_folder), "'y' twice")


@pytest.mark.parametrize(
    ("header", "reason"),
    [("2,0,1", "names the classes 2, 0, 1"), ("0.2,0.3,0.5", "not a header")],
)
def test_a_numeric_pred_probs_header_must_match_the_column_order(user_folder, header, reason):
    probs = np.array([[.7, .2, .1], [.1, .8, .1], [.1, .1, .8], [.6, .3, .1]])
    np.save(user_folder / "l.npy", np.array([0, 1, 2, 0]))
    (user_folder / "pp.csv").write_text(header + "\n" + pd.DataFrame(probs).to_csv(index=False, header=False))
    one_line_failure(run("audit", "--labels", "l.npy", "--pred-probs", "pp.csv", cwd=user_folder),
                     "--pred-probs", reason)
    (user_folder / "pp.csv").write_text("0,1,2\n" + pd.DataFrame(probs).to_csv(index=False, header=False))
    assert run("audit", "--labels", "l.npy", "--pred-probs", "pp.csv", cwd=user_folder).returncode == 0


def test_a_single_class_is_refused_with_pred_probs_too(user_folder):
    np.save(user_folder / "same.npy", np.zeros(6, dtype=int))
    np.save(user_folder / "p3.npy", np.tile([[.6, .3, .1]], (6, 1)))
    one_line_failure(run("audit", "--labels", "same.npy", "--pred-probs", "p3.npy", cwd=user_folder),
                     "single class")


# -- the terminal ------------------------------------------------------------------------------


def test_results_are_written_when_stdout_is_a_closed_pipe(user_folder):
    process = subprocess.Popen(
        [sys.executable, "-m", "labelaudit", "audit", "iris.csv", "--label", "species", "--out", "out", "--top", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=user_folder, env=ENV,
    )
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=120) == 0, process.stderr.read()
    assert process.stderr.read() == b""
    assert (user_folder / "out" / "manifest.json").is_file()


def test_a_terminal_that_cannot_print_a_class_name(user_folder):
    frame = species_frame()
    frame["species"] = frame["species"].replace({"ant": "naïve"})
    frame.to_csv(user_folder / "accents.csv", index=False)
    result = run("audit", "accents.csv", "--label", "species", "--out", "out", cwd=user_folder,
                 env={**ENV, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "na\\xefve" in result.stdout


def test_help_and_one_line_failures_everywhere(user_folder):
    bare = run()
    assert bare.returncode == 0 and "usage: labelaudit" in bare.stdout
    demo_help = run("demo", "--help").stdout
    assert "13.5% of" in demo_help and "%%" not in demo_help
    one_line_failure(run("report", "nowhere"), "DIR")
    one_line_failure(run("report", str(user_folder)), "manifest.json")


def test_an_unreachable_scheduler_is_one_line(user_folder):
    pytest.importorskip("distributed", reason="needs dask: pip install 'labelaudit[dask]'")
    np.save(user_folder / "l.npy", np.array([0, 0, 0, 1, 1, 1]))
    result = run("audit", "--labels", "l.npy", "--pred-probs", "pp.npy", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", "out", cwd=user_folder)
    one_line_failure(result, "--scheduler")
    assert not (user_folder / "out").exists()


def test_spreadsheet_formulas_in_class_names_are_escaped_in_csv_outputs(user_folder, tmp_path):
    frame = species_frame()
    frame["species"] = frame["species"].replace({"cat": '=HYPERLINK("http://x")'})
    frame.to_csv(user_folder / "f.csv", index=False)
    assert run("audit", "f.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    raw = pd.read_csv(user_folder / "out" / "issues.csv")
    values = set(raw["given_label"]) | set(raw["predicted_label"])
    assert "'=HYPERLINK(\"http://x\")" in values and '=HYPERLINK("http://x")' not in values
    back = read_table(user_folder / "out" / "issues.csv", unescape=True)
    assert '=HYPERLINK("http://x")' in set(back["given_label"]) | set(back["predicted_label"])
    from labelaudit.review.app import ReviewState

    assert '=HYPERLINK("http://x")' in ReviewState(user_folder / "out").classes


def test_write_table_round_trips_every_escaped_start(tmp_path):
    values = ["=1+1", "+a", "-b", "@c", "\td", "'e", "''f", "plain", "'"]
    write_table(pd.DataFrame({"v": values}), tmp_path / "t.csv")
    assert read_table(tmp_path / "t.csv", unescape=True)["v"].tolist() == values


def test_store_for_a_folder_without_data_is_keyed_by_the_run(tmp_path):
    store = store_for(tmp_path, {"dataset": None, "run_id": "r1"})
    store.put(1, "remove")
    assert store_for(tmp_path, {"dataset": None, "run_id": "r2"}).all() == []


def test_review_says_decisions_of_other_data_are_kept_but_not_shown(user_folder):
    pytest.importorskip("uvicorn", reason="the review app needs pip install 'labelaudit[review]'")
    out = user_folder / "out"
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    decide(out, [(0, "remove", None)])
    species_frame(seed=3).to_csv(user_folder / "iris.csv", index=False)
    assert run("audit", "iris.csv", "--label", "species", "--out", "out", cwd=user_folder).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "labelaudit", "review", "out", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=user_folder, env=ENV,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.kill()
        process.wait(timeout=30)
    assert lines[2].startswith("Note: 1 decision in") and "--earlier-decisions carry" in lines[2]
