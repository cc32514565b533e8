"""See the findings: a self-contained HTML report, and matplotlib plots for notebooks.

* :func:`report_folder` writes ``report.html`` for an output folder (``labelaudit report DIR``);
  :func:`audit_to_html` writes one for an :class:`~labelaudit.Audit` in memory and
  ``HealthSummary.to_html`` one for a health summary. The report renders an audit (through
  :func:`findings_from_audit`); the audit does not know the report.
* :func:`plot_label_quality`, :func:`plot_noise_matrix` and :func:`plot_issue_examples` draw
  on a matplotlib Axes (``pip install 'labelaudit[plot]'``); matplotlib loads on first use.
"""

from labelaudit.report._findings import Findings, findings_from_audit, load_findings
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
