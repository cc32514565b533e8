"""Invariances: block size, threads and row order (hypothesis, on coarse tied probabilities)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labelaudit as la
import labelaudit._kernels as kernels
from labelaudit.filter import FILTER_METHODS

SCORES = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


@st.composite
def coarse_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities on a coarse grid (many exact ties), every class labelled at least once."""
    k = draw(st.integers(2, 5))
    n = draw(st.integers(k, 40))
    weights = np.array(draw(st.lists(st.lists(st.integers(0, 3), min_size=k, max_size=k), min_size=n, max_size=n)))
    weights[weights.sum(axis=1) == 0, 0] = 1
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    labels[:k] = np.arange(k)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return labels, (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)


def _everything(labels: np.ndarray, pred_probs: np.ndarray) -> dict[str, object]:
    out: dict[str, object] = {
        "cj": la.compute_confident_joint(labels, pred_probs, calibrate=False).tolist(),
        "off": la.compute_confident_joint(labels, pred_probs, return_indices_of_off_diagonals=True)[1].tolist(),
        "health": la.health_summary(labels, pred_probs, verbose=False).to_dict(),
    }
    for method in FILTER_METHODS:
        out[method] = la.find_label_issues(labels, pred_probs, filter_by=method).tolist()
    for score in SCORES:
        out[f"rank_{score}"] = la.find_label_issues(labels, pred_probs, return_indices_ranked_by=score).tolist()
        out[f"scores_{score}"] = la.get_label_quality_scores(labels, pred_probs, method=score, adjust_pred_probs=True).tolist()
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=coarse_inputs(), block_rows=st.sampled_from([1, 2, 3, 7]), n_jobs=st.sampled_from([1, 2, -1]))
def test_same_answer_for_any_block_size_and_threads(
    data: tuple[np.ndarray, np.ndarray], block_rows: int, n_jobs: int
) -> None:
    labels, pred_probs = data
    reference = _everything(labels, pred_probs)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(kernels, "PARALLEL_MIN_VALUES", 0)  # use threads even on tiny inputs
        with la.config_context(block_rows=block_rows, n_jobs=n_jobs):
            assert _everything(labels, pred_probs) == reference


def _key_ties(method: str, labels: np.ndarray, p: np.ndarray, a: int, b: int) -> bool:
    """Whether rows a and b tie exactly on what ``method`` selects by."""
    ya, yb = labels[a], labels[b]
    if method == "low_self_confidence":
        return p[a, ya] == p[b, yb]
    if method == "low_normalized_margin":
        return _margin(labels, p, a) == _margin(labels, p, b)
    if ya != yb:
        return False
    if method == "auto":  # the min_examples_per_class guard lets go of the highest scores
        scores = la.get_label_quality_scores(labels, p, method="auto")
        return bool(scores[a] == scores[b])
    by_class = p[a, ya] == p[b, ya]
    by_cell = bool(np.any((p[a] - p[a, ya]) == (p[b] - p[b, ya])))  # equal p[j] - p[y] for some j
    return {"prune_by_class": by_class, "prune_by_noise_rate": by_cell, "both": by_class or by_cell}[method]


def _margin(labels: np.ndarray, p: np.ndarray, row: int) -> float:
    others = np.delete(p[row], labels[row])
    return float(p[row, labels[row]] - others.max())


@settings(max_examples=60, deadline=None)
@given(data=coarse_inputs(), seed=st.integers(0, 2**32 - 1))
def test_row_order_changes_only_rows_tied_at_a_cut_off(data: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    labels, pred_probs = data
    perm = np.random.default_rng(seed).permutation(len(labels))
    cj = la.compute_confident_joint(labels, pred_probs, calibrate=False)
    assert la.compute_confident_joint(labels[perm], pred_probs[perm], calibrate=False).tolist() == cj.tolist()
    for method in FILTER_METHODS:
        original = la.find_label_issues(labels, pred_probs, filter_by=method)
        permuted = np.empty_like(original)
        permuted[perm] = la.find_label_issues(labels[perm], pred_probs[perm], filter_by=method)
        if method in ("confident_learning", "predicted_neq_given"):
            assert np.array_equal(original, permuted), method  # no cut-off: exactly the same rows
            continue
        if method.startswith("low_"):
            assert original.sum() == permuted.sum(), method  # how many is order-free
        for row in np.flatnonzero(original != permuted):
            others = (r for r in range(len(labels)) if r != row)
            assert any(_key_ties(method, labels, pred_probs, row, r) for r in others), (method, row)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(50, 600), block_rows=st.sampled_from([1, 17, 128]))
def test_float16_fixture_rows_any_block_size(seed: int, size: int, block_rows: int) -> None:
    d = load_fixture("labelerrors/cifar100.npz")
    rows = np.random.default_rng(seed).choice(len(d["labels"]), size=size, replace=False)
    labels, pred_probs = d["labels"][rows], d["pred_probs"][rows]
    if len(np.unique(labels)) < 2:
        return
    reference = [la.find_label_issues(labels, pred_probs, filter_by=m).tolist() for m in FILTER_METHODS]
    with la.config_context(block_rows=block_rows):
        assert [la.find_label_issues(labels, pred_probs, filter_by=m).tolist() for m in FILTER_METHODS] == reference


def test_memmap_input_gives_the_same_answer(tmp_path) -> None:
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(4) * 0.5, size=3000).astype(np.float32)
    labels = rng.integers(0, 4, size=3000)
    path = tmp_path / "p.f32"
    p.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=p.shape)
    with la.config_context(block_rows=256):
        for method in FILTER_METHODS:
            assert np.array_equal(la.find_label_issues(labels, mapped, filter_by=method), la.find_label_issues(labels, p, filter_by=method))
