"""Multi-label, multi-annotator and regression label quality: labelaudit against cleanlab.

Both libraries get exactly the same seeded inputs (scikit-learn models' cross-validated
predictions on synthetic data with planted errors); only the label-quality calls are timed.
cleanlab is the peer measured against and lives only in the benchmark venv:

    python3 -m venv benchmarks/.venv-labels
    benchmarks/.venv-labels/bin/pip install -e . cleanlab
    benchmarks/.venv-labels/bin/python benchmarks/bench_labels.py --n 100000
    benchmarks/.venv-labels/bin/python benchmarks/bench_labels.py --n 10000 --seeds 5

Both use every core (labelaudit with ``n_jobs=-1``, cleanlab by its default). Prints a
Markdown table: detection quality (AUROC / AUPRC of the scores for the planted errors,
precision / recall of the flagged set), consensus accuracy, and seconds per call. With
``--seeds S`` every task runs on the data of seeds ``seed .. seed + S - 1`` and the table
gives mean ± standard deviation over them (seconds: the mean).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

Row = dict[str, Any]


REPEAT = 1  # set from --repeat


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    """``func()`` and its fastest wall time over ``REPEAT`` runs (the machine is shared)."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return out, best


def detection(truth: np.ndarray, scores: np.ndarray, mask: np.ndarray | None = None) -> Row:
    row = {"AUROC": roc_auc_score(truth, -scores), "AUPRC": average_precision_score(truth, -scores)}
    if mask is not None:
        row["precision"] = truth[mask].mean() if mask.any() else float("nan")
        row["recall"] = mask[truth].mean()
    return row


# ---------------------------------------------------------------- data (seeded, shared) ---


def multilabel_data(n: int, seed: int, k: int = 8, d: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear multi-label data; 10% of examples get one class flipped; 3-fold CV pred_probs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = (X @ rng.normal(size=(d, k)) + rng.normal(scale=0.5, size=(n, k)) > 0.5).astype(int)
    flipped = rng.random(n) < 0.1
    cls = rng.integers(0, k, n)
    Y[flipped, cls[flipped]] ^= 1
    probs = np.column_stack([
        cross_val_predict(LogisticRegression(max_iter=500), X, Y[:, j], cv=3, method="predict_proba")[:, 1]
        for j in range(k)
    ])
    return Y, probs, flipped


def annotator_data(n: int, seed: int, k: int = 5, m: int = 50) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian classes; m annotators of accuracy U(0.45, 0.95), 1-3 per example; errors
    uniform over the other classes; 3-fold CV pred_probs trained on the majority vote."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, 10)) + 1.5 * np.eye(k, 10)[y]
    accuracy = rng.uniform(0.45, 0.95, m)
    per_example = rng.integers(1, 4, n)
    chosen = np.argsort(rng.random((n, m)), axis=1) < per_example[:, None]
    correct = rng.random((n, m)) < accuracy
    wrong = (y[:, None] + rng.integers(1, k, (n, m))) % k
    labels = np.where(chosen, np.where(correct, y[:, None], wrong), np.nan)
    table = pd.DataFrame(labels, columns=[f"a{j}" for j in range(m)])
    votes = np.stack([(labels == c).sum(axis=1) for c in range(k)], axis=1)
    majority = votes.argmax(axis=1)
    probs = cross_val_predict(LogisticRegression(max_iter=500), X, majority, cv=3, method="predict_proba")
    return table, probs, y, accuracy


def regression_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear targets with heteroscedastic noise; 5% shifted by 2-5 SDs; 3-fold CV predictions."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=n) * (0.2 + 0.5 * np.abs(X[:, 0]))
    bad = rng.random(n) < 0.05
    y[bad] += rng.choice([-1, 1], bad.sum()) * rng.uniform(2, 5, bad.sum()) * y.std()
    return y, cross_val_predict(LinearRegression(), X, y, cv=3), bad


# ----------------------------------------------------------------------------- runs ---


def bench_multilabel(n: int, seed: int) -> list[Row]:
    import cleanlab.multilabel_classification.filter as cl_filter
    import cleanlab.multilabel_classification.rank as cl_rank

    from labelaudit import multilabel

    Y, probs, flipped = multilabel_data(n, seed)
    lists = [list(np.flatnonzero(row)) for row in Y]
    rows = []
    for name, find, score in (
        ("labelaudit", lambda: multilabel.find_label_issues(Y, probs, n_jobs=-1),
         lambda: multilabel.get_label_quality_scores(Y, probs, n_jobs=-1)),
        ("cleanlab", lambda: cl_filter.find_label_issues(lists, probs),
         lambda: cl_rank.get_label_quality_scores(lists, probs)),
    ):
        mask, t_find = timed(find)
        scores, t_score = timed(score)
        rows.append({"task": "multi-label", "library": name, **detection(flipped, scores, mask),
                     "seconds": t_find + t_score})
    return rows


def bench_multiannotator(n: int, seed: int) -> list[Row]:
    import cleanlab.multiannotator as cl_multi

    from labelaudit import multiannotator

    table, probs, y, accuracy = annotator_data(n, seed)
    rows = []
    for name, call in (
        ("labelaudit", lambda: multiannotator.get_label_quality_multiannotator(table, probs)),
        ("cleanlab", lambda: cl_multi.get_label_quality_multiannotator(table, probs, verbose=False)),
    ):
        result, seconds = timed(call)
        lq = result["label_quality"]
        consensus = lq["consensus_label"].to_numpy()
        stats = result["annotator_stats"]
        quality = stats.set_index(stats.get("annotator", stats.index))
        quality = quality.loc[table.columns, "annotator_quality"].to_numpy()
        wrong = consensus != y
        rows.append({
            "task": "multi-annotator", "library": name,
            **detection(wrong, lq["consensus_quality_score"].to_numpy()),
            "consensus_accuracy": 1 - wrong.mean(),
            "annotator_quality_corr": np.corrcoef(quality, accuracy)[0, 1],
            "seconds": seconds,
        })
    return rows


PEER_OUTRE_MAX_N = 20_000  # cleanlab's OUTRE took 76 s at n = 10k on the 2-core box


def bench_regression(n: int, seed: int) -> list[Row]:
    import cleanlab.regression.rank as cl_reg

    from labelaudit import regression

    y, predictions, bad = regression_data(n, seed)
    rows = []
    for name, call in (
        ("labelaudit", lambda: regression.get_label_quality_scores(y, predictions)),
        ("labelaudit residual", lambda: regression.get_label_quality_scores(y, predictions, method="residual")),
        ("cleanlab", lambda: cl_reg.get_label_quality_scores(y, predictions)),
        ("cleanlab residual", lambda: cl_reg.get_label_quality_scores(y, predictions, method="residual")),
    ):
        if name == "cleanlab" and n > PEER_OUTRE_MAX_N:
            rows.append({"task": "regression", "library": f"{name} (skipped: n > {PEER_OUTRE_MAX_N})"})
            continue
        scores, seconds = timed(call)
        rows.append({"task": "regression", "library": name, **detection(bad, scores), "seconds": seconds})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="examples per task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="average over this many seeds from --seed")
    parser.add_argument("--tasks", default="multilabel,multiannotator,regression")
    parser.add_argument("--repeat", type=int, default=1, help="time each call this often, keep the fastest")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    warnings.filterwarnings("ignore")
    runs = {"multilabel": bench_multilabel, "multiannotator": bench_multiannotator, "regression": bench_regression}
    seeds = range(args.seed, args.seed + args.seeds)
    print(f"n = {args.n}, seeds = {list(seeds)}, fastest of {args.repeat} run(s)\n")
    rows = []
    for task in args.tasks.split(","):
        for seed in seeds:
            rows += [{**row, "seed": seed} for row in runs[task](args.n, seed)]
    table = pd.DataFrame(rows).drop(columns="seed")
    print(markdown(table if args.seeds == 1 else over_seeds(table)))


def over_seeds(table: pd.DataFrame) -> pd.DataFrame:
    """Mean ± standard deviation of each (task, library) over seeds; seconds: the mean."""
    groups = table.groupby(["task", "library"], sort=False)
    mean, sd = groups.mean(), groups.std()
    out = mean.astype(object)
    for column in mean.columns.drop("seconds", errors="ignore"):
        out[column] = [
            "" if np.isnan(m) else f"{m:.4f} ± {s:.4f}" for m, s in zip(mean[column], sd[column])
        ]
    return out.reset_index()


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table, numbers to 3 decimals, blank where a task has no such column."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
