"""Several annotators: hand-checked cases, simulated annotators of known accuracy, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

from labelaudit.multiannotator import (
    ANNOTATOR_COLUMNS,
    LABEL_QUALITY_COLUMNS,
    convert_long_to_wide_dataset,
    get_active_learning_scores,
    get_active_learning_scores_ensemble,
    get_label_quality_multiannotator,
    get_label_quality_multiannotator_ensemble,
    get_majority_vote_label,
)

WIDE = np.array([[0, 0, np.nan], [1, 1, 0], [1, np.nan, 1], [0, 1, 1]])


def _long(wide: np.ndarray) -> pd.DataFrame:
    i, a = np.nonzero(~np.isnan(wide))
    return pd.DataFrame({"example": i, "annotator": [f"a{j}" for j in a], "label": wide[i, a]})


def test_majority_hand_checked() -> None:
    result = get_label_quality_multiannotator(WIDE, consensus_method="majority")
    lq, stats = result["label_quality"], result["annotator_stats"]
    assert list(lq.columns) == LABEL_QUALITY_COLUMNS and list(stats.columns) == ANNOTATOR_COLUMNS
    assert lq["consensus_label"].tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(lq["annotator_agreement"], [1, 2 / 3, 1, 2 / 3])
    assert lq["num_annotations"].tolist() == [2, 3, 2, 3]
    by_name = stats.set_index("annotator")
    np.testing.assert_allclose(
        by_name.loc[[0, 1, 2], "agreement_with_consensus"], [3 / 4, 1.0, 2 / 3]
    )
    assert by_name.loc[[0, 1, 2], "num_examples_labeled"].tolist() == [4, 3, 3]
    # g = 1 - 4 / 10; the label quality of annotator 1's labels: 1, 2/3, 2/3 -> mean 7/9
    np.testing.assert_allclose(by_name.loc[1, "annotator_quality"], 0.6 * 1.0 + 0.4 * 7 / 9)
    assert by_name.loc[0, "worst_class"] == 1


def test_long_table_equals_wide() -> None:
    for method in ("majority", "best_quality", "dawid_skene"):
        wide = get_label_quality_multiannotator(WIDE, consensus_method=method)
        long = get_label_quality_multiannotator(_long(WIDE).iloc[::-1], consensus_method=method)
        pd.testing.assert_frame_equal(wide["label_quality"], long["label_quality"])
        assert long["annotator_stats"]["annotator"].tolist() == [
            f"a{j}" for j in wide["annotator_stats"]["annotator"]
        ]


def test_ties_go_to_model_then_lowest_class() -> None:
    tied = np.array([[0, 1], [1, 0], [2, 2]])
    probs = np.array([[0.2, 0.7, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    no_model = get_label_quality_multiannotator(tied, consensus_method="majority")
    assert no_model["label_quality"]["consensus_label"].tolist() == [0, 0, 2]
    model = get_label_quality_multiannotator(tied, probs, consensus_method="majority")
    assert model["label_quality"]["consensus_label"].tolist() == [1, 1, 2]


def test_crowdlab_hand_checked() -> None:
    # Annotators agree on every shared example: pooled agreement P = 1, each annotation is
    # certain, so the posterior of example 3 (one annotation, weight 1) is
    # (1 * onehot(0) + w_m * p) / (1 + w_m) with w_m = (1 - e_m / e_B) * sqrt(7 / 4).
    labels = np.array([[0, 0], [1, 1], [1, 1], [0, np.nan]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    lq = get_label_quality_multiannotator(labels, probs)["label_quality"]
    w_m = (1 - (1 / 3) / (1 / 3)) * np.sqrt(7 / 4)  # model wrong on 1 of 3 shared; baseline 1/3
    w_m = max(w_m, 1e-3 * np.sqrt(7 / 4))
    np.testing.assert_allclose(lq["consensus_quality_score"][3], (1 + w_m * 0.3) / (1 + w_m))
    assert lq["consensus_label"].tolist() == [0, 1, 1, 0]


def test_crowdlab_votes_are_chance_corrected() -> None:
    # Three annotators, K = 2; shared examples 0-3 and 5, majority 0, 1, 1, 0, 1 (e_B = 2/5).
    # Agreement with the others: 4/5, 4/5, 1/2 -> w = 1/2, 1/2, 0.001. Annotations equal to the
    # majority: 12 of 14, P = 6/7, kappa = (2 P - 1) / (2 - 1) = 5/7. The model misses example
    # 3 of the five: w_m = (1 - (1/5) / (2/5)) * sqrt(15 / 6).
    labels = np.array(
        [[0, 0, 0], [1, 1, 1], [1, 1, 0], [0, 0, 1], [1, np.nan, np.nan], [1, 1, np.nan]]
    )
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7], [0.45, 0.55], [0.45, 0.55]])
    lq = get_label_quality_multiannotator(labels, probs)["label_quality"]
    kappa, w_m = 5 / 7, 0.5 * np.sqrt(15 / 6)
    vote = kappa * 0.5
    expected = [
        (2 * vote + w_m * 0.6) / (2 * vote + kappa * 0.001 + w_m),  # example 2: 1, 1 and 0
        (vote + w_m * 0.55) / (vote + w_m),  # example 4: one vote for 1
        (2 * vote + w_m * 0.55) / (2 * vote + w_m),  # example 5: two votes for 1
    ]
    np.testing.assert_allclose(lq["consensus_quality_score"][[2, 4, 5]], expected)
    assert lq["consensus_label"].tolist() == [0, 1, 1, 0, 1, 1]
    # one more agreeing annotation never lowers the score (the paper's uniform part can)
    assert lq["consensus_quality_score"][5] > lq["consensus_quality_score"][4]


def simulate(seed: int = 0, n: int = 3000, k: int = 4, m: int = 15, sep: float = 2.0):
    """Gaussian classes; m annotators of accuracy U(0.45, 0.95), 1-3 per example; CV pred_probs
    from a model trained on the majority consensus."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, 8)) + sep * np.eye(k, 8)[y]
    accuracy = rng.uniform(0.45, 0.95, m)
    labels = np.full((n, m), np.nan)
    per_example = rng.integers(1, 4, n)
    for i in range(n):
        for a in rng.choice(m, size=per_example[i], replace=False):
            wrong = (y[i] + rng.integers(1, k)) % k
            labels[i, a] = y[i] if rng.random() < accuracy[a] else wrong
    majority = get_label_quality_multiannotator(labels, consensus_method="majority")[
        "label_quality"
    ]
    probs = cross_val_predict(
        LogisticRegression(max_iter=500),
        X,
        majority["consensus_label"],
        cv=5,
        method="predict_proba",
    )
    return labels, probs, y, accuracy


def test_simulated_annotators() -> None:
    labels, probs, y, accuracy = simulate()
    acc = {}
    for method in ("majority", "dawid_skene", "best_quality"):
        result = get_label_quality_multiannotator(labels, probs, consensus_method=method)
        lq = result["label_quality"]
        acc[method] = float((lq["consensus_label"] == y).mean())
        stats = result["annotator_stats"].sort_values("annotator")
        assert np.corrcoef(stats["annotator_quality"], accuracy)[0, 1] > 0.9
        wrong = lq["consensus_label"].to_numpy() != y
        assert roc_auc_score(wrong, -lq["consensus_quality_score"]) > 0.75
    assert acc["best_quality"] > 0.9  # measured 0.918 (majority 0.859, dawid_skene 0.822)
    assert acc["best_quality"] > acc["majority"] + 0.05 and acc["best_quality"] > acc["dawid_skene"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crowdlab_detects_wrong_consensus(seed: int) -> None:
    # measured AUROC / AUPRC 0.895 / 0.406, 0.870 / 0.418, 0.882 / 0.465 (the paper's uniform
    # likelihood part: 0.888 / 0.396, 0.864 / 0.413, 0.874 / 0.454, the same consensus)
    labels, probs, y, _ = simulate(seed)
    lq = get_label_quality_multiannotator(labels, probs)["label_quality"]
    wrong = lq["consensus_label"].to_numpy() != y
    scores = lq["consensus_quality_score"].to_numpy()
    assert roc_auc_score(wrong, -scores) > 0.86
    assert average_precision_score(wrong, -scores) > 0.40
    # deterministic, and rows in another order give the same rows' results
    again = get_label_quality_multiannotator(labels, probs)["label_quality"]
    pd.testing.assert_frame_equal(lq, again)
    order = np.random.default_rng(seed).permutation(len(y))
    shuffled = get_label_quality_multiannotator(labels[order], probs[order])["label_quality"]
    pd.testing.assert_frame_equal(lq.iloc[order].reset_index(drop=True), shuffled)


def test_ensemble_of_copies_equals_one_model() -> None:
    labels, probs, _, _ = simulate(n=400)
    one = get_label_quality_multiannotator(labels, probs)
    two = get_label_quality_multiannotator(labels, [probs, probs])
    pd.testing.assert_frame_equal(one["label_quality"], two["label_quality"])


def test_active_learning_scores() -> None:
    labels, probs, _, _ = simulate(n=600)
    unlabeled = np.array([[0.97, 0.01, 0.01, 0.01], [0.25, 0.25, 0.25, 0.25]])
    labeled, scores = get_active_learning_scores(labels, probs, unlabeled)
    assert labeled.shape == (600,) and scores.shape == (2,)
    assert scores[1] < scores[0]
    quality = get_label_quality_multiannotator(labels, probs)["label_quality"]
    np.testing.assert_allclose(labeled, quality["consensus_quality_score"])
    none, only = get_active_learning_scores(pred_probs_unlabeled=unlabeled)
    assert none.shape == (0,) and only.tolist() == [0.97, 0.25]
    labeled_only, empty = get_active_learning_scores(labels, probs)
    np.testing.assert_array_equal(labeled_only, labeled)
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)
    ensemble = get_active_learning_scores_ensemble(
        labels, np.stack([probs, probs]), np.stack([unlabeled] * 2)
    )
    np.testing.assert_allclose(ensemble[0], labeled)
    np.testing.assert_allclose(ensemble[1], scores)


def test_agreement_quality() -> None:
    result = get_label_quality_multiannotator(
        WIDE, consensus_method="majority_vote", quality_method="agreement"
    )
    lq, stats = result["label_quality"], result["annotator_stats"].set_index("annotator")
    np.testing.assert_allclose(lq["consensus_quality_score"], [1, 2 / 3, 1, 2 / 3])
    np.testing.assert_allclose(stats.loc[[0, 1, 2], "annotator_quality"], [3 / 4, 1.0, 2 / 3])
    detailed = result["detailed_label_quality"]
    assert list(detailed.columns) == [
        "quality_annotator_0",
        "quality_annotator_1",
        "quality_annotator_2",
    ]
    np.testing.assert_allclose(
        detailed.to_numpy(),
        [[1, 1, np.nan], [2 / 3, 2 / 3, 1 / 3], [1, np.nan, 1], [1 / 3, 2 / 3, 2 / 3]],
    )


def test_detailed_quality_and_weights() -> None:
    # the case of test_crowdlab_votes_are_chance_corrected: kappa = 5/7, w_j = 1/2, 1/2, 0.001
    labels = np.array(
        [[0, 0, 0], [1, 1, 1], [1, 1, 0], [0, 0, 1], [1, np.nan, np.nan], [1, 1, np.nan]]
    )
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7], [0.45, 0.55], [0.45, 0.55]])
    result = get_label_quality_multiannotator(labels, probs, return_weights=True, verbose=False)
    np.testing.assert_allclose(result["annotator_weight"], [5 / 14, 5 / 14, 5 / 7 * 0.001])
    assert result["model_weight"] == pytest.approx(0.5 * np.sqrt(15 / 6))
    detailed = result["detailed_label_quality"].to_numpy()
    lq = result["label_quality"]
    agree = labels == lq["consensus_label"].to_numpy()[:, None]
    np.testing.assert_allclose(
        detailed[agree],
        np.broadcast_to(lq["consensus_quality_score"].to_numpy()[:, None], labels.shape)[agree],
    )
    np.testing.assert_allclose(
        detailed[~agree & ~np.isnan(labels)], 1 - lq["consensus_quality_score"][[2, 3]]
    )
    assert np.isnan(detailed[4, 1:]).all()
    short = get_label_quality_multiannotator(
        labels, probs, return_detailed_quality=False, return_annotator_stats=False
    )
    assert list(short) == ["label_quality"]
    ensemble = get_label_quality_multiannotator_ensemble(
        labels, np.stack([probs, probs]), return_weights=True
    )
    pd.testing.assert_frame_equal(ensemble["label_quality"], lq)
    np.testing.assert_allclose(ensemble["model_weight"], [result["model_weight"] / 2] * 2)
    margin = get_label_quality_multiannotator(
        labels, probs, label_quality_score_kwargs={"method": "confidence_weighted_entropy"}
    )
    assert not np.allclose(
        margin["label_quality"]["consensus_quality_score"], lq["consensus_quality_score"]
    )


def test_several_consensus_methods() -> None:
    result = get_label_quality_multiannotator(WIDE, consensus_method=["majority", "dawid_skene"])
    lq = result["label_quality"]
    assert list(lq.columns) == [
        *LABEL_QUALITY_COLUMNS[:3],
        "num_annotations",
        "consensus_label_dawid_skene",
        "consensus_quality_score_dawid_skene",
        "annotator_agreement_dawid_skene",
    ]
    alone = get_label_quality_multiannotator(WIDE, consensus_method="dawid_skene")["label_quality"]
    np.testing.assert_array_equal(lq["consensus_label_dawid_skene"], alone["consensus_label"])
    np.testing.assert_allclose(
        lq["consensus_quality_score_dawid_skene"], alone["consensus_quality_score"]
    )


def test_majority_vote_label_and_long_to_wide() -> None:
    tied = np.array([[0, 1], [1, 0], [2, 2]])
    assert get_majority_vote_label(tied, verbose=False).tolist() == [0, 0, 2]
    probs = np.array([[0.2, 0.7, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    assert get_majority_vote_label(tied, [probs, probs], verbose=False).tolist() == [1, 1, 2]
    long = _long(WIDE).rename(columns={"example": "task"}).iloc[::-1]
    wide = convert_long_to_wide_dataset(long)
    assert list(wide.columns) == ["a2", "a1", "a0"] and wide.index.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(wide[["a0", "a1", "a2"]].to_numpy(), WIDE)
    pd.testing.assert_frame_equal(
        get_label_quality_multiannotator(wide)["label_quality"],
        get_label_quality_multiannotator(WIDE)["label_quality"],
    )
    with pytest.raises(ValueError, match="has no column 'label'"):
        convert_long_to_wide_dataset(long.drop(columns="label"))
    with pytest.raises(ValueError, match="labels task 0 twice by annotator 'a0'"):
        convert_long_to_wide_dataset(pd.concat([long, long.iloc[-1:]]))
    with pytest.raises(TypeError, match="must be a DataFrame"):
        convert_long_to_wide_dataset(WIDE)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="quality_method='self_confidence' is not recognised"):
        get_label_quality_multiannotator(WIDE, quality_method="self_confidence")
    with pytest.raises(ValueError, match="the only key it accepts is 'method'"):
        get_label_quality_multiannotator(
            WIDE, label_quality_score_kwargs={"adjust_pred_probs": True}
        )
    with pytest.raises(ValueError, match="return_weights=True needs the CROWDLAB posterior"):
        get_label_quality_multiannotator(WIDE, consensus_method="dawid_skene", return_weights=True)
    with pytest.raises(ValueError, match="non-empty list"):
        get_label_quality_multiannotator(WIDE, consensus_method=[])
    with pytest.raises(TypeError, match="return_weights must be True or False"):
        get_label_quality_multiannotator(WIDE, return_weights="yes")
    with pytest.raises(ValueError, match=r"a \(P, n, K\) array or a list; found shape \(4, 2\)"):
        get_label_quality_multiannotator_ensemble(WIDE, np.full((4, 2), 0.5))


@pytest.mark.parametrize(
    ("labels", "probs", "kwargs", "error", "match"),
    [
        (WIDE, None, {"consensus_method": "vote"}, ValueError, "consensus_method='vote'"),
        (
            WIDE,
            np.full((3, 2), 0.5),
            {},
            ValueError,
            "labels_multiannotator has 4 rows but pred_probs has 3",
        ),
        (np.array([[0, 3]]), np.full((1, 3), 1 / 3), {}, ValueError, "class indices 0..2"),
        (
            np.array([[0, np.nan], [np.nan, np.nan]]),
            None,
            {},
            ValueError,
            "example 1 of labels_multiannotator",
        ),
        (
            np.array([[0, np.nan], [1, np.nan]]),
            None,
            {},
            ValueError,
            "annotator 1 .* labelled no example",
        ),
        (np.array([["a", "b"]], dtype=object), None, {}, TypeError, "non-numeric"),
        (np.array([0, 1, 1]), None, {}, ValueError, "n x M table"),
        (
            pd.DataFrame({"example": [0, 0], "annotator": ["x", "x"], "label": [1, 0]}),
            None,
            {},
            ValueError,
            "twice by annotator 'x'",
        ),
        (
            WIDE,
            [np.full((4, 2), 0.5), np.full((4, 3), 1 / 3)],
            {},
            ValueError,
            r"pred_probs\[1\] has shape",
        ),
        (WIDE, np.full((4, 2), 0.7), {}, ValueError, "must sum to 1"),
        (WIDE, None, {"max_iter": 0}, ValueError, "max_iter=0"),
    ],
)
def test_bad_input(labels, probs, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        get_label_quality_multiannotator(labels, probs, **kwargs)
