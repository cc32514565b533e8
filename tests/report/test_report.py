"""The HTML report: contents, API, CLI, plots, and in a real browser (offline, charts, sorting)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from labelaudit import Audit, health_summary
from labelaudit.report import (
    audit_to_html,
    load_findings,
    plot_issue_examples,
    plot_label_quality,
    plot_noise_matrix,
    report_folder,
    summary_to_html,
)

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labelaudit", *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=120,
    )


def test_demo_writes_a_report_with_every_section_and_an_image_per_issue(demo_dir):
    page = (demo_dir / "report.html").read_text()
    for part in (
        "overall label health",
        "Label quality per class",
        "Noise matrix",
        "Most overlapping pairs",
        "label issues: ",
    ):
        assert part in page
    issues = pd.read_csv(demo_dir / "issues.csv")
    # one thumbnail per flagged row, in the table's data (the page draws 100 rows at a time)
    assert page.count('{"img":"data:image/png;base64,') == len(issues)
    assert "http://" not in page and "https://" not in page and "<link" not in page


def test_findings_read_every_flagged_row_with_its_example(demo_dir):
    findings = load_findings(demo_dir)
    items = findings.review_items()
    assert len(items) == len(pd.read_csv(demo_dir / "issues.csv"))
    scores = [i["score"] for i in items]
    assert scores == sorted(scores)
    assert findings.examples.render(items[0]["row"])["src"].startswith("data:image/png;base64,")


def test_report_command_writes_elsewhere_and_refuses_a_folder_without_results(demo_dir, tmp_path):
    result = cli("report", str(demo_dir), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.html").read_text() == (demo_dir / "report.html").read_text()
    empty = cli("report", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and "DIR:" in empty.stderr and not (tmp_path / "nothing").exists()


def test_audit_command_report_shows_feature_rows(tmp_path):
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 40)
    frame = pd.DataFrame(rng.normal(0, 1, (80, 2)) + 6 * truth[:, None], columns=["x1", "x2"])
    frame["kind"] = np.where(truth == 1, "bee", "ant")
    frame.loc[[3, 60], "kind"] = ["bee", "ant"]
    frame.to_csv(tmp_path / "data.csv", index=False)
    before = (tmp_path / "data.csv").read_bytes()
    result = cli(
        "audit", str(tmp_path / "data.csv"), "--label", "kind", "--out", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "report.html").read_text()
    assert "x1=" in page and "label issues: " in page
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["dataset"]["table"] == str(
        tmp_path / "data.csv"
    )
    assert (tmp_path / "data.csv").read_bytes() == before


def test_summary_and_audit_to_html(tmp_path):
    labels = np.array([0, 0, 0, 1, 1, 1])
    pred_probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.7, 0.3]])
    summary = health_summary(labels, pred_probs, class_names=["cat", "dog"], verbose=False)
    page = summary_to_html(summary, tmp_path / "health.html").read_text()
    assert "cat" in page and "<svg" in page
    audit = Audit(data={"y": labels, "x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}, label="y")
    audit.run(pred_probs=pred_probs, issue_types=["label"], verbose=False)
    page = audit_to_html(audit, tmp_path / "audit.html").read_text()
    assert "label issues: 2" in page and "x=0.3" in page
    audit.save(tmp_path / "saved", format="csv")
    assert len(load_findings(tmp_path / "saved").tables["label"]) == 2
    assert "label issues: 2" in report_folder(tmp_path / "saved").read_text()


def test_plots_return_their_axes_and_explain_a_missing_matplotlib(demo_dir, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    health = json.loads((demo_dir / "health.json").read_text())
    fig, axes = plt.subplots(1, 3)
    assert plot_label_quality(health, ax=axes[0]) is axes[0]
    assert plot_noise_matrix(health, ax=axes[1]) is axes[1]
    table = pd.read_csv(demo_dir / "examples.csv")
    issues = pd.read_csv(demo_dir / "issues.csv").head(6)
    images = table.drop(columns="label").to_numpy()[issues["row"]]
    ax = plot_issue_examples(
        images,
        issues["given_label"],
        issues["predicted_label"],
        scores=issues["label_quality"],
        ax=axes[2],
    )
    assert ax is axes[2] and len(ax.texts) == 6
    plt.close(fig)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'labelaudit\[plot\]'"):
        plot_label_quality(health)


def test_report_in_a_browser_is_offline_error_free_drawn_and_sortable(browser, demo_dir):
    from PIL import Image

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems, requests = [], []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto((demo_dir / "report.html").as_uri())
    page.wait_for_load_state("load")
    assert problems == []
    assert requests == [(demo_dir / "report.html").as_uri()]
    for chart in ("#quality-chart", "#noise-chart"):
        shot = Image.open(io.BytesIO(page.locator(chart).screenshot())).convert("RGB")
        assert len(shot.getcolors(1 << 20)) > 20, f"{chart} looks blank"
    images = page.locator("table.issues img.thumb")
    assert images.first.evaluate("img => img.complete && img.naturalWidth") == 8
    score = page.locator("table.issues th", has_text="score")
    score.click()
    score.click()  # descending
    cells = page.locator("table.issues tbody tr td:nth-child(5)")
    values = [float(v) for v in cells.all_inner_texts()]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    worst = pd.read_csv(demo_dir / "issues.csv")["label_quality"].max()
    assert values[0] == pytest.approx(worst, abs=1e-4)  # sorted over every row, not one page
    page.locator("#class-0").select_option("3")
    shown = page.locator("table.issues tbody tr:not([hidden]) td:nth-child(3)").all_inner_texts()
    assert shown and set(shown) == {"3"}
    page.close()
