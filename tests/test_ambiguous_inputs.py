"""Inputs the API could read more than one way are refused with a clear error (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

import labelaudit as la

LABELS = np.array([0, 0, 1, 1, 2, 2])
PROBS = np.array(
    [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8], [0.5, 0.1, 0.4]]
)
ONE_CLASS = np.zeros(6, dtype=np.int64)
SINGLE = r"labels hold a single class \(0\); label issues need at least two classes with examples"


# -- 1. flags must be bools ----------------------------------------------------------------------
@pytest.mark.parametrize("value", ["yes", "no", 1, 0, None, [True]])
def test_adjust_pred_probs_must_be_a_bool(value) -> None:
    with pytest.raises(TypeError, match=r"adjust_pred_probs must be True or False; found"):
        la.get_label_quality_scores(LABELS, PROBS, adjust_pred_probs=value)
    with pytest.raises(TypeError, match=r"adjust_pred_probs must be True or False"):
        la.find_label_issues(
            LABELS, PROBS, return_indices_ranked_by="self_confidence",
            rank_by_kwargs={"adjust_pred_probs": value},
        )


def test_numpy_bools_are_bools() -> None:
    np.testing.assert_array_equal(
        la.get_label_quality_scores(LABELS, PROBS, adjust_pred_probs=np.True_),
        la.get_label_quality_scores(LABELS, PROBS, adjust_pred_probs=True),
    )


# -- 2. class names name one class each -------------------------------------------------------------
def test_duplicate_class_names_are_refused() -> None:
    for call in (
        lambda: la.health_summary(LABELS, PROBS, class_names=["a", "a", "b"], verbose=False),
        lambda: la.rank_classes_by_label_quality(LABELS, PROBS, class_names=["a", "b", "a"]),
        lambda: la.find_overlapping_classes(LABELS, PROBS, class_names=np.array(["x", "x", "y"])),
    ):
        with pytest.raises(ValueError, match=r"class_names lists 'a' twice|class_names lists 'x' twice"):
            call()


# -- 3. a confident joint must fit the labels -------------------------------------------------------
def test_confident_joint_rows_without_examples_are_refused() -> None:
    """Row 2 counts examples given class 2, but no label is 2: the matrix came from other labels."""
    cj = [[3, 1, 0], [0, 4, 0], [0, 1, 2]]
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    pattern = r"confident_joint row 2 \(given class 2\) counts 3 examples, but labels have none of class 2"
    for call in (
        lambda: la.estimate_latent(cj, labels),
        lambda: la.calibrate_confident_joint(cj, labels),
        lambda: la.estimate_joint(labels, confident_joint=cj),
        lambda: la.health_summary(labels, confident_joint=cj, verbose=False),
    ):
        with pytest.raises(ValueError, match=pattern):
            call()


def test_labels_outside_the_confident_joint_name_it() -> None:
    with pytest.raises(ValueError, match=r"labels contain 2, but confident_joint is 2 x 2 \(classes 0\.\.1\)"):
        la.estimate_latent([[3, 1], [0, 4]], [0, 1, 2, 2])


@pytest.mark.parametrize(
    "cj, exc, pattern",
    [
        ([[1, 0, 0], [0, 1, 0]], ValueError, r"confident_joint must be a square K x K matrix; found shape \(2, 3\)"),
        ([[1, -1], [0, 1]], ValueError, r"confident_joint must hold finite, non-negative counts"),
        ([[1, np.nan], [0, 1]], ValueError, r"confident_joint must hold finite, non-negative counts"),
        (np.eye(2) * (1 + 1j), TypeError, r"confident_joint must be a real-valued K x K matrix; found dtype complex128"),
        ([[True, False], [False, True]], TypeError, r"found dtype bool"),
    ],
)
def test_confident_joint_shape_and_values(cj, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        la.estimate_latent(cj, [0, 1])


def test_confident_joint_with_an_unlabelled_class_is_valid() -> None:
    """A class with no example (empty row) is valid data, as with a pred_probs column."""
    py, _, inverse = la.estimate_latent([[3, 1, 0], [0, 4, 0], [0, 0, 0]], [0, 0, 0, 0, 1, 1, 1, 1])
    assert py.tolist() == [0.375, 0.625, 0.0]
    assert inverse[:, 2].tolist() == [0.0, 0.0, 1.0]


# -- 4. integer labels with no pred_probs: K is not guessed from the largest label --------------------
def test_estimate_pred_probs_refuses_a_gap_in_integer_labels() -> None:
    from sklearn.dummy import DummyClassifier

    labels = np.array([0, 0, 1, 1, 5, 5])
    with pytest.raises(ValueError, match=r"labels are class indices 0\.\.5 but 2, 3, 4 have no example.*classes=np\.unique\(labels\).*classes=range\(6\)"):
        la.estimate_pred_probs(DummyClassifier(), np.zeros((6, 1)), labels, cv=2, verbose=False)
    three = la.estimate_pred_probs(DummyClassifier(), np.zeros((6, 1)), labels, cv=2, verbose=False, classes=[0, 1, 5])
    assert three.shape == (6, 3)
    with pytest.warns(UserWarning, match="fewer examples than cv"):
        six = la.estimate_pred_probs(DummyClassifier(), np.zeros((6, 1)), labels, cv=2, verbose=False, classes=range(6))
    assert six.shape == (6, 6) and not six[:, 2:5].any()


def test_multiannotator_without_pred_probs_refuses_a_gap() -> None:
    from labelaudit.multiannotator import get_label_quality_multiannotator

    labels = np.array([[0, 0], [1, 1], [5, 5], [0, 1]])
    with pytest.raises(ValueError, match=r"labels in labels_multiannotator are class indices 0\.\.5 but 2, 3, 4 have no example.*pred_probs"):
        get_label_quality_multiannotator(labels)
    with pytest.raises(ValueError, match=r"labels in labels_multiannotator hold a single class \(0\)"):
        get_label_quality_multiannotator(np.zeros((3, 2)))
    # with pred_probs its columns give the classes: an unused class is valid
    probs = np.full((4, 6), 1 / 6)
    assert len(get_label_quality_multiannotator(labels, probs)["label_quality"]) == 4


# -- 5. classes of one type --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "classes",
    [[0, "b", "c"], np.array([0, "b", "c"], dtype=object), [np.int64(0), "b", "c"], [True, 1, 2]],
)
def test_mixed_type_classes_are_refused(classes) -> None:
    with pytest.raises(TypeError, match=r"classes mixes types"):
        la.find_label_issues(LABELS, PROBS, classes=classes)


def test_mixed_type_labels_are_refused() -> None:
    with pytest.raises(TypeError, match=r"labels mixes types: 0 \(int\), 'b' \(str\)"):
        la.find_label_issues([0, "b", "c", "c", "b", 0], PROBS)


def test_numpy_and_python_ints_are_one_type() -> None:
    expected = la.find_label_issues(LABELS, PROBS, classes=[0, 1, 2])
    same = la.find_label_issues(LABELS, PROBS, classes=[np.int64(0), 1, np.int32(2)])
    np.testing.assert_array_equal(expected, same)
    np.testing.assert_array_equal(expected, la.find_label_issues([np.int64(0), 0, 1, 1, 2, 2], PROBS))


# -- 6. a single class ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda y, p: la.find_label_issues(y, p),
        lambda y, p: la.find_label_issues(y, p, filter_by="predicted_neq_given"),
        lambda y, p: la.find_label_issues(y, p, filter_by="low_self_confidence", confident_joint=np.eye(3)),
        lambda y, p: la.health_summary(y, p, verbose=False),
        lambda y, p: la.overall_label_health_score(y, p),
        lambda y, p: la.compute_confident_joint(y, p),
        lambda y, p: la.num_label_issues(y, p),
        lambda y, p: la.num_label_issues(y, p, estimation_method="off_diagonal_custom", confident_joint=np.eye(3)),
        lambda y, p: la.estimate_joint(y, p),
        lambda y, p: la.estimate_joint(y, confident_joint=np.eye(3)),
        lambda y, p: la.estimate_latent(np.eye(3), y),
        lambda y, p: la.calibrate_confident_joint(np.eye(3), y),
        lambda y, p: la.health_summary(y, confident_joint=np.eye(3), verbose=False),
        lambda y, p: la.LabelIssueFinder().fit(lambda: [(y[:3], p[:3]), (y[3:], p[3:])]),
    ],
)
def test_a_single_class_is_refused(call) -> None:
    with pytest.raises(ValueError, match=SINGLE):
        call(ONE_CLASS, PROBS)


def test_single_class_names_the_class() -> None:
    with pytest.raises(ValueError, match=r"labels hold a single class \('cat'\)"):
        la.find_label_issues(["cat"] * 6, PROBS, classes=["cat", "dog", "fox"])


def test_single_class_comes_after_the_value_checks() -> None:
    """Pass 1 finds both; a bad value is reported first, as with two classes."""
    bad = PROBS.copy()
    bad[4] = [np.nan, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"NaN or inf \(first in row 4\)"):
        la.find_label_issues(ONE_CLASS, bad)


def test_a_class_without_examples_is_still_valid() -> None:
    two_of_three = np.array([0, 0, 0, 1, 1, 1])
    assert la.find_label_issues(two_of_three, PROBS).shape == (6,)
    assert la.health_summary(two_of_three, PROBS, verbose=False).num_examples == 6


def test_scores_of_a_single_class_are_still_given() -> None:
    """Scores are per row and need no thresholds; only estimates of noise need two classes."""
    scores = la.get_label_quality_scores(ONE_CLASS, PROBS)
    np.testing.assert_allclose(scores, PROBS[:, 0])


def test_single_class_over_dask() -> None:
    da = pytest.importorskip("dask.array")
    from labelaudit import dask as ldask

    chunked = da.from_array(PROBS, chunks=(2, 3))
    with pytest.raises(ValueError, match=SINGLE):
        ldask.find_label_issues(ONE_CLASS, chunked, compute=True)
    with pytest.raises(ValueError, match=SINGLE):
        la.find_label_issues(ONE_CLASS, chunked)
    with pytest.raises(ValueError, match=SINGLE):
        ldask.health_summary(ONE_CLASS, chunked, verbose=False)
    with pytest.raises(ValueError, match=SINGLE):
        ldask.num_label_issues(da.from_array(ONE_CLASS, chunks=2), chunked)


def test_structured_modules_with_a_single_class() -> None:
    from labelaudit import multilabel, segmentation, token

    with pytest.raises(ValueError, match=SINGLE):
        token.find_label_issues([[0, 0], [0, 0, 0]], [PROBS[:2], PROBS[2:5]])
    labels = np.zeros((2, 2, 2), dtype=np.int64)
    probs = np.full((2, 2, 2, 2), 0.5)
    with pytest.raises(ValueError, match=SINGLE):
        segmentation.find_label_issues(labels, probs, verbose=False)
    # multi-label: a class given to every example has no "absent" side; it flags nothing
    every = [[0], [0, 1], [0], [0, 1]]
    probs = np.array([[0.9, 0.1], [0.2, 0.9], [0.8, 0.2], [0.9, 0.1]])
    class_1 = la.find_label_issues([0, 1, 0, 1], np.column_stack([1 - probs[:, 1], probs[:, 1]]))
    assert class_1.any()
    np.testing.assert_array_equal(multilabel.find_label_issues(every, probs), class_1)
    for calibrate in (True, False):
        cj, off = multilabel.compute_confident_joint(
            every, probs, calibrate=calibrate, return_indices_of_off_diagonals=True
        )
        assert cj[0].tolist() == [[0, 0], [0, 4]] and off[0].tolist() == []
    none = multilabel.find_label_issues([[], []], np.array([[0.9, 0.1], [0.2, 0.3]]), filter_by="predicted_neq_given")
    assert none.tolist() == [False, False]
    table = multilabel.rank_classes_by_multilabel_quality(every, probs)
    assert table.set_index("class").loc[0, "label_issues"] == 0


def test_audit_label_check_skips_a_single_class() -> None:
    import pandas as pd

    audit = la.Audit(data=pd.DataFrame({"y": ONE_CLASS}), label="y")
    audit.run(pred_probs=PROBS, issue_types={"label": {}}, verbose=False)
    record = audit.summary.set_index("issue_type").loc["label"]
    assert record["num_issues"] == 0
    assert np.isnan(record["score"])
    assert audit.get_issues("label").empty
    assert audit.issues["label_score"].isna().all()
    assert record["note"].startswith("every row left out: labels hold a single class (0)")


def test_clean_learning_with_a_single_class() -> None:
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match=r"y hold a single class \(0\)"):
        la.CleanLearning(LogisticRegression(), cv=2).fit(X, ONE_CLASS)
    with pytest.raises(ValueError, match=r"y hold a single class \(0\)"):
        la.CleanLearning(LogisticRegression()).fit(X, ONE_CLASS, pred_probs=PROBS)


# -- 7. models without predict_proba -----------------------------------------------------------------
def test_model_without_predict_proba_is_refused_up_front() -> None:
    from sklearn.svm import LinearSVC

    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.repeat([0, 1], 10)
    pattern = r"model \(LinearSVC\) has no predict_proba.*CalibratedClassifierCV.*method='decision_function'"
    with pytest.raises(TypeError, match=pattern):
        la.estimate_pred_probs(LinearSVC(), X, y, cv=2, verbose=False)
    assert la.estimate_pred_probs(LinearSVC(), X, y, cv=2, verbose=False, method="decision_function").shape == (20, 2)
    with pytest.raises(TypeError, match=r"model \(LinearSVC\) has no predict_proba.*CalibratedClassifierCV"):
        la.CleanLearning(LinearSVC(), cv=2).fit(X, y)


def test_model_without_any_score_is_refused() -> None:
    from sklearn.base import BaseEstimator, ClassifierMixin

    class OnlyPredicts(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X), dtype=int)

    X, y = np.zeros((20, 1)), np.repeat([0, 1], 10)
    with pytest.raises(TypeError, match=r"model \(OnlyPredicts\) has neither predict_proba nor decision_function"):
        la.estimate_pred_probs(OnlyPredicts(), X, y, cv=2, verbose=False)
    with pytest.raises(TypeError, match=r"model \(OnlyPredicts\) has neither predict_proba nor decision_function"):
        la.estimate_pred_probs(OnlyPredicts(), X, y, cv=2, verbose=False, method="decision_function")
    from sklearn.naive_bayes import GaussianNB

    with pytest.raises(TypeError, match=r"model \(GaussianNB\) has no decision_function; use method='predict_proba'"):
        la.estimate_pred_probs(GaussianNB(), X, y, cv=2, verbose=False, method="decision_function")


def test_model_class_instead_of_instance() -> None:
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match=r"model is the class LogisticRegression; pass an instance, e\.g\. LogisticRegression\(\)"):
        la.estimate_pred_probs(LogisticRegression, np.zeros((20, 1)), np.repeat([0, 1], 10), cv=2, verbose=False)


# -- found while in these files -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: la.compute_confident_joint(LABELS, PROBS, calibrate=v), "calibrate"),
        (lambda v: la.compute_confident_joint(LABELS, PROBS, return_indices_of_off_diagonals=v),
         "return_indices_of_off_diagonals"),
        (lambda v: la.compute_confident_joint(LABELS, PROBS, multi_label=v), "multi_label"),
        (lambda v: la.find_overlapping_classes(LABELS, PROBS, asymmetric=v), "asymmetric"),
        (lambda v: la.health_summary(LABELS, PROBS, verbose=v), "verbose"),
        (lambda v: la.estimate_pred_probs(_Prior(), np.zeros((6, 1)), LABELS, cv=2, verbose=v), "verbose"),
    ],
)
def test_every_flag_is_a_bool(call, name) -> None:
    """A string such as "no" is truthy: these all did the opposite of what it says."""
    with pytest.raises(TypeError, match=rf"{name} must be True or False; found 'no' \(str\)"):
        call("no")


def test_multilabel_flags_and_options_are_checked_without_any_class_to_run() -> None:
    from labelaudit import multilabel

    every = [[0], [0]]  # one-sided: the core is never called, the options are still checked
    probs = np.array([[0.9, 0.1], [0.8, 0.3]])
    with pytest.raises(TypeError, match=r"calibrate must be True or False"):
        multilabel.compute_confident_joint(every, probs, calibrate="no")
    with pytest.raises(ValueError, match=r"min_examples_per_class=-1 is not valid"):
        multilabel.find_label_issues(every, probs, min_examples_per_class=-1)
    with pytest.raises(TypeError, match=r"classes mixes types"):
        multilabel.find_label_issues(every, probs, classes=[0, "b"])
    with pytest.raises(ValueError, match=r"classes lists 'a' twice"):
        multilabel.find_label_issues([["a"], ["a"]], probs, classes=["a", "a"])


def test_string_and_set_classes_and_class_names() -> None:
    with pytest.raises(TypeError, match=r"classes must be a list or array .* found set"):
        la.find_label_issues(["a", "b", "c", "a", "b", "c"], PROBS, classes={"a", "b", "c"})
    with pytest.raises(TypeError, match=r"classes must be a list or array .* found str"):
        la.find_label_issues(["a", "b", "c", "a", "b", "c"], PROBS, classes="abc")
    with pytest.raises(TypeError, match=r"class_names must be a list or array of 3 names.* found str"):
        la.health_summary(LABELS, PROBS, class_names="abc", verbose=False)


def test_integer_labels_with_named_classes_say_why() -> None:
    with pytest.raises(ValueError, match=r"labels that are already column indices need no classes="):
        la.find_label_issues(LABELS, PROBS, classes=["a", "b", "c"])


def test_negative_labels_do_not_blame_pred_probs() -> None:
    with pytest.raises(ValueError, match=r"labels contain -1; class indices start at 0"):
        la.find_label_issues([0, -1, 1, 1, 2, 2], PROBS)


def test_dataframe_columns_that_name_the_classes_in_another_order() -> None:
    """Without classes= the columns are taken to be the sorted labels: here that is wrong."""
    import pandas as pd

    frame = pd.DataFrame(PROBS[:, :2] / PROBS[:, :2].sum(axis=1, keepdims=True), columns=["dog", "cat"])
    names = ["dog", "dog", "cat", "cat", "cat", "dog"]
    with pytest.warns(UserWarning), pytest.raises(
        ValueError, match=r"pred_probs has columns \['dog', 'cat'\].*classes=list\(pred_probs\.columns\)"
    ):
        la.get_label_quality_scores(names, frame)
    scores = la.get_label_quality_scores(names, frame, classes=list(frame.columns))
    np.testing.assert_allclose(scores[:2], frame["dog"][:2])
    with pytest.warns(UserWarning):  # columns in the sorted order: as assumed
        la.get_label_quality_scores(names, frame[["cat", "dog"]])


def test_health_joint_is_used_as_given_and_alone() -> None:
    joint = np.array([[0.4, 0.1], [0.0, 0.5]])
    labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    probs = np.full((10, 2), 0.5)
    with pytest.raises(ValueError, match=r"joint= is used as given, so confident_joint would be ignored"):
        la.rank_classes_by_label_quality(labels, joint=joint, confident_joint=[[4, 1], [0, 5]])
    with pytest.raises(ValueError, match=r"joint= is used as given, so pred_probs would be ignored"):
        la.rank_classes_by_label_quality(labels, probs, joint=joint)
    with pytest.raises(ValueError, match=r"num_examples=7 but labels has 10 entries"):
        la.rank_classes_by_label_quality(labels, joint=joint, num_examples=7)
    for bad in (-4, 0, 2.5, True):
        with pytest.raises(ValueError, match=r"num_examples=.* is not valid"):
            la.rank_classes_by_label_quality(joint=joint, num_examples=bad)
    with pytest.raises(ValueError, match=r"joint must hold finite, non-negative counts"):
        la.rank_classes_by_label_quality(joint=[[0.6, -0.1], [0.0, 0.5]], num_examples=4)
    with pytest.raises(ValueError, match=r"labels contain 2, but joint is 2 x 2"):
        la.rank_classes_by_label_quality([0, 1, 2], joint=joint)
    with pytest.raises(ValueError, match=r"the rows of joint hold a single class \(0\)"):
        la.rank_classes_by_label_quality(joint=[[0.5, 0.5], [0.0, 0.0]], num_examples=4)
    named = la.rank_classes_by_label_quality(joint=joint, num_examples=10, classes=["a", "b"])
    assert sorted(named["class_name"]) == ["a", "b"]
    assert la.rank_classes_by_label_quality(labels, joint=joint, num_examples=10)["label_issues"].sum() == 1


def test_health_confident_joint_and_pred_probs_must_agree() -> None:
    with pytest.raises(ValueError, match=r"confident_joint is 2 x 2 but pred_probs has 3 columns"):
        la.health_summary(np.array([0, 0, 1, 1, 1, 0]), PROBS, confident_joint=[[2, 1], [0, 3]], verbose=False)


def test_streaming_class_names_need_classes() -> None:
    """Each batch alone would take its own sorted order of names."""
    names = np.array(["a", "b", "c", "a", "b", "c"])
    finder = la.LabelIssueFinder()
    with pytest.raises(ValueError, match=r"labels of dtype <U1 are class names; pass classes=.*batches are encoded one by one"):
        finder.update(names[:3], PROBS[:3])
    with pytest.raises(TypeError, match=r"classes mixes types"):
        la.LabelIssueFinder(classes=["a", 1, "c"]).update(names[:3], PROBS[:3])
    done = la.LabelIssueFinder(classes=["a", "b", "c"]).fit(lambda: [(names[:3], PROBS[:3]), (names[3:], PROBS[3:])])
    np.testing.assert_array_equal(done.label_issues_, la.find_label_issues(LABELS[[0, 2, 4, 1, 3, 5]], PROBS))


def test_dask_classes_are_checked_up_front() -> None:
    da = pytest.importorskip("dask.array")
    chunked = da.from_array(PROBS, chunks=(2, 3))
    with pytest.raises(TypeError, match=r"classes mixes types"):
        la.find_label_issues(np.array(["a", "b", "c"] * 2), chunked, classes=["a", 1, "c"])
    with pytest.raises(ValueError, match=r"classes lists 'a' twice"):
        la.find_label_issues(np.array(["a", "b", "c"] * 2), chunked, classes=["a", "a", "c"])


def test_num_label_issues_with_a_given_joint_still_checks_pred_probs() -> None:
    bad = PROBS.copy()
    bad[3] = [np.nan, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"NaN or inf \(first in row 3\)"):
        la.num_label_issues(LABELS, bad, estimation_method="off_diagonal_custom", confident_joint=np.eye(3))


def test_clean_learning_reads_integer_labels_as_column_positions_like_the_core() -> None:
    X = np.zeros((6, 1))
    y = np.array([0, 0, 0, 1, 1, 1])  # class 2 of the three columns has no examples
    found = la.CleanLearning().find_label_issues(X, y, pred_probs=PROBS)
    expected = la.get_label_quality_scores(y, PROBS)
    np.testing.assert_array_equal(found["label_quality"].to_numpy(), expected)
    with pytest.raises(ValueError, match="pred_probs"):
        la.CleanLearning().find_label_issues(X, np.array([0, 0, 0, 1, 1, 3]), pred_probs=PROBS)


class _Prior:
    """A minimal classifier: the class shares of its training labels."""

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.share_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.share_, (len(X), 1))

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self
