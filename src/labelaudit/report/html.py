"""One self-contained HTML report: charts as inline SVG, images as data URIs, no network.

The page shows the overall health score, label quality per class (bar chart), the estimated
noise matrix (heat map), the most overlapping class pairs, and one sortable, filterable table
per issue type with each flagged example (image thumbnail, text snippet or feature row), its
given label, suggested label and score. Sorting and filtering need JavaScript (inline); every
chart and table is drawn without it.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit.report._findings import Findings, load_findings, plain

logger = logging.getLogger(__name__)

MAX_TABLE_ROWS = 2000
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
section{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:16px 20px;margin:16px 0}
.muted{color:#5f6b7a}.score{font-size:44px;font-weight:700}.cards{display:flex;gap:16px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:12px 18px;min-width:160px}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:left}
th{background:#f0f2f5;position:sticky;top:0}th.sortable{cursor:pointer;user-select:none}
th.sortable::after{content:" \\2195";color:#9aa5b1}th[aria-sort=ascending]::after{content:" \\2191";color:#1d2433}
th[aria-sort=descending]::after{content:" \\2193";color:#1d2433}td.num{font-variant-numeric:tabular-nums}
img.thumb{width:48px;height:48px;image-rendering:pixelated;border:1px solid #d5d9df}
.controls{display:flex;gap:12px;margin:8px 0;align-items:center}
input,select{font:inherit;padding:3px 6px}.scroll{max-height:640px;overflow:auto}
svg text{font:12px system-ui,sans-serif;fill:#1d2433}
"""
_JS = """
document.querySelectorAll('table.issues').forEach(function (table) {
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var box = document.getElementById(table.dataset.filter);
  var pick = document.getElementById(table.dataset.classFilter);
  var count = document.getElementById(table.dataset.count);
  function apply() {
    var needle = box.value.trim().toLowerCase(), label = pick.value, shown = 0;
    rows.forEach(function (row) {
      var ok = (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0) &&
               (label === '' || row.dataset.given === label);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    count.textContent = shown + ' of ' + rows.length + ' shown';
  }
  box.addEventListener('input', apply);
  pick.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    if (!th.classList.contains('sortable')) return;
    th.addEventListener('click', function () {
      var up = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var numeric = th.dataset.type === 'number';
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value, d;
        if (numeric) { d = (parseFloat(x) || 0) - (parseFloat(y) || 0); } else { d = x < y ? -1 : x > y ? 1 : 0; }
        if (d === 0) d = parseInt(a.dataset.row, 10) - parseInt(b.dataset.row, 10);
        return up ? d : -d;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  apply();
});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _quality_colour(value: float) -> str:
    """Red (0.5 and below) through amber to green (1.0)."""
    t = float(np.clip((value - 0.5) / 0.5, 0, 1))
    hue = 120 * t
    return f"hsl({hue:.0f},65%,45%)"


def quality_chart(classes: list[dict[str, Any]]) -> str:
    """Horizontal bars of ``label_quality_score`` per class (worst first) as inline SVG."""
    label_width, bar_width, row_height = 120, 460, 24
    height = row_height * len(classes) + 30
    parts = [
        (
            f'<svg role="img" aria-label="Label quality per class" width="{label_width + bar_width + 70}" '
            f'height="{height}" viewBox="0 0 {label_width + bar_width + 70} {height}">'
        )
    ]
    for i, record in enumerate(classes):
        y = i * row_height + 4
        score = record.get("label_quality_score")
        name = _e(record.get("class_name"))
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{name}</text>')
        if score is None:
            parts.append(f'<text x="{label_width}" y="{y + 15}" class="muted">no examples</text>')
            continue
        width = max(score, 0.0) * bar_width
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{row_height - 6}" '
            f'fill="{_quality_colour(score)}" rx="2"><title>{name}: {score:.4f} '
            f"({record.get('label_issues', 0)} label issues)</title></rect>"
            f'<text x="{label_width + width + 6:.1f}" y="{y + 15}">{score:.3f}</text>'
        )
    axis_y = len(classes) * row_height + 8
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_width + tick * bar_width
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="0" y2="{axis_y}" stroke="#d5d9df" stroke-dasharray="2,3"/>'
            f'<text x="{x}" y="{axis_y + 16}" text-anchor="middle" class="muted">{tick:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def noise_heatmap(matrix: list[list[float]], names: list[Any]) -> str:
    """Heat map of ``P(given = row | true = column)`` with class names, as inline SVG.

    Diagonal cells (labels kept) are shaded blue by their value; off-diagonal cells (label
    noise) red, relative to the largest off-diagonal rate, so small noise stays visible.
    """
    m = np.asarray(matrix, dtype=np.float64)
    k = m.shape[0]
    cell = int(np.clip(560 // max(k, 1), 14, 48))
    margin = 40 + min(max((len(str(n)) for n in names), default=1), 14) * 7
    size = margin + cell * k + 10
    off = m.copy()
    np.fill_diagonal(off, 0.0)
    largest = float(off.max()) if off.size and off.max() > 0 else 1.0
    parts = [
        (
            f'<svg role="img" aria-label="Noise matrix" width="{size}" height="{size + 24}" '
            f'viewBox="0 0 {size} {size + 24}">'
        ),
        f'<text x="{margin + cell * k / 2}" y="14" text-anchor="middle">true label</text>',
        (
            f'<text x="14" y="{margin + cell * k / 2}" text-anchor="middle" '
            f'transform="rotate(-90 14 {margin + cell * k / 2})">given label</text>'
        ),
    ]
    for j, name in enumerate(names):
        x = margin + j * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{margin - 8}" text-anchor="start" '
            f'transform="rotate(-45 {x} {margin - 8})">{_e(name)}</text>'
        )
        parts.append(
            f'<text x="{margin - 8}" y="{margin + j * cell + cell / 2 + 4}" text-anchor="end">{_e(name)}</text>'
        )
    for i in range(k):
        for j in range(k):
            value = m[i, j]
            if i == j:
                fill = f"rgba(37,99,235,{0.15 + 0.85 * value:.3f})"
            else:
                fill = f"rgba(220,38,38,{value / largest:.3f})" if value > 0 else "#fafbfc"
            x, y = margin + j * cell, margin + i * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff">'
                f"<title>given {_e(names[i])}, true {_e(names[j])}: {value:.4f}</title></rect>"
            )
            if cell >= 30 and value >= 0.005:
                colour = (
                    "#fff"
                    if (i == j and value > 0.5) or (i != j and value / largest > 0.6)
                    else "#1d2433"
                )
                parts.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                    f'style="fill:{colour};font-size:11px">{value:.2f}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def _overlap_table(pairs: list[dict[str, Any]], top: int = 10) -> str:
    if not pairs:
        return '<p class="muted">No overlapping pairs of classes were found.</p>'
    rows = "".join(
        f"<tr><td>{_e(p['class_name_a'])}</td><td>{_e(p['class_name_b'])}</td>"
        f"<td class=num>{p['num_overlapping_examples']}</td><td class=num>{p['joint_probability']:.4f}</td></tr>"
        for p in pairs[:top]
    )
    return (
        "<table><thead><tr><th>class a</th><th>class b</th><th>overlapping examples</th>"
        f"<th>joint probability</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _example_cell(example: dict[str, str]) -> str:
    if example["kind"] == "image":
        return f'<td data-value=""><img class="thumb" alt="example" src="{example["src"]}"></td>'
    return f'<td data-value="{_e(example["text"])}">{_e(example["text"])}</td>'


def _issue_section(index: int, issue_type: str, frame: pd.DataFrame, findings: Findings) -> str:
    shown = frame.head(MAX_TABLE_ROWS)
    extras = [
        c for c in frame.columns if c not in ("row", "given_label", "suggested_label", "score")
    ]
    headers = [
        ("row", "number"),
        ("example", None),
        ("given label", "text"),
        ("suggested label", "text"),
        ("score", "number"),
    ] + [(c.replace("_", " "), "text") for c in extras]
    head = "".join(
        f'<th class="sortable" data-type="{kind}">{_e(name)}</th>'
        if kind
        else f"<th>{_e(name)}</th>"
        for name, kind in headers
    )
    body = []
    for record in shown.to_dict("records"):
        row = int(record["row"])
        example = (
            findings.examples.render(row) if findings.examples else {"kind": "none", "text": ""}
        )
        score = plain(record["score"])
        cells = [
            f'<td class=num data-value="{row}">{row}</td>',
            _example_cell(example),
            *(
                f'<td data-value="{_e(plain(record[c]))}">{_e(plain(record[c]))}</td>'
                for c in ("given_label", "suggested_label")
            ),
            (
                f'<td class=num data-value="{"" if score is None else score}">'
                f"{'' if score is None else f'{score:.4f}'}</td>"
            ),
            *(
                f'<td data-value="{_e(plain(record[c]))}">{_e(plain(record[c]))}</td>'
                for c in extras
            ),
        ]
        body.append(
            f'<tr data-row="{row}" data-given="{_e(plain(record["given_label"]))}">{"".join(cells)}</tr>'
        )
    options = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in findings.classes)
    more = (
        f'<p class="muted">Showing the worst {MAX_TABLE_ROWS:,} of {len(frame):,} rows.</p>'
        if len(frame) > MAX_TABLE_ROWS
        else ""
    )
    return (
        f'<section><h2 id="issues-{index}">{_e(issue_type)} issues: {len(frame):,}</h2>'
        f'<div class="controls"><input id="filter-{index}" type="search" placeholder="Filter rows" '
        f'aria-label="Filter {_e(issue_type)} issues"><label>given label <select id="class-{index}">'
        f'<option value="">all</option>{options}</select></label>'
        f'<span class="muted" id="count-{index}"></span></div>{more}'
        f'<div class="scroll"><table class="issues" id="table-{index}" data-filter="filter-{index}" '
        f'data-class-filter="class-{index}" data-count="count-{index}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def render_html(findings: Findings) -> str:
    """The report as one HTML document (a string).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import health_summary
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> summary = health_summary(labels, pred_probs, class_names=["cat", "dog"], verbose=False)
    >>> page = render_html(Findings("Pets", 6, ["cat", "dog"], {}, health=summary.to_dict()))
    >>> page.startswith("<!DOCTYPE html>"), "<svg" in page, "http" in page.split("</svg>")[-1]
    (True, True, False)
    """
    parts = [
        (
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f'<meta name=viewport content="width=device-width,initial-scale=1"><title>{_e(findings.title)}</title>'
            f"<style>{_CSS}</style></head><body><main><h1>{_e(findings.title)}</h1>"
            f'<p class="muted">{findings.num_examples:,} examples, {len(findings.classes)} classes. '
            "Made by labelaudit; this file works offline.</p>"
        )
    ]
    health = findings.health
    cards = []
    if health is not None:
        cards.append(
            f'<div class="card"><div class="muted">overall label health</div>'
            f'<div class="score" id="health-score">{health["overall_label_health_score"]:.3f}</div>'
            '<div class="muted">estimated fraction of correct labels</div></div>'
            f'<div class="card"><div class="muted">labels estimated wrong</div>'
            f'<div class="score">{health["num_label_issues"]:,}</div>'
            f'<div class="muted">{health["num_label_issues"] / max(health["num_examples"], 1):.1%} of the examples</div></div>'
        )
    cards.extend(
        f'<div class="card"><div class="muted">{_e(t)} issues flagged</div><div class="score">{len(f):,}</div></div>'
        for t, f in findings.tables.items()
    )
    parts.append(f'<div class="cards">{"".join(cards)}</div>')
    if findings.notes:
        parts.append(
            "<section>" + "".join(f"<p>{_e(n)}</p>" for n in findings.notes) + "</section>"
        )
    if health is not None:
        parts.append(
            '<section><h2 id="quality">Label quality per class</h2><p class="muted">1 − the estimated '
            "fraction of wrong labels among the examples given each class; worst first.</p>"
            f'<figure id="quality-chart">{quality_chart(health["classes"])}</figure></section>'
            '<section><h2 id="noise">Noise matrix</h2><p class="muted">Estimated P(given label | true '
            "label): blue diagonal = labels kept, red = labels flipped (shaded relative to the "
            "largest flip rate).</p>"
            f'<figure id="noise-chart">{noise_heatmap(health["noise_matrix"], health["class_names"])}</figure></section>'
            '<section><h2 id="overlap">Most overlapping pairs of classes</h2>'
            f"{_overlap_table(health['overlapping_classes'])}</section>"
        )
    for index, (issue_type, frame) in enumerate(findings.tables.items()):
        parts.append(_issue_section(index, issue_type, frame, findings))
    parts.append(f"</main><script>{_JS}</script></body></html>")
    return "".join(parts)


def write_report(path: str | Path, findings: Findings) -> Path:
    """Write :func:`render_html` of ``findings`` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(findings), encoding="utf-8")
    logger.info("wrote the report %s", path)
    return path


def report_folder(folder: str | Path, out: str | Path | None = None, *, argument: str = "out") -> Path:
    """Write the report of a results folder (default: its own ``report.html``), atomically.

    ``out`` may not be a file the audit read nor another file of the folder.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from labelaudit import Audit
    >>> folder = Path(tempfile.mkdtemp()) / "saved"
    >>> y = np.repeat([0, 1], 20)
    >>> X = np.c_[y * 5.0, np.arange(40) % 7]
    >>> _ = Audit(data={"y": y}, label="y").run(features=X, verbose=False).save(folder, format="csv")
    >>> report_folder(folder).name
    'report.html'
    >>> report_folder(folder, folder / "audit.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelaudit.io.results.FolderError: out: '...audit.json' must end in .html or .htm
    """
    from labelaudit.io import atomic_write, check_new_output, read_results

    results = read_results(folder)
    path = results.folder / "report.html" if out is None else Path(out)
    check_new_output(
        path, argument=argument, suffixes=(".html", ".htm"), protected=results.inputs(),
        results=results, allowed={"report.html"},
    )
    page = render_html(load_findings(folder))
    atomic_write(path, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    logger.info("wrote the report %s", path)
    return path


def summary_to_html(health: dict[str, Any], path: str | Path) -> Path:
    """Write the report of a :class:`~labelaudit.HealthSummary` alone (from its ``to_dict()``)."""
    findings = Findings(
        "Label health", int(health["num_examples"]), list(health["class_names"]), {}, health=health
    )
    return write_report(path, findings)


def audit_to_html(audit: Any, path: str | Path) -> Path:
    """Write the report of an :class:`~labelaudit.Audit` (every check that found issues)."""
    from labelaudit.report._findings import findings_from_audit

    return write_report(path, findings_from_audit(audit))
