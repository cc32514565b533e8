"""labelaudit on a real dask cluster gives exactly the in-memory answers.

A ``distributed.LocalCluster`` of two worker processes (one thread each) runs every function on
2 million rows whose probabilities lie on a coarse grid (multiples of 1/20, so scores tie
everywhere and only the row index decides), under several row chunkings: uneven, small, and
ragged with chunks of a single row.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import labelaudit as la
from labelaudit.filter import FILTER_METHODS
from labelaudit.rank import SCORE_METHODS

da = pytest.importorskip("dask.array", reason="dask is not installed: pip install 'labelaudit[dask]'")
distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed: pip install 'labelaudit[dask]'"
)
ldask = pytest.importorskip("labelaudit.dask")

NUM_ROWS = 2_000_000
NUM_CLASSES = 5
GRID = 20  # probabilities are multiples of 1/GRID: many exact ties
RAGGED = (1, 7, 99_993, 1, 600_000, 300_000, 999_998)  # sums to NUM_ROWS
CHUNKINGS = {"uneven": 700_001, "small": 131_072, "ragged": RAGGED}


@cache
def data() -> tuple[np.ndarray, np.ndarray]:
    """Labels (10% flipped) and grid-valued float32 probabilities of a decent model."""
    rng = np.random.default_rng(7)
    true = rng.integers(0, NUM_CLASSES, NUM_ROWS)
    labels = np.where(rng.random(NUM_ROWS) < 0.1, rng.integers(0, NUM_CLASSES, NUM_ROWS), true)
    pvals = np.full((NUM_ROWS, NUM_CLASSES), 0.4 / NUM_CLASSES)
    pvals[np.arange(NUM_ROWS), true] += 0.6
    counts = rng.multinomial(GRID, pvals)
    return labels, (counts / GRID).astype(np.float32)


@cache
def expected_mask(filter_by: str) -> np.ndarray:
    labels, pred_probs = data()
    return la.find_label_issues(labels, pred_probs, filter_by=filter_by)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def chunked(client):  # type: ignore[no-untyped-def]
    """The data as dask arrays persisted on the workers, one pair per chunking."""
    labels, pred_probs = data()
    out = {}
    for name, rows in CHUNKINGS.items():
        lab = da.from_array(labels, chunks=(rows,))
        probs = da.from_array(pred_probs, chunks=(rows, NUM_CLASSES))
        out[name] = client.persist([lab, probs])
    return out


CASES = [(f, c) for f in FILTER_METHODS for c in ("uneven", "ragged")] + [
    (f, "small") for f in ("prune_by_noise_rate", "prune_by_class", "both")
]


@pytest.mark.parametrize(("filter_by", "chunking"), CASES)
def test_every_filter_matches_in_memory(client, chunked, filter_by: str, chunking: str) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = chunked[chunking]
    mask = ldask.find_label_issues(labels, pred_probs, filter_by=filter_by, client=client)
    assert isinstance(mask, da.Array)
    assert mask.chunks == (pred_probs.chunks[0],)
    computed = mask.compute()
    assert computed.any()
    np.testing.assert_array_equal(computed, expected_mask(filter_by))


RANKINGS = [
    ("prune_by_noise_rate", "self_confidence", True),
    ("both", "normalized_margin", False),
    ("predicted_neq_given", "confidence_weighted_entropy", False),
    ("low_normalized_margin", "normalized_margin", False),
    ("low_self_confidence", "confidence_weighted_entropy", True),
    ("prune_by_class", "self_confidence", False),
]


@pytest.mark.parametrize(("filter_by", "rank_by", "adjust"), RANKINGS)
def test_ranked_indices_match(client, chunked, filter_by: str, rank_by: str, adjust: bool) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = chunked["ragged"]
    kwargs = {"return_indices_ranked_by": rank_by, "rank_by_kwargs": {"adjust_pred_probs": adjust}}
    ranked = ldask.find_label_issues(labels, pred_probs, filter_by=filter_by, client=client, **kwargs)
    expected = la.find_label_issues(*data(), filter_by=filter_by, **kwargs)
    assert len(ranked) > 1000
    np.testing.assert_array_equal(ranked, expected)


@pytest.mark.parametrize(("method", "adjust"), [(m, m != "normalized_margin") for m in SCORE_METHODS])
def test_scores_match(client, chunked, method: str, adjust: bool) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = chunked["uneven"]
    scores = ldask.get_label_quality_scores(
        labels, pred_probs, method=method, adjust_pred_probs=adjust, client=client, compute=True
    )
    expected = la.get_label_quality_scores(*data(), method=method, adjust_pred_probs=adjust)
    assert scores.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(scores, expected)


def test_auto_scores_match(client, chunked) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = chunked["ragged"]
    scores = ldask.get_label_quality_scores(labels, pred_probs, method="auto", client=client, compute=True)
    expected = la.get_label_quality_scores(*data(), method="auto")
    assert scores.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(scores, expected)


def test_confident_joint_counts_and_health_match(client, chunked) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = chunked["small"]
    cj, off = ldask.compute_confident_joint(
        labels, pred_probs, calibrate=False, return_indices_of_off_diagonals=True, client=client
    )
    expected_cj, expected_off = la.compute_confident_joint(
        *data(), calibrate=False, return_indices_of_off_diagonals=True
    )
    np.testing.assert_array_equal(cj, expected_cj)
    np.testing.assert_array_equal(off, expected_off)
    np.testing.assert_array_equal(
        ldask.compute_confident_joint(labels, pred_probs, client=client), la.compute_confident_joint(*data())
    )
    for method in ("off_diagonal", "off_diagonal_calibrated"):
        assert ldask.num_label_issues(
            labels, pred_probs, estimation_method=method, client=client
        ) == la.num_label_issues(*data(), estimation_method=method)
    summary = ldask.health_summary(labels, pred_probs, verbose=False, client=client)
    assert summary.to_dict() == la.health_summary(*data(), verbose=False).to_dict()


def test_top_level_functions_take_dask_arrays(client, chunked) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = chunked["uneven"]
    mask = la.find_label_issues(labels, pred_probs, filter_by="prune_by_class")
    assert isinstance(mask, da.Array)
    np.testing.assert_array_equal(mask.compute(), expected_mask("prune_by_class"))
    scores = la.get_label_quality_scores(labels, pred_probs)
    assert isinstance(scores, da.Array)
    np.testing.assert_array_equal(scores.compute(), la.get_label_quality_scores(*data()))
    assert la.num_label_issues(labels, pred_probs) == la.num_label_issues(*data())
    flagged = expected_mask("prune_by_class")
    np.testing.assert_array_equal(
        la.order_label_issues(flagged, labels, pred_probs, rank_by="normalized_margin"),
        la.order_label_issues(flagged, *data(), rank_by="normalized_margin"),
    )
    np.testing.assert_array_equal(
        la.compute_confident_joint(labels, pred_probs), la.compute_confident_joint(*data())
    )


def test_numpy_labels_with_dask_pred_probs_and_class_names(client) -> None:  # type: ignore[no-untyped-def]
    labels, pred_probs = (x[:200_000] for x in data())
    names = np.array(["ant", "bee", "cat", "dog", "eel"])
    probs = da.from_array(pred_probs, chunks=(30_000, NUM_CLASSES))
    ranked = ldask.find_label_issues(
        names[labels], probs, classes=names, filter_by="both",
        return_indices_ranked_by="normalized_margin", client=client,
    )
    np.testing.assert_array_equal(
        ranked,
        la.find_label_issues(labels, pred_probs, filter_by="both", return_indices_ranked_by="normalized_margin"),
    )


def test_bad_values_are_refused_with_the_core_message(client) -> None:  # type: ignore[no-untyped-def]
    pred_probs = np.full((1000, 2), 0.5, dtype=np.float32)
    labels = np.zeros(1000, dtype=np.int64)
    chunked = da.from_array(pred_probs, chunks=(300, 2))
    bad = pred_probs.copy()
    bad[777] = [np.nan, 0.5]
    with pytest.raises(ValueError, match="first in row 777"):
        ldask.find_label_issues(labels, da.from_array(bad, chunks=(300, 2)), client=client)
    with pytest.raises(ValueError, match="labels contain 2"):
        ldask.num_label_issues(np.r_[labels[:-1], 2], chunked, client=client)
    with pytest.raises(ValueError, match="classes="):
        ldask.num_label_issues(np.array(["a"] * 1000), chunked, client=client)
    with pytest.raises(ValueError, match="1000 rows"):
        ldask.num_label_issues(labels[:10], chunked, client=client)


def test_cli_scheduler_option_gives_the_same_files(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from labelaudit.cli import main

    labels, pred_probs = (x[:100_000] for x in data())
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "pred_probs.npy", pred_probs)
    common = ["audit", "--labels", str(tmp_path / "labels.npy"), "--pred-probs", str(tmp_path / "pred_probs.npy")]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", str(tmp_path / "dask"), "--scheduler", client.scheduler.address]) == 0
    for name in ("issues.csv", "health.json"):
        assert (tmp_path / "dask" / name).read_text() == (tmp_path / "local" / name).read_text()


def test_cli_on_a_local_dask_cluster_writes_the_in_memory_issues(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`labelaudit audit --dask-workers 2` with the defaults (rule and score "auto")."""
    import subprocess
    import sys

    labels, pred_probs = (a[:60_000] for a in data())
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "pred_probs.npy", pred_probs)
    common = [sys.executable, "-m", "labelaudit", "audit", "--labels", "labels.npy", "--pred-probs", "pred_probs.npy"]
    for extra, out in (([], "memory"), (["--dask-workers", "2"], "dask")):
        done = subprocess.run([*common, *extra, "--out", out], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "flagged by auto" in done.stdout
    memory, dask = ((tmp_path / out / "issues.csv").read_text() for out in ("memory", "dask"))
    assert memory == dask and memory.count("\n") > 1000
    ranked = la.find_label_issues(labels, pred_probs, filter_by="auto", return_indices_ranked_by="auto")
    assert [int(line.split(",")[0]) for line in memory.splitlines()[1:]] == ranked.tolist()
