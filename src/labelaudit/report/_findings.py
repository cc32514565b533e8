"""What a report or a review shows, read from an output folder or an :class:`~labelaudit.Audit`.

An output folder is what ``labelaudit demo --out``, ``labelaudit audit --out`` or
``Audit.save`` wrote. Besides the issues and ``health.json``, the CLI writes ``dataset.json``, a
small manifest that says where the examples are (a table in the folder, or the absolute path of
the user's table with its SHA-256) so a report can show them and ``labelaudit export`` can apply
decisions to them:

``format_version``, ``table`` (path, relative to the folder or absolute), ``sha256`` (of the
table when it was audited), ``label_column``, ``classes`` (JSON values), ``num_examples``,
``image`` (``{"columns": [...], "shape": [h, w], "max_value": v}`` when rows hold grey images,
higher values darker, else null) and ``text_columns`` (columns shown as text snippets).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from labelaudit.audit.core import Audit

logger = logging.getLogger(__name__)

DATASET_FILE = "dataset.json"
DATASET_FORMAT_VERSION = 1
ISSUE_COLUMNS = ["row", "given_label", "suggested_label", "score"]
_TEXT_MIN_LENGTH = 30  # a string column whose values average this many characters is text
_SNIPPET = 160


def plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN and None as None.

    Examples
    --------
    >>> plain(np.int64(3)), plain(float("nan")), plain(np.str_("cat"))
    (3, None, 'cat')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


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


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: Path) -> pd.DataFrame:
    """A .csv or .parquet table."""
    return (
        pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    )


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


def write_dataset(
    out: Path,
    *,
    classes: list[Any],
    label_column: str,
    table: pd.DataFrame | None = None,
    source: Path | None = None,
    image: dict[str, Any] | None = None,
) -> Path:
    """Write ``dataset.json`` (and ``examples.csv`` when ``table`` is given) into ``out``.

    Give either ``table`` (the examples, copied into the folder) or ``source`` (the user's
    table, referenced by absolute path and SHA-256, never copied or modified).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_dataset(folder, classes=[0, 1], label_column="label",
    ...                   table=pd.DataFrame({"label": [0, 1, 1]}))
    >>> json.loads((folder / "dataset.json").read_text())["num_examples"]
    3
    """
    out.mkdir(parents=True, exist_ok=True)
    if (table is None) == (source is None):
        raise ValueError("write_dataset needs exactly one of table= or source=.")
    if table is not None:
        path = out / "examples.csv"
        table.to_csv(path, index=False)
        reference = path.name
    else:
        path = Path(source).resolve()
        table = read_table(path)
        reference = str(path)
    manifest = {
        "format_version": DATASET_FORMAT_VERSION,
        "table": reference,
        "sha256": file_sha256(path),
        "label_column": label_column,
        "classes": [plain(c) for c in classes],
        "num_examples": len(table),
        "image": image,
        "text_columns": [] if image else text_columns(table.drop(columns=[label_column])),
    }
    manifest_path = out / DATASET_FILE
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest_path


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
    ``row, given_label, suggested_label, score`` and any extras (such as ``true_label``).
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
                        "suggested_label": plain(record.suggested_label),
                        "score": score,
                        "issue_types": [],
                    },
                )
                item["issue_types"].append(issue_type)
                if issue_type == "label" or item["suggested_label"] is None:
                    item["suggested_label"] = plain(record.suggested_label)
                if score is not None and (item["score"] is None or score < item["score"]):
                    item["score"] = score
        return sorted(
            items.values(), key=lambda i: (i["score"] is None, i["score"] or 0.0, i["row"])
        )


def _issues_file(folder: Path) -> Path | None:
    for suffix in ("csv", "json", "parquet"):
        if (folder / f"issues.{suffix}").is_file():
            return folder / f"issues.{suffix}"
    return None


def _read_issues(path: Path) -> pd.DataFrame:
    if path.suffix == ".json":
        return pd.read_json(path, orient="records")
    return read_table(path)


def _examples(folder: Path, manifest: dict[str, Any], notes: list[str]) -> Examples | None:
    table_path = Path(manifest["table"])
    table_path = table_path if table_path.is_absolute() else folder / table_path
    if not table_path.is_file():
        notes.append(f"The examples' table {table_path} is missing, so examples are not shown.")
        logger.warning("%s is missing; examples are not shown", table_path)
        return None
    return Examples(
        read_table(table_path),
        manifest["label_column"],
        manifest.get("image"),
        manifest.get("text_columns", []),
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's ``dataset.json``, or None when it has none."""
    path = folder / DATASET_FILE
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    if manifest.get("format_version") != DATASET_FORMAT_VERSION:
        raise ValueError(
            f"{path} has format_version {manifest.get('format_version')!r}; this labelaudit reads "
            f"{DATASET_FORMAT_VERSION}. Re-run the audit with this version."
        )
    return manifest


def load_findings(folder: str | Path) -> Findings:
    """Read an output folder (``demo --out``, ``audit --out`` or ``Audit.save``).

    Raises
    ------
    FileNotFoundError
        When the folder holds neither ``health.json`` with an issues file nor ``audit.json``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} is not a folder; pass the --out folder of demo or audit, or an Audit.save folder."
        )
    manifest = read_manifest(folder)
    notes: list[str] = []
    if (folder / "audit.json").is_file():
        from labelaudit.audit.core import Audit

        findings = findings_from_audit(Audit.load(folder), title=f"Audit of {folder.name}")
    else:
        issues_path = _issues_file(folder)
        if issues_path is None or not (folder / "health.json").is_file():
            raise FileNotFoundError(
                f"{folder} has no issues file with health.json, and no audit.json; pass the --out "
                "folder of 'labelaudit demo' or 'labelaudit audit', or a folder written by Audit.save."
            )
        health = json.loads((folder / "health.json").read_text())
        issues = _read_issues(issues_path).rename(columns={"label_quality": "score"})
        columns = ISSUE_COLUMNS + [c for c in issues.columns if c not in ISSUE_COLUMNS]
        findings = Findings(
            title=f"Label audit of {folder.name}",
            num_examples=int(health["num_examples"]),
            classes=list(health["class_names"]),
            tables={"label": issues[columns]},
            health=health,
        )
        demo = folder / "demo.json"
        if demo.is_file():
            findings.title = "labelaudit demo: noisy handwritten digits"
            findings.notes.append(_demo_note(json.loads(demo.read_text())))
    if manifest is not None:
        findings.manifest = manifest
        findings.classes = list(manifest["classes"])
        findings.examples = _examples(folder, manifest, notes)
    findings.notes.extend(notes)
    return findings


def _demo_note(demo: dict[str, Any]) -> str:
    return (
        f"{demo['num_flipped']} of {demo['num_train']} training labels were flipped on purpose; "
        f"{demo['num_flagged']} flagged with precision {demo['precision']:.3f} and recall "
        f"{demo['recall']:.3f}. Test accuracy {demo['accuracy_noisy']:.4f} trained on the noisy "
        f"labels, {demo['accuracy_cleaned']:.4f} with the issues removed."
    )


def findings_from_audit(audit: Audit, *, title: str = "Audit") -> Findings:
    """The flagged rows of every check an :class:`~labelaudit.Audit` ran, worst first."""
    issues = audit.issues
    given = issues.get("given_label", None)
    classes = (
        sorted({plain(v) for v in given}, key=lambda v: (str(type(v)), v))
        if given is not None
        else []
    )
    tables = {}
    checks = audit.summary.to_dict("records")
    for record in checks:
        if record["status"] != "ran" or not record["num_issues"]:
            continue
        flagged = audit.get_issues(record["issue_type"])
        rows = flagged.index.to_numpy()
        frame = pd.DataFrame(
            {
                "row": rows,
                "given_label": given.to_numpy()[rows] if given is not None else None,
                "suggested_label": flagged["predicted_label"].to_numpy()
                if "predicted_label" in flagged
                else None,
                "score": flagged["score"].to_numpy(),
            }
        )
        tables[record["issue_type"]] = frame
    examples = None
    if audit.data is not None:
        examples = Examples(audit.data, audit.label, None, text_columns(audit.data))
    return Findings(
        title=title,
        num_examples=audit.num_examples,
        classes=classes,
        tables=tables,
        examples=examples,
        notes=[
            f"{r['issue_type']}: {r['num_issues']} issues"
            + (f" ({r['note']})" if r["note"] else "")
            for r in checks
        ],
    )
