"""One self-contained HTML report: charts as inline SVG, images as data URIs, no network.

The page shows the overall health score with what each count means, label quality per class
(bar chart and table), the estimated noise matrix (heat map), the most overlapping class pairs,
and one table per issue type with each flagged example (image thumbnail, text snippet or
feature row), its given label, predicted label and score.

It stays small and quick at any number of classes: the charts draw at most
:data:`~labelaudit.report.plots.MAX_CLASSES` classes and say how many were left out, and each
table is one compact JSON array that the page's script draws a page at a time, sorting and
filtering over every row. The charts are drawn without JavaScript; the tables need it.
"""

from __future__ import annotations

import html
import json
import logging
import math
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelaudit._json import plain
from labelaudit.report._findings import (
    ISSUE_COLUMNS,
    Findings,
    findings_from_audit,
    load_findings,
)
from labelaudit.report.plots import MAX_CLASSES, busiest_classes, short_name

if TYPE_CHECKING:  # pragma: no cover
    from labelaudit.audit.core import Audit
    from labelaudit.health import HealthSummary

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # table rows a page
MAX_EXAMPLES = 2000  # the worst rows of an issues table that show their example
MAX_PAIRS = 1000  # overlapping pairs in the report; health.json has them all
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
section{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:16px 20px;margin:16px 0}
.muted{color:#5f6b7a}.score{font-size:44px;font-weight:700}.cards{display:flex;gap:16px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:12px 18px;min-width:160px}
dl.terms{margin:0}dl.terms dt{font-weight:600;margin-top:6px}dl.terms dd{margin:0 0 0 16px}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:left}
td{overflow-wrap:anywhere}th{background:#f0f2f5;position:sticky;top:0}th.sort{padding:0}
th.sort button{all:unset;box-sizing:border-box;display:block;width:100%;padding:4px 8px;cursor:pointer;font-weight:600}
th.sort button:focus-visible{outline:2px solid #2563eb;outline-offset:-2px}
th.sort button::after{content:"\\00a0\\2195";color:#9aa5b1}th[aria-sort=ascending] button::after{content:"\\00a0\\2191";color:#1d2433}
th[aria-sort=descending] button::after{content:"\\00a0\\2193";color:#1d2433}td.num{font-variant-numeric:tabular-nums}
img.thumb{width:48px;height:48px;image-rendering:pixelated;border:1px solid #d5d9df}
.controls,.pager{display:flex;gap:12px;margin:8px 0;align-items:center;flex-wrap:wrap}
input,select,.pager button{font:inherit;padding:3px 6px}.scroll{max-height:640px;overflow:auto}
svg text{font:12px system-ui,sans-serif;fill:#1d2433}figure{margin:8px 0;overflow-x:auto}
"""
_JS = """
(function () {
  var collator = new Intl.Collator(undefined, {numeric: true});
  function shown(value, type) {
    if (value === null) return '';
    return type === 'float' ? value.toFixed(4) : String(value);
  }
  function cell(value, type) {
    var td = document.createElement('td');
    if (value !== null && typeof value === 'object') {
      var img = document.createElement('img');
      img.className = 'thumb'; img.alt = 'example'; img.src = value.img;
      td.appendChild(img);
    } else {
      td.textContent = shown(value, type);
      if (type === 'int' || type === 'float') td.className = 'num';
    }
    return td;
  }
  document.querySelectorAll('.paged').forEach(function (box) {
    var table = box.querySelector('table');
    var rows = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var types = heads.map(function (th) { return th.dataset.type; });
    var search = box.querySelector('input[type=search]');
    var pick = box.querySelector('select.class-filter');
    var column = pick ? parseInt(pick.dataset.column, 10) : -1;
    var count = box.querySelector('.count'), where = box.querySelector('.where');
    var size = box.querySelector('select.page-size');
    var go = box.querySelectorAll('.pager button');
    var order = rows.map(function (row, i) { return i; }), matching = order, page = 0, text = null;
    function pages() { return Math.max(1, Math.ceil(matching.length / +size.value)); }
    function draw() {
      page = Math.max(0, Math.min(page, pages() - 1));
      var start = page * +size.value, end = Math.min(start + +size.value, matching.length);
      var body = document.createDocumentFragment();
      for (var k = start; k < end; k += 1) {
        var tr = document.createElement('tr');
        rows[matching[k]].forEach(function (value, col) { tr.appendChild(cell(value, types[col])); });
        body.appendChild(tr);
      }
      table.tBodies[0].replaceChildren(body);
      count.textContent = matching.length.toLocaleString('en') + ' of ' + rows.length.toLocaleString('en') +
        ' rows match' + (matching.length ? '; showing ' + (start + 1).toLocaleString('en') + '\\u2013' +
        end.toLocaleString('en') : '');
      where.textContent = 'page ' + (page + 1).toLocaleString('en') + ' of ' + pages().toLocaleString('en');
      go[0].disabled = go[1].disabled = page === 0;
      go[2].disabled = go[3].disabled = page >= pages() - 1;
    }
    function filter() {
      var needle = search.value.trim().toLowerCase(), label = pick ? pick.value : '';
      if (needle && text === null) {
        text = rows.map(function (row) {
          return row.map(function (v, col) { return typeof v === 'object' ? '' : shown(v, types[col]); })
            .join('\\t').toLowerCase();
        });
      }
      matching = order.filter(function (i) {
        return (!needle || text[i].indexOf(needle) >= 0) && (label === '' || String(rows[i][column]) === label);
      });
      page = 0;
      draw();
    }
    heads.forEach(function (th, col) {
      var button = th.querySelector('button');
      if (!button) return;
      button.addEventListener('click', function () {
        var up = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
        var numeric = types[col] === 'int' || types[col] === 'float';
        order = rows.map(function (row, i) { return i; }).sort(function (a, b) {
          var x = rows[a][col], y = rows[b][col], d;
          if (x === null || y === null) return (x === null) - (y === null) || a - b;
          d = numeric ? x - y : collator.compare(String(x), String(y));
          return (up ? d : -d) || a - b;
        });
        filter();
      });
    });
    search.addEventListener('input', filter);
    if (pick) pick.addEventListener('change', filter);
    size.addEventListener('change', function () { page = 0; draw(); });
    [function () { return 0; }, function () { return page - 1; }, function () { return page + 1; },
     function () { return pages() - 1; }].forEach(function (target, i) {
      go[i].addEventListener('click', function () { page = target(); draw(); });
    });
    filter();
  });
})();
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _text_width(text: str, size: float = 12.0) -> float:
    """Width in pixels of ``text`` in a sans-serif font, estimated on the wide side.

    Examples
    --------
    >>> _text_width("il") < _text_width("MW") < _text_width("数字")
    True
    """
    em = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in "WF":
            em += 1.05
        elif char in "mwMW@%":
            em += 1.0
        elif char in "fijlrtI!|.,:;'()[] ":
            em += 0.4
        else:
            em += 0.8 if char.isupper() else 0.65
    return em * size


def _svg_label(name: Any, x: float, y: float, anchor: str, transform: str = "") -> str:
    """An SVG text of ``short_name(name)``; a cut name carries its full name as a tooltip."""
    text = short_name(name)
    tooltip = f"<title>{_e(name)}</title>" if text != str(name) else ""
    turn = f' transform="{transform}"' if transform else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{turn}>{tooltip}{_e(text)}</text>'


def _quality_colour(value: float) -> str:
    """Red (0.5 and below) through amber to green (1.0)."""
    t = float(np.clip((value - 0.5) / 0.5, 0, 1))
    hue = 120 * t
    return f"hsl({hue:.0f},65%,45%)"


def quality_chart(classes: list[dict[str, Any]]) -> str:
    """Horizontal bars of ``label_quality_score`` per class, in the order given, as inline SVG.

    The name column is as wide as the longest (cut) name.

    Examples
    --------
    >>> svg = quality_chart([{"class_name": "cat", "label_quality_score": 0.9, "label_issues": 1}])
    >>> svg.startswith("<svg") and ">cat</text>" in svg
    True
    """
    names = [short_name(r.get("class_name")) for r in classes]
    label_width = max((_text_width(n) for n in names), default=0) + 16
    bar_width, row_height = 460, 24
    width, height = label_width + bar_width + 60, row_height * len(classes) + 30
    parts = [
        (
            f'<svg role="img" aria-label="Label quality per class" width="{width:.0f}" '
            f'height="{height}" viewBox="0 0 {width:.0f} {height}">'
        )
    ]
    for i, record in enumerate(classes):
        y = i * row_height + 4
        score = record.get("label_quality_score")
        name = record.get("class_name")
        parts.append(_svg_label(name, label_width - 8, y + 15, "end"))
        if score is None:
            parts.append(f'<text x="{label_width:g}" y="{y + 15}" class="muted">no examples</text>')
            continue
        bar = max(score, 0.0) * bar_width
        parts.append(
            f'<rect x="{label_width:g}" y="{y}" width="{bar:.1f}" height="{row_height - 6}" '
            f'fill="{_quality_colour(score)}" rx="2"><title>{_e(name)}: {score:.4f} '
            f"({record.get('label_issues', 0)} label issues)</title></rect>"
            f'<text x="{label_width + bar + 6:.1f}" y="{y + 15}">{score:.3f}</text>'
        )
    axis_y = len(classes) * row_height + 8
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_width + tick * bar_width
        parts.append(
            f'<line x1="{x:g}" x2="{x:g}" y1="0" y2="{axis_y}" stroke="#d5d9df" stroke-dasharray="2,3"/>'
            f'<text x="{x:g}" y="{axis_y + 16}" text-anchor="middle" class="muted">{tick:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def noise_heatmap(matrix: Any, names: list[Any]) -> str:
    """Heat map of ``P(given = row | true = column)`` with class names, as inline SVG.

    Diagonal cells (labels kept) are shaded blue by their value; off-diagonal cells (label
    noise) red, relative to the largest off-diagonal rate, so small noise stays visible. The
    margins are as wide as the longest (cut) name; column names slant at 45 degrees, or stand
    upright when the cells are too narrow for slanted names not to overlap.

    Examples
    --------
    >>> svg = noise_heatmap([[0.9, 0.2], [0.1, 0.8]], ["cat", "dog"])
    >>> svg.count("<rect"), "given dog, true cat: 0.1000" in svg
    (4, True)
    """
    m = np.asarray(matrix, dtype=np.float64)
    k = m.shape[0]
    cell = int(np.clip(560 // max(k, 1), 14, 48))
    longest = max((_text_width(short_name(n)) for n in names), default=0)
    angle = 45 if cell * math.sqrt(0.5) >= 14 else 90
    rise, run = longest * math.sin(math.radians(angle)), longest * math.cos(math.radians(angle))
    left = 32 + longest + 8
    top = 24 + rise + 8
    width = left + cell * k + run + 10
    height = top + cell * k + 10
    off = m.copy()
    np.fill_diagonal(off, 0.0)
    largest = float(off.max()) if off.size and off.max() > 0 else 1.0
    middle_x, middle_y = left + cell * k / 2, top + cell * k / 2
    parts = [
        (
            f'<svg role="img" aria-label="Noise matrix" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}">'
        ),
        f'<text x="{middle_x:g}" y="14" text-anchor="middle">true label</text>',
        (
            f'<text x="14" y="{middle_y:g}" text-anchor="middle" '
            f'transform="rotate(-90 14 {middle_y:g})">given label</text>'
        ),
    ]
    for j, name in enumerate(names):
        x = left + j * cell + cell / 2 + (4 if angle == 90 else 0)  # upright: centre the glyphs
        parts.append(_svg_label(name, x, top - 8, "start", f"rotate(-{angle} {x:g} {top - 8:g})"))
        parts.append(_svg_label(name, left - 8, top + j * cell + cell / 2 + 4, "end"))
    for i in range(k):
        for j in range(k):
            value = m[i, j]
            if i == j:
                fill = f"rgba(37,99,235,{0.15 + 0.85 * value:.3f})"
            else:
                fill = f"rgba(220,38,38,{value / largest:.3f})" if value > 0 else "#fafbfc"
            x, y = left + j * cell, top + i * cell
            parts.append(
                f'<rect x="{x:g}" y="{y:g}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff">'
                f"<title>given {_e(names[i])}, true {_e(names[j])}: {value:.4f}</title></rect>"
            )
            if cell >= 30 and value >= 0.005:
                colour = (
                    "#fff"
                    if (i == j and value > 0.5) or (i != j and value / largest > 0.6)
                    else "#1d2433"
                )
                parts.append(
                    f'<text x="{x + cell / 2:g}" y="{y + cell / 2 + 4:g}" text-anchor="middle" '
                    f'style="fill:{colour};font-size:11px">{value:.2f}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def _json_value(value: Any) -> Any:
    """A table cell for the page's JSON: numbers kept (floats to 6 places), else text or None."""
    value = plain(value)
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _json_script(rows: list[list[Any]]) -> str:
    """``rows`` as compact JSON in a data script; ``<``, ``>`` and ``&`` escaped so no text
    can end the script element."""
    text = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json">{text}</script>'


def paged_table(
    key: str,
    what: str,
    columns: list[tuple[str, str]],
    rows: list[list[Any]],
    *,
    page_size: int = PAGE_SIZE,
    classes: list[Any] | None = None,
    class_column: int = -1,
) -> str:
    """A table the page's script draws a page at a time from one JSON array of ``rows``.

    ``columns`` are ``(heading, type)`` with type ``"int"``, ``"float"`` (shown to 4 places),
    ``"text"`` (all three sortable) or ``"example"`` (a thumbnail ``{"img": data-uri}`` or
    text; not sortable). Sorting (keyboard-reachable header buttons with ``aria-sort``) and
    the filters apply to every row. ``classes`` adds a filter on ``class_column``'s value.

    Examples
    --------
    >>> page = paged_table("t", "pets", [("name", "text"), ("n", "int")], [["<cat>", 2]])
    >>> '<button type="button">name</button>' in page, "<cat>" in page
    (True, False)
    """
    head = "".join(
        f'<th scope="col" data-type="{kind}">{_e(name)}</th>'
        if kind == "example"
        else f'<th scope="col" class="sort" data-type="{kind}"><button type="button">{_e(name)}</button></th>'
        for name, kind in columns
    )
    pick = ""
    if classes is not None:
        options = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in classes)
        pick = (
            f'<label>given label <select id="class-{key}" class="class-filter" '
            f'data-column="{class_column}"><option value="">all</option>{options}</select></label>'
        )
    issues = ' class="issues"' if classes is not None else ""
    sizes = "".join(
        f"<option{' selected' if n == page_size else ''}>{n}</option>"
        for n in sorted({10, 25, 100, 500, page_size})
    )
    return (
        f'<div class="paged"><div class="controls"><input id="filter-{key}" type="search" '
        f'placeholder="Filter rows" aria-label="Filter {_e(what)}">{pick}'
        f'<span class="muted count" id="count-{key}" aria-live="polite"></span></div>'
        '<noscript><p class="muted">This table is drawn by the page\'s script; turn on '
        "JavaScript to see it.</p></noscript>"
        f'<div class="scroll"><table{issues} id="table-{key}" aria-label="{_e(what)}"><thead><tr>{head}</tr></thead><tbody></tbody>'
        f'</table></div><nav class="pager" aria-label="Pages of {_e(what)}">'
        '<button type="button">« first</button><button type="button">‹ previous</button>'
        '<span class="where muted"></span><button type="button">next ›</button>'
        '<button type="button">last »</button>'
        f"<label>rows a page <select class=page-size>{sizes}</select></label></nav>"
        f"{_json_script(rows)}</div>"
    )


def _class_table(health: dict[str, Any]) -> str:
    keys = [
        ("class", "int"),
        ("class_name", "text"),
        ("label_issues", "int"),
        ("inverse_label_issues", "int"),
        ("label_noise", "float"),
        ("inverse_label_noise", "float"),
        ("label_quality_score", "float"),
    ]
    columns = [(key.replace("_", " "), kind) for key, kind in keys]
    rows = [[_json_value(r.get(key)) for key, _ in keys] for r in health["classes"]]
    return paged_table("classes", "classes", columns, rows)


def _quality_section(health: dict[str, Any]) -> str:
    classes = health["classes"]
    drawn = classes[:MAX_CLASSES]
    cut = (
        f" The chart draws the {len(drawn)} worst of {len(classes):,} classes; the table below "
        "lists every class."
        if len(drawn) < len(classes)
        else ""
    )
    return (
        '<section><h2 id="quality">Label quality per class</h2><p class="muted">1 − the estimated '
        f"fraction of wrong labels among the examples given each class; worst first.{cut}</p>"
        f'<figure id="quality-chart">{quality_chart(drawn)}</figure><p class="muted">In the '
        "table, <em>label issues</em> are the examples given the class whose true class is "
        "estimated to be another, <em>inverse label issues</em> the examples truly of the class "
        "given another label; <em>label noise</em> and <em>inverse label noise</em> are those "
        f"as fractions of the class's examples (given, true).</p>{_class_table(health)}</section>"
    )


def _noise_section(health: dict[str, Any]) -> str:
    names = health["class_names"]
    shown = busiest_classes(health)
    cut = ""
    if len(shown) < len(names):
        cut = (
            f'<p class="muted" id="noise-cut">Drawn: the {len(shown)} of {len(names):,} classes with '
            "the most estimated label issues (label issues + inverse label issues: examples given "
            "the class or truly of it whose label is estimated wrong), in class order; "
            f"{len(names) - len(shown):,} classes are left out, so columns need not sum to 1. "
            "Every rate is in health.json (<code>noise_matrix</code>, <code>joint</code>) and the "
            "class table above.</p>"
        )
    matrix = np.asarray(health["noise_matrix"], dtype=np.float64)[np.ix_(shown, shown)]
    return (
        '<section><h2 id="noise">Noise matrix</h2><p class="muted">Estimated P(given label | true '
        "label): blue diagonal = labels kept, red = labels flipped (shaded relative to the "
        f"largest flip rate).</p>{cut}"
        f'<figure id="noise-chart">{noise_heatmap(matrix, [names[i] for i in shown])}</figure></section>'
    )


def _overlap_section(pairs: list[dict[str, Any]]) -> str:
    if not pairs:
        body = '<p class="muted">No overlapping pairs of classes were found.</p>'
    else:
        kept = pairs[:MAX_PAIRS]
        more = (
            f" The table holds the first {len(kept):,}; the other {len(pairs) - len(kept):,} "
            "(smaller overlaps) are in health.json (<code>overlapping_classes</code>)."
            if len(kept) < len(pairs)
            else ""
        )
        columns = [
            ("class a", "text"),
            ("class b", "text"),
            ("overlapping examples", "int"),
            ("joint probability", "float"),
        ]
        keys = ["class_name_a", "class_name_b", "num_overlapping_examples", "joint_probability"]
        rows = [[_json_value(p[k]) for k in keys] for p in kept]
        body = (
            f'<p class="muted" id="overlap-count">{len(pairs):,} pairs of classes overlap, most '
            f"first.{more}</p>{paged_table('pairs', 'overlapping pairs', columns, rows, page_size=10)}"
        )
    return f'<section><h2 id="overlap">Most overlapping pairs of classes</h2>{body}</section>'


def _example_value(example: dict[str, str]) -> Any:
    if example["kind"] == "image":
        return {"img": example["src"]}
    return example["text"] or None


def _issue_section(index: int, issue_type: str, frame: pd.DataFrame, findings: Findings) -> str:
    """An issues table: row, example (when the findings have them), labels, score, extras."""
    examples = findings.examples
    extras = [c for c in frame.columns if c not in ISSUE_COLUMNS]
    columns = [
        ("row", "int"),
        *([("example", "example")] if examples is not None else []),
        ("given label", "text"),
        ("predicted label", "text"),
        ("score", "float"),
        *((str(c).replace("_", " "), "text") for c in extras),
    ]
    rows = []
    for position, record in enumerate(frame.to_dict("records")):
        row = int(record["row"])
        shown = []
        if examples is not None:
            shown.append(_example_value(examples.render(row)) if position < MAX_EXAMPLES else None)
        labels = [plain(record[c]) for c in ("given_label", "predicted_label")]
        rows.append(
            [
                row,
                *shown,
                *(None if v is None else str(v) for v in labels),
                _json_value(record["score"]),
                *(_json_value(record[c]) for c in extras),
            ]
        )
    cut = (
        f'<p class="muted">Examples are shown for the worst {MAX_EXAMPLES:,} of the {len(frame):,} '
        "rows.</p>"
        if examples is not None and len(frame) > MAX_EXAMPLES
        else ""
    )
    table = paged_table(
        str(index),
        f"{issue_type} issues",
        columns,
        rows,
        classes=findings.classes,
        class_column=columns.index(("given label", "text")),
    )
    return (
        f'<section><h2 id="issues-{index}">{_e(issue_type)} issues: {len(frame):,}</h2>'
        f"{cut}{table}</section>"
    )


def _rule_text(rule: dict[str, str] | None) -> str:
    """``"; here ..."``: the rule and the score of this run, when the results folder records them.

    >>> _rule_text({"filter_by": "auto", "rank_by": "self_confidence"})
    '; here the <code>auto</code> rule, worst first by the <code>self_confidence</code> score'
    """
    if not rule:
        return ""
    return (
        f"; here the <code>{_e(rule['filter_by'])}</code> rule, worst first by the "
        f"<code>{_e(rule['rank_by'])}</code> score"
    )


def _overview(findings: Findings) -> str:
    """The cards (score and counts) and what each count means."""
    health, cards, terms = findings.health, [], []
    if health is not None:
        cards.append(
            f'<div class="card"><div class="muted">overall label health</div>'
            f'<div class="score" id="health-score">{health["overall_label_health_score"]:.3f}</div>'
            '<div class="muted">estimated fraction of correct labels</div></div>'
        )
        terms.append(
            "<dt>overall label health</dt><dd>The trace of the estimated joint P(given label, "
            "true label): the estimated fraction of labels that are correct.</dd>"
        )
        if health.get("num_label_issues") is not None:
            wrong = int(health["num_label_issues"])
            cards.append(
                f'<div class="card"><div class="muted">labels estimated wrong</div>'
                f'<div class="score" id="estimated-wrong">{wrong:,}</div><div class="muted">'
                f"{wrong / max(int(health['num_examples']), 1):.1%} of the examples</div></div>"
            )
            terms.append(
                "<dt>labels estimated wrong</dt><dd>How many labels confident learning estimates "
                "are wrong: the off-diagonal counts of the calibrated confident joint (the "
                "<em>label issues</em> column of the class table, summed; "
                "<code>num_label_issues</code> in health.json, “about N labels estimated wrong” "
                "in the text summary). An estimate for the whole dataset, not a list of rows.</dd>"
            )
    for issue_type, frame in findings.tables.items():
        cards.append(
            f'<div class="card"><div class="muted">{_e(issue_type)} issues flagged</div>'
            f'<div class="score">{len(frame):,}</div></div>'
        )
        terms.append(
            f"<dt>{_e(issue_type)} issues flagged</dt><dd>The rows listed in the "
            f"{_e(issue_type)} issues table below"
            + (
                ": the examples that the <code>filter_by</code> rule of "
                "<code>find_label_issues</code> (<code>labelaudit audit --filter-by</code>) "
                "flagged one by one, so their number can differ from the estimate above"
                + _rule_text((health or {}).get("label_rule"))
                + ".</dd>"
                if issue_type == "label"
                else f", flagged by the {_e(issue_type)} check.</dd>"
            )
        )
    definitions = (
        '<section id="definitions"><h2>What the counts mean</h2>'
        f'<dl class="terms">{"".join(terms)}</dl></section>'
        if terms
        else ""
    )
    return f'<div class="cards">{"".join(cards)}</div>{definitions}'


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
            f'<p class="muted">{findings.num_examples:,} examples, {len(findings.classes):,} classes. '
            "Made by labelaudit; this file works offline.</p>"
        ),
        _overview(findings),
    ]
    if findings.notes:
        parts.append(
            "<section>" + "".join(f"<p>{_e(n)}</p>" for n in findings.notes) + "</section>"
        )
    health = findings.health
    if health is not None:
        parts += [
            _quality_section(health),
            _noise_section(health),
            _overlap_section(health["overlapping_classes"]),
        ]
    for index, (issue_type, frame) in enumerate(findings.tables.items()):
        parts.append(_issue_section(index, issue_type, frame, findings))
    parts.append(f"</main><script>{_JS}</script></body></html>")
    return "".join(parts)


def write_report(path: str | Path, findings: Findings) -> Path:
    """Write :func:`render_html` of ``findings`` to ``path`` (UTF-8, under a temporary name
    renamed into place, so ``path`` is never half written); returns the path."""
    from labelaudit.io import atomic_write

    page = render_html(findings)
    atomic_write(path, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    logger.info("wrote the report %s", path)
    return Path(path)


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
    from labelaudit.io import check_new_output, read_results

    results = read_results(folder)
    path = results.folder / "report.html" if out is None else Path(out)
    check_new_output(
        path, argument=argument, suffixes=(".html", ".htm"), protected=results.inputs(),
        results=results, allowed={"report.html"},
    )
    return write_report(path, load_findings(folder))


def summary_to_html(summary: HealthSummary | dict[str, Any], path: str | Path) -> Path:
    """Write the report of a :class:`~labelaudit.HealthSummary` alone (or of its ``to_dict()``).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from labelaudit import health_summary
    >>> pred_probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.3, .7], [.7, .3]])
    >>> summary = health_summary([0, 0, 0, 1, 1, 1], pred_probs, verbose=False)
    >>> summary_to_html(summary, Path(tempfile.mkdtemp()) / "health.html").name
    'health.html'
    """
    health = summary if isinstance(summary, dict) else summary.to_dict()
    findings = Findings(
        "Label health", int(health["num_examples"]), list(health["class_names"]), {}, health=health
    )
    return write_report(path, findings)


def audit_to_html(audit: Audit, path: str | Path) -> Path:
    """Write the report of an :class:`~labelaudit.Audit` (every check that found issues).

    Returns the path. ``labelaudit report DIR`` does the same for an audit that was saved.
    """
    return write_report(path, findings_from_audit(audit))
