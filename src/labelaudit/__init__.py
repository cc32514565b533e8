"""labelaudit: find and fix label errors and other data issues in machine-learning datasets.

The public functions are importable from here; their modules load on first use, so
``import labelaudit`` stays light.

Examples
--------
>>> import numpy as np
>>> import labelaudit
>>> labels = [0, 0, 1, 1]
>>> pred_probs = np.array([[.9, .1], [.1, .9], [.2, .8], [.3, .7]])
>>> labelaudit.find_label_issues(labels, pred_probs)
array([False,  True, False, False])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "compute_confident_joint": "labelaudit._dispatch",
    "calibrate_confident_joint": "labelaudit.noise",
    "estimate_joint": "labelaudit.noise",
    "estimate_latent": "labelaudit.noise",
    "num_label_issues": "labelaudit.noise",
    "find_label_issues": "labelaudit.filter",
    "get_label_quality_scores": "labelaudit.rank",
    "order_label_issues": "labelaudit.rank",
    "get_label_quality_ensemble_scores": "labelaudit.ensemble",
    "health_summary": "labelaudit.health",
    "estimate_pred_probs": "labelaudit.models",
    "load_image_folder": "labelaudit.io.images",
    "pred_probs_from_logits": "labelaudit.models",
    "CleanLearning": "labelaudit.models",
    "HealthSummary": "labelaudit.health",
    "rank_classes_by_label_quality": "labelaudit.health",
    "find_overlapping_classes": "labelaudit.health",
    "overall_label_health_score": "labelaudit.health",
    "Audit": "labelaudit.audit",
    "OutOfDistribution": "labelaudit.audit",
    "LabelIssueFinder": "labelaudit.streaming",
    "config_context": "labelaudit._config",
    "get_config": "labelaudit._config",
    "set_config": "labelaudit._config",
}

# Submodules reachable as attributes (``labelaudit.multilabel``) without importing them up front.
_SUBMODULES = {
    "datasets", "multilabel", "multiannotator", "regression", "token", "segmentation",
    "detection", "streaming", "audit", "auto", "ensemble", "models", "report", "review", "dask",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"labelaudit.{name}")
    else:
        raise AttributeError(f"module 'labelaudit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from labelaudit._config import config_context, get_config, set_config
    from labelaudit._dispatch import compute_confident_joint
    from labelaudit.audit import Audit, OutOfDistribution
    from labelaudit.ensemble import get_label_quality_ensemble_scores
    from labelaudit.filter import find_label_issues
    from labelaudit.health import (
        HealthSummary,
        find_overlapping_classes,
        health_summary,
        overall_label_health_score,
        rank_classes_by_label_quality,
    )
    from labelaudit.io.images import load_image_folder
    from labelaudit.models import CleanLearning, estimate_pred_probs, pred_probs_from_logits
    from labelaudit.noise import (
        calibrate_confident_joint,
        estimate_joint,
        estimate_latent,
        num_label_issues,
    )
    from labelaudit.rank import get_label_quality_scores, order_label_issues
    from labelaudit.streaming import LabelIssueFinder
