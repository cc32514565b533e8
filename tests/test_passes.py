"""The passes and their engines (labelaudit._passes): which engine runs, and that every engine
answers the interface the rules use alike."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from labelaudit._kernels import StatisticsPass, counts_pass, run_pass
from labelaudit._passes import ArrayRows, FedRows, Passes, open_passes
from labelaudit.filter import FlagPlan


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 4, 3000)
    pred_probs = rng.dirichlet(np.full(4, 0.5), 3000).astype(np.float32)
    pred_probs[np.arange(3000), labels] += 0.5
    return labels, pred_probs / pred_probs.sum(axis=1, keepdims=True)


OPTIONS = {"keep_self_confidence": True, "with_agrees": True, "with_sample": True}


def _answers(passes: Passes) -> dict[str, list]:
    """What the rules ask of the passes, as lists."""
    plan = FlagPlan(passes, "both")
    group, key, rows, agrees = passes.smallest("self_confidence", plan.per_class, by_class=True, with_agrees=True)
    margin = passes.margin_rows(plan.margin_pass)
    disagreeing = passes.rows_of(passes.disagrees())
    return {
        "thresholds": passes.stats.thresholds.tolist(),
        "joint": passes.counts.confident_joint.tolist(),
        "off": passes.counts.off_diagonal_rows.tolist(),
        "smallest": [group.tolist(), key.tolist(), rows.tolist(), agrees.tolist()],
        "margin": margin.tolist(),
        "disagrees": disagreeing.tolist(),
        "mask": np.flatnonzero(np.asarray(passes.mask_of(margin))).tolist(),
    }


def test_open_passes_reads_arrays_block_by_block() -> None:
    labels, pred_probs = _data()
    passes = open_passes(labels, pred_probs, n_jobs=2)
    assert isinstance(passes.rows, ArrayRows) and passes.rows.n_jobs == 2
    assert (passes.num_examples, passes.num_classes) == (3000, 4)
    assert not passes.values_checked
    passes.class_counts  # noqa: B018
    assert passes.values_checked


def test_the_dask_engine_is_imported_only_for_dask_arrays() -> None:
    code = (
        "import sys, numpy as np, labelaudit as la\n"
        "la.find_label_issues([0, 0, 1, 1], np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]]))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('dask', 'labelaudit._dask'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_engine_answers_alike() -> None:
    labels, pred_probs = _data()
    expected = _answers(open_passes(labels, pred_probs, **OPTIONS))

    first = StatisticsPass(4, keep_self_confidence=True)
    run_pass(first, labels, pred_probs, n_jobs=1)
    stats = first.result()
    second = counts_pass(stats.thresholds, 3000, with_sample=True, lowest_value=stats.lowest_value)
    run_pass(second, labels, pred_probs, n_jobs=1)
    fed = Passes(FedRows(open_passes(labels, pred_probs).labels, stats, second.result()))
    plan = FlagPlan(fed, "both")
    run_pass(plan.margin_pass, labels, pred_probs, n_jobs=1)  # the caller feeds pass 3 ...
    assert plan.margin_pass.finish()  # ... until it is finished
    assert fed.margin_rows(plan.margin_pass).tolist() == expected["margin"]
    found = fed.smallest("self_confidence", plan.per_class, by_class=True, with_agrees=True)
    assert [f.tolist() for f in found] == expected["smallest"]
    assert fed.rows_of(fed.disagrees()).tolist() == expected["disagrees"]

    da = pytest.importorskip("dask.array", reason="dask is not installed: pip install 'labelaudit[dask]'")
    chunked = open_passes(da.from_array(labels, chunks=700), da.from_array(pred_probs, chunks=(700, 4)), **OPTIONS)
    assert type(chunked.rows).__name__ == "DaskRows"
    assert _answers(chunked) == expected
