"""The ``labelaudit`` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import labelaudit

# One BLAS thread per process keeps the many small fits fast on a busy 2-core machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

PRED_PROBS = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labelaudit", *args], capture_output=True, text=True, cwd=cwd, env=ENV, check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Features and labels with three known flips, and bring-your-own label/probability files."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    centers = np.array([[-6, 0], [6, 0], [0, 7.5]])
    truth = np.repeat([0, 1, 2], 40)
    frame = pd.DataFrame(centers[truth] + rng.normal(0, 1, (120, 2)), columns=["x1", "x2"])
    frame["shade"] = np.where(np.arange(120) % 2, "dark", "light")
    species = np.array(["ant", "bee", "cat"])[truth]
    species[[0, 50, 100]] = ["cat", "ant", "bee"]
    frame["species"] = species
    frame.to_csv(folder / "data.csv", index=False)
    frame.to_parquet(folder / "data.parquet", index=False)
    np.save(folder / "labels.npy", np.array([0, 0, 0, 1, 1, 1]))
    np.save(folder / "pred_probs.npy", PRED_PROBS)
    pd.DataFrame({"animal": ["ant", "ant", "ant", "bee", "bee", "bee"]}).to_csv(folder / "labels.csv", index=False)
    pd.DataFrame(PRED_PROBS, columns=["ant", "bee"]).to_csv(folder / "pred_probs.csv", index=False)
    pd.DataFrame(PRED_PROBS, columns=["ant", "bee"]).to_parquet(folder / "pred_probs.parquet", index=False)
    (folder / "notes.txt").write_text("not data\n")
    (folder / "a_file").write_text("")
    np.save(folder / "bad_probs.npy", PRED_PROBS * 2)
    pd.DataFrame({"species": ["ant", None, "bee"], "x": [1, 2, 3]}).to_csv(folder / "missing.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("demo") / "out"
    return run("demo", "--out", str(out)), out


def test_version_and_help():
    assert run("--version").stdout.strip() == f"labelaudit {labelaudit.__version__}"
    top = run("--help")
    assert top.returncode == 0 and "labelaudit demo" in top.stdout and "labelaudit audit data.csv" in top.stdout
    assert "labelaudit demo --out demo-out" in run("demo", "--help").stdout
    audit_help = run("audit", "--help").stdout
    assert "labelaudit audit data.csv --label species" in audit_help
    assert "labelaudit audit --labels labels.npy --pred-probs pred_probs.npy" in audit_help


def test_demo_prints_the_loop_in_order_and_the_cleaned_model_wins(demo):
    result, out = demo
    assert result.returncode == 0, result.stderr
    text = result.stdout
    steps = ["Cross-validating", "Label health", "Top 10 of", "precision", "Test accuracy", "Wrote"]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    report = json.loads((out / "demo.json").read_text())
    assert report["accuracy_cleaned"] > report["accuracy_noisy"]
    assert report["accuracy_relabeled"] > report["accuracy_noisy"]
    assert report["num_flipped"] == 170 and report["num_train"] == 1257 and report["num_test"] == 540
    issues = pd.read_csv(out / "issues.csv")
    assert len(issues) == report["num_flagged"]
    hits = int((issues["given_label"] != issues["true_label"]).sum())
    assert report["precision"] == pytest.approx(hits / len(issues))
    assert report["recall"] == pytest.approx(hits / 170)
    assert report["precision"] > 0.75 and report["recall"] > 0.85
    assert report["seconds"] < 60
    health = json.loads((out / "health.json").read_text())
    assert health["num_examples"] == 1257


@pytest.fixture(scope="module")
def csv_audit(files: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("csv") / "out"
    return run("audit", "data.csv", "--label", "species", "--top", "3", "--out", str(out), cwd=files), out


def test_audit_csv_finds_the_flips(csv_audit):
    result, out = csv_audit
    assert result.returncode == 0, result.stderr
    issues = pd.read_csv(out / "issues.csv")
    assert list(issues.columns) == ["row", "given_label", "predicted_label", "label_quality"]
    assert set(issues["row"]) == {0, 50, 100}
    flipped = issues.set_index("row").loc[[0, 50, 100]]
    assert flipped["given_label"].tolist() == ["cat", "ant", "bee"]
    assert flipped["predicted_label"].tolist() == ["ant", "bee", "cat"]
    assert issues["label_quality"].is_monotonic_increasing
    health = json.loads((out / "health.json").read_text())
    assert health["num_examples"] == 120 and health["class_names"] == ["ant", "bee", "cat"]
    assert "Top 3" not in result.stdout and "top 3:" in result.stdout


def test_audit_parquet_matches_csv_and_writes_json(files, csv_audit, tmp_path):
    args = ["--label", "species", "--features", "x1,x2,shade", "--top", "3", "--format", "json"]
    result = run("audit", "data.parquet", *args, "--out", str(tmp_path / "p"), cwd=files)
    assert result.returncode == 0, result.stderr
    from_csv = pd.read_csv(csv_audit[1] / "issues.csv")
    from_parquet = pd.DataFrame(json.loads((tmp_path / "p" / "issues.json").read_text()))
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)


def test_audit_tree_model(files, tmp_path):
    args = ["--label", "species", "--features", "x1,x2", "--model", "hgb", "--cv", "4", "--top", "0"]
    result = run("audit", "data.csv", *args, "--out", str(tmp_path / "o"), cwd=files)
    assert result.returncode == 0, result.stderr
    assert {0, 50} <= set(pd.read_csv(tmp_path / "o" / "issues.csv")["row"])


def test_audit_npy_pred_probs_exact(files, tmp_path):
    result = run(
        "audit", "--labels", "labels.npy", "--pred-probs", "pred_probs.npy", "--out", str(tmp_path / "o"),
        "--format", "parquet", "--filter-by", "prune_by_noise_rate", "--rank-by", "self_confidence", cwd=files,
    )
    assert result.returncode == 0, result.stderr
    issues = pd.read_parquet(tmp_path / "o" / "issues.parquet")
    assert issues["row"].tolist() == [2, 5]
    assert issues["given_label"].tolist() == [0, 1] and issues["predicted_label"].tolist() == [1, 0]
    np.testing.assert_allclose(issues["label_quality"], [0.1, 0.3])


def test_audit_defaults_to_auto_by_hand(files, tmp_path):
    """The default rule and score are "auto": worked out here from the module's definition."""
    result = run("audit", "--labels", "labels.npy", "--pred-probs", "pred_probs.npy", "--out", str(tmp_path / "o"), cwd=files)
    assert result.returncode == 0, result.stderr
    assert "flagged by auto" in result.stdout
    labels = np.array([0, 0, 0, 1, 1, 1])
    # thresholds 0.6 and 0.6; confident joint [[2, 1], [1, 2]] (calibrated: the same), + 1/K, columns normalised
    transition = np.array([[0.625, 0.375], [0.375, 0.625]])
    direct = PRED_PROBS[np.arange(6), labels]
    through = (PRED_PROBS * transition[labels]).sum(axis=1)
    grid = np.linspace(0, 1, 101)
    w = grid[np.argmax([np.log((1 - g) * direct + g * through).sum() for g in grid])]
    posterior = PRED_PROBS * transition[labels] ** w
    posterior /= posterior.sum(axis=1, keepdims=True)
    given = posterior[np.arange(6), labels]  # two classes: the normalized margin is q[y]
    issues = pd.read_csv(tmp_path / "o" / "issues.csv")
    assert issues["row"].tolist() == [2, 5] == np.flatnonzero(given < 0.5).tolist()
    np.testing.assert_allclose(issues["label_quality"], given[[2, 5]])
    np.testing.assert_allclose(issues["label_quality"], [0.135290, 0.376356], atol=1e-6)
    assert issues["predicted_label"].tolist() == [1, 0]  # the posterior's class (two classes: the other)
    health = json.loads((tmp_path / "o" / "health.json").read_text())
    assert health["label_rule"] == {"filter_by": "auto", "rank_by": "auto"}
    assert "the <code>auto</code> rule, worst first by the <code>auto</code> score" in (
        tmp_path / "o" / "report.html").read_text()


@pytest.mark.parametrize("probs", ["pred_probs.csv", "pred_probs.parquet"])
def test_audit_table_pred_probs_name_the_classes(files, tmp_path, probs):
    result = run(
        "audit", "--labels", "labels.csv", "--pred-probs", probs, "--rank-by", "normalized_margin",
        "--filter-by", "both", "--out", str(tmp_path / "o"), cwd=files,
    )
    assert result.returncode == 0, result.stderr
    assert "classes" not in result.stderr  # the header states the class order: no warning about it
    assert "at chance" in result.stderr  # 4 of 6 right is not clearly above 3 of 6
    issues = pd.read_csv(tmp_path / "o" / "issues.csv")
    assert issues["row"].tolist() == [2, 5]
    assert issues["given_label"].tolist() == ["ant", "bee"]
    assert issues["predicted_label"].tolist() == ["bee", "ant"]
    np.testing.assert_allclose(issues["label_quality"], [0.1, 0.3])  # normalized margins


BAD_INPUTS = [
    (["audit"], "--labels: required"),
    (["audit", "data.csv"], "--label: required with a data file"),
    (["audit", "data.csv", "--label", "nope"], "--label: no column 'nope'"),
    (["audit", "missing.csv", "--label", "species"], "--label: column 'species' has 1 missing labels"),
    (["audit", "data.csv", "--label", "species", "--features", "x1,zz"], "--features: no column(s) ['zz']"),
    (["audit", "nowhere.csv", "--label", "species"], "data: file 'nowhere.csv' not found"),
    (["audit", "notes.txt", "--label", "species"], "data: 'notes.txt' must be a .csv"),
    (["audit", "data.csv", "--label", "species", "--top", "-1"], "argument --top: -1 is below 0"),
    (["audit", "data.csv", "--label", "species", "--cv", "1"], "argument --cv: 1 is below 2"),
    (["audit", "data.csv", "--label", "species", "--cv", "60"], "--cv: cv=60 folds but the largest class has only 40"),
    (["audit", "data.csv", "--label", "species", "--model", "svm"], "--model: 'svm' is not one of logistic, hgb, forest"),
    (["audit", "data.csv", "--label", "species", "--n-jobs", "0"], "--n-jobs: n_jobs=0 is not valid"),
    (["audit", "data.csv", "--label", "species", "--format", "xml"], "argument --format: invalid choice"),
    (["audit", "data.csv", "--labels", "labels.npy", "--label", "species"], "not both"),
    (["audit", "--labels", "labels.npy"], "--pred-probs: required"),
    (["audit", "--labels", "labels.npy", "--pred-probs", "pred_probs.npy", "--model", "hgb"], "--model: applies only"),
    (["audit", "--labels", "labels.npy", "--pred-probs", "bad_probs.npy"], "--labels/--pred-probs: pred_probs must hold"),
    (["audit", "--labels", "labels.csv", "--pred-probs", "labels.csv"], "--pred-probs: column 'animal'"),
    (["audit", "--labels", "data.csv", "--pred-probs", "pred_probs.npy"], "--label: 'data.csv' has 4 columns"),
    (["audit", "--labels", "notes.txt", "--pred-probs", "pred_probs.npy"], "--labels: 'notes.txt' must be"),
    (["audit", "--labels", "labels.npy", "--pred-probs", "pred_probs.npy", "--out", "a_file"], "--out: 'a_file' exists"),
    (["demo", "--out", "a_file"], "--out: 'a_file' exists and is not a directory"),
]


@pytest.mark.parametrize(("args", "reason"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(files, args, reason):
    before = sorted(p.name for p in files.iterdir())
    if "--out" not in args:
        args = [*args, "--out", "never-written"]
    result = run(*args, cwd=files)
    assert result.returncode == 2
    assert result.stdout == "" and reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in files.iterdir()) == before


def test_parquet_without_pyarrow_says_how_to_install(files):
    code = (
        "import sys; sys.modules['pyarrow'] = None; from labelaudit.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    for args in (["--format", "parquet"], ["--pred-probs", "pred_probs.parquet"]):
        argv = ["audit", "--labels", "labels.npy", "--pred-probs", "pred_probs.npy", *args, "--out", "never"]
        result = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=files, env=ENV, check=False
        )
        assert result.returncode == 2
        assert "pip install 'labelaudit[parquet]'" in result.stderr
        assert not (files / "never").exists()
