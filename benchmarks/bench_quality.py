"""Detection quality of every rule and score, labelaudit's "auto" and ensembles, against cleanlab.

Cases: the ten of ``../shared/data/lded`` (CIFAR-10 with synthetic noise, ``cifar-10s``, and with
the human labels of CIFAR-10N "worst", ``cifar-10n``; five image models each) and the noisy
digits of :func:`labelaudit.datasets.load_noisy_digits` (seeds 0-2, 5-fold cross-validated
logistic regression). Per case: F1 / precision / recall of the flagged set of every
``filter_by`` and AUROC / AUPRC of every score, for labelaudit and for cleanlab in the same run,
and per noise type the five-model ensemble. Run it where both are installed:

    python3 -m venv benchmarks/.venv
    benchmarks/.venv/bin/pip install -e . cleanlab==2.9.0
    benchmarks/.venv/bin/python benchmarks/bench_quality.py

Prints Markdown tables and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import labelaudit as la
from labelaudit.datasets import load_noisy_digits
from labelaudit.filter import FILTER_METHODS
from labelaudit.rank import RANK_METHODS

LDED = Path(__file__).resolve().parents[2] / "shared" / "data" / "lded"
MODELS = ("resnet18", "resnet50d", "efficientnet_b1", "twins_pcpvt_base", "swin_base_patch4_window7_224")


def flagged_quality(mask: np.ndarray, is_error: np.ndarray) -> tuple[float, float, float]:
    tp = float((mask & is_error).sum())
    precision = tp / max(mask.sum(), 1)
    recall = tp / max(is_error.sum(), 1)
    return 2 * tp / (mask.sum() + is_error.sum()), precision, recall


def cases() -> list[tuple[str, np.ndarray, list[np.ndarray], np.ndarray]]:
    """``(name, labels, [pred_probs per model], is_error)``; one model for the digits."""
    found = []
    for noise, short in (("cifar-10s", "10s"), ("cifar-10n-worst", "10n")):
        models = [np.load(LDED / f"{noise}__{m}.npz") for m in MODELS]
        found.append((short, models[0]["labels"], [d["pred_probs"] for d in models], models[0]["is_error"]))
    for seed in range(3):
        data = load_noisy_digits(seed=seed)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        probs = cross_val_predict(model, data.X_train, data.labels, cv=5, method="predict_proba")
        found.append((f"digits{seed}", data.labels, [probs], data.is_flipped))
    return found


def measure(labels, probs, is_error, cleanlab) -> dict[str, tuple[float, ...]]:
    out = {}
    for rule in FILTER_METHODS:
        out[f"la {rule}"] = flagged_quality(la.find_label_issues(labels, probs, filter_by=rule), is_error)
        if rule != "auto":
            mask = cleanlab.filter.find_label_issues(labels, probs, filter_by=rule)
            out[f"cl {rule}"] = flagged_quality(mask, is_error)
    for method in RANK_METHODS:
        scores = la.get_label_quality_scores(labels, probs, method=method)
        out[f"la score {method}"] = (roc_auc_score(is_error, -scores), average_precision_score(is_error, -scores))
        if method != "auto":
            scores = cleanlab.rank.get_label_quality_scores(labels, probs, method=method)
            out[f"cl score {method}"] = (roc_auc_score(is_error, -scores), average_precision_score(is_error, -scores))
    return out


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    import cleanlab.filter
    import cleanlab.rank

    warnings.filterwarnings("ignore")
    results: dict[str, dict[str, tuple[float, ...]]] = {}
    ensembles = {}
    for name, labels, members, is_error in cases():
        for model, probs in zip(MODELS if len(members) > 1 else ("logreg",), members):
            results[f"{name} {model}"] = measure(labels, probs, is_error, cleanlab)
        if len(members) > 1:
            row = {}
            for by in ("likelihood", "accuracy", "uniform"):
                s = la.get_label_quality_ensemble_scores(labels, members, weight_ensemble_members_by=by, verbose=False)
                row[f"la {by}"] = roc_auc_score(is_error, -s)
            s = cleanlab.rank.get_label_quality_ensemble_scores(labels, members, verbose=False)
            row["cl accuracy (its default)"] = roc_auc_score(is_error, -s)
            row["best single model"] = max(r["la score self_confidence"][0] for k, r in results.items() if k.startswith(name))
            row["la auto score, ensemble"] = roc_auc_score(
                is_error, -la.get_label_quality_scores(labels, members, method="auto"))
            row["la auto rule F1, ensemble"] = flagged_quality(
                la.find_label_issues(labels, members, filter_by="auto"), is_error)[0]
            row["la default rule F1, ensemble"] = flagged_quality(la.find_label_issues(labels, members), is_error)[0]
            ensembles[name] = row

    names = list(results)
    lded = [n for n in names if not n.startswith("digits")]
    print("### Flagged set: F1 per case (P / R of auto)\n")
    print("| case | default (pbnr) | cleanlab default | predicted_neq_given | auto | auto − default | auto P / R |")
    print("|---|---|---|---|---|---|---|")
    for n in names:
        r = results[n]
        d, a = r["la prune_by_noise_rate"][0], r["la auto"]
        print(f"| {n} | {d:.3f} | {r['cl prune_by_noise_rate'][0]:.3f} | {r['la predicted_neq_given'][0]:.3f} | "
              f"{a[0]:.3f} | {a[0] - d:+.3f} | {a[1]:.3f} / {a[2]:.3f} |")
    print("\n### Score: AUROC per case\n")
    print("| case | default (self_confidence) | cleanlab default | normalized_margin | auto | auto − default |")
    print("|---|---|---|---|---|---|")
    for n in names:
        r = results[n]
        d, a = r["la score self_confidence"][0], r["la score auto"][0]
        print(f"| {n} | {d:.4f} | {r['cl score self_confidence'][0]:.4f} | "
              f"{r['la score normalized_margin'][0]:.4f} | {a:.4f} | {a - d:+.4f} |")
    print("\n### Means over the ten lded cases and over all cases\n")
    print("| method | labelaudit lded | cleanlab lded | labelaudit all | cleanlab all |")
    print("|---|---|---|---|---|")
    keys = [f"{lib} {m}" for m in FILTER_METHODS for lib in ("la",)] + [f"la score {m}" for m in RANK_METHODS]
    for key in keys:
        other = key.replace("la ", "cl ", 1)
        cells = []
        for group in (lded, names):
            for k in (key, other):
                vals = [results[n][k][0] for n in group if k in results[n]]
                cells.append(f"{np.mean(vals):.4f}" if vals else "–")
        label = key[3:] + (" (F1)" if not key.startswith("la score") else " (AUROC)")
        print(f"| {label} | " + " | ".join([cells[0], cells[1], cells[2], cells[3]]) + " |")
    print("\n### Ensembles of the five models (AUROC unless F1)\n")
    cols = list(next(iter(ensembles.values())))
    print("| noise | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, row in ensembles.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.5f}" for c in cols) + " |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
