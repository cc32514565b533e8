"""filter_by='auto', method='auto' and ensembles of pred_probs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit import (
    Audit,
    find_label_issues,
    get_label_quality_ensemble_scores,
    get_label_quality_scores,
    health_summary,
)
from labelaudit._ensemble import ensemble_weights, is_ensemble, likelihood_weights
from labelaudit._passes import open_passes
from labelaudit.auto import NoiseCorrection, noise_transition
from labelaudit.datasets import generate_noisy_labels

LDED = Path(__file__).resolve().parents[2] / "shared" / "data" / "lded"

LABELS = np.array([0, 0, 1, 1])
PROBS = np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]])


def _noisy(seed: int, n: int = 400, k: int = 3, flip: float = 0.2, sharp: float = 4.0):
    """Synthetic noise: a model that resisted it (it predicts the true class)."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), true] += sharp
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    noise = np.full((k, k), flip / (k - 1)) + np.eye(k) * (1 - flip - flip / (k - 1))
    labels = generate_noisy_labels(true, noise, seed=seed)
    return labels, probs, labels != true


def test_transition_and_weight_by_hand():
    passes = open_passes(LABELS, PROBS)
    # calibrated joint [[1, 1], [0, 2]] plus 1/2 per cell, columns normalised
    assert noise_transition(passes).tolist() == [[0.75, 0.375], [0.25, 0.625]]
    assert NoiseCorrection.of(passes).weight == pytest.approx(0.31)


def test_auto_score_is_the_posterior_margin():
    w = 0.31
    t = np.array([[0.75, 0.375], [0.25, 0.625]])
    post = PROBS * t[LABELS] ** w
    post /= post.sum(axis=1, keepdims=True)
    margin = (post[np.arange(4), LABELS] - post[np.arange(4), 1 - LABELS] + 1) / 2
    np.testing.assert_allclose(get_label_quality_scores(LABELS, PROBS, method="auto"), margin)
    assert find_label_issues(LABELS, PROBS, filter_by="auto").tolist() == [False, True, False, False]


def test_weight_zero_is_predicted_neq_given_and_normalized_margin():
    # the model predicts the given labels as well as they can be: no noise correction wanted
    labels = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    probs = np.array([[.9, .1], [.8, .2], [.4, .6], [.2, .8], [.3, .7], [.6, .4], [.7, .3], [.1, .9]])
    assert NoiseCorrection.of(open_passes(labels, probs)).weight == 0.0
    np.testing.assert_array_equal(
        find_label_issues(labels, probs, filter_by="auto"),
        find_label_issues(labels, probs, filter_by="predicted_neq_given"),
    )
    np.testing.assert_allclose(
        get_label_quality_scores(labels, probs, method="auto"),
        get_label_quality_scores(labels, probs, method="normalized_margin"),
    )


def test_auto_learns_the_noise_a_resistant_model_did_not():
    labels, probs, is_error = _noisy(0)
    assert NoiseCorrection.of(open_passes(labels, probs)).weight > 0.5
    auto = find_label_issues(labels, probs, filter_by="auto")
    argmax = find_label_issues(labels, probs, filter_by="predicted_neq_given")
    assert (auto & ~is_error).sum() <= (argmax & ~is_error).sum()


def test_auto_ranking_and_errors():
    ranked = find_label_issues(LABELS, PROBS, filter_by="auto", return_indices_ranked_by="auto")
    assert ranked.tolist() == [1]
    with pytest.raises(ValueError, match="adjust_pred_probs"):
        get_label_quality_scores(LABELS, PROBS, method="auto", adjust_pred_probs=True)
    with pytest.raises(ValueError, match="confident_joint"):
        find_label_issues(LABELS, PROBS, filter_by="auto", confident_joint=np.eye(2, dtype=int))


def test_auto_leaves_min_examples_per_class_unflagged_highest_score_first():
    probs = np.array([[.9, .1, 0], [.2, .8, 0], [.1, .9, 0], [.3, .7, 0], [.1, .8, .1], [.1, .1, .8], [.1, .1, .8]])
    labels = np.array([0, 0, 0, 0, 1, 2, 2])  # w = 0 here: the scores are the normalized margins
    np.testing.assert_allclose(get_label_quality_scores(labels, probs, method="auto")[:4], [.9, .2, .1, .3])
    flagged = {m: find_label_issues(labels, probs, filter_by="auto", min_examples_per_class=m).nonzero()[0].tolist()
               for m in (0, 1, 2, 3, 4, 9)}
    assert flagged == {0: [1, 2, 3], 1: [1, 2, 3], 2: [1, 2], 3: [2], 4: [], 9: []}
    tied = np.array([[.9, .1], [.2, .8], [.2, .8], [.1, .9]])  # rows 1 and 2 tie: the later row is kept
    assert find_label_issues([0, 0, 0, 1], tied, filter_by="auto", min_examples_per_class=2).nonzero()[0].tolist() == [1]


def test_suggested_labels_follow_the_noise_corrected_posterior():
    from labelaudit._passes import open_passes
    from labelaudit.auto import NoiseCorrection, suggested_labels

    # given 0 is often a mislabelled 2, never a mislabelled 1: a row labelled 0 that the model
    # finds as likely 1 as 2 is suggested 2
    correction = NoiseCorrection(np.array([[.6, .0, .4], [.2, .9, .0], [.2, .1, .6]]), 1.0)
    values = np.array([[.2, .45, .35], [.1, .8, .1]])
    assert correction.suggestions(np.array([0, 1]), values).tolist() == [2, 1]  # 0 x .45 < .4 x .35
    assert NoiseCorrection(correction.transition, 0.0).suggestions(np.array([0, 1]), values).tolist() == [1, 1]
    labels, probs, _ = _noisy(4, n=200, k=3)
    found = NoiseCorrection.of(open_passes(labels, probs))
    expected = (found.transition[labels] ** found.weight * probs).argmax(axis=1)
    np.testing.assert_array_equal(suggested_labels(labels, probs), expected)
    from labelaudit import Audit

    issues = Audit(label=labels).run(pred_probs=probs, issue_types={"label": {}}, verbose=False).issues
    flagged = issues["is_label_issue"].to_numpy()
    assert flagged.any()
    np.testing.assert_array_equal(issues["predicted_label"].to_numpy()[flagged], expected[flagged])
    np.testing.assert_array_equal(issues["predicted_label"].to_numpy()[~flagged], probs[~flagged].argmax(axis=1))


def test_clean_learning_defaults_to_auto_and_never_empties_a_class():
    from labelaudit import CleanLearning

    labels, probs, _ = _noisy(3, n=150, k=4)
    issues = CleanLearning().find_label_issues(labels=labels, pred_probs=probs)
    expected = find_label_issues(labels, probs, filter_by="auto", min_examples_per_class=10)
    np.testing.assert_array_equal(issues["is_label_issue"], expected)
    everything_wrong = np.eye(3)[[1, 2, 0] * 8]  # every label disagrees with a confident model
    issues = CleanLearning().find_label_issues(labels=np.tile([0, 1, 2], 8), pred_probs=everything_wrong)
    kept = np.bincount(np.tile([0, 1, 2], 8)[~issues["is_label_issue"].to_numpy()], minlength=3)
    assert kept.tolist() == [8, 8, 8]  # 8 examples each, fewer than 10: none is flagged


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([None, 7, 64]))
def test_auto_does_not_depend_on_block_size_or_class_names(seed, block_rows):
    from labelaudit import config_context

    labels, probs, _ = _noisy(seed, n=150, k=4)
    expected = find_label_issues(labels, probs, filter_by="auto")
    with config_context(block_rows=block_rows):
        assert (find_label_issues(labels, probs, filter_by="auto", n_jobs=2) == expected).all()
    names = np.array(["a", "b", "c", "d"])[labels]
    named = find_label_issues(names, probs, filter_by="auto", classes=["a", "b", "c", "d"])
    assert (named == expected).all()


def test_is_ensemble():
    assert is_ensemble((PROBS, PROBS))
    assert not is_ensemble(PROBS.tolist())
    assert not is_ensemble([])


def test_weights_by_hand():
    poor = np.full((4, 2), 0.5)
    labels = [0, 1, 0, 1]
    good = np.array([[.9, .1], [.2, .8], [.7, .3], [.1, .9]])
    assert ensemble_weights(labels, [good, poor]).round(6).tolist() == [1.0, 0.0]
    assert ensemble_weights(labels, [good, poor], weight_ensemble_members_by="uniform").tolist() == [.5, .5]
    # accuracy: good is right on 4 rows, poor (ties, argmax 0) on 2
    assert ensemble_weights(labels, [good, poor], weight_ensemble_members_by="accuracy").tolist() == [2 / 3, 1 / 3]
    custom = ensemble_weights(labels, [good, poor], weight_ensemble_members_by="custom", custom_weights=[3, 1])
    assert custom.tolist() == [.75, .25]
    # two equal members share the weight
    assert likelihood_weights(np.array([[.6, .6], [.3, .3]])).tolist() == [.5, .5]


def test_log_loss_search_picks_the_lower_loss():
    labels = [0, 1, 0, 1]
    good = np.array([[.9, .1], [.2, .8], [.7, .3], [.1, .9]])
    poor = np.full((4, 2), 0.5)
    w = ensemble_weights(labels, [good, poor], weight_ensemble_members_by="log_loss_search",
                         log_loss_search_T_values=[0.0, 100.0])
    assert w[0] > 0.99


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_likelihood_mixture_explains_labels_at_least_as_well_as_each_member(seed):
    labels, probs, _ = _noisy(seed, n=120, k=3)
    rng = np.random.default_rng(seed)
    members = [probs, rng.dirichlet(np.ones(3), size=120), (probs + 1 / 3) / 2]
    w = ensemble_weights(labels, members)
    sc = np.stack([m[np.arange(120), labels] for m in members], axis=1)
    mixed = np.log(sc @ w).mean()
    assert all(mixed >= np.log(sc[:, m]).mean() - 1e-9 for m in range(3))


def test_ensemble_everywhere_one_pred_probs_is_accepted():
    labels, probs, _ = _noisy(1, n=200)
    other = _noisy(2, n=200)[1]
    members = [probs, other]
    w = ensemble_weights(labels, members)
    mean = w[0] * probs + w[1] * other
    np.testing.assert_array_equal(find_label_issues(labels, members), find_label_issues(labels, mean))
    np.testing.assert_allclose(get_label_quality_scores(labels, tuple(members)),
                               get_label_quality_scores(labels, mean))
    np.testing.assert_allclose(get_label_quality_ensemble_scores(labels, members, verbose=False),
                               get_label_quality_scores(labels, mean))
    summary = health_summary(labels, members, verbose=False)
    assert summary.num_label_issues == health_summary(labels, mean, verbose=False).num_label_issues
    audit = Audit(label=labels).run(pred_probs=members, issue_types={"label": {}})
    expected = Audit(label=labels).run(pred_probs=mean, issue_types={"label": {}})
    np.testing.assert_array_equal(audit.issues.to_numpy(), expected.issues.to_numpy())


def test_ensemble_errors_name_the_argument():
    with pytest.raises(ValueError, match="model 1 has"):
        find_label_issues(LABELS, [PROBS, PROBS[:3]])
    bad = PROBS.copy()
    bad[2] = [np.nan, 1.0]
    with pytest.raises(ValueError, match="model 1 of the ensemble.*NaN"):
        find_label_issues(LABELS, [PROBS, bad])
    with pytest.raises(ValueError, match="weight_ensemble_members_by"):
        get_label_quality_ensemble_scores(LABELS, [PROBS], weight_ensemble_members_by="best")
    with pytest.raises(ValueError, match="custom_weights"):
        get_label_quality_ensemble_scores(LABELS, [PROBS, PROBS], weight_ensemble_members_by="custom")
    with pytest.raises(ValueError, match="custom_weights is used only"):
        get_label_quality_ensemble_scores(LABELS, [PROBS], custom_weights=[1.0])
    with pytest.raises(TypeError, match="pred_probs_list"):
        get_label_quality_ensemble_scores(LABELS, PROBS)
    with pytest.raises(ValueError, match="labels has 3 entries"):
        get_label_quality_ensemble_scores(LABELS[:3], [PROBS])


def _lded(name):
    d = np.load(LDED / f"{name}.npz")
    return d["labels"], d["pred_probs"], d["is_error"]


def _f1(mask, is_error):
    tp = (mask & is_error).sum()
    return 2 * tp / (mask.sum() + is_error.sum())


@pytest.mark.skipif(not LDED.exists(), reason="../shared/data/lded is absent")
@pytest.mark.parametrize("name", ["cifar-10n-worst__resnet18", "cifar-10s__resnet18"])
def test_auto_beats_the_default_on_real_noise(name):
    from sklearn.metrics import roc_auc_score

    labels, probs, is_error = _lded(name)
    auto = _f1(find_label_issues(labels, probs, filter_by="auto"), is_error)
    default = _f1(find_label_issues(labels, probs), is_error)
    assert auto > default + 0.015
    auc = roc_auc_score(is_error, -get_label_quality_scores(labels, probs, method="auto"))
    assert auc > roc_auc_score(is_error, -get_label_quality_scores(labels, probs)) + 0.001
