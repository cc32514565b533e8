"""Issue 16: CleanLearning and the count-module helpers under the reference's names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

import labelaudit
from labelaudit import (
    CleanLearning,
    compute_confident_joint,
    estimate_pred_probs,
    find_label_issues,
    get_label_quality_scores,
)
from labelaudit.models import (
    estimate_confident_joint_and_cv_pred_proba,
    estimate_cv_predicted_probabilities,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(n_samples=90, centers=[[-3, 0], [3, 0], [0, 4]], random_state=0)


class Centroids:
    """A duck-typed classifier (no scikit-learn base class, no get_params) whose fit returns
    None; it records the keyword arguments of every fit."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def fit(self, X, y, **kwargs):
        self.calls.append(kwargs)
        self.classes_ = np.unique(y)
        self.centers_ = np.array([np.asarray(X)[y == c].mean(axis=0) for c in self.classes_])

    def predict_proba(self, X):
        d = ((np.asarray(X)[:, None] - self.centers_[None]) ** 2).sum(axis=2)
        p = np.exp(-(d - d.min(axis=1, keepdims=True)))
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# -- defect: labels are read by pred_probs' columns, as the core reads them ----------------------


def test_a_class_with_a_column_and_no_example_keeps_its_column():
    labels = np.array([0, 0, 2, 2])
    pred_probs = np.array([[.7, .1, .1, .1], [.6, .2, .1, .1], [.1, .1, .7, .1], [.5, .1, .3, .1]])
    clf = CleanLearning(find_label_issues_kwargs={"min_examples_per_class": 0})
    issues = clf.find_label_issues(labels=labels, pred_probs=pred_probs)
    expected = find_label_issues(labels, pred_probs, filter_by="auto", min_examples_per_class=0)
    np.testing.assert_array_equal(issues["is_label_issue"], expected)
    np.testing.assert_allclose(issues["label_quality"], [.7, .6, .7, .3])  # column 2, not 1
    assert issues["given_label"].tolist() == [0, 0, 2, 2]
    assert issues["predicted_label"].tolist() == [0, 0, 2, 0]
    assert clf.confident_joint_.shape == (4, 4)


def test_label_2_rows_are_scored_against_column_2_when_no_prediction_lands_there():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    pred_probs = np.array([[.8, .1, .1]] * 3 + [[.1, .8, .1]] * 3 + [[.33, .33, .34], [.32, .36, .32],
                                                                   [.4, .3, .3]])
    issues = CleanLearning().find_label_issues(labels=labels, pred_probs=pred_probs)
    np.testing.assert_allclose(issues["label_quality"][6:], [.34, .32, .3])
    np.testing.assert_allclose(issues["label_quality"], get_label_quality_scores(labels, pred_probs))


def test_fit_with_pred_probs_keeps_every_column_as_a_class(blobs):
    X, y = blobs
    labels = np.where(y == 1, 2, y)  # classes 0 and 2, with three columns
    pred_probs = estimate_pred_probs(LogisticRegression(), X, labels, classes=range(3), verbose=False)
    clf = CleanLearning().fit(X, labels, pred_probs=pred_probs)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert set(clf.predict(X)) <= {0, 2}
    assert (clf.predict_proba(X)[:, 1] == 0).all()
    with pytest.raises(ValueError, match=r"y holds class 2 but pred_probs has 2 columns"):
        CleanLearning().fit(X, labels, pred_probs=pred_probs[:, :2] / pred_probs[:, :2].sum(1, keepdims=True))


# -- defect: the model object is kept; duck-typed models are copied --------------------------------


def test_a_duck_typed_model_whose_fit_returns_none(blobs):
    X, y = blobs
    model = Centroids()
    clf = CleanLearning(model, cv=3).fit(X, y)
    assert isinstance(clf.model_, Centroids) and clf.model_ is not model
    assert model.calls == []  # the given model was copied, never fitted
    assert (clf.predict(X) == y).mean() > 0.95
    assert clf.predict_proba(X).shape == (90, 3)
    assert clf.score(X, y) == pytest.approx((clf.predict(X) == y).mean())  # no score: accuracy


# -- the reference's keywords ----------------------------------------------------------------------


def test_clf_kwargs_reach_every_fit_and_validation_func_the_folds(blobs):
    X, y = blobs
    seen = []

    def validation(X_val, y_val):
        seen.append((len(X_val), np.asarray(y_val).dtype))
        return {"validation_size": len(X_val)}

    clf = CleanLearning(Centroids(), cv=3).fit(
        X, y, clf_kwargs={"epochs": 2}, clf_final_kwargs={"final": True}, validation_func=validation
    )
    assert seen == [(30, np.int64)] * 3
    kept = int((~clf.label_issues_mask_).sum())
    assert clf.model_.calls == [{"epochs": 2, "final": True}]  # no validation data, no weights
    assert kept == 90 - int(clf.label_issues_mask_.sum())
    with pytest.raises(TypeError, match="validation_func must be a function"):
        CleanLearning().fit(X, y, validation_func=3)
    with pytest.raises(ValueError, match="sample_weight in clf_kwargs"):
        CleanLearning().fit(X, y, clf_kwargs={"sample_weight": np.ones(90)})
    with pytest.raises(ValueError, match="Centroids.fit takes no sample_weight"):  # **kwargs is not enough
        CleanLearning(Centroids()).fit(X, y, sample_weight=np.ones(90))


def test_a_given_noise_matrix_gives_the_prior_and_the_inverse():
    labels = np.array([0] * 6 + [1] * 4)  # ps = [.6, .4]
    pred_probs = np.eye(2)[labels] * 0.8 + 0.1
    nm = np.array([[.8, .2], [.2, .8]])
    clf = CleanLearning()
    clf.find_label_issues(labels=labels, pred_probs=pred_probs, noise_matrix=nm)
    # .8 a + .2 (1 - a) = .6: py = [2/3, 1/3]; P(true | given) = joint / ps
    np.testing.assert_allclose(clf.py_, [2 / 3, 1 / 3])
    np.testing.assert_allclose(clf.inverse_noise_matrix_, [[8 / 9, 1 / 3], [1 / 9, 2 / 3]])
    np.testing.assert_array_equal(clf.noise_matrix_, nm)
    clf.find_label_issues(labels=labels, pred_probs=pred_probs, inverse_noise_matrix=clf.inverse_noise_matrix_)
    np.testing.assert_allclose(clf.noise_matrix_, nm)
    with pytest.raises(ValueError, match=r"noise_matrix has trace 0\.8; it must exceed 1"):
        clf.find_label_issues(labels=labels, pred_probs=pred_probs, noise_matrix=[[.4, .6], [.6, .4]])
    with pytest.raises(ValueError, match="columns each sum to 1"):
        clf.find_label_issues(labels=labels, pred_probs=pred_probs, noise_matrix=[[.9, .2], [.2, .9]])


def test_fitted_estimates_match_the_core(blobs):
    X, y = blobs
    pred_probs = estimate_pred_probs(LogisticRegression(), X, y, verbose=False)
    clf = CleanLearning().fit(X, y, pred_probs=pred_probs)
    cj = compute_confident_joint(y, pred_probs)
    np.testing.assert_array_equal(clf.confident_joint_, cj)
    py, nm, inv = labelaudit.estimate_latent(cj, y)
    np.testing.assert_allclose(clf.py_, py)
    np.testing.assert_allclose(clf.noise_matrix_, nm)
    np.testing.assert_allclose(clf.inverse_noise_matrix_, inv)
    np.testing.assert_allclose(clf.ps_, np.bincount(y) / 90)
    assert clf.num_classes_ == 3
    assert clf.label_issues_df_ is clf.get_label_issues() is clf.label_issues_
    assert list(clf.label_issues_.columns)[-1] == "sample_weight"


def test_label_issues_as_indices_or_a_frame_with_pred_probs(blobs):
    X, y = blobs
    pred_probs = estimate_pred_probs(LogisticRegression(), X, y, verbose=False)
    clf = CleanLearning().fit(X, y, label_issues=np.array([4, 7]), pred_probs=pred_probs)
    np.testing.assert_array_equal(np.flatnonzero(clf.label_issues_mask_), [4, 7])
    np.testing.assert_allclose(clf.label_issues_["label_quality"], get_label_quality_scores(y, pred_probs))
    assert clf.sample_weight_ is None  # no noise matrix known: no automatic weights
    frame = pd.DataFrame({"is_label_issue": np.zeros(90, bool), "given_label": (y + 1) % 3})
    with pytest.raises(ValueError, match=r"label_issues\['given_label'\] differs"):
        CleanLearning().fit(X, y, label_issues=frame)
    with pytest.raises(ValueError, match=r"unique row indices in 0\.\.89"):
        CleanLearning().fit(X, y, label_issues=np.array([3, 3]))


def test_get_label_issues_save_space_and_score(blobs):
    X, y = blobs
    clf = CleanLearning(cv=3)
    with pytest.warns(UserWarning, match="no label issues yet"):
        assert clf.get_label_issues() is None
    clf.find_label_issues(X, y, save_space=True)
    assert not hasattr(clf, "label_issues_")
    clf.fit(X, y)
    assert clf.save_space() is clf
    assert not hasattr(clf, "label_issues_") and not hasattr(clf, "noise_matrix_")
    weights = np.r_[np.zeros(45), np.ones(45)]
    expected = clf.model_.score(X[45:], y[45:])
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(expected)


def test_the_reference_constructor_names(blobs):
    X, y = blobs
    a = CleanLearning(clf=DummyClassifier(), seed=3, cv_n_folds=3).fit(X, y)
    b = CleanLearning(DummyClassifier(), random_state=3, cv=3).fit(X, y)
    assert isinstance(a.model_, DummyClassifier)
    pd.testing.assert_frame_equal(a.label_issues_, b.label_issues_)
    with pytest.raises(ValueError, match="pass model or clf, not both"):
        CleanLearning(LogisticRegression(), clf=DummyClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="pass cv or cv_n_folds, not both"):
        CleanLearning(cv=3, cv_n_folds=4).fit(X, y)


# -- the count module's cross-validation ----------------------------------------------------------


def test_count_module_functions(blobs):
    X, y = blobs
    expected = estimate_pred_probs(LogisticRegression(), X, y, cv=3, random_state=1, verbose=False)
    pred_probs = estimate_cv_predicted_probabilities(X, y, cv_n_folds=3, seed=1)
    np.testing.assert_array_equal(pred_probs, expected)
    cj, again = estimate_confident_joint_and_cv_pred_proba(X, y, cv_n_folds=3, seed=1, calibrate=False)
    np.testing.assert_array_equal(again, expected)
    np.testing.assert_array_equal(cj, compute_confident_joint(y, expected, calibrate=False))
    assert labelaudit.estimate_cv_predicted_probabilities is estimate_cv_predicted_probabilities
    assert labelaudit.estimate_confident_joint_and_cv_pred_proba is estimate_confident_joint_and_cv_pred_proba
