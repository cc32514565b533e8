"""Reproduce published outputs exactly (see ../shared/data/README.md)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_fixture

import labelaudit as la


def _labelerrors(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = load_fixture(f"labelerrors/{name}.npz")
    return d["labels"], d["pred_probs"], d["reviewed"]


def _paper_rule(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """The label-errors paper: k from the uncalibrated joint, the k lowest normalized margins."""
    cj = la.compute_confident_joint(labels, pred_probs, calibrate=False)
    k = int((1 - np.trace(cj) / cj.sum()) * len(labels))
    assert la.num_label_issues(labels, pred_probs) == k
    flagged = la.find_label_issues(
        labels, pred_probs, filter_by="low_normalized_margin", return_indices_ranked_by="normalized_margin"
    )
    assert len(flagged) == k
    return flagged


@pytest.mark.parametrize("name, expected", [("cifar10", 275), ("20news", 93)])
def test_labelerrors_reviewed_sets_exactly(name: str, expected: int) -> None:
    labels, pred_probs, reviewed = _labelerrors(name)
    flagged = _paper_rule(labels, pred_probs)
    assert len(reviewed) == expected
    assert set(flagged.tolist()) == set(reviewed.tolist())


def test_imdb_accepts_rounding_noise_and_reproduces_after_renormalising() -> None:
    labels, pred_probs, reviewed = _labelerrors("imdb")
    assert pred_probs.max() > 1.0  # 1.00001 is accepted as rounding noise
    assert la.num_label_issues(labels, pred_probs) == len(reviewed) == 1310  # as published
    clean = np.clip(pred_probs, 0, 1)
    clean = clean / clean.sum(axis=1, keepdims=True)
    flagged = _paper_rule(labels, clean)
    assert set(flagged.tolist()) == set(reviewed.tolist())
    assert len(flagged) == 1310


def test_cifar100_float16_with_ties() -> None:
    labels, pred_probs, reviewed = _labelerrors("cifar100")
    assert pred_probs.dtype == np.float16
    flagged = _paper_rule(labels, pred_probs)
    assert len(set(flagged.tolist()) & set(reviewed.tolist())) >= 2233


def test_mnist_prune_by_class_count_inside_reviewed() -> None:
    labels, pred_probs, reviewed = _labelerrors("mnist")
    cj = la.compute_confident_joint(labels, pred_probs, calibrate=False)
    k = int(la.find_label_issues(labels, pred_probs, filter_by="prune_by_class", confident_joint=cj).sum())
    assert k == 87
    scores = la.get_label_quality_scores(labels, pred_probs, method="normalized_margin")
    lowest = np.argsort(scores, kind="stable")[:k]
    assert set(lowest.tolist()) <= set(reviewed.tolist())


METHODS = {
    "argmax": "predicted_neq_given",
    "cj_only": "confident_learning",
    "pbc": "prune_by_class",
    "pbnr": "prune_by_noise_rate",
    "both": "both",
}
SETTINGS = [f"noise{n}_sparsity{s}" for n in ("0.2", "0.4", "0.6") for s in ("0.0", "0.2", "0.4", "0.6")]

# The paper's table (CIFAR-10): setting -> {method: F1}, plus precision and recall of pbnr.
PAPER_F1 = {
    "noise0.2_sparsity0.0": {"argmax": .71, "pbc": .76, "pbnr": .77, "both": .78, "cj_only": .75},
    "noise0.2_sparsity0.6": {"argmax": .72, "pbc": .76, "pbnr": .79, "both": .78, "cj_only": .78},
    "noise0.4_sparsity0.0": {"argmax": .84, "pbc": .84, "pbnr": .85, "both": .84, "cj_only": .84},
    "noise0.4_sparsity0.6": {"argmax": .79, "pbc": .79, "pbnr": .80, "both": .78, "cj_only": .80},
    "noise0.6_sparsity0.0": {"argmax": .83, "pbc": .81, "pbnr": .72, "both": .70, "cj_only": .83},
    "noise0.6_sparsity0.6": {"argmax": .70, "pbc": .67, "pbnr": .60, "both": .58, "cj_only": .69},
}
PAPER_PBNR_PRECISION_RECALL = {
    "noise0.2_sparsity0.0": (.65, .93),
    "noise0.2_sparsity0.6": (.68, .94),
    "noise0.4_sparsity0.0": (.82, .88),
    "noise0.4_sparsity0.6": (.79, .82),
    "noise0.6_sparsity0.0": (.84, .63),
    "noise0.6_sparsity0.6": (.77, .49),
}


def _cl_cifar10(setting: str) -> dict[str, np.ndarray]:
    d = load_fixture(f"cl_cifar10/{setting}.npz")
    p = d["pred_probs"].astype(np.float32)
    d["pred_probs"] = p / p.sum(axis=1, keepdims=True)  # float16 rows sum to 0.986-1.001
    return d


def _precision_recall_f1(mask: np.ndarray, errors: np.ndarray) -> tuple[float, float, float]:
    tp = int((mask & errors).sum())
    precision, recall = tp / mask.sum(), tp / errors.sum()
    return precision, recall, 2 * precision * recall / (precision + recall)


def _paper_mask(labels: np.ndarray, pred_probs: np.ndarray, filter_by: str) -> np.ndarray:
    """What the paper's code flagged with ``filter_by``.

    Its ``cj_only`` is every row off the diagonal of the confident joint (the rows of
    ``return_indices_of_off_diagonals``); ``filter_by="confident_learning"`` leaves out those whose
    given label is a top prediction, as every rule does.
    """
    if filter_by != "confident_learning":
        return la.find_label_issues(labels, pred_probs, filter_by=filter_by)
    _, off = la.compute_confident_joint(labels, pred_probs, return_indices_of_off_diagonals=True)
    mask = np.zeros(len(labels), dtype=bool)
    mask[off] = True
    guarded = la.find_label_issues(labels, pred_probs, filter_by=filter_by)
    not_top = la.find_label_issues(labels, pred_probs, filter_by="predicted_neq_given")
    assert np.array_equal(guarded, mask & not_top)
    return mask


@pytest.mark.parametrize("setting", SETTINGS)
def test_cl_paper_masks_and_table(setting: str) -> None:
    d = _cl_cifar10(setting)
    labels = d["labels"].astype(np.int64)
    errors = labels != d["true_labels"]
    for short, filter_by in METHODS.items():
        mask = _paper_mask(labels, d["pred_probs"], filter_by)
        agreement = float((mask == d[f"paper_flagged_{short}"]).mean())
        assert agreement >= 0.998, (setting, short, agreement)
        precision, recall, f1 = _precision_recall_f1(mask, errors)
        if setting in PAPER_F1:
            assert abs(f1 - PAPER_F1[setting][short]) <= 0.01 + 1e-9, (setting, short, f1)
            if short == "pbnr":
                paper_p, paper_r = PAPER_PBNR_PRECISION_RECALL[setting]
                assert abs(precision - paper_p) <= 0.01 + 1e-9 and abs(recall - paper_r) <= 0.01 + 1e-9
