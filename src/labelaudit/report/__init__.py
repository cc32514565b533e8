"""See the findings: a self-contained HTML report, and matplotlib plots for notebooks.

* :func:`report_folder` writes ``report.html`` for an output folder (``labelaudit report DIR``);
  :func:`summary_to_html` and ``Audit.to_html`` write one for an object in memory.
* :func:`plot_label_quality`, :func:`plot_noise_matrix` and :func:`plot_issue_examples` draw
  on a matplotlib Axes (``pip install 'labelaudit[plot]'``); matplotlib loads on first use.
"""

from labelaudit.report._findings import Findings, load_findings
from labelaudit.report.html import (
    audit_to_html,
    render_html,
    report_folder,
    summary_to_html,
    write_report,
)
from labelaudit.report.plots import plot_issue_examples, plot_label_quality, plot_noise_matrix

__all__ = [
    "Findings",
    "audit_to_html",
    "load_findings",
    "plot_issue_examples",
    "plot_label_quality",
    "plot_noise_matrix",
    "render_html",
    "report_folder",
    "summary_to_html",
    "write_report",
]
