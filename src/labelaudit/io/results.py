"""The results folder: one layout, written atomically, read only as its manifest says.

``labelaudit audit --out DIR``, ``labelaudit demo --out DIR`` and ``Audit.save(DIR)`` write::

    manifest.json      what the folder holds; written last (below)
    issues.<csv|json|parquet>
                       audit/demo: the flagged rows, most likely wrong first (row, given_label,
                       predicted_label, label_quality); Audit.save: one row per example
    health.json        the health summary (audit, demo)
    audit.json         every check's summary (Audit.save)
    report.html        the offline report (``labelaudit report`` rewrites it)
    examples.csv       the examples when they are not a table of the user's (the demo's images,
                       the labels given with --labels); the user's own table is never copied
    demo.json          the demo's measurements
    decisions.sqlite   review decisions: written only by ``labelaudit review``; a run never
                       deletes or changes it

``manifest.json`` holds ``format`` ("labelaudit-results"), ``format_version``,
``labelaudit_version``, ``run_id``, ``created_at`` (UTC), ``command``, ``inputs`` (role, resolved
path, size and SHA-256 of every file the run read), ``dataset`` (see :class:`Dataset`, or null),
``results`` ("label_issues" or "audit") and ``files`` (name -> size and SHA-256 of every file the
run wrote).

The rules:

* A results folder belongs to labelaudit: a run writes only into a new or empty folder or one
  holding a labelaudit manifest, and never into a folder holding one of its own inputs.
* Each file is written under a temporary name and renamed into place, the manifest last; a run
  that fails leaves the earlier results as they were (only a kill between the renames, a few
  microseconds, can leave a mix, which readers then refuse because the sizes and hashes no
  longer match the manifest). Files of an earlier run that the new manifest does not list are
  removed, except ``decisions.sqlite``, and readers never read a file the manifest does not list.
* One run at a time per folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

from labelaudit.io.tables import file_sha256, write_table

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
DECISIONS_FILE = "decisions.sqlite"
FORMAT = "labelaudit-results"
FORMAT_VERSION = 2
_TMP_SUFFIX = ".labelaudit-tmp"
_DECISION_FILES = (DECISIONS_FILE, DECISIONS_FILE + "-wal", DECISIONS_FILE + "-shm")


class FolderError(ValueError):
    """A results folder or output path that cannot be used; the message names the argument."""


@dataclass(frozen=True)
class Dataset:
    """The examples a run is about, and how to show and fix them.

    ``table`` is a file name in the folder or the absolute path of the user's own table;
    ``table_sha256`` its hash when audited. ``image`` is ``{"columns", "shape", "max_value"}``
    when rows hold grey images (higher values darker). Decisions are keyed by
    :attr:`fingerprint`, which changes when the table, the label column or the id column does.

    Examples
    --------
    >>> a = Dataset("examples.csv", "ab" * 32, "label", [0, 1], 3)
    >>> b = Dataset("examples.csv", "cd" * 32, "label", [0, 1], 3)
    >>> a.fingerprint == b.fingerprint, len(a.fingerprint)
    (False, 64)
    """

    table: str
    table_sha256: str
    label_column: str | None
    classes: list[Any]
    num_examples: int
    id_column: str | None = None
    image: dict[str, Any] | None = None
    text_columns: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        key = json.dumps([self.table_sha256, self.label_column, self.id_column])
        return hashlib.sha256(key.encode()).hexdigest()

    def table_path(self, folder: Path) -> Path:
        path = Path(self.table)
        return path if path.is_absolute() else Path(folder) / path

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Dataset:
        fields = {k: v for k, v in record.items() if k != "fingerprint"}
        return cls(**fields)


def _file_record(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file; of a folder, its total size and the hash of its listing
    (every file's relative path, size and modification time: reading every byte of a large
    image folder twice would cost more than the audit)."""
    if not path.is_dir():
        return {"size": path.stat().st_size, "sha256": file_sha256(path)}
    digest, total = hashlib.sha256(), 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        status = file.stat()
        total += status.st_size
        digest.update(f"{file.relative_to(path).as_posix()}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    return {"size": total, "sha256": digest.hexdigest()}


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        descriptor = os.open(path, flags)
    except OSError:  # some platforms cannot open a directory
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def overlaps(a: str | Path, b: str | Path) -> bool:
    """Whether two paths are the same place or one lies inside the other (resolved).

    Examples
    --------
    >>> overlaps("/data/photos", "/data/photos/clean"), overlaps("/data/a", "/data/b")
    (True, False)
    """
    a, b = Path(a).resolve(), Path(b).resolve()
    return _is_inside(a, b) or _is_inside(b, a)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _load_manifest(path: Path, argument: str) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FolderError(f"{argument}: cannot read {path}: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FolderError(f"{argument}: {path} is not a labelaudit manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise FolderError(
            f"{argument}: {path} has format_version {manifest.get('format_version')!r}; this "
            f"labelaudit reads {FORMAT_VERSION}. Use the labelaudit that wrote it, or audit into a new folder."
        )
    return manifest


@dataclass
class Results:
    """A committed results folder, read as its manifest says (see the module docstring)."""

    folder: Path
    manifest: dict[str, Any]
    argument: str = "DIR"

    @property
    def dataset(self) -> Dataset | None:
        record = self.manifest.get("dataset")
        return None if record is None else Dataset.from_dict(record)

    def has(self, name: str) -> bool:
        return name in self.manifest["files"]

    def path(self, name: str) -> Path:
        """The path of a file the run wrote, after checking it still is what the run wrote."""
        if not self.has(name):
            raise FolderError(f"{self.argument}: {self.folder} holds no {name} (see its manifest.json)")
        path = self.folder / name
        expected = self.manifest["files"][name]
        if not path.is_file() or _file_record(path) != {k: expected[k] for k in ("size", "sha256")}:
            raise FolderError(
                f"{self.argument}: {path} changed since the run of {self.manifest['created_at']} "
                "wrote it (or was removed, or that run was interrupted); run the audit again"
            )
        return path

    def read_json(self, name: str) -> Any:
        return json.loads(self.path(name).read_text(encoding="utf-8"))

    def issues_file(self) -> str:
        found = [n for n in self.manifest["files"] if n.startswith("issues.")]
        if len(found) != 1:
            raise FolderError(f"{self.argument}: {self.folder}'s manifest lists no issues file")
        return found[0]

    def audited_table(self) -> tuple[Path, str | None]:
        """The path of the dataset's table, and what is wrong with it: None, ``"is missing"`` or
        ``"changed since the audit"`` (the user's own table; a copy in the folder is checked by
        :meth:`path`, which refuses a changed one)."""
        dataset = self.dataset
        if dataset is None:
            raise FolderError(f"{self.argument}: {self.folder} describes no dataset")
        if not Path(dataset.table).is_absolute():
            return self.path(dataset.table), None
        path = Path(dataset.table)
        if not path.is_file():
            return path, "is missing"
        return path, "changed since the audit" if file_sha256(path) != dataset.table_sha256 else None

    def inputs(self) -> list[tuple[str, Path]]:
        """``(role, path)`` of every file outside the folder that the run read."""
        found = [(record["role"], Path(record["path"])) for record in self.manifest["inputs"]]
        dataset = self.dataset
        if dataset is not None and Path(dataset.table).is_absolute():
            found.append(("audited table", Path(dataset.table)))
        return found

    def own_files(self) -> set[str]:
        """Every name labelaudit owns in the folder: the run's files, the manifest, decisions."""
        return {*self.manifest["files"], MANIFEST_FILE, *_DECISION_FILES}


def read_results(folder: str | Path, argument: str = "DIR") -> Results:
    """Open a folder written by ``labelaudit audit``/``demo`` or ``Audit.save``.

    Raises
    ------
    FolderError
        When the folder is missing, holds no labelaudit manifest, or one of another format version.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FolderError(
            f"{argument}: {folder} is not a folder; pass the --out folder of 'labelaudit audit' or "
            "'labelaudit demo', or a folder written by Audit.save"
        )
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise FolderError(
            f"{argument}: {folder} holds no {MANIFEST_FILE}, so it is not a labelaudit results folder; "
            "pass the --out folder of 'labelaudit audit' or 'labelaudit demo', or of Audit.save"
        )
    return Results(folder, _load_manifest(manifest_path, argument), argument)


def check_new_output(
    path: str | Path,
    *,
    argument: str,
    suffixes: Iterable[str],
    protected: Iterable[tuple[str, Path]] = (),
    results: Results | None = None,
    allowed: Iterable[str] = (),
) -> Path:
    """Check a file a command is about to write: right suffix, not a folder, not one it reads.

    ``protected`` are ``(role, path)`` pairs of files the command reads; ``results`` a folder
    whose own files (all but the names in ``allowed``) must not be written over either.

    Examples
    --------
    >>> check_new_output("clean.XLSX", argument="--out", suffixes=[".csv"])
    Traceback (most recent call last):
    ...
    labelaudit.io.results.FolderError: --out: 'clean.XLSX' must end in .csv
    """
    path = Path(path)
    suffixes = tuple(suffixes)
    if path.is_dir():
        raise FolderError(f"{argument}: '{path}' is a folder; give the path of a file to write")
    if path.suffix.lower() not in suffixes:
        raise FolderError(f"{argument}: '{path}' must end in {' or '.join(suffixes)}")
    for role, source in protected:
        if _same_file(path, Path(source)):
            raise FolderError(
                f"{argument}: '{path}' is the {role} '{source}', which is only read; choose another path"
            )
    if results is not None:
        for name in results.own_files() - set(allowed):
            if _same_file(path, results.folder / name):
                raise FolderError(
                    f"{argument}: '{path}' is {results.folder / name}, a file of the results folder "
                    f"'{results.folder}'; choose a path outside it or another name"
                )
    existing = path.parent if path.parent.exists() else next(p for p in path.parents if p.exists())
    if not os.access(existing, os.W_OK):
        raise FolderError(f"{argument}: cannot create files under '{existing}' (permission denied)")
    return path


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(temporary_path)`` then rename the file onto ``path``, so ``path`` is never half written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}{_TMP_SUFFIX}")
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync(path.parent)
    return path


class ResultsWriter:
    """Stage the files of one run in ``folder`` and commit them together, the manifest last.

    The folder is checked when the writer is made (before any work): it must be new, empty
    or a labelaudit results folder, and must not hold any of ``inputs`` (``role -> path``).
    Nothing is written until :meth:`stage`; leaving a ``with`` block by an exception removes
    what was staged and leaves the folder as it was.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "out"
    >>> with ResultsWriter(folder, command="example") as run:
    ...     _ = run.stage_json("health.json", {"num_examples": 3})
    ...     written = run.commit(dataset=None, results="label_issues")
    >>> [p.name for p in written]
    ['health.json', 'manifest.json']
    >>> read_results(folder).read_json("health.json")
    {'num_examples': 3}
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        command: str,
        inputs: dict[str, str | Path] | None = None,
        argument: str = "--out",
    ) -> None:
        self.folder = Path(folder)
        self.command = command
        self.argument = argument
        self.run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)
        self.inputs = {role: Path(p) for role, p in (inputs or {}).items() if p is not None}
        self.previous = self._check_folder()
        self._staged: dict[str, Path] = {}
        self._staged_records: dict[str, dict[str, Any]] = {}
        self._created_folder = False
        self._input_records: dict[str, dict[str, Any]] = {}

    def input_record(self, role: str) -> dict[str, Any]:
        """Resolved path, size and SHA-256 of the input ``role`` (computed once)."""
        if role not in self._input_records:
            path = self.inputs[role]
            self._input_records[role] = {"role": role, "path": str(path.resolve()), **_file_record(path)}
        return self._input_records[role]

    def _check_folder(self) -> dict[str, Any] | None:
        folder, argument = self.folder, self.argument
        if folder.exists() and not folder.is_dir():
            raise FolderError(f"{argument}: '{folder}' exists and is not a directory; pass a directory")
        resolved = folder.resolve()
        for role, path in self.inputs.items():
            if _is_inside(path.resolve(), resolved):
                raise FolderError(
                    f"{argument}: '{folder}' holds the {role} '{path}'; write the results to another folder"
                )
            if path.is_dir() and _is_inside(resolved, path.resolve()):
                raise FolderError(
                    f"{argument}: '{folder}' is inside the {role} folder '{path}'; write the results "
                    "outside it, so the data stays as it is"
                )
        if not folder.exists():
            existing = next(p for p in folder.resolve().parents if p.exists())
            if not os.access(existing, os.W_OK):
                raise FolderError(f"{argument}: cannot create files under '{existing}' (permission denied)")
            return None
        if not os.access(folder, os.W_OK):
            raise FolderError(f"{argument}: cannot write into '{folder}' (permission denied)")
        manifest = folder / MANIFEST_FILE
        if manifest.is_file():
            return _load_manifest(manifest, argument)
        others = sorted(p.name for p in folder.iterdir() if not p.name.endswith(_TMP_SUFFIX))
        if "dataset.json" in others or "audit.json" in others:
            raise FolderError(
                f"{argument}: '{folder}' was written by labelaudit 0.1, which kept no {MANIFEST_FILE}; "
                "write the results to a new folder (the old one is left as it is)"
            )
        if others:
            shown = ", ".join(repr(n) for n in others[:3]) + (", ..." if len(others) > 3 else "")
            raise FolderError(
                f"{argument}: '{folder}' holds files that labelaudit did not write ({shown}) and no "
                f"{MANIFEST_FILE}; pass a new or empty folder, or one written by labelaudit"
            )
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is not None:
            self.discard()

    def stage(self, name: str, write: Callable[[Path], Any]) -> Path:
        """Call ``write(temporary_path)`` for the file ``name``; it takes its name at :meth:`commit`."""
        if name in (MANIFEST_FILE, *_DECISION_FILES) or Path(name).name != name:
            raise ValueError(f"{name!r} cannot be written by a run")
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            self._created_folder = True
        temporary = self.folder / f".{name}.{self.run_id}{_TMP_SUFFIX}"
        self._staged[name] = temporary
        self._staged_records.pop(name, None)
        write(temporary)
        return temporary

    def staged_record(self, name: str) -> dict[str, Any]:
        """Size and SHA-256 of the staged file ``name`` (computed once; the manifest uses it too)."""
        if name not in self._staged_records:
            self._staged_records[name] = _file_record(self._staged[name])
        return self._staged_records[name]

    def stage_json(self, name: str, document: Any) -> Path:
        text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
        return self.stage(name, lambda path: path.write_text(text, encoding="utf-8"))

    def stage_text(self, name: str, text: str) -> Path:
        return self.stage(name, lambda path: path.write_text(text, encoding="utf-8"))

    def stage_table(self, name: str, frame: Any, *, escape_formulas: bool = True) -> Path:
        """Stage a table; its format comes from the suffix of ``name`` (see :func:`write_table`)."""
        suffix = Path(name).suffix
        return self.stage(
            name, lambda path: write_table(frame, path, suffix=suffix, escape_formulas=escape_formulas)
        )

    def discard(self) -> None:
        """Remove what was staged (and the folder, when this run created it and it is empty)."""
        for temporary in self._staged.values():
            temporary.unlink(missing_ok=True)
        self._staged.clear()
        self._staged_records.clear()
        if self._created_folder and not any(self.folder.iterdir()):
            self.folder.rmdir()

    def manifest(self, *, dataset: Dataset | None, results: str, files: dict[str, Any]) -> dict[str, Any]:
        from labelaudit import __version__

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "labelaudit_version": __version__,
            "run_id": self.run_id,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": self.command,
            "inputs": [self.input_record(role) for role in self.inputs],
            "dataset": None if dataset is None else dataset.to_dict(),
            "results": results,
            "files": files,
        }

    def commit(self, *, dataset: Dataset | None, results: str) -> list[Path]:
        """Rename every staged file into place, remove the earlier run's other files, then write
        the manifest. Returns the paths written, the manifest last."""
        files = {name: self.staged_record(name) for name in self._staged}
        document = self.manifest(dataset=dataset, results=results, files=files)
        text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
        manifest_tmp = self.folder / f".{MANIFEST_FILE}.{self.run_id}{_TMP_SUFFIX}"
        manifest_tmp.write_text(text, encoding="utf-8")
        for temporary in [*self._staged.values(), manifest_tmp]:
            _fsync(temporary)
        written = []
        for name, temporary in self._staged.items():
            os.replace(temporary, self.folder / name)
            written.append(self.folder / name)
        for name in (self.previous or {}).get("files", {}):
            if name not in files and name not in _DECISION_FILES:
                (self.folder / name).unlink(missing_ok=True)
        os.replace(manifest_tmp, self.folder / MANIFEST_FILE)
        written.append(self.folder / MANIFEST_FILE)
        for leftover in self.folder.glob(f".*{_TMP_SUFFIX}"):  # from a run that was killed
            leftover.unlink(missing_ok=True)
        _fsync(self.folder)
        self._staged, self._staged_records = {}, {}
        logger.info("committed %d files to %s (run %s)", len(written), self.folder, self.run_id)
        return written
