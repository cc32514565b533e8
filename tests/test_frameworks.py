"""Framework inputs without the frameworks: torch-like tensors (bfloat16, requires_grad) through
small stand-ins, logits and their softmax, and pickled tensors refused by the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from labelaudit import find_label_issues, get_label_quality_scores, pred_probs_from_logits

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


class FakeDtype:
    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"torch.{self.name}"


class FakeTensor:
    """What labelaudit may use of a torch tensor: detach, cpu, float, numpy and dtype. numpy()
    refuses a tensor that requires grad or is bfloat16, as torch does."""

    __module__ = "torch"

    def __init__(self, values, dtype: str = "float32", requires_grad: bool = False) -> None:
        self.values, self.dtype, self.requires_grad = np.asarray(values), FakeDtype(dtype), requires_grad
        self.shape = self.values.shape

    def detach(self) -> FakeTensor:
        return FakeTensor(self.values, self.dtype.name)

    def cpu(self) -> FakeTensor:
        return self

    def float(self) -> FakeTensor:
        return FakeTensor(self.values.astype(np.float32), "float32", self.requires_grad)

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad.")
        if self.dtype.name == "bfloat16":
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self.values


LABELS = np.array([0, 0, 1, 1, 2, 2])
PROBS = np.array([[.9, .05, .05], [.1, .8, .1], [.05, .9, .05], [.1, .8, .1], [.85, .1, .05], [.1, .1, .8]])


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16", "float64"])
def test_tensors_of_any_float_dtype_and_with_grad_are_accepted(dtype):
    expected = find_label_issues(LABELS, PROBS.astype(np.float32))
    tensor = FakeTensor(PROBS.astype(np.float32), dtype, requires_grad=True)
    np.testing.assert_array_equal(find_label_issues(FakeTensor(LABELS, "int64"), tensor), expected)
    assert get_label_quality_scores(LABELS, tensor).shape == (6,)


def test_logits_softmax_is_stable_and_matches_scipy():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 30, (1000, 7))
    np.testing.assert_allclose(pred_probs_from_logits(logits), softmax(logits, axis=1), rtol=1e-12)
    big = pred_probs_from_logits(np.array([[1e4, 0.0], [-1e4, 1e4]], dtype=np.float32))
    assert big.dtype == np.float32 and np.isfinite(big).all()
    np.testing.assert_allclose(pred_probs_from_logits(FakeTensor(logits, "bfloat16", True)),
                               softmax(logits.astype(np.float32), axis=1), rtol=1e-5)
    with pytest.raises(ValueError, match="NaN or inf .row 1"):
        pred_probs_from_logits(np.array([[0.0, 1.0], [np.nan, 0.0]]))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 50), st.integers(1, 9))
def test_logits_give_the_same_probabilities_in_any_block_size(block_rows, seed):
    logits = np.random.default_rng(seed).normal(0, 5, (60, 4))
    np.testing.assert_array_equal(pred_probs_from_logits(logits, block_rows=block_rows),
                                  pred_probs_from_logits(logits))


def test_cli_logits_and_pickles(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 30)
    logits = rng.normal(0, 1, (90, 3)) + 4 * np.eye(3)[labels]
    logits[[0, 40]] = logits[[0, 40]][:, [1, 2, 0]] * 0 + np.array([[0, 6, 0], [0, 0, 6]])
    np.save(tmp_path / "l.npy", labels)
    np.save(tmp_path / "logits.npy", logits)
    np.save(tmp_path / "p.npy", softmax(logits, axis=1))
    run = lambda *a: subprocess.run([sys.executable, "-m", "labelaudit", "audit", "--labels", "l.npy", *a],
                                    capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120, check=False)
    assert run("--logits", "logits.npy", "--out", "a").returncode == 0
    assert run("--pred-probs", "p.npy", "--out", "b").returncode == 0
    a, b = (pd.read_csv(tmp_path / o / "issues.csv") for o in ("a", "b"))
    assert a["row"].tolist() == b["row"].tolist() and {0, 40} <= set(a["row"])
    (tmp_path / "p.pt").write_bytes(b"\x80\x04pickle")
    refused = run("--pred-probs", "p.pt", "--out", "c")
    assert refused.returncode == 2 and "a pickle, which labelaudit never loads" in refused.stderr
    both = run("--pred-probs", "p.npy", "--logits", "logits.npy", "--out", "c")
    assert both.returncode == 2 and "not both" in both.stderr
    assert not (tmp_path / "c").exists()
