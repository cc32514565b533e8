"""See the findings: a self-contained HTML report, and matplotlib plots for notebooks.

* :func:`report_folder` writes ``report.html`` for an output folder (``labelaudit report DIR``);
  :func:`audit_to_html` and :func:`summary_to_html` write one for an :class:`~labelaudit.Audit`
  or a :class:`~labelaudit.HealthSummary` in memory. The report renders an audit (through
  :func:`findings_from_audit`); the audit does not know the report.
* Display objects hold the data of a plot and draw it on a matplotlib Axes with ``.plot(ax=None)``
  (``pip install 'labelaudit[plot]'``; matplotlib loads on first use):
  :class:`LabelQualityDisplay`, :class:`NoiseMatrixDisplay`, :class:`IssueExamplesDisplay`,
  :class:`SegmentationIssuesDisplay` and :class:`DetectionBoxesDisplay`. :func:`plot_label_quality`,
  :func:`plot_noise_matrix` and :func:`plot_issue_examples` draw one and return its Axes.
"""

from labelaudit.report._findings import Findings, findings_from_audit, load_findings
from labelaudit.report.html import (
    audit_to_html,
    render_html,
    report_folder,
    summary_to_html,
    write_report,
)
from labelaudit.report.plots import (
    DetectionBoxesDisplay,
    IssueExamplesDisplay,
    LabelQualityDisplay,
    NoiseMatrixDisplay,
    SegmentationIssuesDisplay,
    plot_issue_examples,
    plot_label_quality,
    plot_noise_matrix,
)

__all__ = [
    "DetectionBoxesDisplay",
    "Findings",
    "IssueExamplesDisplay",
    "LabelQualityDisplay",
    "NoiseMatrixDisplay",
    "SegmentationIssuesDisplay",
    "audit_to_html",
    "findings_from_audit",
    "load_findings",
    "plot_issue_examples",
    "plot_label_quality",
    "plot_noise_matrix",
    "render_html",
    "report_folder",
    "summary_to_html",
    "write_report",
]
