"""Segmentation: painted-over regions, two-pass thresholds over all pixels, memory maps, bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import labelaudit
from labelaudit import segmentation


def synthetic_masks(n: int = 16, k: int = 4, size: int = 32, seed: int = 0):
    """True masks of rectangles; half the images get a rectangle painted over with another class."""
    rng = np.random.default_rng(seed)
    true = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        for _ in range(3):
            y, x = rng.integers(0, size - 8, 2)
            h, w = rng.integers(6, 16, 2)
            true[i, y : y + h, x : x + w] = rng.integers(1, k)
    logits = rng.normal(scale=1.0, size=(n, k, size, size))
    logits += 3.0 * (np.arange(k)[None, :, None, None] == true[:, None])
    pred_probs = np.exp(logits)
    pred_probs /= pred_probs.sum(axis=1, keepdims=True)
    given = true.copy()
    for i in range(0, n, 2):
        y, x = rng.integers(0, size - 6, 2)
        region = given[i, y : y + 6, x : x + 6]
        region[...] = (region + rng.integers(1, k)) % k
    return given, pred_probs.astype(np.float32), given != true


def test_painted_regions_rank_first():
    labels, pred_probs, planted = synthetic_masks()
    image_scores, pixel_scores = segmentation.get_label_quality_scores(
        labels, pred_probs, verbose=False
    )
    pixel_auroc = roc_auc_score(planted.ravel(), -pixel_scores.ravel())
    image_auroc = roc_auc_score(planted.any(axis=(1, 2)), -image_scores)
    assert pixel_auroc > 0.98, pixel_auroc  # measured 0.996
    assert image_auroc > 0.95, image_auroc  # measured 1.0
    assert pixel_scores.dtype == np.float32 and pixel_scores.shape == labels.shape

    issues = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    precision = (issues & planted).sum() / issues.sum()
    recall = (issues & planted).sum() / planted.sum()
    assert precision > 0.75 and recall > 0.85, (precision, recall)  # measured 0.80, 0.91
    cl = segmentation.find_label_issues(
        labels, pred_probs, filter_by="confident_learning", verbose=False
    )
    assert (cl & planted).sum() / cl.sum() > 0.85 and (
        cl & planted
    ).sum() / planted.sum() > 0.6  # 0.90, 0.66


def test_thresholds_come_from_all_pixels_like_the_core():
    labels, pred_probs, _ = synthetic_masks(n=6, seed=1)
    flat_probs = np.moveaxis(pred_probs, 1, -1).reshape(-1, pred_probs.shape[1])
    for rule in segmentation.FILTER_METHODS:
        expected = labelaudit.find_label_issues(labels.ravel(), flat_probs, filter_by=rule)
        found = segmentation.find_label_issues(labels, pred_probs, filter_by=rule, verbose=False)
        np.testing.assert_array_equal(found.ravel(), expected)
    _, pixel_scores = segmentation.get_label_quality_scores(
        labels, pred_probs, pixel_score_method="normalized_margin", verbose=False
    )
    expected = labelaudit.get_label_quality_scores(
        labels.ravel(), flat_probs, method="normalized_margin"
    )
    np.testing.assert_array_equal(pixel_scores.ravel(), expected)


def test_exact_ties_are_broken_by_pixel_index():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, (3, 4, 4))
    agrees = rng.random((3, 4, 4)) < 0.5  # these pixels' labels are the top prediction
    own = np.where(agrees, 0.8, 0.4).astype(np.float32)  # every other pixel ties at 0.4
    pred_probs = np.stack([np.where(labels == 0, own, 1 - own), np.where(labels == 1, own, 1 - own)], axis=1)
    found = segmentation.find_label_issues(labels, pred_probs, n_jobs=2, verbose=False)
    rows = np.moveaxis(pred_probs, 1, -1).reshape(-1, 2)
    expected = labelaudit.find_label_issues(labels.ravel(), rows, filter_by="low_self_confidence")
    np.testing.assert_array_equal(found.ravel(), expected)
    tied = np.flatnonzero(~agrees.ravel())
    assert 0 < found.sum() <= len(tied) and not found.ravel()[agrees.ravel()].any()
    assert np.flatnonzero(found.ravel()).tolist() == tied[: int(found.sum())].tolist()  # lowest pixels first


def test_memory_map_threads_and_blocks_give_the_same_result(tmp_path):
    labels, pred_probs, _ = synthetic_masks(n=6, seed=2)
    np.save(tmp_path / "probs.npy", pred_probs)
    np.save(tmp_path / "labels.npy", labels.astype(np.uint8))
    mapped = np.load(tmp_path / "probs.npy", mmap_mode="r")
    mapped_labels = np.load(tmp_path / "labels.npy", mmap_mode="r")
    reference = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    np.testing.assert_array_equal(
        segmentation.find_label_issues(mapped_labels, mapped, n_jobs=2, verbose=False), reference
    )
    with labelaudit.config_context(block_rows=100):
        np.testing.assert_array_equal(
            segmentation.find_label_issues(labels, mapped, verbose=False), reference
        )
    scores = segmentation.get_label_quality_scores(labels, pred_probs, verbose=False)[0]
    np.testing.assert_array_equal(
        segmentation.get_label_quality_scores(mapped_labels, mapped, n_jobs=2, verbose=False)[0],
        scores,
    )


def test_downsample_flags_whole_blocks():
    labels, pred_probs, planted = synthetic_masks(n=8, seed=3)
    issues = segmentation.find_label_issues(labels, pred_probs, downsample=2, verbose=False)
    assert issues.shape == labels.shape
    blocks = issues.reshape(8, 16, 2, 16, 2)
    assert (blocks.all(axis=(2, 4)) == blocks.any(axis=(2, 4))).all()
    assert (issues & planted).sum() / planted.sum() > 0.4  # measured 0.46
    assert (issues & planted).sum() / issues.sum() > 0.7


def test_hand_checked_case():
    labels = np.array([[[0, 0, 0], [1, 1, 1]]])
    pred_probs = np.array(
        [[[[0.9, 0.9, 0.9], [0.1, 0.2, 0.9]], [[0.1, 0.1, 0.1], [0.9, 0.8, 0.1]]]]
    )
    # thresholds: class 0 = 0.9, class 1 = (0.9 + 0.8 + 0.1) / 3 = 0.6; pixel (1, 2) has p0 = 0.9
    issues = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    assert issues.ravel().tolist() == [False] * 5 + [True]
    image_scores, _ = segmentation.get_label_quality_scores(
        labels, pred_probs, temperature=0.5, verbose=False
    )
    s = np.array([0.9, 0.9, 0.9, 0.9, 0.8, 0.1])
    w = np.exp(-s / 0.5)
    np.testing.assert_allclose(image_scores, [(s * w).sum() / w.sum()])
    table = segmentation.common_label_issues(issues, labels, pred_probs)
    assert table.to_dict("records") == [
        {"given_label": 1, "predicted_label": 0, "num_pixel_issues": 1, "fraction_of_issues": 1.0}
    ]
    summary = segmentation.class_summary(issues, labels)
    assert summary["num_label_issues"].tolist() == [0, 1]
    assert summary["issue_rate"].tolist() == [0.0, 1 / 3]


@pytest.mark.parametrize(
    ("labels", "pred_probs", "kwargs", "error", "match"),
    [
        (
            np.zeros((1, 2, 2), int),
            np.full((1, 2, 2), 0.5),
            {},
            ValueError,
            "pred_probs must be 4-D",
        ),
        (
            np.zeros((1, 3, 2), int),
            np.full((1, 2, 2, 2), 0.5),
            {},
            ValueError,
            r"labels must have shape \(images, height, width\) = \(1, 2, 2\)",
        ),
        (
            np.zeros((1, 2, 2)),
            np.full((1, 2, 2, 2), 0.5),
            {},
            TypeError,
            "labels must hold integer class ids",
        ),
        (
            np.full((1, 2, 2), 2),
            np.full((1, 2, 2, 2), 0.5),
            {},
            ValueError,
            r"labels\[0\] holds 2; class ids must be in 0..1",
        ),
        (
            np.zeros((1, 4, 4), int),
            np.full((1, 2, 4, 4), 0.5),
            {"downsample": 3},
            ValueError,
            "downsample=3 is not valid",
        ),
        (
            np.zeros((1, 2, 2), int),
            np.full((1, 2, 2, 2), 0.7),
            {},
            ValueError,
            r"rows of pred_probs must sum to 1.*pixels of all images",
        ),
        (
            np.zeros((1, 2, 2), int),
            np.full((1, 2, 2, 2), 0.5),
            {"filter_by": "both"},
            ValueError,
            "filter_by='both' is not recognised",
        ),
    ],
)
def test_bad_input_names_the_argument(labels, pred_probs, kwargs, error, match):
    with pytest.raises(error, match=match):
        segmentation.find_label_issues(labels, pred_probs, verbose=False, **kwargs)


def test_scoring_errors_name_the_image():
    pred_probs = np.full((2, 2, 2, 2), 0.5)
    pred_probs[1, :, 1, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"NaN or inf \(first in row 2\).*in image 1, where row r is pixel"
    ):
        segmentation.get_label_quality_scores(np.zeros((2, 2, 2), int), pred_probs, verbose=False)
    with pytest.raises(ValueError, match="issues must be the boolean mask"):
        segmentation.common_label_issues(
            np.zeros((2, 2, 2)), np.zeros((2, 2, 2), int), np.full((2, 2, 2, 2), 0.5)
        )


def test_plot_issues(monkeypatch):
    labels, pred_probs, _ = synthetic_masks(n=2, seed=4)
    issues = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(
        ImportError, match=r"plot_issues requires matplotlib: pip install 'labelaudit\[plot\]'"
    ):
        segmentation.plot_issues(issues, 0, labels=labels)
    monkeypatch.undo()
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert segmentation.plot_issues(issues, 0, labels=labels, ax=ax) is ax
    assert "flagged pixels" in ax.get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="index=5 is not an image of issues"):
        segmentation.plot_issues(issues, 5)


def test_renormalize_accepts_unnormalised_scores():
    labels, pred_probs, _ = synthetic_masks(n=4, seed=6)
    scaled = pred_probs * np.linspace(
        0.5, 3.0, pred_probs.shape[-1], dtype=np.float32
    )  # per-pixel scale
    with pytest.raises(
        ValueError,
        match=r"must hold probabilities in \[0, 1\].*renormalize=True accepts per-pixel scores",
    ):
        segmentation.find_label_issues(labels, scaled, verbose=False)
    reference = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    np.testing.assert_array_equal(
        segmentation.find_label_issues(labels, scaled, renormalize=True, verbose=False), reference
    )
    scores = segmentation.get_label_quality_scores(labels, pred_probs, verbose=False)
    again = segmentation.get_label_quality_scores(labels, scaled, renormalize=True, verbose=False)
    np.testing.assert_allclose(again[0], scores[0], rtol=1e-5)
    np.testing.assert_allclose(again[1], scores[1], rtol=1e-5)
    negative = pred_probs.copy()
    negative[1, 0, 2, 3] = -0.5
    with pytest.raises(
        ValueError, match="renormalize=True needs finite, non-negative scores.*image 1, pixel 67"
    ):
        segmentation.find_label_issues(labels, negative, renormalize=True, verbose=False)
    with pytest.raises(TypeError, match="renormalize must be True or False"):
        segmentation.get_label_quality_scores(labels, pred_probs, renormalize="yes", verbose=False)


def test_scores_downsample_and_num_pixel_issues():
    labels, pred_probs, _ = synthetic_masks(n=4, seed=7)
    image_scores, pixel_scores = segmentation.get_label_quality_scores(
        labels, pred_probs, downsample=2, method="min", verbose=False
    )
    assert pixel_scores.shape == labels.shape
    blocks = pixel_scores.reshape(4, 16, 2, 16, 2)
    assert (blocks.max(axis=(2, 4)) == blocks.min(axis=(2, 4))).all()  # one score per block
    # a block's score is the self-confidence of its majority class under the averaged probabilities
    coarse = pred_probs.reshape(4, 4, 16, 2, 16, 2).mean(axis=(3, 5))
    first = labels[0, :2, :2].ravel()
    majority = np.bincount(first, minlength=4).argmax()
    np.testing.assert_allclose(pixel_scores[0, 0, 0], coarse[0, majority, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(image_scores, blocks.min(axis=(1, 2, 3, 4)))
    counted, full_pixels = segmentation.get_label_quality_scores(
        labels, pred_probs, method="num_pixel_issues", verbose=False
    )
    issues = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    np.testing.assert_allclose(counted, 1 - issues.mean(axis=(1, 2)))
    np.testing.assert_array_equal(
        full_pixels, segmentation.get_label_quality_scores(labels, pred_probs, verbose=False)[1]
    )


def test_issues_from_scores():
    scores = np.array([0.3, 0.05, 0.01, 0.05, 0.1])
    assert segmentation.issues_from_scores(scores).tolist() == [2, 1, 3]  # 0.1 is not below 0.1
    assert segmentation.issues_from_scores(scores, threshold=0.0).tolist() == []
    pixels = np.array([[[0.5, 0.05]], [[0.2, 0.3]]])
    assert segmentation.issues_from_scores(scores[:2], pixels, threshold=0.25).tolist() == [
        [[False, True]],
        [[True, False]],
    ]
    with pytest.raises(ValueError, match="threshold=-1 is outside \\[0, 1\\]"):
        segmentation.issues_from_scores(scores, threshold=-1)
    with pytest.raises(ValueError, match=r"pixel_scores must have shape \(5, H, W\)"):
        segmentation.issues_from_scores(scores, pixels)


def test_summaries_exclude_top_and_filter_by_class():
    labels = np.array([[[0, 1, 2, 2]]])
    pred_probs = np.zeros((1, 3, 1, 4))
    pred_probs[0, :, 0, 0] = [0.1, 0.8, 0.1]  # given 0, suggested 1
    pred_probs[0, :, 0, 1] = [0.8, 0.1, 0.1]  # given 1, suggested 0
    pred_probs[0, :, 0, 2] = [0.1, 0.8, 0.1]  # given 2, suggested 1
    pred_probs[0, :, 0, 3] = [0.1, 0.8, 0.1]  # given 2, suggested 1
    issues = np.ones((1, 1, 4), dtype=bool)
    table = segmentation.common_label_issues(issues, labels, pred_probs, verbose=False)
    assert table[["given_label", "predicted_label", "num_pixel_issues"]].values.tolist() == [
        [2, 1, 2],
        [0, 1, 1],
        [1, 0, 1],
    ]
    top = segmentation.common_label_issues(issues, labels, pred_probs, top=1, verbose=False)
    assert top["num_pixel_issues"].tolist() == [2] and top["fraction_of_issues"].tolist() == [0.5]
    no_zero = segmentation.common_label_issues(
        issues, labels, pred_probs, exclude=[0], verbose=False
    )
    assert no_zero[["given_label", "predicted_label"]].values.tolist() == [[2, 1]]
    assert no_zero["fraction_of_issues"].tolist() == [1.0]
    assert segmentation.filter_by_class(1, issues, labels, pred_probs).ravel().tolist() == [
        True,
        True,
        True,
        True,
    ]
    assert segmentation.filter_by_class(2, issues, labels, pred_probs).ravel().tolist() == [
        False,
        False,
        True,
        True,
    ]
    with pytest.raises(ValueError, match="class_index holds 3; class ids must be in 0..2"):
        segmentation.filter_by_class(3, issues, labels, pred_probs)
    with pytest.raises(ValueError, match="exclude holds 5"):
        segmentation.common_label_issues(issues, labels, pred_probs, exclude=[5])


def test_display_issues(monkeypatch):
    labels, pred_probs, _ = synthetic_masks(n=3, seed=8)
    issues = segmentation.find_label_issues(labels, pred_probs, verbose=False)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(
        ImportError, match=r"display_issues requires matplotlib: pip install 'labelaudit\[plot\]'"
    ):
        segmentation.display_issues(issues)
    monkeypatch.undo()
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = issues.sum(axis=(1, 2))
    figure = segmentation.display_issues(
        issues, labels=labels, pred_probs=pred_probs, top=2, class_names=["a", "b", "c", "d"]
    )
    titles = [ax.get_title() for ax in figure.axes]
    worst = np.lexsort((np.arange(3), -counts))[:2]
    assert titles == [
        "Given labels",
        "Predicted labels",
        f"image {worst[0]}: {counts[worst[0]]} flagged pixels",
        "Given labels",
        "Predicted labels",
        f"image {worst[1]}: {counts[worst[1]]} flagged pixels",
    ]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["a", "b", "c", "d"]
    plt.close(figure)
    every = segmentation.display_issues(issues, labels=labels, exclude=[0, 1, 2, 3], top=1)
    assert every.axes[-1].get_title() == f"image {worst[0]}: 0 flagged pixels"
    plt.close(every)
    with pytest.raises(ValueError, match="exclude names classes; pass labels or pred_probs"):
        segmentation.display_issues(issues, exclude=[0])
