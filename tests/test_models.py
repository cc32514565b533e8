"""Cross-validated probabilities and the CleanLearning estimator."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import labelaudit
from labelaudit import (
    CleanLearning,
    estimate_pred_probs,
    find_label_issues,
    get_label_quality_scores,
)

# Tiny fits are much faster with one BLAS thread, above all on a busy machine.
pytestmark = pytest.mark.usefixtures("one_blas_thread")

NOT_APPLICABLE = {
    "check_sample_weight_equivalence_on_dense_data": (
        "a weight of 2 is not a repeated row: repeating rows changes the per-class thresholds "
        "and the folds the label issues are found in"
    ),
    "check_sample_weight_equivalence_on_sparse_data": "as on dense data",
}


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=[[-3, 0], [3, 0], [0, 4]], random_state=0)
    return X, y


def prior() -> DummyClassifier:
    return DummyClassifier(strategy="prior")


# -- estimate_pred_probs -----------------------------------------------------------------------


def test_each_row_is_scored_by_the_model_of_the_other_fold():
    labels = np.array([0] * 6 + [1] * 4)
    out = estimate_pred_probs(prior(), np.zeros((10, 1)), labels, cv=2, verbose=False)
    # every training half holds 3 zeros and 2 ones
    np.testing.assert_array_equal(out, np.tile([0.6, 0.4], (10, 1)))


def test_class_missing_from_a_fold_gets_a_zero_column_and_a_warning():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2])
    with pytest.warns(UserWarning, match=r"fewer examples than cv=2 folds: 2 \(1\)"):
        out = estimate_pred_probs(prior(), np.zeros((9, 1)), labels, cv=2, verbose=False)
    assert out.shape == (9, 3)
    # the fold that holds the only example of class 2 was fitted without it
    np.testing.assert_array_equal(out[8], [0.5, 0.5, 0.0])
    others = out[:8][out[:8, 2] > 0]
    np.testing.assert_allclose(others, np.tile([0.4, 0.4, 0.2], (len(others), 1)))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_string_labels_give_sorted_columns_or_the_order_of_classes():
    labels = np.array(["dog"] * 6 + ["cat"] * 3)
    out = estimate_pred_probs(prior(), np.zeros((9, 1)), labels, cv=3, verbose=False)
    np.testing.assert_allclose(out[0], [1 / 3, 2 / 3])  # cat, dog
    reordered = estimate_pred_probs(
        prior(), np.zeros((9, 1)), labels, cv=3, verbose=False, classes=["dog", "cat"]
    )
    np.testing.assert_allclose(reordered, out[:, ::-1])


def test_integer_labels_are_column_indices_like_the_core():
    labels = np.array([1, 1, 1, 2, 2, 2])
    with pytest.raises(ValueError, match=r"labels are class indices 0\.\.2 but 0 has no example"):
        estimate_pred_probs(prior(), np.zeros((6, 1)), labels, cv=3, verbose=False)
    with pytest.warns(UserWarning, match=r"0 \(0\)"):  # the empty column, asked for
        out = estimate_pred_probs(prior(), np.zeros((6, 1)), labels, cv=3, verbose=False, classes=range(3))
    np.testing.assert_allclose(out, np.tile([0.0, 0.5, 0.5], (6, 1)))
    assert find_label_issues(labels, out).sum() == 0  # accepted by the core as it is


def test_numpy_pandas_sparse_and_pipeline_agree(blobs):
    X, y = blobs
    model = make_pipeline(StandardScaler(with_mean=False), LogisticRegression())
    dense = estimate_pred_probs(model, X, y, verbose=False)
    frame = estimate_pred_probs(model, pd.DataFrame(X, columns=["a", "b"]), pd.Series(y), verbose=False)
    sparse = estimate_pred_probs(model, sp.coo_matrix(X), y, verbose=False)
    np.testing.assert_allclose(frame, dense)
    np.testing.assert_allclose(sparse, dense, atol=1e-8)
    assert not hasattr(model, "classes_")  # cloned per fold, never fitted itself


def test_parallel_folds_and_seeds(blobs):
    X, y = blobs
    one = estimate_pred_probs(LogisticRegression(), X, y, verbose=False)
    two = estimate_pred_probs(LogisticRegression(), X, y, n_jobs=2, verbose=False)
    np.testing.assert_array_equal(one, two)
    other_folds = estimate_pred_probs(LogisticRegression(), X, y, random_state=1, verbose=False)
    assert not np.array_equal(one, other_folds)


def test_decision_function_goes_through_softmax(blobs):
    X, y = blobs
    from_scores = estimate_pred_probs(LogisticRegression(), X, y, method="decision_function", verbose=False)
    np.testing.assert_allclose(from_scores, estimate_pred_probs(LogisticRegression(), X, y, verbose=False))
    binary = y[y < 2]
    from_scores = estimate_pred_probs(
        LogisticRegression(), X[y < 2], binary, method="decision_function", verbose=False
    )
    np.testing.assert_allclose(
        from_scores, estimate_pred_probs(LogisticRegression(), X[y < 2], binary, verbose=False)
    )


def test_progress_shows_when_verbose_in_any_stream_and_never_when_not(blobs, capsys):
    X, y = blobs  # tqdm.auto: a widget in notebooks, text elsewhere (a kernel's stderr is no tty)
    estimate_pred_probs(LogisticRegression(), X, y, verbose=True)
    assert "cross-validation" in capsys.readouterr().err
    estimate_pred_probs(LogisticRegression(), X, y, verbose=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cv": 1}, "cv=1 is not valid"),
        ({"cv": 50}, r"cv=50 folds but the largest class has only 40"),
        ({"method": "predict"}, "method='predict' is not recognised"),
        ({"n_jobs": 0}, "n_jobs=0 is not valid"),
    ],
)
def test_bad_arguments(blobs, kwargs, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        estimate_pred_probs(LogisticRegression(), X, y, verbose=False, **kwargs)


def test_bad_data(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="X has 119 rows but labels has 120"):
        estimate_pred_probs(LogisticRegression(), X[1:], y, verbose=False)
    with pytest.raises(ValueError, match=r"labels hold a single class \(0\)"):
        estimate_pred_probs(LogisticRegression(), X, np.zeros(120, dtype=int), verbose=False)
    with pytest.raises(ValueError, match="missing values"):
        estimate_pred_probs(LogisticRegression(), X, np.r_[np.nan, y[1:]], verbose=False)


# -- CleanLearning -----------------------------------------------------------------------------


@parametrize_with_checks([CleanLearning()], expected_failed_checks=lambda est: NOT_APPLICABLE)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_params_are_kept_verbatim_and_clone_works():
    kwargs = {"filter_by": "both"}
    clf = CleanLearning(LogisticRegression(C=0.5), cv=3, find_label_issues_kwargs=kwargs)
    assert clf.get_params()["find_label_issues_kwargs"] is kwargs
    copy = clone(clf.set_params(model__C=2.0, verbose=True))
    assert copy.model.C == 2.0 and copy.cv == 3 and copy.verbose is True
    assert copy.find_label_issues_kwargs == kwargs


def test_find_label_issues_matches_the_core():
    labels = np.array(["x", "x", "x", "y", "y", "y"])
    pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    clf = CleanLearning(label_quality_scores_kwargs={"method": "normalized_margin"},
                        find_label_issues_kwargs={"min_examples_per_class": 1})
    issues = clf.find_label_issues(np.zeros((6, 1)), labels, pred_probs=pred_probs)
    assert list(issues.columns) == ["is_label_issue", "label_quality", "given_label", "predicted_label"]
    np.testing.assert_array_equal(issues["is_label_issue"], [False, False, True, False, False, True])
    np.testing.assert_allclose(issues["label_quality"], [0.9, 0.8, 0.1, 0.8, 0.7, 0.3])
    assert issues["predicted_label"].tolist() == ["x", "x", "y", "y", "y", "x"]
    expected = get_label_quality_scores([0, 0, 0, 1, 1, 1], pred_probs, method="normalized_margin")
    np.testing.assert_allclose(issues["label_quality"], expected)


def test_fit_drops_the_issues_and_keeps_them(blobs):
    X, y = blobs
    noisy = y.copy()
    noisy[[0, 1, 3]] = (noisy[[0, 1, 3]] + 1) % 3
    names = np.array(["a", "b", "c"])[noisy]
    clf = CleanLearning(cv=4).fit(X, names)
    flagged = np.flatnonzero(clf.label_issues_["is_label_issue"])
    np.testing.assert_array_equal(flagged, [0, 1, 3])
    # kept rows weighted by 1 / P(given = k | true = k) of their class (the reference's rule)
    weights = 1 / np.diagonal(clf.noise_matrix_)[noisy]
    np.testing.assert_allclose(clf.sample_weight_, np.where(clf.label_issues_mask_, 0, weights))
    reference = LogisticRegression().fit(np.delete(X, flagged, axis=0), np.delete(noisy, flagged),
                                         sample_weight=np.delete(weights, flagged))
    np.testing.assert_allclose(clf.model_.coef_, reference.coef_)
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    assert clf.predict_proba(X).shape == (120, 3)
    assert clf.score(X, np.array(["a", "b", "c"])[y]) == reference.score(X, y)


def test_fit_with_given_pred_probs_or_issues(blobs):
    X, y = blobs
    pred_probs = estimate_pred_probs(LogisticRegression(), X, y, verbose=False)
    clf = CleanLearning(find_label_issues_kwargs={"filter_by": "confident_learning"})
    clf.fit(X, y, pred_probs=pred_probs)
    np.testing.assert_array_equal(
        clf.label_issues_["is_label_issue"],
        find_label_issues(y, pred_probs, filter_by="confident_learning"),
    )
    mask = np.zeros(120, dtype=bool)
    mask[y == 2] = True  # remove a whole class: it keeps its probability column
    clf = CleanLearning().fit(X, y, label_issues=mask)
    assert clf.label_issues_["label_quality"].isna().all()
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 3) and (proba[:, 2] == 0).all()


def test_sample_weight_reaches_the_final_fit(blobs):
    X, y = blobs
    weights = np.ones(120)
    weights[:30] = 0.0
    issues = np.zeros(120, dtype=bool)
    weighted = CleanLearning().fit(X, y, sample_weight=weights, label_issues=issues)
    reference = LogisticRegression().fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.model_.coef_, reference.coef_)


@pytest.mark.parametrize(
    ("clf", "fit_kwargs", "match"),
    [
        (CleanLearning(), {"labels": np.zeros(120, int)}, "pass labels or y, not both"),
        (CleanLearning(), {"label_issues": np.zeros(5, bool)}, r"boolean mask of shape \(120,\)"),
        (CleanLearning(), {"label_issues": pd.DataFrame({"flag": np.zeros(120, bool)})},
         "without an 'is_label_issue' column"),
        (CleanLearning(find_label_issues_kwargs={"return_indices_ranked_by": "self_confidence"}), {},
         "find_label_issues_kwargs must be a dict"),
        (CleanLearning(), {"sample_weight": np.ones(3)}, r"sample_weight must have shape \(120,\)"),
    ],
)
def test_fit_refuses_bad_input(blobs, clf, fit_kwargs, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, **fit_kwargs)


def test_top_level_exports_and_a_light_import():
    assert labelaudit.CleanLearning is CleanLearning
    assert labelaudit.estimate_pred_probs is estimate_pred_probs
    code = "import sys, labelaudit; print(sorted(m for m in ('sklearn', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


FIRST_LABELS: list = []  # the first training labels each fold's fit saw (in-process runs)


class FixedWidthNet:
    """A stand-in for a framework net: labels must be int64 (as torch losses need), the output
    has a fixed width of ``width`` columns, and the fit draws from numpy's global generator."""

    def __init__(self, width: int = 3) -> None:
        self.width = width

    def get_params(self, deep: bool = True) -> dict:
        return {"width": self.width}

    def set_params(self, **params) -> FixedWidthNet:
        self.width = params.get("width", self.width)
        return self

    def fit(self, X, y):
        assert np.asarray(y).dtype == np.int64, np.asarray(y).dtype
        FIRST_LABELS.append(np.asarray(y)[:20])
        self.noise_ = np.random.random()  # global state: reproducible only if each fold is seeded
        self.classes_ = np.unique(y)  # what skorch infers: only the classes this fold saw
        centers = np.array([X[np.asarray(y) == c].mean(axis=0) if (np.asarray(y) == c).any() else np.full(X.shape[1], 1e9)
                            for c in range(self.width)])
        self.centers_ = centers
        return self

    def predict_proba(self, X):
        distance = ((np.asarray(X)[:, None, :] - self.centers_[None]) ** 2).sum(axis=2)
        logits = -distance + self.noise_ * 1e-3
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)


def test_framework_nets_get_int64_labels_mixed_classes_seeds_and_a_fixed_width(blobs):
    X, y = blobs
    order = np.argsort(y, kind="stable")  # as images loaded folder by folder arrive
    X, y = X[order], y[order].astype(np.int8)
    FIRST_LABELS.clear()
    one = estimate_pred_probs(FixedWidthNet(), X, y, verbose=False)
    assert len(FIRST_LABELS) == 5 and all(len(set(first)) > 1 for first in FIRST_LABELS)
    two = estimate_pred_probs(FixedWidthNet(), X, y, verbose=False, n_jobs=2)
    np.testing.assert_array_equal(one, two)  # the same seeds in worker processes
    assert (one.argmax(axis=1) == y).mean() > 0.9


def test_a_fixed_width_output_keeps_the_column_of_a_class_missing_from_a_fold():
    from labelaudit.models import aligned_probabilities

    net = FixedWidthNet(3).fit(np.array([[0.0], [1.0], [0.1]]), np.array([0, 1, 0], dtype=np.int64))
    probs = aligned_probabilities(net, np.array([[0.0], [5.0]]), "predict_proba", 3)
    assert probs.shape == (2, 3) and probs[:, 2].max() < 1e-6


def test_cross_validation_gives_the_callers_random_state_back(blobs):
    X, y = blobs
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    estimate_pred_probs(FixedWidthNet(), X, y, verbose=False)
    assert np.random.random() == expected


class MapDataset:
    """A map-style dataset as torch's: ``len`` and ``[i]`` only, an (x, y) pair per row."""

    def __init__(self, X, y) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


class DatasetModel(FixedWidthNet):
    """Takes its X as a map-style dataset, as a skorch net does."""

    def fit(self, X, y):
        rows = np.stack([X[i][0] for i in range(len(X))])
        return super().fit(rows, y)

    def predict_proba(self, X):
        return super().predict_proba(np.stack([X[i][0] for i in range(len(X))]))


def test_a_map_style_dataset_as_X_is_split_by_rows(blobs):
    X, y = blobs
    expected = estimate_pred_probs(FixedWidthNet(), X, y, verbose=False)
    got = estimate_pred_probs(DatasetModel(), MapDataset(X, y), y, verbose=False)
    np.testing.assert_allclose(got, expected)
