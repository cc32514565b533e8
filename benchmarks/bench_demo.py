"""The demo's job over many seeds: flag with a rule, drop the flags, retrain, and compare test accuracy.

For each seed of :func:`labelaudit.datasets.load_noisy_digits` (split and flipped labels), the
demo's model (``labelaudit audit --model logistic``: standardised pixels, logistic regression,
C=0.1) is cross-validated (5 folds) on the noisy training labels; each rule flags label issues,
the model is retrained without them and scored on the clean test split. Printed: per rule, the
mean precision / recall / F1 of the flags against the known flips, the mean test accuracy after
removing them, and on how many seeds removing them beat the model trained on every noisy label;
then the AUROC of the default score and of the "auto" score.

    .venv/bin/python benchmarks/bench_demo.py --seeds 1-30
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

import labelaudit as la
from labelaudit.cli import build_model
from labelaudit.datasets import load_noisy_digits
from labelaudit.models import estimate_pred_probs

RULES = ("prune_by_noise_rate", "auto")
SCORES = ("self_confidence", "auto")


def seed_range(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seed_range, default=seed_range("1-30"), help="e.g. 1-30")
    seeds = parser.parse_args().seeds
    rows = {rule: [] for rule in RULES}
    noisy_accuracy, auroc = [], {method: [] for method in SCORES}
    with threadpool_limits(limits=1):
        for seed in seeds:
            data = load_noisy_digits(seed=seed)
            model = build_model("logistic")
            pred_probs = estimate_pred_probs(model, data.X_train, data.labels, cv=5, classes=np.arange(10))
            noisy = clone(model).fit(data.X_train, data.labels).score(data.X_test, data.y_test)
            noisy_accuracy.append(noisy)
            for method in SCORES:
                scores = la.get_label_quality_scores(data.labels, pred_probs, method=method)
                auroc[method].append(roc_auc_score(data.is_flipped, -scores))
            for rule in RULES:
                mask = la.find_label_issues(data.labels, pred_probs, filter_by=rule)
                hits = int((mask & data.is_flipped).sum())
                precision, recall = hits / max(int(mask.sum()), 1), hits / int(data.is_flipped.sum())
                f1 = 2 * precision * recall / max(precision + recall, 1e-12)
                cleaned = clone(model).fit(data.X_train[~mask], data.labels[~mask]).score(data.X_test, data.y_test)
                rows[rule].append((int(mask.sum()), precision, recall, f1, cleaned, cleaned > noisy))
    print(f"{len(seeds)} seeds ({seeds.start}-{seeds.stop - 1}); trained on every noisy label: "
          f"mean test accuracy {np.mean(noisy_accuracy):.4f}\n")
    print("| rule | flagged | precision | recall | F1 | test accuracy, flags removed | seeds beating noisy |")
    print("|---|---|---|---|---|---|---|")
    for rule, values in rows.items():
        v = np.array(values, dtype=float)
        print(f"| {rule} | {v[:, 0].mean():.1f} | {v[:, 1].mean():.3f} | {v[:, 2].mean():.3f} | "
              f"{v[:, 3].mean():.3f} | {v[:, 4].mean():.4f} | {int(v[:, 5].sum())} of {len(v)} |")
    auto, published = np.array(rows["auto"], dtype=float), np.array(rows["prune_by_noise_rate"], dtype=float)
    f1, accuracy = auto[:, 3] - published[:, 3], auto[:, 4] - published[:, 4]
    print(f"\nauto − prune_by_noise_rate per seed: F1 {f1.min():+.3f} to {f1.max():+.3f} (below by more "
          f"than 0.005 on {int((f1 < -0.005).sum())} seeds), test accuracy {accuracy.min():+.4f} to "
          f"{accuracy.max():+.4f} (lower on {int((accuracy < 0).sum())} seeds, higher on "
          f"{int((accuracy > 0).sum())})")
    gain = np.array(auroc["auto"]) - np.array(auroc["self_confidence"])
    print(f"\nscore AUROC, mean: self_confidence {np.mean(auroc['self_confidence']):.4f}, auto "
          f"{np.mean(auroc['auto']):.4f}; auto − self_confidence per seed {gain.min():+.4f} to {gain.max():+.4f}")


if __name__ == "__main__":
    main()
