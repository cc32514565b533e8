"""A small convolutional net through skorch, audited by labelaudit (not run by the tests: torch
is several GB; ``pip install torch skorch``).

The factory ``small_cnn`` works with ``labelaudit audit DIR --model examples/skorch_cnn.py:small_cnn``
on a folder of class folders, and in Python with ``estimate_pred_probs`` as below. labelaudit gives
the model ``X`` as float32 pixels in [0, 1] of shape (n, H, W, C) (32 x 32 by default) and the
labels as int64 class indices, each fold's rows in a seeded random order, so the net needs no
conversions of its own beyond putting the channels first.

Run: python examples/skorch_cnn.py

Measured 2026-12-02 (torch 2.13 CPU, skorch 1.4, one thread, about 25 s): out-of-sample accuracy
0.788 on the noisy labels, 192 flagged (``find_label_issues``' default rule) with precision 0.828
and recall 0.935 against the known flips. Through ``labelaudit audit DIR --model
examples/skorch_cnn.py:small_cnn`` on a folder of PNG digits: ``benchmarks/bench_images.py`` (the
default HOG model does better on these tiny images).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from skorch import NeuralNetClassifier
from torch import nn

from labelaudit import estimate_pred_probs, find_label_issues
from labelaudit.datasets import load_noisy_digits


class SmallCNN(nn.Module):
    """Two convolutions and a linear layer over (n, H, W, C) images."""

    def __init__(self, channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        )
        self.classify = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(X.permute(0, 3, 1, 2)).flatten(1))


def small_cnn(channels: int = 1, num_classes: int = 10) -> NeuralNetClassifier:
    """The factory ``--model`` calls: an unfitted scikit-learn-compatible classifier."""
    return NeuralNetClassifier(
        SmallCNN, module__channels=channels, module__num_classes=num_classes,
        criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=3e-3,
        max_epochs=15, batch_size=64, train_split=None, verbose=0,
        predict_nonlinearity="auto",  # softmax over the logits in predict_proba
    )


def digits_as_images(rows: np.ndarray, size: int = 32) -> np.ndarray:
    """The 8 x 8 digits as (n, size, size, 1) float32 in [0, 1], as load_image_folder reads PNGs."""
    grey = [Image.fromarray(np.uint8(255 - r.reshape(8, 8) * 255 / 16)).resize((size, size)) for r in rows]
    return (np.stack([np.asarray(g, dtype=np.float32) for g in grey]) / 255)[..., None]


if __name__ == "__main__":
    data = load_noisy_digits()
    X = digits_as_images(data.X_train)
    pred_probs = estimate_pred_probs(small_cnn(), X, data.labels, cv=5)
    mask = find_label_issues(data.labels, pred_probs)
    hits = int((mask & data.is_flipped).sum())
    print(f"out-of-sample accuracy {np.mean(pred_probs.argmax(1) == data.labels):.3f}; "
          f"{int(mask.sum())} flagged, precision {hits / max(mask.sum(), 1):.3f}, "
          f"recall {hits / data.is_flipped.sum():.3f}")
