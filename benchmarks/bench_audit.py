"""Audit benchmark: labelaudit's ``Audit`` against the reference library's ``Datalab``.

Both run their default checks on the same planted data (:mod:`labelaudit.audit.synthetic`,
float32 features and ``pred_probs``), each in its own process, and the table reports wall-clock
seconds, the ratio, peak memory above the loaded data, and recall / false-flag rate for every
planted issue. The reference cannot search neighbours over rows with NaN, so it gets the blank
rows filled with column means (what a user must do for it to run); labelaudit gets the NaN rows.

Run from the repository root, in the benchmark venv (the reference is never a dependency)::

    python3 -m venv benchmarks/.venv-audit
    benchmarks/.venv-audit/bin/pip install -e . 'cleanlab[datalab]'
    benchmarks/.venv-audit/bin/python benchmarks/bench_audit.py --n 50000 --d 128
    benchmarks/.venv-audit/bin/python benchmarks/bench_audit.py --n 1000000 --d 64 --skip-reference
"""

from __future__ import annotations

import argparse
import json
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


def run_child(tool: str, folder: Path) -> None:
    features = np.load(folder / ("features_filled.npy" if tool == "reference" else "features.npy"))
    pred_probs = np.load(folder / "pred_probs.npy")
    labels = np.load(folder / "labels.npy")
    if tool == "labelaudit":
        from labelaudit.audit import Audit
    else:
        from cleanlab import Datalab
    base = rss_mb()  # after the imports: what the run itself adds
    start = time.perf_counter()
    if tool == "labelaudit":
        audit = Audit(data={"y": labels}, label="y").run(features=features, pred_probs=pred_probs, verbose=False)
        issues = audit.issues
    else:
        lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
        lab.find_issues(features=features, pred_probs=pred_probs)
        issues = lab.get_issues()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flags = {name: issues[f"is_{name}_issue"].to_numpy() for name in CHECKS if f"is_{name}_issue" in issues}
    np.savez(folder / f"flags_{tool}.npz", **flags)
    (folder / f"result_{tool}.json").write_text(json.dumps({"seconds": seconds, "peak_mb": peak - base}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--child", choices=["labelaudit", "reference"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.folder)
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
        results, flags = {}, {}
        for tool in tools:
            subprocess.run([sys.executable, __file__, "--child", tool, "--folder", str(folder)], check=True)
            results[tool] = json.loads((folder / f"result_{tool}.json").read_text())
            with np.load(folder / f"flags_{tool}.npz") as found:
                flags[tool] = {name: found[name] for name in found.files}

    print(f"\n{args.n} x {args.d} float32 features + pred_probs, {args.classes} classes, default checks\n")
    header = "| | " + " | ".join(tools) + " |"
    print(header)
    print("|---" * (len(tools) + 1) + "|")
    print("| seconds | " + " | ".join(f"{results[t]['seconds']:.1f}" for t in tools) + " |")
    if "reference" in results:
        ratio = results["reference"]["seconds"] / results["labelaudit"]["seconds"]
        print(f"| speed-up | {ratio:.1f}x | 1x |")
    print("| peak memory above the data (MB) | " + " | ".join(f"{results[t]['peak_mb']:.0f}" for t in tools) + " |")
    for name, attribute in CHECKS.items():
        cells = []
        for tool in tools:
            if name not in flags[tool]:
                cells.append("not run")
                continue
            recall, false_rate = recall_and_false_rate(flags[tool][name], getattr(planted, attribute), clean)
            cells.append(f"recall {recall:.2f}, clean flagged {100 * false_rate:.2f}%")
        print(f"| {name} ({attribute}, {len(getattr(planted, attribute))}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
