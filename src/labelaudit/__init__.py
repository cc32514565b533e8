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
    "calibrate_confident_joint": "labelaudit._dispatch",
    "estimate_joint": "labelaudit._dispatch",
    "get_confident_thresholds": "labelaudit._dispatch",
    "num_label_issues": "labelaudit._dispatch",
    "find_label_issues": "labelaudit._dispatch",
    "find_predicted_neq_given": "labelaudit._dispatch",
    "get_label_quality_scores": "labelaudit._dispatch",
    "estimate_latent": "labelaudit.noise",
    "estimate_py_and_noise_matrices_from_probabilities": "labelaudit.noise",
    "find_label_issues_using_argmax_confusion_matrix": "labelaudit.filter",
    "order_label_issues": "labelaudit.rank",
    "find_top_issues": "labelaudit.rank",
    "get_self_confidence_for_each_label": "labelaudit.rank",
    "get_normalized_margin_for_each_label": "labelaudit.rank",
    "get_confidence_weighted_entropy_for_each_label": "labelaudit.rank",
    "get_label_quality_ensemble_scores": "labelaudit.ensemble",
    "health_summary": "labelaudit.health",
    "estimate_pred_probs": "labelaudit.models",
    "estimate_cv_predicted_probabilities": "labelaudit.models",
    "estimate_confident_joint_and_cv_pred_proba": "labelaudit.models",
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
    from labelaudit._dispatch import (
        calibrate_confident_joint,
        compute_confident_joint,
        estimate_joint,
        find_label_issues,
        find_predicted_neq_given,
        get_confident_thresholds,
        get_label_quality_scores,
        num_label_issues,
    )
    from labelaudit.audit import Audit, OutOfDistribution
    from labelaudit.filter import find_label_issues_using_argmax_confusion_matrix
    from labelaudit.ensemble import get_label_quality_ensemble_scores
    from labelaudit.health import (
        HealthSummary,
        find_overlapping_classes,
        health_summary,
        overall_label_health_score,
        rank_classes_by_label_quality,
    )
    from labelaudit.io.images import load_image_folder
    from labelaudit.models import (
        CleanLearning,
        estimate_confident_joint_and_cv_pred_proba,
        estimate_cv_predicted_probabilities,
        estimate_pred_probs,
        pred_probs_from_logits,
    )
    from labelaudit.noise import estimate_latent, estimate_py_and_noise_matrices_from_probabilities
    from labelaudit.rank import (
        find_top_issues,
        get_confidence_weighted_entropy_for_each_label,
        get_normalized_margin_for_each_label,
        get_self_confidence_for_each_label,
        order_label_issues,
    )
    from labelaudit.streaming import LabelIssueFinder
