"""The Display objects of report.plots: what they hold, what they draw, and the plot_* wrappers."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from labelaudit import detection, health_summary, segmentation
from labelaudit.report import (
    DetectionBoxesDisplay,
    Findings,
    IssueExamplesDisplay,
    LabelQualityDisplay,
    NoiseMatrixDisplay,
    SegmentationIssuesDisplay,
    plot_issue_examples,
    plot_label_quality,
    plot_noise_matrix,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

PRED_PROBS = np.array(
    [
        [0.9, 0.1, 0],
        [0.8, 0.2, 0],
        [0.1, 0.9, 0],
        [0.2, 0.8, 0],
        [0.3, 0.7, 0],
        [0.7, 0.3, 0],
        [0.1, 0.1, 0.8],
        [0.6, 0.1, 0.3],
    ]
)
SUMMARY = health_summary(
    [0, 0, 0, 1, 1, 1, 2, 2], PRED_PROBS, class_names=["cat", "dog", "a" * 60], verbose=False
)
IMAGES = np.arange(11 * 16, dtype=np.float64).reshape(11, 16) % 7  # eleven 4x4 images, flattened
GIVEN, PREDICTED, SCORES = np.arange(11) % 3, (np.arange(11) + 1) % 3, np.linspace(0, 1, 11)
FINDINGS = Findings(
    "test",
    11,
    [0, 1, 2],
    {
        "label": pd.DataFrame(
            {
                "row": [7, 2, 9],
                "given_label": [1, 2, 0],
                "predicted_label": [0, 0, 1],
                "score": [0.1, 0.2, 0.3],
            }
        )
    },
)
SEG_LABELS = np.zeros((2, 4, 5), dtype=int)
SEG_LABELS[:, :2] = 1
SEG_PROBS = np.stack([1 - SEG_LABELS, SEG_LABELS], axis=1) * 0.8 + 0.1
SEG_LABELS[1, 3, 3:] = 1
SEG_ISSUES = segmentation.find_label_issues(SEG_LABELS, SEG_PROBS, verbose=False)
BOXES = {"bboxes": np.array([[0, 0, 10, 10], [20, 5, 30, 25]]), "labels": np.array([0, 1])}
PREDICTED_BOXES = {
    "bboxes": np.array([[1, 1, 10, 10], [20, 5, 30, 25], [40, 40, 50, 50]]),
    "labels": np.array([0, 0, 1]),
    "scores": np.array([0.9, 0.4, 0.7]),
}

# name: (draw the display on ax, draw with the plot_* function on ax, what the plot_* function drew
# before the displays existed: (images, patches, texts))
CASES = {
    "label_quality": (
        lambda ax: LabelQualityDisplay.from_health(SUMMARY, ax=ax),
        lambda ax: plot_label_quality(SUMMARY, ax=ax),
        (0, 3, 0),
    ),
    "noise_matrix": (
        lambda ax: NoiseMatrixDisplay.from_health(SUMMARY.to_dict(), max_classes=2, ax=ax),
        lambda ax: plot_noise_matrix(SUMMARY.to_dict(), max_classes=2, ax=ax),
        (1, 0, 4),
    ),
    "issue_examples": (
        lambda ax: IssueExamplesDisplay(IMAGES, GIVEN, PREDICTED, scores=SCORES).plot(
            ax, ncols=4, max_examples=10
        ),
        lambda ax: plot_issue_examples(
            IMAGES, GIVEN, PREDICTED, scores=SCORES, ncols=4, max_examples=10, ax=ax
        ),
        (1, 0, 10),
    ),
    "segmentation": (
        lambda ax: SegmentationIssuesDisplay.from_issues(SEG_ISSUES, 1, labels=SEG_LABELS, ax=ax),
        lambda ax: segmentation.plot_issues(SEG_ISSUES, 1, labels=SEG_LABELS, ax=ax),
        (2, 0, 0),
    ),
    "detection": (
        lambda ax: DetectionBoxesDisplay(
            BOXES["bboxes"],
            BOXES["labels"],
            predicted_bboxes=PREDICTED_BOXES["bboxes"][[0, 2]],
            predicted_labels=PREDICTED_BOXES["labels"][[0, 2]],
            predicted_scores=PREDICTED_BOXES["scores"][[0, 2]],
            class_names=["cat", "dog"],
        ).plot(ax),
        lambda ax: detection.plot_boxes(BOXES, PREDICTED_BOXES, class_names=["cat", "dog"], ax=ax),
        (0, 4, 4),
    ),
}


OPTIONS = {"issue_examples": {"ncols": 4, "max_examples": 10}}  # for display.plot, besides ax


def drawn(ax) -> dict:
    """What is on ``ax``, enough to tell two drawings apart."""
    return {
        "images": [
            np.ma.filled(np.ma.asarray(im.get_array(), dtype=float), -1).tolist()
            for im in ax.images
        ],
        "patches": [(type(p).__name__, p.get_bbox().bounds, p.get_linestyle()) for p in ax.patches],
        "texts": [(t.get_text(), t.get_position()) for t in ax.texts],
        "title": ax.get_title(),
        "labels": (ax.get_xlabel(), ax.get_ylabel()),
        "ticks": (
            [t.get_text() for t in ax.get_xticklabels()],
            [t.get_text() for t in ax.get_yticklabels()],
        ),
        "limits": (ax.get_xlim(), ax.get_ylim()),
    }


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", CASES)
def test_plot_draws_on_the_given_axes_and_returns_the_display(name):
    display_on, _, _ = CASES[name]
    fig, ax = plt.subplots()
    display = display_on(ax)
    assert display.ax_ is ax and display.figure_ is fig
    again = display.plot(**OPTIONS.get(name, {}))
    assert again is display and display.ax_ is not ax and display.figure_ is display.ax_.figure
    assert drawn(display.ax_) == drawn(ax)


@pytest.mark.parametrize("name", CASES)
def test_the_display_draws_what_the_plot_function_drew(name):
    display_on, function_on, (images, patches, texts) = CASES[name]
    _, (ax, other) = plt.subplots(1, 2)
    display_on(ax)
    assert function_on(other) is other
    assert (len(ax.images), len(ax.patches), len(ax.texts)) == (images, patches, texts)
    assert drawn(ax) == drawn(other)


def test_the_plot_functions_make_axes_when_none_is_given():
    assert plot_label_quality(SUMMARY).get_title() == "Label quality per class"
    assert plot_noise_matrix(SUMMARY).get_ylabel() == "given label"
    assert len(plot_issue_examples(IMAGES[:3], GIVEN[:3], PREDICTED[:3]).texts) == 3
    assert segmentation.plot_issues(SEG_ISSUES, 1).get_title() == "image 1: 2 flagged pixels"
    assert len(detection.plot_boxes(BOXES).patches) == 2


def test_displays_keep_their_data_and_the_artists_they_drew():
    quality = LabelQualityDisplay.from_health(SUMMARY, max_classes=2)
    assert quality.class_names == ["a" * 60, "cat"] and quality.num_classes == 3
    assert quality.scores.round(3).tolist() == [0.5, 0.667] and len(quality.bars_) == 2
    assert [t.get_text() for t in quality.ax_.get_yticklabels()] == ["a" * 39 + "…", "cat"]
    assert quality.ax_.get_title() == "Label quality per class (worst 2 of 3)"
    noise = NoiseMatrixDisplay.from_health(SUMMARY)
    assert noise.noise_matrix.shape == (3, 3) and noise.im_ is noise.ax_.images[0]
    assert noise.texts_ == list(noise.ax_.texts)
    examples = IssueExamplesDisplay(IMAGES, GIVEN, PREDICTED).plot(max_examples=5)
    assert examples.images.shape == (11, 4, 4) and len(examples.texts_) == 5
    assert examples.im_ is examples.ax_.images[0]
    flags = SegmentationIssuesDisplay.from_issues(SEG_ISSUES, 1, image=np.zeros((4, 5, 3)))
    assert flags.flags.sum() == 2 and flags.label_map is None and flags.im_ is flags.ax_.images[-1]
    boxes = DetectionBoxesDisplay(BOXES["bboxes"], BOXES["labels"]).plot()
    assert boxes.patches_ == list(boxes.ax_.patches) and [t.get_text() for t in boxes.texts_] == [
        "0",
        "1",
    ]


def test_issue_examples_from_findings_draws_the_flagged_rows_worst_first():
    display = IssueExamplesDisplay.from_findings(FINDINGS, IMAGES, max_examples=2)
    assert np.array_equal(display.images, IMAGES[[7, 2]].reshape(2, 4, 4))
    assert [t.get_text() for t in display.texts_] == ["1 → 0\n0.100", "2 → 0\n0.200"]
    frame = pd.DataFrame(IMAGES)  # a table of pixel columns, as in examples.csv
    assert len(IssueExamplesDisplay.from_findings(FINDINGS, frame).texts_) == 3
    with pytest.raises(
        ValueError, match="issue_type='outlier' is not recognised; use one of: 'label'"
    ):
        IssueExamplesDisplay.from_findings(FINDINGS, IMAGES, issue_type="outlier")
    empty = Findings("clean", 11, [0, 1, 2], {"label": FINDINGS.tables["label"].head(0)})
    with pytest.raises(ValueError, match="no flagged rows of issue_type='label'"):
        IssueExamplesDisplay.from_findings(empty, IMAGES)


def test_displays_refuse_data_that_does_not_fit():
    with pytest.raises(ValueError, match=r"scores must have one value per class name \(2\)"):
        LabelQualityDisplay(["cat", "dog"], [0.5])
    with pytest.raises(ValueError, match=r"noise_matrix must have shape \(2, 2\)"):
        NoiseMatrixDisplay(np.eye(3), ["cat", "dog"])
    with pytest.raises(ValueError, match="images has rows of 5 values, not a square image"):
        IssueExamplesDisplay(np.zeros((2, 5)), [0, 1], [1, 0])
    with pytest.raises(ValueError, match=r"predicted_labels must have one value per image \(2\)"):
        IssueExamplesDisplay(np.zeros((2, 4)), [0, 1], [1])
    with pytest.raises(ValueError, match="ncols=0 is not valid"):
        IssueExamplesDisplay(np.zeros((2, 4)), [0, 1], [1, 0]).plot(ncols=0)
    with pytest.raises(ValueError, match=r"label_map must have height and width \(4, 5\)"):
        SegmentationIssuesDisplay(SEG_ISSUES[0], label_map=np.zeros((4, 4)))
    with pytest.raises(ValueError, match="issues must be the boolean"):
        SegmentationIssuesDisplay.from_issues(SEG_LABELS, 0)
    with pytest.raises(
        ValueError, match=r"predicted_labels must have one entry per box of predicted_bboxes \(1\)"
    ):
        DetectionBoxesDisplay(BOXES["bboxes"], BOXES["labels"], predicted_bboxes=[[0, 0, 1, 1]])
    assert plt.get_fignums() == []  # nothing was drawn for data refused


def test_a_missing_matplotlib_names_the_display_or_function_and_the_install(monkeypatch):
    display = LabelQualityDisplay(["cat"], [0.5])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(
        ImportError,
        match=r"LabelQualityDisplay.plot requires matplotlib: pip install 'labelaudit\[plot\]'",
    ):
        display.plot()
    with pytest.raises(ImportError, match=r"NoiseMatrixDisplay.plot requires matplotlib"):
        NoiseMatrixDisplay.from_health(SUMMARY)
    for name, call in [
        ("plot_label_quality", lambda: plot_label_quality(SUMMARY)),
        ("plot_noise_matrix", lambda: plot_noise_matrix(SUMMARY)),
        ("plot_issue_examples", lambda: plot_issue_examples(IMAGES, GIVEN, PREDICTED)),
        ("plot_issues", lambda: segmentation.plot_issues(SEG_ISSUES, 0)),
        ("plot_boxes", lambda: detection.plot_boxes(BOXES)),
    ]:
        with pytest.raises(
            ImportError, match=rf"^{name} requires matplotlib: pip install 'labelaudit\[plot\]'$"
        ):
            call()
