"""Token classification: planted tag swaps, agreement with the core, hand-checked cases, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import labelaudit
from labelaudit import token
from labelaudit._structured import StackedRows


def synthetic_sentences(num_sentences: int = 300, k: int = 5, noise: float = 0.08, seed: int = 0):
    """Sentences whose given tags are the true ones with a fraction swapped to another class."""
    rng = np.random.default_rng(seed)
    labels, pred_probs, planted = [], [], []
    for _ in range(num_sentences):
        n = int(rng.integers(3, 15))
        true = rng.choice(k, size=n, p=[0.6, 0.1, 0.1, 0.1, 0.1])
        logits = rng.normal(scale=1.0, size=(n, k)) + 3.0 * np.eye(k)[true]
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        swapped = rng.random(n) < noise
        given = true.copy()
        given[swapped] = (true[swapped] + rng.integers(1, k, swapped.sum())) % k
        labels.append(given.tolist())
        pred_probs.append(probs.astype(np.float32))
        planted.append(swapped)
    return labels, pred_probs, planted


def test_planted_swaps_rank_first():
    labels, pred_probs, planted = synthetic_sentences()
    sentence_scores, token_scores = token.get_label_quality_scores(labels, pred_probs)
    flat_planted = np.concatenate(planted)
    token_auroc = roc_auc_score(flat_planted, -np.concatenate(token_scores))
    sentence_auroc = roc_auc_score([p.any() for p in planted], -sentence_scores)
    assert token_auroc > 0.98, token_auroc  # measured 0.996
    assert sentence_auroc > 0.97, sentence_auroc  # measured 0.990 (min; softmin 0.989)

    issues = token.find_label_issues(labels, pred_probs)
    found = {(s, t) for s, t in issues}
    truth = {(s, t) for s, p in enumerate(planted) for t in np.flatnonzero(p)}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision > 0.8 and recall > 0.7, (precision, recall)


def test_same_answer_as_core_on_concatenated_tokens():
    labels, pred_probs, _ = synthetic_sentences(num_sentences=80, seed=1)
    flat_labels = np.concatenate(labels)
    flat_probs = np.concatenate(pred_probs)
    offsets = np.cumsum([0] + [len(s) for s in labels])
    for ranked_by in (None, "normalized_margin"):
        pairs = token.find_label_issues(labels, pred_probs, return_indices_ranked_by=ranked_by)
        rows = labelaudit.find_label_issues(
            flat_labels, flat_probs, return_indices_ranked_by=ranked_by
        )
        rows = np.flatnonzero(rows) if ranked_by is None else rows
        assert [offsets[s] + t for s, t in pairs] == rows.tolist()
    _, token_scores = token.get_label_quality_scores(
        labels, pred_probs, token_score_method="normalized_margin"
    )
    expected = labelaudit.get_label_quality_scores(
        flat_labels, flat_probs, method="normalized_margin"
    )
    np.testing.assert_array_equal(np.concatenate(token_scores), expected)


def test_blocks_across_sentences_give_the_same_result():
    labels, pred_probs, _ = synthetic_sentences(num_sentences=60, seed=2)
    reference = token.find_label_issues(labels, pred_probs)
    for block_rows in (1, 7, 50):
        with labelaudit.config_context(block_rows=block_rows):
            assert token.find_label_issues(labels, pred_probs) == reference


def test_stacked_rows_slices_match_concatenation():
    rng = np.random.default_rng(3)
    parts = [rng.random((n, 3)) for n in (4, 0, 1, 6)]
    rows = StackedRows([len(p) for p in parts], (3,), np.float64, lambda i, a, b: parts[i][a:b])
    whole = np.concatenate(parts)
    for start, stop in [(0, 11), (3, 5), (4, 5), (5, 11), (2, 2), (10, 20)]:
        np.testing.assert_array_equal(rows[start:stop], whole[start:stop])
    with pytest.raises(TypeError, match="step 1"):
        rows[::2]


def test_hand_checked_scores_and_pooling():
    labels = [[], [0, 1], [1, 1, 0], []]
    pred_probs = [
        [],
        np.array([[0.9, 0.1], [0.3, 0.7]]),
        np.array([[0.2, 0.8], [0.9, 0.1], [0.8, 0.2]]),
        np.empty((0, 2)),
    ]
    low, token_scores = token.get_label_quality_scores(labels, pred_probs)
    np.testing.assert_allclose(low, [1.0, 0.7, 0.1, 1.0])
    np.testing.assert_allclose(token_scores[1], [0.9, 0.7])
    soft, _ = token.get_label_quality_scores(
        labels,
        pred_probs,
        sentence_score_method="softmin",
        sentence_score_kwargs={"temperature": 0.1},
    )
    w = np.exp(-np.array([0.8, 0.1, 0.8]) / 0.1)
    np.testing.assert_allclose(soft[2], (w * [0.8, 0.1, 0.8]).sum() / w.sum())
    assert token.find_label_issues(labels, pred_probs) == [(2, 1)]


def test_common_label_issues_and_display():
    labels = [[0, 1, 0], [1, 1, 0], [0, 1]]
    pred_probs = [
        np.array([[0.9, 0.1], [0.2, 0.8], [0.9, 0.1]]),
        np.array([[0.2, 0.8], [0.9, 0.1], [0.8, 0.2]]),
        np.array([[0.9, 0.1], [0.95, 0.05]]),
    ]
    words = [["a", "Rome", "b"], ["Paris", "the", "c"], ["d", "the"]]
    issues = [(2, 1), (1, 1)]
    with_classes = {
        "labels": labels,
        "pred_probs": pred_probs,
        "class_names": ["O", "LOC"],
        "verbose": False,
    }
    table = token.common_label_issues(issues, words, **with_classes)
    assert table.to_dict("records") == [
        {"token": "the", "given_label": "LOC", "predicted_label": "O", "num_label_issues": 2}
    ]
    words_only = token.common_label_issues([(2, 1), (1, 1), (0, 1)], words, verbose=False)
    assert words_only.to_dict("records") == [
        {"token": "the", "num_label_issues": 2},
        {"token": "Rome", "num_label_issues": 1},
    ]
    assert token.common_label_issues([(2, 1), (1, 1), (0, 1)], words, top=1, verbose=False)[
        "token"
    ].tolist() == ["the"]
    assert token.common_label_issues(issues, words, exclude=[(1, 0)], **with_classes).empty
    text = token.display_issues(
        issues, words, labels=labels, pred_probs=pred_probs, class_names=["O", "LOC"]
    )
    assert text.splitlines()[0] == "Sentence 2: d [[the]]"
    assert "'the': given LOC (p=0.05), suggested O (p=0.95)" in text
    assert token.display_issues(issues, words, top=1).endswith("1 more sentences with issues")
    assert (
        token.display_issues(issues, words, labels=labels, pred_probs=pred_probs, exclude=[(1, 0)])
        == ""
    )
    assert token.display_issues([2, 0], words) == "Sentence 2: d the\nSentence 0: a Rome b"
    assert token.filter_by_token("the", [(0, 1), *issues], words) == issues
    with pytest.raises(ValueError, match=r"issues lists \(0, 5\)"):
        token.common_label_issues([(0, 5)], words, labels=labels, pred_probs=pred_probs)
    with pytest.raises(ValueError, match=r"tokens\[1\] must list the 3 words of labels\[1\]"):
        token.common_label_issues(
            issues, [["a", "b", "c"], ["x"], ["d", "e"]], labels=labels, pred_probs=pred_probs
        )
    with pytest.raises(ValueError, match="exclude names .* pass labels and pred_probs"):
        token.display_issues(issues, words, exclude=[(1, 0)])


def test_scores_with_tokens_and_issues_from_scores():
    labels = [[0, 1], [1, 1, 0], [0]]
    pred_probs = [
        np.array([[0.9, 0.1], [0.3, 0.7]]),
        np.array([[0.2, 0.8], [0.9, 0.1], [0.8, 0.2]]),
        np.array([[0.05, 0.95]]),
    ]
    words = [["I", "am"], ["in", "Rome", "."], ["x"]]
    sentence_scores, named = token.get_label_quality_scores(labels, pred_probs, tokens=words)
    assert named[1].index.tolist() == words[1] and named[1].tolist() == [0.8, 0.1, 0.8]
    _, token_scores = token.get_label_quality_scores(labels, pred_probs)
    assert token.issues_from_scores(sentence_scores, threshold=0.5).tolist() == [2, 1]
    assert token.issues_from_scores(sentence_scores, token_scores=token_scores, threshold=0.75) == [
        (2, 0),
        (1, 1),
        (0, 1),
    ]
    assert token.issues_from_scores(sentence_scores, token_scores=named, threshold=0.05) == []
    ties = token.issues_from_scores(np.array([0.2, 0.1, 0.2, 0.1]), threshold=0.3)
    assert ties.tolist() == [1, 3, 0, 2]
    with pytest.raises(ValueError, match="threshold=2 is outside \\[0, 1\\]"):
        token.issues_from_scores(sentence_scores, threshold=2)
    with pytest.raises(ValueError, match="token_scores has 2 sentences but sentence_scores has 3"):
        token.issues_from_scores(sentence_scores, token_scores=token_scores[:2])


@pytest.mark.parametrize(
    ("labels", "pred_probs", "error", "match"),
    [
        (
            [[0, 1]],
            [np.eye(2), np.eye(2)],
            ValueError,
            "labels has 1 sentences but pred_probs has 2; give one entry per sentence",
        ),
        (
            [[0, 1], [0]],
            [np.eye(2), np.eye(2)],
            ValueError,
            r"pred_probs\[1\] must have shape \(tokens, classes\) = \(1, 2\)",
        ),
        ([["a", "b"]], [np.eye(2)], TypeError, r"labels\[0\] must hold integer class ids"),
        ([[0, 2]], [np.eye(2)], ValueError, r"labels\[0\] holds 2; class ids must be in 0..1"),
        (
            np.zeros((2, 2), dtype=int),
            [np.eye(2)] * 2,
            TypeError,
            "labels must be a list with one entry per sentence",
        ),
        (
            [[0, 1]],
            [np.array([[np.nan, 1.0], [0.5, 0.5]])],
            ValueError,
            "tokens of all sentences in order",
        ),
        ([[]], [np.empty((0, 2))], ValueError, "every sentence in labels is empty"),
    ],
)
def test_bad_input_names_the_argument(labels, pred_probs, error, match):
    with pytest.raises(error, match=match):
        token.find_label_issues(labels, pred_probs)


def test_bad_options():
    labels, pred_probs = [[0, 1]], [np.eye(2)]
    with pytest.raises(ValueError, match="sentence_score_method='mean' is not recognised"):
        token.get_label_quality_scores(labels, pred_probs, sentence_score_method="mean")
    with pytest.raises(ValueError, match="temperature=0 is not valid"):
        token.get_label_quality_scores(
            labels,
            pred_probs,
            sentence_score_method="softmin",
            sentence_score_kwargs={"temperature": 0},
        )
    with pytest.raises(ValueError, match="the only key it accepts is 'temperature'"):
        token.get_label_quality_scores(labels, pred_probs, sentence_score_kwargs={"alpha": 1})
    with pytest.raises(ValueError, match="labels and pred_probs go together"):
        token.display_issues([], [["a", "b"]], labels=labels)
