"""The core workflow on a dataset that ships with scikit-learn (handwritten digits).

10% of the training labels are flipped with a seeded random noise matrix; out-of-sample
probabilities come from 5-fold cross-validation; labelaudit then ranks the label issues,
summarises the dataset's health and scores every label.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from labelaudit import find_label_issues, get_label_quality_scores, health_summary
from labelaudit.datasets import generate_noise_matrix, generate_noisy_labels


def main() -> None:
    X, true_labels = load_digits(return_X_y=True)
    noise = generate_noise_matrix(10, 9.0, frac_zero_noise_rates=0.7, seed=1)
    labels = generate_noisy_labels(true_labels, noise, seed=1)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pred_probs = cross_val_predict(model, X, labels, cv=5, method="predict_proba")

    ranked = find_label_issues(labels=labels, pred_probs=pred_probs, return_indices_ranked_by="self_confidence")
    flipped = labels != true_labels
    hits = int(flipped[ranked].sum())
    print(f"{len(ranked)} label issues found; {hits} of them are real flips "
          f"(precision {hits / len(ranked):.2f}, recall {hits / flipped.sum():.2f} of {flipped.sum()} flips)")
    print("most likely mislabelled rows:", ranked[:10].tolist())
    print()
    health_summary(labels, pred_probs, class_names=[str(d) for d in range(10)])
    print()
    scores = get_label_quality_scores(labels, pred_probs)
    print("label quality of the first five rows:", np.round(scores[:5], 3).tolist())


if __name__ == "__main__":
    main()
