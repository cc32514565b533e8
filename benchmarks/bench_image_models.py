"""Which default image model finds misfiled images best (the figures in labelaudit.vision).

Run from the repository root (needs Pillow): ``python benchmarks/bench_image_models.py``

The demo's noisy digits (scikit-learn's bundled 8 x 8 digits, 13.5% of the training labels
flipped with a documented seed) are drawn as 32 x 32 grey images, the way ``labelaudit demo
--images`` writes them; each candidate model is cross-validated (5 folds), the flags of
``find_label_issues`` are compared with the known flips, and the model is retrained without the
flags and scored on the 540 clean test digits. Prints a markdown table.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from labelaudit import estimate_pred_probs, find_label_issues
from labelaudit.cli import _digit_image
from labelaudit.datasets import load_noisy_digits
from labelaudit.vision import HogFeatures, default_image_model


def images(rows: np.ndarray) -> np.ndarray:
    return np.stack([np.asarray(_digit_image(r), dtype=np.float32) / 255 for r in rows])[..., None]


def flatten(X: np.ndarray) -> np.ndarray:
    return X.reshape(len(X), -1)


CANDIDATES = {
    "HOG, 8-px cells, C=0.003 (default)": default_image_model,
    "HOG, 8-px cells, C=0.03": lambda: make_pipeline(
        HogFeatures(), StandardScaler(), LogisticRegression(C=0.03, max_iter=2000)),
    "HOG, 4-px cells, C=0.01": lambda: make_pipeline(
        HogFeatures(cell=4), StandardScaler(), LogisticRegression(C=0.01, max_iter=2000)),
    "pixels, C=0.01": lambda: make_pipeline(
        FunctionTransformer(flatten), StandardScaler(), LogisticRegression(C=0.01, max_iter=2000)),
    "pixels, PCA 50, C=0.1": lambda: make_pipeline(
        FunctionTransformer(flatten), StandardScaler(), PCA(50, random_state=0),
        LogisticRegression(C=0.1, max_iter=2000)),
}


def main() -> None:
    data = load_noisy_digits()
    train, test = images(data.X_train), images(data.X_test)
    print("| model | flagged | precision | recall | test accuracy, noisy | without the flags | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, make in CANDIDATES.items():
        started = time.perf_counter()
        with threadpool_limits(limits=1):
            pred_probs = estimate_pred_probs(make(), train, data.labels, cv=5, verbose=False)
            flagged = find_label_issues(data.labels, pred_probs)
            noisy = clone(make()).fit(train, data.labels).score(test, data.y_test)
            cleaned = clone(make()).fit(train[~flagged], data.labels[~flagged]).score(test, data.y_test)
        hits = int((flagged & data.is_flipped).sum())
        print(f"| {name} | {int(flagged.sum())} | {hits / max(flagged.sum(), 1):.3f} | "
              f"{hits / data.is_flipped.sum():.3f} | {noisy:.4f} | {cleaned:.4f} | "
              f"{time.perf_counter() - started:.1f} |")


if __name__ == "__main__":
    main()
