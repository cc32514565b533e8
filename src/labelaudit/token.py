"""Label issues in token classification (named entities, part-of-speech tags, ...).

``labels`` is a list of sentences, each a list of token class ids ``0..K-1``; ``pred_probs`` a
list of arrays, one per sentence, of shape ``(tokens, K)`` (out-of-sample predicted
probabilities). Every token is an example for the core functions: the sentences are read as one
array of token rows, block by block, without concatenating ``pred_probs``. Row numbers in error
messages from the core count the tokens of all sentences in order.

Examples
--------
>>> import numpy as np
>>> from labelaudit import token
>>> labels = [[0, 0, 1], [1, 0], [0, 1, 1]]
>>> pred_probs = [np.array([[.9, .1], [.8, .2], [.2, .8]]),
...               np.array([[.1, .9], [.1, .9]]),
...               np.array([[.9, .1], [.3, .7], [.2, .8]])]
>>> token.find_label_issues(labels, pred_probs)
[(1, 1)]
>>> sentence_scores, token_scores = token.get_label_quality_scores(labels, pred_probs)
>>> sentence_scores
array([0.8, 0.1, 0.7])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._kernels import SCORE_METHODS
from labelaudit._structured import (
    StackedRows,
    check_class_ids,
    check_per_item,
    check_pooling,
    class_name,
    explained,
    pool_segments,
)
from labelaudit._validate import check_bool, check_choice, check_fraction, check_nonnegative_int
from labelaudit.filter import find_label_issues as _find_rows
from labelaudit.rank import get_label_quality_scores as _score_rows

__all__ = [
    "common_label_issues",
    "display_issues",
    "filter_by_token",
    "find_label_issues",
    "get_label_quality_scores",
    "issues_from_scores",
]

logger = logging.getLogger(__name__)

_ROWS_NOTE = "row numbers count the tokens of all sentences in order"


class _Tokens:
    """Checked sentences: flat labels and the token rows of ``pred_probs`` as one array."""

    def __init__(self, labels: Any, pred_probs: Any) -> None:
        check_per_item("sentence", ("labels", labels), ("pred_probs", pred_probs))
        probs = [
            p if hasattr(p, "shape") and hasattr(p, "dtype") else np.asarray(p) for p in pred_probs
        ]
        num_classes = next((p.shape[1] for p in probs if p.ndim == 2), None)
        lengths = []
        for i, (sentence, p) in enumerate(zip(labels, probs)):
            if isinstance(sentence, (str, bytes)):
                raise TypeError(f"labels[{i}] must be a list of class ids; found a string.")
            if len(sentence) == 0 and p.size == 0:
                p = probs[i] = np.empty((0, num_classes))
            if p.ndim != 2 or p.shape != (len(sentence), num_classes):
                raise ValueError(
                    f"pred_probs[{i}] must have shape (tokens, classes) = ({len(sentence)}, "
                    f"{num_classes}), one row per token of labels[{i}] and one column per class "
                    f"as in pred_probs[0]; found shape {tuple(p.shape)}."
                )
            lengths.append(len(sentence))
        if sum(lengths) == 0:
            raise ValueError("every sentence in labels is empty; pass at least one token.")
        try:
            self.codes = check_class_ids(
                "labels", np.concatenate([np.asarray(s) for s in labels if len(s)]), num_classes
            )
        except (TypeError, ValueError):
            for i, sentence in enumerate(labels):  # name the first sentence at fault
                check_class_ids(f"labels[{i}]", sentence, num_classes)
            raise
        dtype = np.result_type(*(p.dtype for p in probs))
        self.rows = StackedRows(lengths, (num_classes,), dtype, lambda s, a, b: probs[s][a:b])
        self.probs = probs

    def pairs(self, rows: np.ndarray) -> list[tuple[int, int]]:
        sentence, position = self.rows.locate(rows)
        return list(zip(sentence.tolist(), position.tolist()))

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        return np.split(values, self.rows.offsets[1:-1])


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    return_indices_ranked_by: str | None = "self_confidence",
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
    n_jobs: int | None = None,
) -> list[tuple[int, int]]:
    """Find the tokens whose given class is probably wrong.

    Runs :func:`labelaudit.find_label_issues` over all tokens as examples.

    Parameters
    ----------
    labels : list of list of int
        One list of token class ids ``0..K-1`` per sentence.
    pred_probs : list of array-like of shape (tokens, K)
        Out-of-sample predicted probabilities, one array per sentence.
    return_indices_ranked_by : {"self_confidence", "normalized_margin",
        "confidence_weighted_entropy"} or None, default "self_confidence"
        Order of the result: by that token score, most likely wrong first (ties by sentence,
        then token); ``None`` keeps the order of the sentences.
    filter_by, frac_noise, min_examples_per_class, n_jobs
        As in :func:`labelaudit.find_label_issues`.

    Returns
    -------
    list of tuple (int, int)
        ``(sentence index, token index)`` of each flagged token.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [[0, 1], [1, 1, 0]]
    >>> pred_probs = [np.array([[.9, .1], [.3, .7]]), np.array([[.2, .8], [.9, .1], [.8, .2]])]
    >>> find_label_issues(labels, pred_probs)
    [(1, 1)]
    """
    tokens = _Tokens(labels, pred_probs)
    with explained(_ROWS_NOTE):
        found = _find_rows(
            tokens.codes,
            tokens.rows,
            filter_by=filter_by,
            frac_noise=frac_noise,
            min_examples_per_class=min_examples_per_class,
            return_indices_ranked_by=return_indices_ranked_by,
            n_jobs=n_jobs,
        )
    rows = found if return_indices_ranked_by is not None else np.flatnonzero(found)
    logger.debug("%d of %d tokens flagged", len(rows), len(tokens.codes))
    return tokens.pairs(rows)


def _check_temperature(sentence_score_method: Any, sentence_score_kwargs: Any) -> float:
    """The soft minimum's temperature from ``sentence_score_kwargs`` (default 0.05), checked."""
    kwargs = {} if sentence_score_kwargs is None else sentence_score_kwargs
    if not isinstance(kwargs, dict) or set(kwargs) - {"temperature"}:
        raise ValueError(
            f"sentence_score_kwargs={sentence_score_kwargs!r} is not valid; the only key it "
            "accepts is 'temperature' (of the soft minimum), e.g. {'temperature': 0.05}."
        )
    return check_pooling(
        "sentence_score_method", sentence_score_method, kwargs.get("temperature", 0.05)
    )


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    tokens: Sequence[Sequence[Any]] | None = None,
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "min",
    sentence_score_kwargs: dict[str, Any] | None = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """Score each token and each sentence (lower = more likely mislabelled).

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues`.
    tokens : list of list of str, optional
        The words of every sentence; with them each sentence's token scores are a
        ``pandas.Series`` indexed by its words.
    token_score_method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The score of each token (see :func:`labelaudit.get_label_quality_scores`).
    sentence_score_method : {"min", "softmin"}, default "min"
        How token scores pool into a sentence score: the lowest, or a soft minimum
        ``sum(s * w) / sum(w)`` with ``w = exp(-s / temperature)``, which also counts how many
        tokens are doubtful. A sentence without tokens scores 1.
    sentence_score_kwargs : dict, optional
        ``{"temperature": float}`` of the soft minimum (default 0.05).
    n_jobs : int, optional
        Threads over blocks of tokens; the result does not depend on it.

    Returns
    -------
    sentence_scores : ndarray of shape (sentences,)
    token_scores : list
        One array of token scores per sentence (a Series indexed by the words with ``tokens``).

    Examples
    --------
    >>> import numpy as np
    >>> labels = [[0, 1], [1, 1, 0]]
    >>> pred_probs = [np.array([[.9, .1], [.3, .7]]), np.array([[.2, .8], [.9, .1], [.8, .2]])]
    >>> sentence_scores, token_scores = get_label_quality_scores(labels, pred_probs)
    >>> sentence_scores
    array([0.7, 0.1])
    >>> token_scores[1]
    array([0.8, 0.1, 0.8])
    >>> words = [["I", "am"], ["in", "Rome", "."]]
    >>> _, named = get_label_quality_scores(labels, pred_probs, tokens=words)
    >>> named[1]["Rome"]
    np.float64(0.1)
    """
    temperature = _check_temperature(sentence_score_method, sentence_score_kwargs)
    check_choice("token_score_method", token_score_method, SCORE_METHODS)
    checked = _Tokens(labels, pred_probs)
    words = None if tokens is None else _check_words(tokens, checked)
    with explained(_ROWS_NOTE):
        scores = _score_rows(checked.codes, checked.rows, method=token_score_method, n_jobs=n_jobs)
    sentence_scores = pool_segments(
        scores, checked.rows.offsets, sentence_score_method, temperature
    )
    token_scores = checked.split(scores)
    if words is None:
        return sentence_scores, token_scores
    return sentence_scores, [pd.Series(s, index=list(w)) for s, w in zip(token_scores, words)]


def issues_from_scores(
    sentence_scores: Any, *, token_scores: Sequence[Any] | None = None, threshold: float = 0.1
) -> Any:
    """The sentences, or tokens, that score below ``threshold``, lowest score first.

    A quick way to inspect the worst cases with the summaries; it estimates nothing (use
    :func:`find_label_issues` for the number of issues). Ties go to the lower index.

    Parameters
    ----------
    sentence_scores : array-like of shape (sentences,)
        From :func:`get_label_quality_scores`.
    token_scores : list of array-like, optional
        Also from :func:`get_label_quality_scores`; with it the result is tokens.
    threshold : float in [0, 1], default 0.1
        Scores strictly below it are issues.

    Returns
    -------
    list of (int, int) or ndarray of int
        ``(sentence, token)`` pairs with ``token_scores``, else sentence indices.

    Examples
    --------
    >>> import numpy as np
    >>> issues_from_scores(np.array([0.05, 0.9, 0.01]))
    array([2, 0])
    >>> issues_from_scores(np.array([0.05, 0.9]), token_scores=[[0.05, 0.5], [0.9]], threshold=0.5)
    [(0, 0)]
    """
    threshold = check_fraction("threshold", threshold)
    scores = np.asarray(sentence_scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(
            f"sentence_scores must be 1-D (one score per sentence); found shape {scores.shape}."
        )
    if token_scores is None:
        below = np.flatnonzero(scores < threshold)
        return below[np.argsort(scores[below], kind="stable")]
    if len(token_scores) != len(scores):
        raise ValueError(
            f"token_scores has {len(token_scores)} sentences but sentence_scores has "
            f"{len(scores)}; "
            "pass both from the same get_label_quality_scores call."
        )
    per_sentence = [np.asarray(t, dtype=np.float64).reshape(-1) for t in token_scores]
    flat = np.concatenate(per_sentence) if per_sentence else np.empty(0)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in per_sentence])]).astype(np.int64)
    below = np.flatnonzero(flat < threshold)
    below = below[np.argsort(flat[below], kind="stable")]
    sentence = np.searchsorted(offsets, below, side="right") - 1
    return list(zip(sentence.tolist(), (below - offsets[sentence]).tolist()))


def _check_words(tokens: Any, checked: _Tokens) -> Sequence[Sequence[Any]]:
    """``tokens`` checked against the sentences of ``labels``: one word per token."""
    lengths = np.diff(checked.rows.offsets)
    if (
        isinstance(tokens, (str, bytes))
        or not isinstance(tokens, Sequence)
        or len(tokens) != len(lengths)
    ):
        raise ValueError(
            f"tokens must be a list of {len(lengths)} sentences (one list of words each, as "
            "labels)."
        )
    for i, (words, n) in enumerate(zip(tokens, lengths)):
        if isinstance(words, (str, bytes)) or len(words) != n:
            raise ValueError(
                f"tokens[{i}] must list the {n} words of labels[{i}]; found {words!r}."
            )
    return tokens


def _check_issues(issues: Any, lengths: np.ndarray) -> np.ndarray:
    """``issues`` as an (m, 2) int array of (sentence, token) pairs that exist."""
    arr = np.asarray(issues if len(issues) else np.empty((0, 2)), dtype=object)
    try:
        arr = arr.astype(np.int64).reshape(-1, 2) if arr.ndim == 2 and arr.shape[1] == 2 else None
    except (TypeError, ValueError):
        arr = None
    if arr is None:
        raise ValueError(
            "issues must be a list of (sentence, token) index pairs, as returned by "
            "labelaudit.token.find_label_issues."
        )
    bad = (arr[:, 0] < 0) | (arr[:, 0] >= len(lengths))
    bad[~bad] = (arr[~bad, 1] < 0) | (arr[~bad, 1] >= lengths[arr[~bad, 0]])
    if bad.any():
        raise ValueError(
            f"issues lists {tuple(arr[bad][0].tolist())}, which is not a (sentence, token) pair "
            "of tokens; pass the issues found for these same sentences."
        )
    return arr


def _lengths(tokens: Any) -> np.ndarray:
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
        raise TypeError(
            "tokens must be a list of sentences, each a list of words; found "
            f"{type(tokens).__name__}."
        )
    return np.array([len(words) for words in tokens], dtype=np.int64)


class _Classes:
    """Given and suggested class of flagged tokens, when ``labels`` and ``pred_probs`` are given."""

    def __init__(self, tokens: Any, labels: Any, pred_probs: Any, class_names: Any) -> None:
        if (labels is None) != (pred_probs is None):
            raise ValueError(
                "labels and pred_probs go together; pass both (to show classes) or neither."
            )
        self.checked = None if labels is None else _Tokens(labels, pred_probs)
        if self.checked is not None:
            _check_words(tokens, self.checked)
        self.class_names = class_names

    def given(self, s: int, t: int) -> int:
        return int(self.checked.codes[self.checked.rows.offsets[s] + t])

    def suggested(self, s: int, t: int) -> int:
        return int(np.argmax(self.checked.probs[s][t]))

    def name(self, k: int) -> Any:
        return class_name(self.class_names, k)

    def kept(self, pairs: np.ndarray, exclude: Any) -> np.ndarray:
        """``pairs`` without those whose (given, suggested) class pair is in ``exclude``."""
        excluded = {tuple(int(c) for c in pair) for pair in exclude}
        if excluded and self.checked is None:
            raise ValueError(
                "exclude names (given, predicted) class pairs; pass labels and pred_probs with it."
            )
        if not excluded:
            return pairs
        keep = [(self.given(s, t), self.suggested(s, t)) not in excluded for s, t in pairs.tolist()]
        return pairs[np.asarray(keep, dtype=bool)]


def common_label_issues(
    issues: Any,
    tokens: Sequence[Sequence[Any]],
    *,
    labels: Any = None,
    pred_probs: Any = None,
    class_names: Sequence[Any] | None = None,
    top: int = 10,
    exclude: Sequence[tuple[int, int]] = (),
    verbose: bool = True,
) -> pd.DataFrame:
    """The words that most often carry a label issue, with their given → suggested classes.

    The suggested class of a token is its most probable class (the lowest index on a tie).

    Parameters
    ----------
    issues : list of (int, int)
        Flagged ``(sentence, token)`` pairs, e.g. from :func:`find_label_issues`.
    tokens : list of list of str
        The words of every sentence.
    labels, pred_probs : optional
        As in :func:`find_label_issues`, both or neither; with them the counts are per
        (word, given class, suggested class).
    class_names : sequence, optional
        Names of the classes ``0..K-1`` to show instead of their ids.
    top : int, default 10
        Keep the ``top`` words with the most issues (ties: the word first in sort order).
    exclude : list of (int, int)
        (given, suggested) class id pairs to leave out (needs ``labels`` and ``pred_probs``).
    verbose : bool, default True
        Log the table (``logging``, level INFO, logger ``labelaudit.token``).

    Returns
    -------
    DataFrame
        Columns ``token``, (``given_label``, ``predicted_label``,) ``num_label_issues``; most
        frequent first, then by the other columns.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [[0, 1], [1, 1, 0]]
    >>> pred_probs = [np.array([[.9, .1], [.3, .7]]), np.array([[.2, .8], [.9, .1], [.8, .2]])]
    >>> words = [["I", "am"], ["in", "Rome", "."]]
    >>> common_label_issues([(1, 1)], words, labels=labels, pred_probs=pred_probs,
    ...                     class_names=["O", "LOC"], verbose=False)
      token given_label predicted_label  num_label_issues
    0  Rome         LOC               O                 1
    """
    top = check_nonnegative_int("top", top)
    verbose = check_bool("verbose", verbose)
    classes = _Classes(tokens, labels, pred_probs, class_names)
    pairs = classes.kept(_check_issues(issues, _lengths(tokens)), exclude)
    keys = ["token"] + ([] if classes.checked is None else ["given_label", "predicted_label"])
    records = []
    for s, t in pairs.tolist():
        record = {"token": tokens[s][t]}
        if classes.checked is not None:
            record["given_label"] = classes.name(classes.given(s, t))
            record["predicted_label"] = classes.name(classes.suggested(s, t))
        records.append(record)
    if not records:
        return pd.DataFrame(columns=[*keys, "num_label_issues"])
    table = pd.DataFrame(records).value_counts(keys).rename("num_label_issues").reset_index()
    per_word = table.groupby("token")["num_label_issues"].sum().reset_index()
    kept = per_word.sort_values(["num_label_issues", "token"], ascending=[False, True]).head(top)[
        "token"
    ]
    table = table[table["token"].isin(kept)]
    table = table.sort_values(
        ["num_label_issues", *keys], ascending=[False] + [True] * len(keys), ignore_index=True
    )
    if verbose:
        logger.info("Words most often mislabelled:\n%s", table.to_string(index=False))
    return table


def filter_by_token(
    token: Any, issues: Any, tokens: Sequence[Sequence[Any]]
) -> list[tuple[int, int]]:
    """The issues whose word is ``token``, in the order of ``issues``.

    Examples
    --------
    >>> filter_by_token("Rome", [(1, 1), (0, 0), (2, 0)], [["I", "am"], ["in", "Rome"], ["Rome"]])
    [(1, 1), (2, 0)]
    """
    pairs = _check_issues(issues, _lengths(tokens))
    return [(s, t) for s, t in pairs.tolist() if tokens[s][t] == token]


def display_issues(
    issues: Any,
    tokens: Sequence[Sequence[str]],
    *,
    labels: Any = None,
    pred_probs: Any = None,
    exclude: Sequence[tuple[int, int]] = (),
    class_names: Sequence[Any] | None = None,
    top: int = 20,
) -> str:
    """Text showing each sentence with issues, flagged tokens in ``[[double brackets]]``.

    Sentences appear in the order of their first issue in ``issues`` (worst first when
    ``issues`` is ranked). With ``labels`` and ``pred_probs`` each flagged token is followed by
    a line with its given and suggested class.

    Parameters
    ----------
    issues : list of (int, int), or of int
        Flagged ``(sentence, token)`` pairs, e.g. from :func:`find_label_issues`, or sentence
        indices (from :func:`issues_from_scores` without token scores).
    tokens : list of list of str
        The words of every sentence.
    labels, pred_probs : optional
        As in :func:`find_label_issues`; both or neither.
    exclude : list of (int, int)
        (given, suggested) class id pairs of tokens not to show (needs ``labels`` and
        ``pred_probs``).
    class_names : sequence, optional
        Names of the classes ``0..K-1``.
    top : int, default 20
        Show at most this many sentences.

    Returns
    -------
    str

    Examples
    --------
    >>> print(display_issues([(1, 1)], [["I", "am"], ["in", "Rome", "."]]))
    Sentence 1: in [[Rome]] .
    >>> print(display_issues([0], [["I", "am"], ["in", "Rome", "."]]))
    Sentence 0: I am
    """
    top = check_nonnegative_int("top", top)
    classes = _Classes(tokens, labels, pred_probs, class_names)
    lengths = _lengths(tokens)
    by_sentence: dict[int, list[int]] = {}
    if len(issues) and np.ndim(issues[0]) == 0:  # sentence indices
        for s in _check_issues([(int(s), 0) for s in issues], np.maximum(lengths, 1))[
            :, 0
        ].tolist():
            by_sentence.setdefault(s, [])
    else:
        for s, t in classes.kept(_check_issues(issues, lengths), exclude).tolist():
            by_sentence.setdefault(s, []).append(t)
    lines = []
    for s in list(by_sentence)[:top]:
        flagged = set(by_sentence[s])
        words = [f"[[{w}]]" if j in flagged else str(w) for j, w in enumerate(tokens[s])]
        lines.append(f"Sentence {s}: " + " ".join(words))
        if classes.checked is None:
            continue
        for t in sorted(flagged):
            row = classes.checked.probs[s][t]
            given, best = classes.given(s, t), classes.suggested(s, t)
            lines.append(
                f"    {tokens[s][t]!r}: given {classes.name(given)} (p={float(row[given]):.2f}), "
                f"suggested {classes.name(best)} (p={float(row[best]):.2f})"
            )
    if len(by_sentence) > top:
        lines.append(f"... and {len(by_sentence) - top} more sentences with issues")
    return "\n".join(lines)
