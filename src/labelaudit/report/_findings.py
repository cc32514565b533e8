"""What a report or a review shows, read from a results folder or an :class:`~labelaudit.Audit`.

A results folder is what ``labelaudit demo --out``, ``labelaudit audit --out`` or ``Audit.save``
wrote; its layout and manifest are described in :mod:`labelaudit.io.results`. Only the files
its manifest lists are read, each checked against the size and SHA-256 the run recorded.
An audit is read through its public interface only, and a saved one as the plain data of
:mod:`labelaudit.io.audit_record`, so the report never imports :mod:`labelaudit.audit`.
"""

from __future__ import annotations

import base64
import logging
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelaudit._json import plain
from labelaudit.io import (
    Dataset,
    FolderError,
    Results,
    flagged_rows,
    read_audit_record,
    read_results,
    read_table,
)
from labelaudit.io.tables import read_records

if TYPE_CHECKING:  # pragma: no cover
    from labelaudit.audit.core import Audit

logger = logging.getLogger(__name__)

ISSUE_COLUMNS = ["row", "given_label", "predicted_label", "score"]
_TEXT_MIN_LENGTH = 30  # a string column whose values average this many characters is text
_SNIPPET = 160


def png_data_uri(pixels: np.ndarray, max_value: float) -> str:
    """A grey image (higher values darker, ``0..max_value``) as a ``data:image/png`` URI.

    Examples
    --------
    >>> png_data_uri(np.zeros((2, 2)), 16.0)[:22]
    'data:image/png;base64,'
    """
    grey = 255 - np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 255 / max_value), 0, 255)
    grey = grey.astype(np.uint8)
    height, width = grey.shape
    raw = b"".join(b"\x00" + grey[i].tobytes() for i in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image_file_png(root: Path, relative: str, side: int) -> bytes:
    """The image file ``relative`` under ``root`` as PNG bytes, scaled to fit ``side`` pixels.

    Raises
    ------
    ValueError
        When the path leads outside ``root`` (``..``, an absolute path, a link out) or the file
        cannot be read as an image.
    """
    import io

    from labelaudit._optional import import_optional

    root = root.resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"{relative!r} is outside the audited folder")
    image_module = import_optional("PIL.Image", "showing images")
    try:
        with image_module.open(path) as image:
            image.thumbnail((side, side))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
    except OSError as err:
        raise ValueError(f"cannot read {relative}: {err}") from None
    return buffer.getvalue()


def image_file_uri(root: Path, relative: str, side: int = 96) -> dict[str, str]:
    """An image file under ``root`` as a small PNG data URI (``{"kind": "image", "src": ...}``),
    or ``{"kind": "none", "text": why}`` when it is outside ``root`` or cannot be read."""
    try:
        png = image_file_png(root, relative, side)
    except ValueError as err:
        return {"kind": "none", "text": str(err)}
    return {"kind": "image", "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}


def text_columns(frame: pd.DataFrame) -> list[str]:
    """String columns whose values are long enough to read as text rather than categories."""
    found = []
    for name in frame.columns:
        values = frame[name]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            lengths = values.dropna().astype(str).str.len()
            if len(lengths) and lengths.mean() >= _TEXT_MIN_LENGTH:
                found.append(str(name))
    return found


@dataclass
class Examples:
    """The dataset's rows and how to show one: an image, a text snippet or the feature row."""

    table: pd.DataFrame
    label_column: str | None = None
    image: dict[str, Any] | None = None
    text: list[str] = field(default_factory=list)

    def render(self, row: int) -> dict[str, str]:
        """``{"kind": "image", "src": ...}``, ``{"kind": "text", "text": ...}`` or features."""
        if not 0 <= row < len(self.table):
            return {"kind": "none", "text": ""}
        record = self.table.iloc[row]
        if self.image and "files" in self.image:
            return image_file_uri(Path(self.image["root"]), str(record[self.image["files"]]))
        if self.image:
            pixels = record[self.image["columns"]].to_numpy(dtype=np.float64)
            src = png_data_uri(pixels.reshape(self.image["shape"]), float(self.image["max_value"]))
            return {"kind": "image", "src": src}
        if self.text:
            text = " · ".join(str(record[c]) for c in self.text)
            return {
                "kind": "text",
                "text": text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…",
            }
        shown = [c for c in self.table.columns if c != self.label_column]
        values = ", ".join(f"{c}={_short(record[c])}" for c in shown[:12])
        return {"kind": "features", "text": values + (", …" if len(shown) > 12 else "")}


def _short(value: Any) -> str:
    value = plain(value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class Findings:
    """Everything a report or the review app shows.

    ``tables`` maps an issue type to its flagged rows, worst first, with the columns
    ``row, given_label, predicted_label, score`` and any extras (such as ``true_label``).
    """

    title: str
    num_examples: int
    classes: list[Any]
    tables: dict[str, pd.DataFrame]
    health: dict[str, Any] | None = None
    examples: Examples | None = None
    manifest: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def review_items(self) -> list[dict[str, Any]]:
        """One item per flagged row, lowest score first (ties by row), with its issue types."""
        items: dict[int, dict[str, Any]] = {}
        for issue_type, frame in self.tables.items():
            for record in frame[ISSUE_COLUMNS].itertuples(index=False):
                row = int(record.row)
                score = plain(record.score)
                item = items.setdefault(
                    row,
                    {
                        "row": row,
                        "given_label": plain(record.given_label),
                        "predicted_label": plain(record.predicted_label),
                        "score": score,
                        "issue_types": [],
                    },
                )
                item["issue_types"].append(issue_type)
                if issue_type == "label" or item["predicted_label"] is None:
                    item["predicted_label"] = plain(record.predicted_label)
                if score is not None and (item["score"] is None or score < item["score"]):
                    item["score"] = score
        return sorted(
            items.values(), key=lambda i: (i["score"] is None, i["score"] or 0.0, i["row"])
        )


def examples_of(results: Results, dataset: Dataset, notes: list[str]) -> Examples | None:
    """The dataset's rows, when its table is still the one audited (else a note says why not)."""
    table_path, problem = results.audited_table()
    if problem:
        notes.append(f"The examples' table {table_path} {problem}, so examples are not shown.")
        logger.warning("%s %s; examples are not shown", table_path, problem)
        return None
    return Examples(
        read_table(table_path, results.argument),
        dataset.label_column,
        dataset.image,
        list(dataset.text_columns),
    )


def label_findings(
    title: str,
    health: dict[str, Any],
    issues: pd.DataFrame,
    *,
    examples: Examples | None = None,
    notes: list[str] | None = None,
) -> Findings:
    """The findings of a label audit: its health summary and flagged rows (``label_quality``)."""
    issues = issues.rename(columns={"label_quality": "score"})
    columns = ISSUE_COLUMNS + [c for c in issues.columns if c not in ISSUE_COLUMNS]
    kinds = [c[3:-6] for c in issues.columns if c.startswith("is_") and c.endswith("_issue")]
    tables = {"label": issues[columns]}
    if kinds:  # an audit of images: the rows any check flagged, one table per check
        flagged = {kind: issues[issues[f"is_{kind}_issue"].astype(bool)] for kind in kinds}
        tables = {
            kind: frame[columns].reset_index(drop=True)
            for kind, frame in flagged.items()
            if kind == "label" or len(frame)
        }
    return Findings(
        title=title,
        num_examples=int(health["num_examples"]),
        classes=list(health["class_names"]),
        tables=tables,
        health=health,
        examples=examples,
        notes=list(notes or []),
    )


def load_findings(folder: str | Path, argument: str = "DIR") -> Findings:
    """Read a results folder (``demo --out``, ``audit --out`` or ``Audit.save``).

    Raises
    ------
    FolderError
        When the folder is not a results folder, or a file it lists is not what the run wrote.
    """
    results = read_results(folder, argument)
    folder = results.folder
    notes: list[str] = []
    dataset = results.dataset
    examples = None if dataset is None else examples_of(results, dataset, notes)
    try:
        if results.manifest["results"] == "audit":
            record, issues = read_audit_record(results)
            findings = findings_from_record(
                record, issues, title=f"Audit of {folder.name}", examples=examples
            )
        else:
            health = results.read_json("health.json")
            issues = read_records(results.path(results.issues_file()))
            findings = label_findings(
                f"Label audit of {folder.name}", health, issues, examples=examples
            )
            if results.has("demo.json"):
                findings.title = "labelaudit demo: noisy handwritten digits"
                findings.notes.append(demo_note(results.read_json("demo.json")))
    except (KeyError, TypeError) as err:
        raise FolderError(
            f"{argument}: {folder} does not hold what its manifest says (missing {err}); run the audit again"
        ) from None
    findings.manifest = results.manifest
    if dataset is not None:
        findings.classes = list(dataset.classes)
        findings.num_examples = dataset.num_examples
    findings.notes.extend(notes)
    return findings


def demo_note(demo: dict[str, Any]) -> str:
    return (
        f"{demo['num_flipped']} of {demo['num_train']} training labels were flipped on purpose; "
        f"{demo['num_flagged']} flagged with precision {demo['precision']:.3f} and recall "
        f"{demo['recall']:.3f}. Test accuracy {demo['accuracy_noisy']:.4f} trained on the noisy "
        f"labels, {demo['accuracy_cleaned']:.4f} with the issues removed."
    )


def findings_from_audit(
    audit: Audit, *, title: str = "Audit", examples: Examples | None = None
) -> Findings:
    """The flagged rows of every check an :class:`~labelaudit.Audit` ran, worst first.

    Its rows are shown from ``audit.data`` unless ``examples`` are given.
    """
    if examples is None and audit.data is not None:
        examples = Examples(audit.data, audit.label, None, text_columns(audit.data))
    return findings_from_record(audit.to_record(), audit.issues, title=title, examples=examples)


def findings_from_record(
    record: dict[str, Any],
    issues: pd.DataFrame,
    *,
    title: str = "Audit",
    examples: Examples | None = None,
) -> Findings:
    """The findings of an audit given as plain data (see :mod:`labelaudit.io.audit_record`)."""
    given = issues.get("given_label", None)
    classes = (
        sorted({plain(v) for v in given}, key=lambda v: (str(type(v)), v))
        if given is not None
        else []
    )
    tables = {}
    checks = record["checks"]
    for check in checks:
        if check["status"] != "ran" or not check["num_issues"]:
            continue
        flagged = flagged_rows(issues, check)
        rows = flagged.index.to_numpy()
        frame = pd.DataFrame(
            {
                "row": rows,
                "given_label": given.to_numpy()[rows] if given is not None else None,
                "predicted_label": flagged["predicted_label"].to_numpy()
                if "predicted_label" in flagged
                else None,
                "score": flagged["score"].to_numpy(),
            }
        )
        tables[check["issue_type"]] = frame
    return Findings(
        title=title,
        num_examples=record["num_examples"],
        classes=classes,
        tables=tables,
        examples=examples,
        notes=[
            f"{c['issue_type']}: {c['num_issues']} issues"
            + (f" ({c['note']})" if c["note"] else "")
            for c in checks
        ],
    )
