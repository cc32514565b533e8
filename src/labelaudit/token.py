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
>>> sentence_scores.round(3)
array([0.806, 0.1  , 0.715])
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
from labelaudit._validate import check_choice, check_nonnegative_int
from labelaudit.filter import find_label_issues as _find_rows
from labelaudit.rank import get_label_quality_scores as _score_rows

__all__ = ["common_label_issues", "display_issues", "find_label_issues", "get_label_quality_scores"]

logger = logging.getLogger(__name__)

_ROWS_NOTE = "row numbers count the tokens of all sentences in order"


class _Tokens:
    """Checked sentences: flat labels and the token rows of ``pred_probs`` as one array."""

    def __init__(self, labels: Any, pred_probs: Any) -> None:
        check_per_item("sentence", ("labels", labels), ("pred_probs", pred_probs))
        probs = [p if hasattr(p, "shape") and hasattr(p, "dtype") else np.asarray(p) for p in pred_probs]
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


def get_label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "softmin",
    temperature: float = 0.05,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Score each token and each sentence (lower = more likely mislabelled).

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues`.
    token_score_method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The score of each token (see :func:`labelaudit.get_label_quality_scores`).
    sentence_score_method : {"softmin", "min"}, default "softmin"
        How token scores pool into a sentence score: the lowest, or a soft minimum
        ``sum(s * w) / sum(w)`` with ``w = exp(-s / temperature)``, which also counts how many
        tokens are doubtful. A sentence without tokens scores 1.
    temperature : float, default 0.05
        Of the soft minimum.
    n_jobs : int, optional
        Threads over blocks of tokens; the result does not depend on it.

    Returns
    -------
    sentence_scores : ndarray of shape (sentences,)
    token_scores : list of ndarray
        One array of token scores per sentence.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [[0, 1], [1, 1, 0]]
    >>> pred_probs = [np.array([[.9, .1], [.3, .7]]), np.array([[.2, .8], [.9, .1], [.8, .2]])]
    >>> sentence_scores, token_scores = get_label_quality_scores(
    ...     labels, pred_probs, sentence_score_method="min")
    >>> sentence_scores
    array([0.7, 0.1])
    >>> token_scores[1]
    array([0.8, 0.1, 0.8])
    """
    temperature = check_pooling("sentence_score_method", sentence_score_method, temperature)
    check_choice("token_score_method", token_score_method, SCORE_METHODS)
    tokens = _Tokens(labels, pred_probs)
    with explained(_ROWS_NOTE):
        scores = _score_rows(tokens.codes, tokens.rows, method=token_score_method, n_jobs=n_jobs)
    sentence_scores = pool_segments(scores, tokens.rows.offsets, sentence_score_method, temperature)
    return sentence_scores, tokens.split(scores)


def _check_issues(issues: Any, tokens: _Tokens) -> np.ndarray:
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
    lengths = np.diff(tokens.rows.offsets)
    bad = (arr[:, 0] < 0) | (arr[:, 0] >= len(lengths))
    bad[~bad] = (arr[~bad, 1] < 0) | (arr[~bad, 1] >= lengths[arr[~bad, 0]])
    if bad.any():
        raise ValueError(
            f"issues lists {tuple(arr[bad][0].tolist())}, which is not a (sentence, token) pair "
            "of labels; pass the issues found for these same labels."
        )
    return arr


def common_label_issues(
    issues: Any,
    labels: Any,
    pred_probs: Any,
    *,
    tokens: Any = None,
    class_names: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Count which given → suggested class confusions recur among the flagged tokens.

    The suggested class of a token is its most probable class (the lowest index on a tie).

    Parameters
    ----------
    issues : list of (int, int)
        Flagged ``(sentence, token)`` pairs, e.g. from :func:`find_label_issues`.
    labels, pred_probs
        As in :func:`find_label_issues`.
    tokens : list of list of str, optional
        The words; with them the counts are per word too (column ``token``).
    class_names : sequence, optional
        Names of the classes ``0..K-1`` to show instead of their ids.

    Returns
    -------
    DataFrame
        Columns ``given_label``, ``predicted_label``, (``token``,) ``num_label_issues``; most
        frequent first, then by the other columns.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [[0, 1], [1, 1, 0]]
    >>> pred_probs = [np.array([[.9, .1], [.3, .7]]), np.array([[.2, .8], [.9, .1], [.8, .2]])]
    >>> common_label_issues([(1, 1)], labels, pred_probs, tokens=[["I", "am"], ["in", "Rome", "."]],
    ...                     class_names=["O", "LOC"])
      given_label predicted_label token  num_label_issues
    0         LOC               O  Rome                 1
    """
    checked = _Tokens(labels, pred_probs)
    pairs = _check_issues(issues, checked)
    records = []
    for s, t in pairs.tolist():
        row = checked.probs[s][t]
        record = {
            "given_label": class_name(class_names, checked.codes[checked.rows.offsets[s] + t]),
            "predicted_label": class_name(class_names, int(np.argmax(row))),
        }
        if tokens is not None:
            record["token"] = tokens[s][t]
        records.append(record)
    keys = ["given_label", "predicted_label"] + ([] if tokens is None else ["token"])
    if not records:
        return pd.DataFrame(columns=[*keys, "num_label_issues"])
    table = pd.DataFrame(records).value_counts(keys).rename("num_label_issues").reset_index()
    return table.sort_values(["num_label_issues", *keys], ascending=[False] + [True] * len(keys),
                             ignore_index=True)


def display_issues(
    issues: Any,
    tokens: Sequence[Sequence[str]],
    *,
    labels: Any = None,
    pred_probs: Any = None,
    class_names: Sequence[Any] | None = None,
    max_sentences: int = 20,
) -> str:
    """Text showing each sentence with issues, flagged tokens in ``[[double brackets]]``.

    Sentences appear in the order of their first issue in ``issues`` (worst first when
    ``issues`` is ranked). With ``labels`` and ``pred_probs`` each flagged token is followed by
    a line with its given and suggested class.

    Parameters
    ----------
    issues : list of (int, int)
        Flagged ``(sentence, token)`` pairs, e.g. from :func:`find_label_issues`.
    tokens : list of list of str
        The words of every sentence.
    labels, pred_probs : optional
        As in :func:`find_label_issues`; both or neither.
    class_names : sequence, optional
        Names of the classes ``0..K-1``.
    max_sentences : int, default 20
        Show at most this many sentences.

    Returns
    -------
    str

    Examples
    --------
    >>> print(display_issues([(1, 1)], [["I", "am"], ["in", "Rome", "."]]))
    Sentence 1: in [[Rome]] .
    """
    max_sentences = check_nonnegative_int("max_sentences", max_sentences)
    if (labels is None) != (pred_probs is None):
        raise ValueError("labels and pred_probs go together; pass both (to show classes) or neither.")
    checked = None if labels is None else _Tokens(labels, pred_probs)
    if checked is not None:
        _check_issues(issues, checked)
    by_sentence: dict[int, list[int]] = {}
    for s, t in issues:
        by_sentence.setdefault(int(s), []).append(int(t))
    lines = []
    for s in list(by_sentence)[:max_sentences]:
        flagged = set(by_sentence[s])
        words = [f"[[{w}]]" if j in flagged else str(w) for j, w in enumerate(tokens[s])]
        lines.append(f"Sentence {s}: " + " ".join(words))
        if checked is None:
            continue
        for t in sorted(flagged):
            row = checked.probs[s][t]
            given = int(checked.codes[checked.rows.offsets[s] + t])
            best = int(np.argmax(row))
            lines.append(
                f"    {tokens[s][t]!r}: given {class_name(class_names, given)} "
                f"(p={float(row[given]):.2f}), suggested {class_name(class_names, best)} "
                f"(p={float(row[best]):.2f})"
            )
    if len(by_sentence) > max_sentences:
        lines.append(f"... and {len(by_sentence) - max_sentences} more sentences with issues")
    return "\n".join(lines)
