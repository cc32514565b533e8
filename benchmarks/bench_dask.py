"""labelaudit on a local dask cluster, reading ``pred_probs`` from a zarr store.

Writes (once) a zarr store of ``--rows`` x ``--classes`` float32 probabilities and int16 labels
(10% flipped) in chunks of ``--chunk-rows``, starts a ``distributed.LocalCluster`` of
``--workers`` processes (one thread each), and measures:

* wall time of ``find_label_issues`` (prune by noise rate, ranked), ``health_summary`` and
  the in-process core on the same zarr arrays (one process, read block by block);
* peak resident memory of each worker process (``ru_maxrss``);
* bytes moved between workers (each worker's incoming transfer log) and bytes the workers
  sent in all (to peers and to the client);
* the inputs of the scaling model in ``docs/dask.md``: the cost of one chunk in each pass
  (read + ``block``), measured in this process, and the number of passes and chunks.

Usage::

    python benchmarks/bench_dask.py --rows 50_000_000 --store /tmp/bench.zarr
    python benchmarks/bench_dask.py --rows 10_000_000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import labelaudit as la
from labelaudit import dask as ldask
from labelaudit._kernels import CountsPass, StatisticsPass, label_scores, sample_stride
from labelaudit._passes import open_passes
from labelaudit.filter import FlagPlan


def _block(block: np.ndarray, block_id: tuple[int, ...], num_classes: int, seed: int) -> np.ndarray:
    """One chunk of synthetic data: column 0 the given label, then K probabilities."""
    rng = np.random.default_rng([seed, block_id[0]])
    n = block.shape[0]
    true = rng.integers(0, num_classes, n)
    given = np.where(rng.random(n) < 0.1, rng.integers(0, num_classes, n), true)
    probs = rng.dirichlet(np.full(num_classes, 0.3), n)
    probs[np.arange(n), true] += 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    return np.column_stack([given, probs]).astype(np.float32)


def write_store(path: Path, rows: int, num_classes: int, chunk_rows: int, seed: int) -> None:
    template = da.zeros((rows, num_classes + 1), chunks=(chunk_rows, num_classes + 1), dtype=np.float32)
    both = template.map_blocks(_block, num_classes=num_classes, seed=seed, dtype=np.float32)
    labels = both[:, 0].astype(np.int16)
    pred_probs = both[:, 1:]
    da.to_zarr(pred_probs, str(path), component="pred_probs", overwrite=True)
    da.to_zarr(labels, str(path), component="labels", overwrite=True)


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (VmHWM; Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _transfers(dask_worker: Any) -> dict[str, int]:
    return {
        "incoming": int(sum(entry["total"] for entry in dask_worker.transfer_incoming_log)),
        "outgoing_total": int(dask_worker.transfer_outgoing_bytes_total),
    }


def chunk_costs(labels: Any, pred_probs: Any, chunk_rows: int) -> dict[str, float]:
    """Seconds for one chunk (read from zarr + the pass's ``block``), one thread, this process."""
    k = pred_probs.shape[1]
    start = time.perf_counter()
    values = np.asarray(pred_probs[:chunk_rows])
    codes = np.asarray(labels[:chunk_rows]).astype(np.int64)
    read = time.perf_counter() - start
    stats = StatisticsPass(k)
    stats.add(stats.block(0, codes, values))
    counts_pass = CountsPass(stats.result().thresholds, with_agrees=False, sample_stride=sample_stride(len(codes), k))
    margin = FlagPlan(open_passes(codes, values, with_sample=True), "prune_by_noise_rate").margin_pass
    out = {"read": read}
    for name, task in (("statistics", StatisticsPass(k)), ("counts", counts_pass), ("margin", margin)):
        begin = time.perf_counter()
        task.block(0, codes, values)
        out[name] = time.perf_counter() - begin
    begin = time.perf_counter()
    label_scores(codes, values, "self_confidence", adjust=None, n_jobs=1, validate=False)
    out["scores"] = time.perf_counter() - begin
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", type=Path, default=Path("/tmp/labelaudit-bench-dask.zarr"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-core", action="store_true", help="do not time the in-process core")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    results: dict[str, Any] = {"rows": args.rows, "classes": args.classes, "chunk_rows": args.chunk_rows,
                               "workers": args.workers}
    marker = args.store / f"done-{args.rows}-{args.classes}-{args.chunk_rows}-{args.seed}"
    if not marker.exists():
        begin = time.perf_counter()
        write_store(args.store, args.rows, args.classes, args.chunk_rows, args.seed)
        marker.touch()
        results["write_store_s"] = time.perf_counter() - begin
    labels = da.from_zarr(str(args.store), component="labels")
    pred_probs = da.from_zarr(str(args.store), component="pred_probs")
    results["chunk_cost_s"] = chunk_costs(labels, pred_probs, args.chunk_rows)
    results["num_chunks"] = pred_probs.numblocks[0]

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(lambda: None)  # workers up
        base = client.run(_peak_rss_bytes)
        timings = {}
        begin = time.perf_counter()
        ranked = ldask.find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence",
                                         client=client)
        timings["find_label_issues_ranked"] = time.perf_counter() - begin
        begin = time.perf_counter()
        summary = ldask.health_summary(labels, pred_probs, verbose=False, client=client)
        timings["health_summary"] = time.perf_counter() - begin
        begin = time.perf_counter()
        low = float(ldask.get_label_quality_scores(labels, pred_probs, client=client).min().compute())
        timings["scores_min"] = time.perf_counter() - begin
        peak = client.run(_peak_rss_bytes)
        moved = client.run(_transfers)
        results["dask_s"] = timings
        results["flagged"] = len(ranked)
        results["num_label_issues_estimate"] = summary.num_label_issues
        results["lowest_score"] = low
        results["worker_peak_rss_mb"] = {w: peak[w] / 2**20 for w in peak}
        results["worker_rss_at_start_mb"] = {w: base[w] / 2**20 for w in base}
        results["bytes_between_workers"] = sum(m["incoming"] for m in moved.values())
        results["bytes_sent_by_workers"] = sum(m["outgoing_total"] for m in moved.values())
        results["client_peak_rss_mb"] = _peak_rss_bytes() / 2**20

    if not args.skip_core:
        begin = time.perf_counter()
        core = la.find_label_issues(labels.compute(), _zarr_array(args.store),
                                    return_indices_ranked_by="self_confidence")
        results["core_in_process_s"] = time.perf_counter() - begin
        results["identical_to_core"] = bool(np.array_equal(core, ranked))
    text = json.dumps(results, indent=2, default=float)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


def _zarr_array(store: Path) -> Any:
    import zarr

    return zarr.open_array(str(store), path="pred_probs", mode="r")


if __name__ == "__main__":
    main()
