"""Does the label check find label errors better when the neighbours' labels join the model's?

Cases: scikit-learn's bundled digits, wine, breast_cancer and iris and one ``make_classification``
set, each with seeded synthetic label noise (10 % and 30 %, uniform over the other classes and
class-dependent from :func:`labelaudit.datasets.generate_noise_matrix`, drawn exactly by
:func:`labelaudit.datasets.generate_noisy_labels`), and out-of-sample ``pred_probs`` from 5-fold
``cross_val_predict`` of three models trained on the noisy labels: logistic regression, Gaussian
naive Bayes (weak on most of these) and a small random forest. Features: the standardized raw
features, and (``--uninformative``, on by default) as many columns of random noise, which must
not hurt.

For each case the Audit's ``label`` check runs with ``neighbor_evidence=False`` (the model
alone) and ``True`` (model + neighbours, ``k=10``): F1 / precision / recall of the flagged set
against the true noise mask and AUROC of the label score (low score = issue). Prints Markdown
tables, the means and the worst differences.

    PYTHONPATH=src python benchmarks/bench_neighbors.py [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler

from labelaudit import Audit
from labelaudit.datasets import generate_noise_matrix, generate_noisy_labels

NOISE = (("uniform", 0.1), ("uniform", 0.3), ("class", 0.1), ("class", 0.3))
METRICS = ("F1", "P", "R", "AUROC")


def datasets() -> list[tuple[str, np.ndarray, np.ndarray]]:
    found = [
        (name, *loader(return_X_y=True))
        for name, loader in (
            ("digits", load_digits),
            ("wine", load_wine),
            ("breast_cancer", load_breast_cancer),
            ("iris", load_iris),
        )
    ]
    X, y = make_classification(
        n_samples=2000, n_features=20, n_informative=6, n_classes=4, n_clusters_per_class=2,
        random_state=0,
    )
    found.append(("make_class", X, y))
    return found


def models(seed: int) -> dict[str, object]:
    return {
        "logreg": LogisticRegression(max_iter=2000),
        "gnb": GaussianNB(),
        "forest": RandomForestClassifier(n_estimators=30, max_depth=6, random_state=seed, n_jobs=1),
    }


def noisy_labels(y: np.ndarray, kind: str, rate: float, seed: int) -> np.ndarray:
    k = int(y.max()) + 1
    if kind == "uniform":
        matrix = np.full((k, k), rate / (k - 1))
        np.fill_diagonal(matrix, 1.0 - rate)
    else:
        prior = np.bincount(y, minlength=k) / len(y)
        matrix = generate_noise_matrix(
            k, k * (1.0 - rate), py=prior, frac_zero_noise_rates=0.5 if k > 2 else 0.0, seed=seed
        )
    return generate_noisy_labels(y, matrix, seed=seed)


def flagged_quality(mask: np.ndarray, is_error: np.ndarray) -> tuple[float, float, float]:
    tp = float((mask & is_error).sum())
    precision = tp / max(int(mask.sum()), 1)
    recall = tp / max(int(is_error.sum()), 1)
    return 2 * tp / max(int(mask.sum() + is_error.sum()), 1), precision, recall


def measure(labels, pred_probs, features, is_error, neighbor_evidence):
    audit = Audit(label=labels).run(
        pred_probs=pred_probs,
        features=features,
        issue_types={"label": {"neighbor_evidence": neighbor_evidence}},
        verbose=False,
    )
    issues = audit.issues
    mask = issues["is_label_issue"].to_numpy()
    score = issues["label_score"].to_numpy()
    weight = audit.info["label"].get("weights", {}).get("neighbors", 0.0)
    return (*flagged_quality(mask, is_error), roc_auc_score(is_error, -score)), weight


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-uninformative", dest="uninformative", action="store_false")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    feature_kinds = ("raw", "random") if args.uninformative else ("raw",)
    rows: dict[str, list[tuple[str, np.ndarray, np.ndarray, float]]] = {f: [] for f in feature_kinds}
    for name, X, y in datasets():
        X = StandardScaler().fit_transform(X)
        for seed in args.seeds:
            for kind, rate in NOISE:
                labels = noisy_labels(y, kind, rate, seed)
                is_error = labels != y
                cv = StratifiedKFold(5, shuffle=True, random_state=seed)
                for model_name, model in models(seed).items():
                    probs = cross_val_predict(model, X, labels, cv=cv, method="predict_proba")
                    for feature_kind in feature_kinds:
                        features = X
                        if feature_kind == "random":
                            features = np.random.default_rng(seed).normal(size=X.shape)
                        alone, _ = measure(labels, probs, features, is_error, False)
                        both, weight = measure(labels, probs, features, is_error, True)
                        case = f"{name} {kind}{int(rate * 100)} s{seed} {model_name}"
                        rows[feature_kind].append((case, np.array(alone), np.array(both), weight))
    for feature_kind, found in rows.items():
        print(f"\n## features: {feature_kind}\n")
        header = " | ".join(f"{m} alone | {m} +nb" for m in METRICS)
        print(f"| case | {header} | w_nb |")
        print("|---" * (2 * len(METRICS) + 2) + "|")
        for case, alone, both, weight in found:
            cells = " | ".join(f"{a:.3f} | {b:.3f}" for a, b in zip(alone, both))
            print(f"| {case} | {cells} | {weight:.3f} |")
        alone = np.array([r[1] for r in found])
        both = np.array([r[2] for r in found])
        delta = both - alone
        print(f"\n{len(found)} cases, features {feature_kind}:\n")
        print("| metric | mean alone | mean +nb | mean delta | worst delta (case) | cases better / worse |")
        print("|---|---|---|---|---|---|")
        for j, metric in enumerate(METRICS):
            worst = int(np.argmin(delta[:, j]))
            print(
                f"| {metric} | {alone[:, j].mean():.4f} | {both[:, j].mean():.4f} | "
                f"{delta[:, j].mean():+.4f} | {delta[worst, j]:+.4f} ({found[worst][0]}) | "
                f"{int((delta[:, j] > 1e-9).sum())} / {int((delta[:, j] < -1e-9).sum())} |"
            )
        for model_name in models(0):
            picked = [i for i, r in enumerate(found) if r[0].endswith(model_name)]
            print(
                f"\n{model_name}: mean F1 {alone[picked, 0].mean():.4f} -> {both[picked, 0].mean():.4f}, "
                f"AUROC {alone[picked, 3].mean():.4f} -> {both[picked, 3].mean():.4f}"
            )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
