"""Audit benchmark: labelaudit's ``Audit`` against the reference library's ``Datalab``.

Both run their default checks on the same planted data (:mod:`labelaudit.audit.synthetic`,
float32 features and ``pred_probs``), each in its own process, and the table reports wall-clock
and CPU seconds, the ratio, peak memory above the loaded data and imports, recall / false-flag
rate for every planted issue, and the recall@10 of labelaudit's neighbour graph against a
float64 brute force on 1000 sampled rows. The machine is shared, so wall-clock time depends on
its load (the 1-minute load average is printed): CPU seconds are the steadier comparison. The
reference cannot search neighbours over rows with NaN, so it gets the blank rows filled with
column means (what a user must do for it to run); labelaudit gets the NaN rows.

Run from the repository root, in the benchmark venv (the reference is never a dependency)::

    python3 -m venv benchmarks/.venv-audit
    benchmarks/.venv-audit/bin/pip install -e . 'cleanlab[datalab]'
    benchmarks/.venv-audit/bin/python benchmarks/bench_audit.py --n 50000 --d 128
    benchmarks/.venv-audit/bin/python benchmarks/bench_audit.py --n 50000 --d 128 --search exact --skip-reference
    benchmarks/.venv-audit/bin/python benchmarks/bench_audit.py --n 1000000 --d 64 --skip-reference

Measured 2026-11-28 on the shared 2-core machine (1-minute load average 1.3-2.7 during the
runs, other work included), 10 classes, reference cleanlab 2.9.0 ``Datalab`` in the same run.
``search="auto"`` (the default) is approximate at both sizes:

=====================  ==============  ==============  ==============  ==============
                       50k x 128       50k x 128       reference       1M x 64
                       auto (approx.)  exact           50k x 128       auto (approx.)
=====================  ==============  ==============  ==============  ==============
wall-clock s           3.6 (17.8x)     8.7 (7.3x)      63.9            277.1
CPU s                  5.5 (12.9x)     16.3 (4.4x)     71.5            528.8
peak MB above data     217             260             1584            1141
neighbour recall@10    0.991           1.000           -               0.990
=====================  ==============  ==============  ==============  ==============

Planted issues, recall / clean rows flagged, the same for labelaudit at every setting above
(1M in brackets where it differs) | reference: label 0.90 (0.91) / 0.42 % (0.36 %) | 0.90 /
0.42 %; outlier 1.00 / 0 | 1.00 / 0.08 %; near_duplicate 1.00 / 0 | 1.00 / 0; non_iid 1.00 /
0.32 % (0.14 %) | 0.00; class_imbalance 1.00 / 0 | 1.00 / 0; null 1.00 / 0 | 0.00 (it cannot
take NaN); underperforming_group 1.00 / 0 | 0.00.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHECKS = {  # check name: the planted rows it should find
    "label": "flipped",
    "outlier": "outliers",
    "near_duplicate": "duplicates",
    "non_iid": "block",
    "class_imbalance": "rare",
    "null": "blank",
    "underperforming_group": "shuffled_cluster",
}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(tool: str, folder: Path, search: str) -> None:
    features = np.load(folder / ("features_filled.npy" if tool == "reference" else "features.npy"))
    pred_probs = np.load(folder / "pred_probs.npy")
    labels = np.load(folder / "labels.npy")
    if tool == "labelaudit":
        from labelaudit.audit import Audit
    else:
        from cleanlab import Datalab
    base = rss_mb()  # after the imports: what the run itself adds
    start, start_cpu = time.perf_counter(), cpu_seconds()
    if tool == "labelaudit":
        audit = Audit(data={"y": labels}, label="y").run(
            features=features, pred_probs=pred_probs, search=search, verbose=False
        )
        issues = audit.issues
    else:
        lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
        lab.find_issues(features=features, pred_probs=pred_probs)
        issues = lab.get_issues()
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flags = {
        name: issues[f"is_{name}_issue"].to_numpy()
        for name in CHECKS
        if f"is_{name}_issue" in issues
    }
    if tool == "labelaudit":
        sample = np.load(folder / "sample.npy")
        graph = audit.knn_graph
        flags["sample_neighbors"] = graph.indices[np.searchsorted(graph.rows, sample)]
    np.savez(folder / f"flags_{tool}.npz", **flags)
    result = {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak - base}
    (folder / f"result_{tool}.json").write_text(json.dumps(result))


def exact_neighbors(features: np.ndarray, sample: np.ndarray, k: int) -> np.ndarray:
    """Exact ``k`` nearest other complete rows of the ``sample`` rows (brute force)."""
    complete = np.flatnonzero(~np.isnan(features).any(axis=1))
    points = features[complete].astype(np.float64)
    norms = (points**2).sum(axis=1)
    out = []
    for start in range(0, len(sample), 100):
        rows = sample[start : start + 100]
        query = features[rows].astype(np.float64)
        d2 = norms[None, :] - 2 * query @ points.T + (query**2).sum(axis=1)[:, None]
        d2[np.arange(len(rows)), np.searchsorted(complete, rows)] = np.inf  # not itself
        out.append(complete[np.argsort(d2, axis=1, kind="stable")[:, :k]])
    return np.vstack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--search", choices=["auto", "exact", "approximate"], default="auto")
    parser.add_argument("--child", choices=["labelaudit", "reference"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.folder, args.search)
        return

    from labelaudit.audit.synthetic import make_planted, recall_and_false_rate

    planted = make_planted(args.n, args.d, args.classes, seed=0, dtype=np.float32)
    clean = ~planted.planted
    tools = ["labelaudit"] + ([] if args.skip_reference else ["reference"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        filled = planted.features.copy()
        filled[planted.blank] = np.nanmean(planted.features, axis=0)
        np.save(folder / "features.npy", planted.features)
        np.save(folder / "features_filled.npy", filled)
        np.save(folder / "pred_probs.npy", planted.pred_probs)
        np.save(folder / "labels.npy", planted.labels)
        complete = np.flatnonzero(~np.isnan(planted.features).any(axis=1))
        sample = np.sort(np.random.default_rng(1).choice(complete, size=1000, replace=False))
        np.save(folder / "sample.npy", sample)
        results, flags = {}, {}
        load_before = os.getloadavg()[0]
        for tool in tools:
            command = [
                sys.executable,
                __file__,
                "--child",
                tool,
                "--folder",
                str(folder),
                "--search",
                args.search,
            ]
            subprocess.run(command, check=True)
            results[tool] = json.loads((folder / f"result_{tool}.json").read_text())
            with np.load(folder / f"flags_{tool}.npz") as found:
                flags[tool] = {name: found[name] for name in found.files}

        load_after = os.getloadavg()[0]

    found = flags["labelaudit"].pop("sample_neighbors")
    truth = exact_neighbors(planted.features, sample, found.shape[1])
    recall_at_k = np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)])
    print(
        f"\n{args.n} x {args.d} float32 features + pred_probs, {args.classes} classes, default checks, "
        f"labelaudit search={args.search} (neighbour recall@{found.shape[1]} {recall_at_k:.3f}); "
        f"1-minute load average {load_before:.1f} before, {load_after:.1f} after\n"
    )
    header = "| | " + " | ".join(tools) + " |"
    print(header)
    print("|---" * (len(tools) + 1) + "|")
    for key, label in (("seconds", "wall-clock seconds"), ("cpu_seconds", "CPU seconds")):
        print(f"| {label} | " + " | ".join(f"{results[t][key]:.1f}" for t in tools) + " |")
        if "reference" in results:
            ratio = results["reference"][key] / results["labelaudit"][key]
            print(f"| {label}: speed-up | {ratio:.1f}x | 1x |")
    print(
        "| peak memory above the data (MB) | "
        + " | ".join(f"{results[t]['peak_mb']:.0f}" for t in tools)
        + " |"
    )
    for name, attribute in CHECKS.items():
        cells = []
        for tool in tools:
            if name not in flags[tool]:
                cells.append("not run")
                continue
            recall, false_rate = recall_and_false_rate(
                flags[tool][name], getattr(planted, attribute), clean
            )
            cells.append(f"recall {recall:.2f}, clean flagged {100 * false_rate:.2f}%")
        print(
            f"| {name} ({attribute}, {len(getattr(planted, attribute))}) | "
            + " | ".join(cells)
            + " |"
        )


if __name__ == "__main__":
    main()
