"""Speed and memory of labelaudit's core against the reference library (cleanlab).

Run from the repository root with the benchmark's own environment (see benchmarks/README.md)::

    benchmarks/.venv/bin/python benchmarks/bench_core.py            # every case, full size
    benchmarks/.venv/bin/python benchmarks/bench_core.py --scale 0.05 --cases fli_10Mx10 import

Both libraries run in the same process on the same seeded synthetic inputs (float32
``pred_probs``), interleaved (the order alternates between repeats), and the median of
``--repeat`` runs is reported. Peak memory is measured in one extra, untimed run per library by a
thread that samples ``Pss_Anon`` (proportional anonymous memory, from ``/proc/<pid>/smaps_rollup``)
of this process and of its child processes every few milliseconds; the table shows the peak minus
the value just before the call, i.e. the memory used above the inputs. The memory-mapped case
shows the peak ``RssAnon`` of this process instead (absolute: the mapped file's page cache does
not count), as the issue's target is stated that way.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import labelaudit
from labelaudit.datasets import generate_noise_matrix, generate_noisy_labels

MB = 1 << 20


# ----------------------------------------------------------------------------------- inputs
def synthetic(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded noisy labels and Dirichlet-like float32 ``pred_probs`` of shape (n, k).

    True labels are uniform; given labels are flipped exactly by a random noise matrix with
    trace 0.7 k (sparse for many classes). Each row mixes a flat Dirichlet draw with a one-hot
    vector on the true class, with a uniform random weight, so the model is right but unsure
    on some rows and confidently right on others.
    """
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    noise = generate_noise_matrix(
        k, 0.7 * k, frac_zero_noise_rates=0.0 if k <= 20 else 0.9, seed=seed
    )
    labels = generate_noisy_labels(true, noise, seed=seed)
    pred_probs = np.empty((n, k), dtype=np.float32)
    step = max(1, (1 << 24) // k)
    for start in range(0, n, step):  # in chunks, so generating needs little memory beyond it
        stop = min(start + step, n)
        block = rng.standard_exponential((stop - start, k), dtype=np.float32)
        block /= block.sum(axis=1, keepdims=True)
        weight = rng.random(stop - start, dtype=np.float32)
        block *= (1 - weight)[:, None]
        block[np.arange(stop - start), true[start:stop]] += weight
        pred_probs[start:stop] = block
    return labels, pred_probs


# ----------------------------------------------------------------------------------- memory
def _pss_anon_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss_Anon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_anon_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(c) for c in f.read().split()]
    except OSError:
        return []
    return kids + [g for c in kids for g in _children(c)]


def _process_tree_pss_kb() -> int:
    me = os.getpid()
    return sum(_pss_anon_kb(p) for p in [me, *_children(me)])


class PeakSampler:
    """Samples a memory figure in a background thread; ``peak`` minus ``base`` after the run."""

    def __init__(self, probe: Callable[[], int], interval: float = 0.003) -> None:
        self.probe, self.interval = probe, interval
        self.base = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.probe())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        gc.collect()
        self.base = self.peak = self.probe()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.peak = max(self.peak, self.probe())
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------------- running
@dataclass
class Row:
    case: str
    ours: float = float("nan")
    ref: float = float("nan")
    ours_mem: float = float("nan")  # MB
    ref_mem: float = float("nan")
    floor: float = float("nan")
    input_mb: float = float("nan")
    notes: list[str] = field(default_factory=list)


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def compare(ours: Callable[[], Any], ref: Callable[[], Any] | None, repeat: int) -> tuple[
    float, float, Any, Any
]:
    """Median seconds of both, interleaved; the order alternates from one repeat to the next."""
    times: dict[str, list[float]] = {"ours": [], "ref": []}
    outs: dict[str, Any] = {}
    funcs = {"ours": ours, "ref": ref}
    for r in range(repeat):
        order = ["ours", "ref"] if r % 2 == 0 else ["ref", "ours"]
        for name in order:
            if funcs[name] is None:
                continue
            gc.collect()
            seconds, outs[name] = timed(funcs[name])
            times[name].append(seconds)
    med = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
    return med["ours"], med["ref"], outs.get("ours"), outs.get("ref")


def peak_mb(func: Callable[[], Any], probe: Callable[[], int] = _process_tree_pss_kb) -> float:
    with PeakSampler(probe) as sampler:
        func()
    return (sampler.peak - sampler.base) / 1024


def floor_seconds(pred_probs: np.ndarray, repeat: int) -> float:
    return statistics.median(timed(lambda: pred_probs.sum(axis=0))[0] for _ in range(repeat))


def agreement(ours: np.ndarray, ref: np.ndarray) -> str:
    a, b = np.flatnonzero(ours), np.flatnonzero(ref)
    both = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - both
    return (
        f"flagged {len(a):,} vs {len(b):,}, in both {both:,} "
        f"(Jaccard {both / union if union else 1.0:.5f})"
    )


def reference() -> Any:
    try:
        import cleanlab.dataset
        import cleanlab.filter
        import cleanlab.rank
    except ImportError:
        return None
    return cleanlab


def _versus(
    n: int,
    k: int,
    args: argparse.Namespace,
    name: str,
    ours: Callable[[Any, np.ndarray, np.ndarray], Any],
    ref: Callable[[Any, np.ndarray, np.ndarray], Any],
    note: Callable[[Any, Any], str],
) -> Row:
    """Time and measure ``ours(labelaudit, labels, pred_probs)`` against ``ref(cleanlab, ...)``."""
    labels, pred_probs = synthetic(n, k)
    cl = reference()
    row = Row(name, input_mb=pred_probs.nbytes / MB, floor=floor_seconds(pred_probs, args.repeat))
    run_ours = lambda: ours(labelaudit, labels, pred_probs)  # noqa: E731
    run_ref = (lambda: ref(cl, labels, pred_probs)) if cl else None
    row.ours, row.ref, a, b = compare(run_ours, run_ref, args.repeat)
    row.ours_mem = peak_mb(run_ours)
    if run_ref is not None:
        row.ref_mem = peak_mb(run_ref)
        row.notes.append(note(a, b))
    return row


def case_find(n: int, k: int, args: argparse.Namespace, name: str) -> Row:
    return _versus(
        n, k, args, name,
        lambda la, y, p: la.find_label_issues(y, p),
        lambda cl, y, p: cl.filter.find_label_issues(y, p),
        agreement,
    )


def case_scores(n: int, k: int, args: argparse.Namespace, name: str) -> Row:
    return _versus(
        n, k, args, name,
        lambda la, y, p: la.get_label_quality_scores(y, p),
        lambda cl, y, p: cl.rank.get_label_quality_scores(y, p),
        lambda a, b: f"max |difference| {np.abs(a.astype(np.float64) - b).max():.3g}",
    )


def case_health(n: int, k: int, args: argparse.Namespace, name: str) -> Row:
    return _versus(
        n, k, args, name,
        lambda la, y, p: la.health_summary(y, p, verbose=False),
        lambda cl, y, p: cl.dataset.health_summary(y, p, verbose=False),
        lambda a, b: (
            f"overall label health score {a.overall_label_health_score:.5f} vs "
            f"{b['overall_label_health_score']:.5f}"
        ),
    )


def case_threads(n: int, k: int, args: argparse.Namespace, name: str) -> Row:
    """labelaudit with n_jobs=2 (the 'labelaudit' column) against n_jobs=1 (the 'reference')."""
    labels, pred_probs = synthetic(n, k)
    row = Row(name, input_mb=pred_probs.nbytes / MB, floor=floor_seconds(pred_probs, args.repeat))
    row.ours, row.ref, a, b = compare(
        lambda: labelaudit.find_label_issues(labels, pred_probs, n_jobs=2),
        lambda: labelaudit.find_label_issues(labels, pred_probs, n_jobs=1),
        args.repeat,
    )
    row.notes.append(
        f"reference column = labelaudit n_jobs=1; outputs identical: {bool(np.array_equal(a, b))}"
    )
    return row


def case_import(args: argparse.Namespace, name: str) -> Row:
    def fresh(code: str) -> float:
        seconds, _ = timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))
        return seconds

    samples: dict[str, list[float]] = {"ours": [], "ref": [], "bare": []}
    for _ in range(max(args.repeat, 5)):
        samples["bare"].append(fresh("pass"))
        samples["ours"].append(fresh("import labelaudit"))
        if reference():
            samples["ref"].append(fresh("import cleanlab"))
    bare = statistics.median(samples["bare"])
    row = Row(name)
    row.ours = statistics.median(samples["ours"]) - bare
    if samples["ref"]:
        row.ref = statistics.median(samples["ref"]) - bare
    row.notes.append(f"fresh interpreter, minus {bare:.3f} s of a bare `python -c pass`")
    return row


def case_memmap(n: int, k: int, args: argparse.Namespace, name: str) -> Row:
    row = Row(name, input_mb=n * k * 4 / MB)
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        path = os.path.join(tmp, "pred_probs.f32")
        labels = write_memmap(path, n, k)
        mapped = np.memmap(path, dtype=np.float32, mode="r", shape=(n, k))
        row.floor = floor_seconds(mapped, 1)
        cl = reference() if args.reference_memmap else None

        def ours() -> np.ndarray:
            return labelaudit.find_label_issues(labels, mapped)

        def ref() -> np.ndarray:
            return cl.filter.find_label_issues(labels, mapped)

        with PeakSampler(_rss_anon_kb) as sampler:
            row.ours, mask = timed(ours)
        row.ours_mem = sampler.peak / 1024
        row.notes.append(f"labelaudit peak RssAnon {sampler.peak / 1024:.0f} MB absolute, "
                         f"{(sampler.peak - sampler.base) / 1024:.0f} MB above the start")
        in_memory = np.array(mapped)
        same = np.array_equal(mask, labelaudit.find_label_issues(labels, in_memory))
        del in_memory
        row.notes.append(f"same result as in memory: {same}")
        if cl:
            with PeakSampler(_process_tree_pss_kb) as sampler:
                row.ref, other = timed(ref)
            row.ref_mem = sampler.peak / 1024
            row.notes.append(agreement(mask, other))
        del mapped
    return row


def write_memmap(path: str, n: int, k: int) -> np.ndarray:
    """Write a seeded (n, k) float32 file in slabs; return the labels."""
    slab = max(1, (1 << 26) // k)
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, k))
    labels = np.empty(n, dtype=np.int64)
    for i, start in enumerate(range(0, n, slab)):
        stop = min(start + slab, n)
        labels[start:stop], out[start:stop] = synthetic(stop - start, k, seed=1000 + i)
    out.flush()
    del out
    return labels


CASES: dict[str, tuple[str, Callable[..., Row], tuple[int, int] | None]] = {
    "fli_10Mx10": ("find_label_issues 10M x 10", case_find, (10_000_000, 10)),
    "fli_1Mx100": ("find_label_issues 1M x 100", case_find, (1_000_000, 100)),
    "fli_50kx5000": ("find_label_issues 50k x 5000", case_find, (50_000, 5000)),
    "scores_1Mx100": ("get_label_quality_scores 1M x 100", case_scores, (1_000_000, 100)),
    "health_1Mx100": ("health_summary 1M x 100", case_health, (1_000_000, 100)),
    "import": ("import", case_import, None),
    "threads_10Mx10": ("n_jobs=2 vs 1, 10M x 10", case_threads, (10_000_000, 10)),
    "memmap_1Mx1000": ("memory-mapped 1M x 1000", case_memmap, (1_000_000, 1000)),
}


def print_table(rows: list[Row]) -> None:
    header = (
        f"| {'case':36s} | {'labelaudit s':>12s} | {'reference s':>11s} | {'ratio':>7s} | "
        f"{'labelaudit MB':>13s} | {'reference MB':>12s} | {'input MB':>8s} | {'one pass s':>10s} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for r in rows:
        ratio = r.ref / r.ours if r.ours > 0 else float("nan")
        print(
            f"| {r.case:36s} | {r.ours:12.3f} | {r.ref:11.3f} | {ratio:6.1f}x | "
            f"{r.ours_mem:13.0f} | {r.ref_mem:12.0f} | {r.input_mb:8.0f} | {r.floor:10.3f} |"
        )
    print()
    for r in rows:
        for note in r.notes:
            print(f"- {r.case}: {note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES),
                        help="which cases to run (default: all)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the number of rows of every case (e.g. 0.05 for a quick run)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per library (median)")
    parser.add_argument("--tmpdir", default=None, help="where to write the memory-mapped file")
    parser.add_argument("--no-reference-memmap", dest="reference_memmap", action="store_false",
                        help="skip the reference library on the memory-mapped case (it loads it all)")
    args = parser.parse_args(argv)
    print(f"labelaudit {labelaudit.__version__}; reference: "
          f"{getattr(reference(), '__version__', 'not installed')}; numpy {np.__version__}; "
          f"{os.cpu_count()} cores; scale {args.scale}, repeat {args.repeat}", flush=True)
    rows = []
    for key in args.cases:
        title, func, size = CASES[key]
        if size is None:
            rows.append(func(args, title))
        else:
            n = max(1000, int(size[0] * args.scale))
            rows.append(func(n, size[1], args, title if args.scale == 1 else f"{title} (n={n:,})"))
        print(f"done: {rows[-1].case}", file=sys.stderr, flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()
