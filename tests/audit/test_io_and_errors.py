"""Save/load round trips, bad inputs, user checks, and errors inside checks."""

from __future__ import annotations

import builtins
import json
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from labelaudit import Audit, OutOfDistribution
from labelaudit.audit import IMAGE_CHECKS, Check, CheckResult, available_checks, register_check, unregister_check

TABLE_CHECKS = [c for c in available_checks() if c not in IMAGE_CHECKS or c == "near_duplicate"]


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    X = rng.normal(0, 1, (300, 4)) + 5 * np.eye(3, 4)[y]
    X[:3] = np.nan
    X[3, 1] = np.nan
    probs = np.exp(2 * np.eye(3)[y] + rng.normal(0, 1, (300, 3)))
    probs /= probs.sum(axis=1, keepdims=True)
    names = np.array(["cat", "dog", "eel"])[y]
    frame = pd.DataFrame({"animal": names, "weight": rng.normal(size=300)})
    return frame, X, probs


@pytest.fixture(scope="module")
def audit(small):
    frame, X, probs = small
    return Audit(data=frame, label="animal", classes=["cat", "dog", "eel"]).run(
        pred_probs=probs,
        features=X,
        issue_types=TABLE_CHECKS,  # every check of a table, data_valuation included
        verbose=False,
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_save_load_round_trips_exactly(audit, tmp_path, fmt):
    folder = audit.save(tmp_path / "out", format=fmt)
    assert sorted(p.name for p in folder.iterdir()) == [
        "audit.json", f"examples.{fmt}", f"issues.{fmt}", "manifest.json"
    ]
    loaded = Audit.load(folder)
    pd.testing.assert_frame_equal(loaded.issues, audit.issues, check_exact=True)
    pd.testing.assert_frame_equal(loaded.summary, audit.summary, check_exact=True)
    assert loaded.info == json.loads(json.dumps(audit.info))
    for name in audit.summary["issue_type"]:
        pd.testing.assert_frame_equal(
            loaded.get_issues(name), audit.get_issues(name), check_exact=True
        )
    assert loaded.report() == audit.report()
    assert audit.issues["given_label"].iloc[0] in {"cat", "dog", "eel"}


def test_parquet_without_pyarrow_says_how_to_fix(audit, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match=r"pip install 'labelaudit\[parquet\]'.*format='csv'"):
        audit.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    audit.save(tmp_path / "csv", format="csv")  # the fallback needs nothing extra
    pd.testing.assert_frame_equal(Audit.load(tmp_path / "csv").issues, audit.issues)


def test_load_of_a_folder_without_results(tmp_path):
    with pytest.raises(FileNotFoundError, match="Audit.save"):
        Audit.load(tmp_path)


def test_skipped_check_says_why():
    audit = Audit(data={"y": [0, 1] * 10}, label="y").run(
        issue_types=["outlier", "label"], verbose=False
    )
    notes = audit.summary.set_index("issue_type")["note"]
    assert (
        notes["outlier"]
        == "not run: needs features or knn_graph (for the neighbour graph) or pred_probs."
    )
    assert (
        notes["label"]
        == "not run: needs pred_probs or features or knn_graph (for the neighbour graph)."
    )
    with pytest.raises(ValueError, match="issue_type='outlier' has no results \\(not run: needs"):
        audit.get_issues("outlier")


def _fresh(frame):
    return Audit(data=frame, label="animal", classes=["cat", "dog", "eel"])


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"pred_probs": np.full((299, 3), 1 / 3)}, ValueError, "pred_probs has 299 rows"),
        ({"pred_probs": np.full((300, 3), 0.5)}, ValueError, "rows of pred_probs must sum to 1"),
        ({"features": np.zeros((10, 2))}, ValueError, "features has 10 rows"),
        ({"features": np.array([["a"]] * 300)}, TypeError, "features must hold numbers"),
        ({"features": np.full((300, 2), np.inf)}, ValueError, "features contains inf"),
        ({"features": ["nope"]}, ValueError, r"features names columns \['nope'\]"),
        ({"knn_graph": np.zeros((300, 300))}, TypeError, "knn_graph must be a scipy sparse"),
        (
            {"knn_graph": sparse.eye(5, format="csr")},
            ValueError,
            r"knn_graph must have shape \(300, 300\)",
        ),
        ({"issue_types": {"typo": {}}}, ValueError, "issue_types names 'typo'"),
        (
            {"issue_types": {"outlier": {"thresold": 3}}},
            ValueError,
            r"issue_types\['outlier'\] has unknown parameters \['thresold'\]",
        ),
        ({"issue_types": "outlier"}, TypeError, "issue_types must be a dict"),
        ({"k": 0}, ValueError, "k=0 is not valid"),
        ({"n_jobs": 0}, ValueError, "n_jobs=0 is not valid"),
    ],
)
def test_bad_run_inputs_fail_before_any_work(small, monkeypatch, kwargs, error, pattern):
    import labelaudit.audit._inputs as inputs_module

    def no_search(*args, **kwargs):
        raise AssertionError("the neighbour search ran before the inputs were checked")

    monkeypatch.setattr(inputs_module, "build_knn_graph", no_search)
    audit = _fresh(small[0])
    with pytest.raises(error, match=pattern):
        audit.run(verbose=False, **kwargs)
    assert audit.summary.empty


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"data": {"y": [0, 1]}, "label": "z"}, ValueError, "label='z' is not a column of data"),
        (
            {"data": {"y": [0, 1], "x": [1.0]}, "label": "y"},
            ValueError,
            "data is a dict whose columns have different lengths",
        ),
        ({"data": np.zeros(3), "label": None}, TypeError, "data must be a pandas DataFrame"),
        (
            {"data": {"y": [0, 1]}, "label": "y", "task": "regression"},
            ValueError,
            "task='regression' is not recognised",
        ),
        ({"data": {"x": [0, 1]}, "label": [0, 1, 2]}, ValueError, "different numbers of examples"),
        ({"data": None, "label": None}, ValueError, "Audit needs data or label"),
    ],
)
def test_bad_constructor_inputs(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        Audit(**kwargs)


def test_string_labels_need_classes_to_match_pred_probs(small):
    frame, _, probs = small
    with pytest.warns(UserWarning, match="classes= not given"):
        Audit(data=frame, label="animal").run(
            pred_probs=probs, issue_types=["label"], verbose=False
        )


def test_user_check_and_errors_inside_checks_propagate():
    @register_check
    class Broken(Check):
        name = "broken"
        needs = (("labels",),)

        def run(self, inputs):
            raise RuntimeError("boom inside the check")

    @register_check
    class Evens(Check):
        name = "evens"
        needs = (("labels",),)
        params: ClassVar[dict[str, int]] = {"every": 2}
        default = False

        def run(self, inputs, *, every):
            flag = np.arange(inputs.num_examples) % every == 0
            return CheckResult(
                is_issue=flag,
                score=np.where(flag, 0.0, 1.0),
                columns={"evens_row": np.arange(inputs.num_examples)},
            )

    try:
        audit = Audit(label=[0, 1, 0, 1])
        with pytest.raises(RuntimeError, match="boom inside the check"):
            audit.run(issue_types=["broken"], verbose=False)
        audit.run(issue_types={"evens": {"every": 3}}, verbose=False)
        assert audit.get_issues("evens").index.tolist() == [0, 3]
        assert list(audit.issues.columns) == ["is_evens_issue", "evens_score", "evens_row"]
    finally:
        unregister_check("broken")
        unregister_check("evens")


def test_register_check_refuses_bad_checks():
    class NoName(Check):
        name = "not an identifier"

    with pytest.raises(ValueError, match="is not valid; use a short identifier"):
        register_check(NoName)
    with pytest.raises(TypeError, match="subclass of Check"):
        register_check(object)


def test_out_of_distribution_on_features_and_pred_probs():
    rng = np.random.default_rng(2)
    train = rng.normal(0, 1, (500, 5))
    ood = OutOfDistribution().fit(features=train)
    assert ood.predict(features=train).mean() <= 0.01 and ood.scores_.shape == (500,)
    far = rng.normal(0, 1, (20, 5)) + 12
    assert ood.predict(features=far).all()
    assert np.isnan(ood.score(features=np.full((1, 5), np.nan))).all()
    with pytest.raises(ValueError, match="score it with features="):
        ood.score(pred_probs=np.full((2, 2), 0.5))

    y = rng.integers(0, 4, 800)
    probs = np.exp(4 * np.eye(4)[y] + rng.normal(0, 0.5, (800, 4)))
    probs /= probs.sum(axis=1, keepdims=True)
    by_probs = OutOfDistribution().fit(pred_probs=probs, labels=y)
    assert by_probs.predict(pred_probs=probs).mean() <= 0.02
    assert by_probs.predict(pred_probs=np.full((5, 4), 0.25)).all()
    with pytest.raises(ValueError, match="needs labels= in fit"):
        OutOfDistribution().fit(pred_probs=probs)
    with pytest.raises(ValueError, match="method='gini' is not recognised"):
        OutOfDistribution(method="gini").fit(pred_probs=probs, labels=y)
    with pytest.raises(ValueError, match="not fitted yet"):
        OutOfDistribution().score(features=train)


def test_import_labelaudit_stays_light():
    import subprocess
    import sys

    code = "import sys, labelaudit; print(any(m.startswith(('labelaudit.audit', 'sklearn', 'scipy', 'tqdm')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_search_is_refused(small):
    frame, X, _ = small
    with pytest.raises(ValueError, match="search='fast' is not recognised"):
        _fresh(frame).run(features=X, search="fast", verbose=False)
    with pytest.raises(ValueError, match="supports metric='euclidean' only"):
        _fresh(frame).run(features=X, search="approximate", metric="cosine", verbose=False)


def test_progress_bar_only_when_asked(capsys):
    Audit(label=[0, 1] * 10).run(issue_types=["class_imbalance"], verbose=True)
    assert "audit" in capsys.readouterr().err
    Audit(label=[0, 1] * 10).run(issue_types=["class_imbalance"], verbose=False)
    assert capsys.readouterr().err == ""
