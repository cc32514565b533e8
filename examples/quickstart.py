"""Bring your own model: out-of-sample probabilities, then the three core calls.

Uses the demo's noisy handwritten digits (scikit-learn's bundled data with a documented, seeded
label noise; see ``labelaudit.datasets.load_noisy_digits``).

Run: python examples/quickstart.py
"""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from labelaudit import estimate_pred_probs, find_label_issues, get_label_quality_scores, health_summary
from labelaudit.datasets import load_noisy_digits

data = load_noisy_digits()
model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
pred_probs = estimate_pred_probs(model, data.X_train, data.labels, cv=5)

ranked = find_label_issues(labels=data.labels, pred_probs=pred_probs, return_indices_ranked_by="self_confidence")
summary = health_summary(data.labels, pred_probs, verbose=False)
print(summary.classes.head(3).to_string(index=False))
scores = get_label_quality_scores(data.labels, pred_probs)
print(f"{len(ranked)} issues; {data.is_flipped[ranked].mean():.0%} of them are known flips; worst rows {ranked[:5]}")
print("their label quality:", scores[ranked[:5]].round(4))
