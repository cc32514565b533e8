"""The ``labelaudit`` command (also ``python -m labelaudit``).

* ``labelaudit demo [--out DIR]``: the whole loop on handwritten digits with known label noise.
* ``labelaudit audit DATA --label COLUMN`` or ``labelaudit audit --labels L --pred-probs P``:
  label issues and the health summary of your own data; with ``--scheduler ADDRESS`` (or
  ``--dask-workers N`` for a local cluster) the passes over ``pred_probs`` run on dask.

Exit status: 0 on success, 2 on any failure (one line on standard error naming the argument;
never a traceback, and nothing written). The output folder is checked before any work (a new or
empty folder, or a labelaudit results folder that holds none of the inputs), every result is
computed before anything is written, and the files are committed together, the manifest last
(:mod:`labelaudit.io.results`). Output goes on when standard output is a closed pipe, and a
terminal that cannot print a character gets an escape instead.

Examples
--------
>>> from labelaudit.cli import build_parser
>>> args = build_parser().parse_args(["audit", "data.csv", "--label", "species", "--top", "5"])
>>> args.command, args.label, args.top, args.model
('audit', 'species', 5, None)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from labelaudit import __version__

MODELS = ("logistic", "hgb", "forest")
FORMATS = ("csv", "json", "parquet")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
ARRAY_SUFFIXES = (".npy", *TABLE_SUFFIXES)
DEMO_TOP = 10
FILTER_BY = "auto"  # audit's defaults and the demo's: benchmarks/bench_quality.py and bench_demo.py (README)
RANK_BY = "auto"
DASK_CHUNK_VALUES = 1 << 22  # values of pred_probs per dask chunk (--scheduler, --dask-workers)
SCHEDULER_TIMEOUT = "10s"  # to reach --scheduler before giving up


class InputError(Exception):
    """Bad input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


@dataclass(frozen=True)
class Labelled:
    """Labels as class indices with their classes, out-of-sample ``pred_probs``, and the
    examples: ``table`` (what review and export show and fix, with ``label_column``) read from
    ``source`` (the user's table), or copied into the results folder when ``source`` is None."""

    codes: Any
    classes: Any
    pred_probs: Any
    class_names: list[Any]
    table: Any = None
    label_column: str = "label"
    source: Path | None = None
    id_column: str | None = None
    path_column: str | None = None
    image: dict[str, Any] | None = None
    extra_tables: dict[str, Any] | None = None  # more tables for the results folder (unreadable.csv)
    rows: Any = None  # the table row of each pred_probs row, when some rows could not be used
    image_checks: Any = None  # the Audit of the image checks, one row per pred_probs row


# -- argument types and checks -----------------------------------------------------------------


def _int_at_least(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        return value

    return parse


def _require_pyarrow(argument: str) -> None:
    from labelaudit._optional import import_optional

    with _as_input_error(argument, ImportError):
        import_optional("pyarrow", "parquet")


def _input_path(argument: str, path: str, suffixes: Sequence[str]) -> Path:
    file = Path(path)
    if file.suffix.lower() in (".pt", ".pth", ".pkl", ".pickle"):
        raise InputError(
            f"{argument}: '{path}' is a pickle, which labelaudit never loads (it can run code); save "
            "the array with numpy instead, e.g. np.save('probs.npy', tensor.float().numpy())"
        )
    if file.suffix.lower() not in suffixes:
        raise InputError(f"{argument}: '{path}' must be a {', '.join(suffixes)} file")
    if not file.is_file():
        raise InputError(f"{argument}: file '{path}' not found")
    if file.suffix.lower() in (".parquet", ".pq"):
        _require_pyarrow(argument)
    return file


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _read_table(argument: str, path: str) -> Any:
    file = _input_path(argument, path, TABLE_SUFFIXES)
    from labelaudit.io import read_table
    from labelaudit.io.tables import TableError

    try:
        frame = read_table(file, argument)
    except TableError as err:
        raise InputError(_one_line(err)) from None
    except (OSError, ValueError) as err:
        raise InputError(f"{argument}: could not read '{path}': {_one_line(err)}") from None
    if frame.empty:
        raise InputError(f"{argument}: '{path}' has no rows")
    return frame


def _read_array(argument: str, path: str) -> tuple[Any, list[Any] | None]:
    """An array from .npy, or a table's values and its column names from .csv/.parquet."""
    file = _input_path(argument, path, ARRAY_SUFFIXES)
    import numpy as np

    if file.suffix.lower() != ".npy":
        frame = _read_table(argument, path)
        return frame, list(frame.columns)
    try:
        return np.load(file, allow_pickle=False), None
    except (OSError, ValueError) as err:
        raise InputError(f"{argument}: could not read '{path}': {_one_line(err)}") from None


def _column(argument: str, frame: Any, name: str, path: str) -> Any:
    if name not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise InputError(f"{argument}: no column {name!r} in '{path}'; its columns are: {shown}")
    values = frame[name]
    if values.dtype.kind in "mM" or str(values.dtype).startswith(("datetime", "timedelta")):
        raise InputError(
            f"{argument}: column {name!r} of '{path}' holds {values.dtype} values; labels are class "
            "names (text or integers): convert the column, or name another one"
        )
    missing = int(values.isna().sum())
    if missing:
        rows = ", ".join(map(str, values.index[values.isna()][:5].tolist()))
        raise InputError(
            f"{argument}: column {name!r} has {missing} missing labels (rows {rows}); "
            "give every row a label or drop those rows"
        )
    return values.to_numpy()


@contextlib.contextmanager
def _short_warnings() -> Iterator[None]:
    """Show library warnings as one line each on standard error."""
    previous = warnings.showwarning

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        sys.stderr.write(f"labelaudit: warning: {_one_line(message)}\n")

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


@contextlib.contextmanager
def _as_input_error(argument: str, *also: type[BaseException]) -> Iterator[None]:
    """Report the library's input checks (ValueError, TypeError, and ``also``) as bad input to
    ``argument``."""
    try:
        yield
    except (ValueError, TypeError, *also) as err:
        raise InputError(f"{argument}: {_one_line(err)}") from None


# -- models and results ------------------------------------------------------------------------


def build_model(name: str, numeric: Sequence[Any] = (), categorical: Sequence[Any] = ()) -> Any:
    """The classifier behind ``--model``: ``logistic``, ``hgb`` or ``forest``.

    ``logistic`` imputes missing numbers with the median, standardises, one-hot encodes
    categorical columns and fits an L2 logistic regression with ``C=0.1`` (strong
    regularisation is robust to noisy labels); the tree models take missing values as they
    are and ordinal-encode categorical columns. Without ``categorical`` the model takes any
    numeric array.

    Examples
    --------
    >>> build_model("hgb")
    HistGradientBoostingClassifier(random_state=0)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    if name == "logistic":
        numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        categories = OneHotEncoder(handle_unknown="ignore")
        classifier = LogisticRegression(C=0.1, max_iter=1000)
    else:
        numbers = "passthrough"
        categories = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        classifier = (
            HistGradientBoostingClassifier(random_state=0)
            if name == "hgb"
            else RandomForestClassifier(n_estimators=200, random_state=0)
        )
    if not categorical:
        return classifier if numbers == "passthrough" else make_pipeline(numbers, classifier)
    columns = ColumnTransformer(
        [("numeric", numbers, list(numeric)), ("categorical", categories, list(categorical))]
    )
    return make_pipeline(columns, classifier)


def _issues_table(data: Labelled, filter_by: str, rank_by: str, inputs: tuple[Any, Any] | None = None) -> Any:
    """Flagged rows, most likely wrong first: row, given_label, predicted_label, label_quality.

    ``predicted_label`` is the most probable class of the model, or with ``filter_by="auto"``
    of the noise-corrected posterior that flagged the row (:func:`labelaudit.auto.suggested_labels`).

    ``inputs``: ``(codes, pred_probs)`` to compute from instead of ``data``'s (dask arrays).
    With image checks, the rows any check flagged (label issues first, then the others from the
    lowest label quality up), with ``is_<type>_issue`` per check and each duplicate set named
    by the path of its first file.
    """
    import numpy as np
    import pandas as pd

    from labelaudit import find_label_issues, get_label_quality_scores

    codes, pred_probs = inputs or (data.codes, data.pred_probs)
    ranked = find_label_issues(codes, pred_probs, filter_by=filter_by, return_indices_ranked_by=rank_by)
    scores = np.asarray(get_label_quality_scores(codes, pred_probs, method=rank_by))
    if filter_by == "auto":  # the posterior that flagged the rows suggests their labels
        from labelaudit.auto import suggested_labels

        predicted = suggested_labels(data.codes, data.pred_probs)
    else:
        predicted = data.pred_probs.argmax(axis=1)
    order, flags = ranked, {}
    checks = None if data.image_checks is None else data.image_checks.issues
    if checks is not None:
        flags["is_label_issue"] = np.zeros(len(scores), dtype=bool)
        flags["is_label_issue"][ranked] = True
        flags.update({c: checks[c].to_numpy() for c in checks.columns if c.startswith("is_")})
        others = np.flatnonzero(np.any(list(flags.values()), axis=0) & ~flags["is_label_issue"])
        order = np.r_[ranked, others[np.lexsort((others, scores[others]))]].astype(np.int64)
    issues = pd.DataFrame(
        {
            "row": order,
            "given_label": data.classes[data.codes[order]],
            "predicted_label": data.classes[predicted[order]],
            "label_quality": scores[order],
            **{name: flag[order] for name, flag in flags.items()},
        }
    )
    table_rows = np.arange(len(scores)) if data.rows is None else np.asarray(data.rows)
    issues["row"] = table_rows[order]
    if data.path_column is not None:
        paths = data.table[data.path_column].to_numpy()[table_rows]
        issues.insert(1, data.path_column, paths[order])
        if checks is not None:
            for kind in ("exact_duplicate", "near_duplicate"):
                if f"{kind}_set" in checks:
                    first = checks[f"{kind}_set"].to_numpy()[order]
                    issues[f"{kind}_set"] = np.where(first >= 0, paths[np.maximum(first, 0)], "")
                    issues[f"{kind}_label_conflict"] = checks[f"{kind}_label_conflict"].to_numpy()[order]
    return issues


def _image_checks(images: Any, codes: Any, n_jobs: int | None) -> Any:
    """The image checks (:data:`labelaudit.audit.IMAGE_CHECKS`) of an image folder, with the
    labels for the duplicates' label conflicts; prints what they found."""
    from labelaudit import Audit
    from labelaudit.audit import IMAGE_CHECKS

    audit = Audit(label=codes).run(images=images, issue_types=list(IMAGE_CHECKS), n_jobs=n_jobs, verbose=False)
    found = audit.summary[audit.summary["num_issues"] > 0]
    print("Image checks: " + (", ".join(f"{t} {n:,}" for t, n in zip(found["issue_type"], found["num_issues"]))
                             or "nothing flagged") + f" (of {audit.num_examples:,} images)")
    for kind in ("exact_duplicate", "near_duplicate"):
        conflicts = audit.info.get(kind, {}).get("num_conflicting_sets", 0)
        if conflicts:
            print(f"  {conflicts:,} {kind.replace('_', ' ')} sets hold files of different classes "
                  f"(at most one label each is right; column {kind}_label_conflict)")
    return audit


@contextlib.contextmanager
def _on_dask(args: argparse.Namespace, data: Labelled) -> Iterator[tuple[Any, Any] | None]:
    """``(codes, pred_probs)`` as dask arrays held by the workers of ``--scheduler`` or
    ``--dask-workers`` (a local cluster) while the block runs; None without those options."""
    if args.scheduler is None and args.dask_workers is None:
        yield None
        return
    from labelaudit._optional import import_optional

    with _as_input_error(_dask_flag(args), ImportError):
        da = import_optional("dask.array", "computing on dask")
        distributed = import_optional("distributed", "computing on dask")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    with contextlib.ExitStack() as stack:
        with _as_input_error(_dask_flag(args), OSError):
            if args.scheduler is not None:
                client = stack.enter_context(Client(args.scheduler, timeout=SCHEDULER_TIMEOUT))
            else:
                cluster = stack.enter_context(
                    LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, dashboard_address=None)
                )
                client = stack.enter_context(Client(cluster))
        rows = max(1, DASK_CHUNK_VALUES // data.pred_probs.shape[1])
        inputs = client.persist(
            [da.from_array(data.codes, chunks=rows), da.from_array(data.pred_probs, chunks=(rows, -1))]
        )
        yield tuple(inputs)


def _dask_flag(args: argparse.Namespace) -> str:
    return "--scheduler" if args.scheduler is not None else "--dask-workers"


def _cross_validate(
    model: Any, name: str, X: Any, codes: Any, num_classes: int, cv: int, n_jobs: Any
) -> Any:
    import numpy as np

    from labelaudit.models import estimate_pred_probs

    print(f"Cross-validating the {name} model with {cv} folds on {len(codes):,} examples ...")
    started = time.perf_counter()
    pred_probs = estimate_pred_probs(
        model, X, codes, cv=cv, n_jobs=n_jobs, classes=np.arange(num_classes),
        verbose=sys.stderr.isatty(),
    )
    print(f"Out-of-sample probabilities ready in {time.perf_counter() - started:.1f} s")
    return pred_probs


def _show(frame: Any, top: int) -> str:
    """The first ``top`` rows for the terminal; the ``is_<check>_issue`` columns of image checks
    become one ``issues`` column naming the checks that flagged the row."""
    frame = frame.head(top)
    flags = [c for c in frame.columns if c.startswith("is_") and c.endswith("_issue")]
    if flags:
        named = frame[flags].apply(lambda row: ", ".join(c[3:-6] for c in flags if row[c]), axis=1)
        keep = [c for c in frame.columns if c not in flags and not c.endswith(("_set", "_label_conflict"))]
        frame = frame[keep].assign(issues=named)
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4f}")


def _stage_results(
    run: Any, data: Labelled, issues: Any, health: dict[str, Any], *, title: str,
    issues_format: str = "csv", documents: dict[str, Any] | None = None,
    rule: tuple[str, str] = (FILTER_BY, RANK_BY),
) -> list[Path]:
    """Stage the issues, health.json, the examples (when they are not the user's table), the
    data's extra tables, any JSON ``documents`` and report.html in ``run``, then commit them.

    ``rule``: the ``(filter_by, rank_by)`` the issues came from, kept in health.json."""
    from labelaudit._json import plain
    from labelaudit.io import Dataset
    from labelaudit.models import check_against_chance
    from labelaudit.report import render_html
    from labelaudit.report._findings import Examples, demo_note, label_findings, text_columns

    chance = check_against_chance(data.codes, data.pred_probs)
    health = {**health, "label_rule": {"filter_by": rule[0], "rank_by": rule[1]}, "model_check": chance.to_dict()}
    if data.image_checks is not None:
        health["image_checks"] = plain(data.image_checks.to_record()["checks"])
    if chance.at_chance:
        sys.stderr.write(f"labelaudit: warning: {chance.message()}\n")
    run.stage_table(f"issues.{issues_format}", issues)
    run.stage_json("health.json", health)
    for name, document in (documents or {}).items():
        run.stage_json(name, document)
    for name, frame in (data.extra_tables or {}).items():
        run.stage_table(name, frame)
    if data.source is None:
        table_name = "examples.csv"
        run.stage_table(table_name, data.table, escape_formulas=False)
        table_sha256 = run.staged_record(table_name)["sha256"]
    else:
        role = next(r for r, path in run.inputs.items() if path == data.source)
        table_name, table_sha256 = str(data.source.resolve()), run.input_record(role)["sha256"]
    shown = [] if data.image else text_columns(data.table.drop(columns=[data.label_column]))
    dataset = Dataset(
        table_name, table_sha256, data.label_column, [plain(c) for c in data.classes],
        len(data.table), data.id_column, data.image, shown,
    )
    examples = Examples(data.table, data.label_column, data.image, shown)
    findings = label_findings(title, health, issues, examples=examples)
    findings.num_examples = len(data.table)
    if chance.at_chance:
        findings.notes.insert(0, "Warning: " + chance.message())
    if documents and "demo.json" in documents:
        findings.notes.append(demo_note(documents["demo.json"]))
    run.stage_text("report.html", render_html(findings))
    return run.commit(dataset=dataset, results="label_issues")


# -- audit -------------------------------------------------------------------------------------


def _id_column(frame: Any, name: str | None, path: str) -> str | None:
    """Check ``--id``: a column of ``frame`` with a distinct value on every row."""
    if name is None:
        return None
    values = _column("--id", frame, name, path)
    import pandas as pd

    repeated = pd.Series(values)[pd.Series(values).duplicated()]
    if len(repeated):
        raise InputError(
            f"--id: column {name!r} of '{path}' repeats the value {repeated.iloc[0]!r}; an id must "
            "name one example (leave --id out to key review decisions by row and content)"
        )
    return name


def _audit_from_data(args: argparse.Namespace) -> Labelled:
    frame = _read_table("data", args.data)
    labels = _column("--label", frame, args.label, args.data)
    id_column = _id_column(frame, args.id, args.data)
    if id_column == args.label:
        raise InputError(f"--id: {args.id!r} is the label column; name a column that identifies examples")
    if args.image_column is not None:
        return _audit_from_image_table(args, frame, id_column)
    if args.features:
        features = [c.strip() for c in args.features.split(",") if c.strip()]
        unknown = [c for c in features if c not in frame.columns]
        if unknown or not features:
            raise InputError(f"--features: no column(s) {unknown or args.features!r} in '{args.data}'")
        for flag, column in (("--label", args.label), ("--id", id_column)):
            if column in features:
                raise InputError(f"--features: {column!r} is the {flag} column; leave it out")
    else:
        features = [c for c in frame.columns if c not in (args.label, id_column)]
        if not features:
            raise InputError(f"data: '{args.data}' has no feature columns besides {args.label!r}")
    X = frame[features]
    numeric = list(X.select_dtypes(include=["number", "bool"]).columns)
    categorical = [c for c in features if c not in numeric]
    X = X.astype({c: str for c in categorical}).fillna({c: "(missing)" for c in categorical})
    from labelaudit.models import check_cv, encode_targets

    with _as_input_error("--label"):
        enc = encode_targets(labels)
    with _as_input_error("--cv"):
        check_cv(args.cv, enc.counts(), enc.classes)
    name = args.model or "logistic"
    model = build_model(name, numeric, categorical) if args.own_model is None else args.own_model
    with _as_input_error(args.data):
        pred_probs = _cross_validate(model, name, X, enc.codes, enc.num_classes, args.cv, args.n_jobs)
    return Labelled(
        enc.codes, enc.classes, pred_probs, enc.classes.tolist(),
        table=frame, label_column=args.label, source=Path(args.data), id_column=id_column,
    )


def user_model(spec: str) -> Any:
    """The estimator made by ``--model package.module:factory`` or ``--model path/to/file.py:factory``.

    ``factory`` is called with no arguments and must return an unfitted scikit-learn-compatible
    classifier (``fit`` and ``predict_proba``; it is cloned for every fold).
    """
    import importlib
    import importlib.util

    module_name, _, factory_name = spec.rpartition(":")
    if not module_name or not factory_name.isidentifier():
        raise InputError(
            f"--model: {spec!r} is not one of {', '.join(MODELS)} nor package.module:factory (or file.py:factory)"
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise InputError(f"--model: file '{module_name}' not found")
            loader = importlib.util.spec_from_file_location(f"labelaudit_user_model_{path.stem}", path)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
        factory = getattr(module, factory_name)
        model = factory()
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's code: any failure is theirs to see, in one line
        raise InputError(f"--model: {spec} failed: {type(err).__name__}: {_one_line(err)}") from None
    missing = [m for m in ("fit", "predict_proba") if not callable(getattr(model, m, None))]
    if missing:
        raise InputError(
            f"--model: {spec} returned {type(model).__name__}, which has no {' or '.join(missing)}; "
            "return a scikit-learn classifier (wrap a net with skorch or scikeras)"
        )
    return model


def _cross_validate_images(args: argparse.Namespace, images: Any, argument: str) -> tuple[Any, Any, Any]:
    """``(encoded labels, pred_probs, extra tables)`` of an :class:`~labelaudit.io.images.ImageFolder`:
    the default image model (or ``--model``) cross-validated on its pixels."""
    from labelaudit.models import check_cv, encode_targets
    from labelaudit.vision import default_image_model

    if len(images.unreadable):
        print(f"{len(images.unreadable):,} files could not be read as images; they are left out and "
              "listed in unreadable.csv")
    with _as_input_error(argument):
        enc = encode_targets(images.labels)
    with _as_input_error("--cv"):
        check_cv(args.cv, enc.counts(), enc.classes)
    model = default_image_model() if args.own_model is None else args.own_model
    channels = images.pixels.shape[3]
    print(f"{len(images):,} images of {enc.num_classes} classes at {args.image_size} x {args.image_size} "
          f"({channels} channel{'s' if channels > 1 else ''})")
    with _as_input_error(args.data):
        pred_probs = _cross_validate(
            model, args.model or "image", images.pixels, enc.codes, enc.num_classes, args.cv, args.n_jobs
        )
    return enc, pred_probs, {"unreadable.csv": images.unreadable} if len(images.unreadable) else None


def _audit_from_image_table(args: argparse.Namespace, frame: Any, id_column: str | None) -> Labelled:
    """A table whose ``--image-column`` names image files relative to the table's folder."""
    from labelaudit.io.images import load_images

    if args.image_column not in frame.columns:
        raise InputError(f"--image-column: no column {args.image_column!r} in '{args.data}'")
    if args.features is not None:
        raise InputError("--features: the model of an --image-column table reads the images; leave --features out")
    with _as_input_error("--image-column", ImportError):
        images = load_images(frame, args.image_column, args.label, Path(args.data).parent, size=args.image_size)
    enc, pred_probs, extra_tables = _cross_validate_images(args, images, "--label")
    image_checks = _image_checks(images, enc.codes, args.n_jobs)
    return Labelled(
        enc.codes, enc.classes, pred_probs, enc.classes.tolist(), table=frame, label_column=args.label,
        source=Path(args.data), id_column=id_column, path_column=args.image_column,
        image={"files": args.image_column, "root": str(images.root)}, extra_tables=extra_tables,
        rows=images.rows if len(images.rows) < len(frame) else None, image_checks=image_checks,
    )


def _audit_from_images(args: argparse.Namespace) -> Labelled:
    """A class-folder tree of images: the default image model (or --model) cross-validated on the pixels."""
    from labelaudit.io.images import load_image_folder

    with _as_input_error("data", ImportError):
        folder = load_image_folder(args.data, size=args.image_size)
    enc, pred_probs, extra_tables = _cross_validate_images(args, folder, "data")
    return Labelled(
        enc.codes, enc.classes, pred_probs, enc.classes.tolist(), table=folder.table(),
        path_column="path", image={"files": "path", "root": str(Path(args.data).resolve())},
        extra_tables=extra_tables, image_checks=_image_checks(folder, enc.codes, args.n_jobs),
    )


def _check_class_header(columns: list[Any], num_classes: int, path: str) -> None:
    """A pred_probs table with numeric labels: a header of numbers must be 0..K-1 in order."""
    numbers = []
    for name in columns:
        try:
            numbers.append(float(name))
        except (TypeError, ValueError):
            return  # names such as p0, p1: the header says nothing about the order
    if not all(n.is_integer() for n in numbers):
        raise InputError(
            f"--pred-probs: the first row of '{path}' holds probabilities ({', '.join(map(str, columns[:3]))}, ...), "
            "not a header; add a header row naming the class of each column, or save the array as .npy"
        )
    if [int(n) for n in numbers] != list(range(num_classes)):
        raise InputError(
            f"--pred-probs: the header of '{path}' names the classes {', '.join(map(str, columns[:10]))} "
            f"but its columns are read in the order 0..{num_classes - 1}; reorder the columns to "
            "0, 1, 2, ... or save the array as .npy"
        )


def _read_pred_probs(flag: str, path: str, logits: bool) -> tuple[Any, list[Any] | None]:
    """One model's ``pred_probs`` (a softmax of ``logits``) as an array, and its class columns."""
    from labelaudit._validate import as_pred_probs

    pred_probs, class_columns = _read_array(flag, path)
    if class_columns is not None:
        from pandas.api.types import is_numeric_dtype

        text = [c for c in class_columns if not is_numeric_dtype(pred_probs[c])]
        if text:
            raise InputError(f"{flag}: column {text[0]!r} of '{path}' is not numeric")
        pred_probs = pred_probs.to_numpy()
    with _as_input_error(flag):
        if logits:
            from labelaudit.models import pred_probs_from_logits

            pred_probs = pred_probs_from_logits(pred_probs)
        return as_pred_probs(pred_probs), class_columns


def _audit_from_pred_probs(args: argparse.Namespace) -> Labelled:
    import numpy as np
    import pandas as pd

    from labelaudit._validate import encode_labels

    labels, label_columns = _read_array("--labels", args.labels)
    table, label_column, id_column, source = None, "label", None, None
    if label_columns is not None:
        if args.label is None and len(label_columns) != 1:
            raise InputError(
                f"--label: '{args.labels}' has {len(label_columns)} columns; name the one with the labels"
            )
        table, source = labels, Path(args.labels)
        label_column = args.label or label_columns[0]
        id_column = _id_column(table, args.id, args.labels)
        if id_column is not None and id_column == label_column:
            raise InputError(f"--id: {args.id!r} is the label column; name a column that identifies examples")
        labels = _column("--label" if args.label else "--labels", table, label_column, args.labels)
    elif args.id is not None:
        raise InputError(f"--id: '{args.labels}' is an array with no columns; give --labels as a table with the id column")
    flag, paths = ("--logits", [args.logits]) if args.logits else ("--pred-probs", args.pred_probs)
    members = [_read_pred_probs(flag, p, args.logits is not None) for p in paths]
    (pred_probs, class_columns), path = members[0], paths[0]
    for (_, other), other_path in zip(members[1:], paths[1:]):
        if other != class_columns:
            raise InputError(f"{flag}: '{other_path}' has other class columns than '{path}'; give every model's file the same")
    named = np.asarray(labels).dtype.kind not in "iuf"
    if class_columns is not None and not named:
        _check_class_header(class_columns, pred_probs.shape[1], path)
    classes = class_columns if named else None
    with _as_input_error("--labels/--pred-probs"):
        enc = encode_labels(labels, pred_probs.shape[1], classes=classes)
    if len(members) > 1:  # an ensemble: the weighted mean, weights learned from the labels
        from labelaudit._ensemble import combine_pred_probs

        with _as_input_error(flag):
            pred_probs = combine_pred_probs(enc.codes, [m for m, _ in members])[:]
    if table is None:
        table = pd.DataFrame({label_column: labels})
    return Labelled(
        enc.codes, enc.classes, pred_probs, class_columns or enc.classes.tolist(),
        table=table, label_column=label_column, source=source, id_column=id_column,
    )


def _check_audit_arguments(args: argparse.Namespace) -> None:
    """Checks that need no file: which inputs go together, --format, --n-jobs."""
    from labelaudit._validate import check_n_jobs

    if args.format == "parquet":
        _require_pyarrow("--format")
    with _as_input_error("--n-jobs"):
        check_n_jobs(args.n_jobs)
    args.own_model = None if args.model is None or args.model in MODELS else user_model(args.model)
    if args.data is not None:
        if args.labels or args.pred_probs or args.logits:
            raise InputError("data: give a data file or --labels with --pred-probs, not both")
        if args.scheduler is not None or args.dask_workers is not None:
            raise InputError(f"{_dask_flag(args)}: applies only with --labels and --pred-probs")
        if Path(args.data).is_dir():
            for flag, value in (("--label", args.label), ("--features", args.features), ("--id", args.id)):
                if value is not None:
                    raise InputError(f"{flag}: a folder of images takes its labels from the class folders; leave {flag} out")
        if (Path(args.data).is_dir() or args.image_column is not None) and args.model in MODELS:
            raise InputError(f"--model: {args.model} is a model for tables; leave --model out for the image model, or give package.module:factory")
        if args.label is None and not Path(args.data).is_dir():
            raise InputError("--label: required with a data file; name the column that holds the labels")
        return
    if args.pred_probs and args.logits:
        raise InputError("--logits: give --pred-probs or --logits, not both")
    if not (args.labels and (args.pred_probs or args.logits)):
        missing = "--pred-probs" if args.labels else "--labels"
        raise InputError(
            f"{missing}: required; give a data file with --label COLUMN, or --labels with --pred-probs"
        )
    for flag, value in (("--features", args.features), ("--model", args.model)):
        if value is not None:
            raise InputError(f"{flag}: applies only when a data file is audited, not with --pred-probs")
    if args.scheduler is not None and args.dask_workers is not None:
        raise InputError("--dask-workers: give --scheduler ADDRESS or --dask-workers N, not both")


def _open_results(args: argparse.Namespace, command: str, **inputs: Any) -> Any:
    """The writer of ``--out``, checked before any work (see :class:`labelaudit.io.ResultsWriter`)."""
    from labelaudit.io import FolderError, ResultsWriter

    try:
        return ResultsWriter(args.out, command=command, inputs=inputs, argument="--out")
    except FolderError as err:
        raise InputError(_one_line(err)) from None


def _next_steps(out: str) -> str:
    return (
        f"Next: look at {Path(out) / 'report.html'}, review the flagged rows from the lowest score up "
        f"with 'labelaudit review {out}', then write the cleaned data with "
        f"'labelaudit export {out} --out cleaned.csv'."
    )


def run_audit(args: argparse.Namespace) -> int:
    """``labelaudit audit``: see ``labelaudit audit --help``."""
    _check_audit_arguments(args)
    run = _open_results(
        args, "audit", data=args.data, labels=args.labels, logits=args.logits,
        **{f"pred_probs_{i}" if i else "pred_probs": p for i, p in enumerate(args.pred_probs or [None])},
    )
    if args.data is None:
        data = _audit_from_pred_probs(args)
    else:
        data = _audit_from_images(args) if Path(args.data).is_dir() else _audit_from_data(args)

    from labelaudit import health_summary

    with _as_input_error("--labels/--pred-probs" if args.data is None else args.data), _on_dask(args, data) as inputs:
        issues = _issues_table(data, args.filter_by, args.rank_by, inputs)
        codes, pred_probs = inputs or (data.codes, data.pred_probs)
        summary = health_summary(codes, pred_probs, class_names=data.class_names, verbose=False)
    print()
    print(summary.to_text())
    print()
    label_issues = issues[issues["is_label_issue"]] if "is_label_issue" in issues else issues
    shown = len(label_issues) if args.top == 0 else min(args.top, len(label_issues))
    print(f"Label issues: {len(label_issues):,} of {summary.num_examples:,} rows flagged by {args.filter_by} "
          f"(ranked by {args.rank_by}; row = 0-based row of the input); top {shown}:")
    print(_show(label_issues, shown) if shown else "  (none)")
    if len(label_issues) < len(issues):
        print(f"issues.{args.format} lists {len(issues):,} files: every label issue, then every other file "
              "an image check flagged (an is_<check>_issue column per check)")
    title = f"Label audit of {Path(args.data or args.labels).name}"
    with run:
        written = _stage_results(run, data, issues, summary.to_dict(), title=title, issues_format=args.format,
                                 rule=(args.filter_by, args.rank_by))
    print("\nWrote " + ", ".join(map(str, written)))
    print(_next_steps(args.out))
    return 0


# -- demo --------------------------------------------------------------------------------------


def _digit_image(values: Any) -> Any:
    """One 8 x 8 digit as a 32 x 32 grey PIL image, dark ink on white."""
    import numpy as np

    from labelaudit._optional import import_optional

    image_module = import_optional("PIL.Image", "labelaudit demo --images")
    grey = np.uint8(np.rint(255 - np.asarray(values, dtype=np.float64).reshape(8, 8) * 255 / 16))
    return image_module.fromarray(grey).resize((32, 32), image_module.Resampling.BILINEAR)


def run_demo_images(args: argparse.Namespace) -> int:
    """``labelaudit demo --images DIR``: the noisy digits written as PNG class folders, audited
    as a folder of images with the default image model, and retrained without the flagged files."""
    import numpy as np
    from sklearn.base import clone

    from labelaudit import health_summary
    from labelaudit.datasets import load_noisy_digits
    from labelaudit.vision import default_image_model

    images_dir = Path(args.images)
    if images_dir.exists() and (not images_dir.is_dir() or any(images_dir.iterdir())):
        raise InputError(f"--images: '{images_dir}' exists and is not an empty folder; give a new folder for the demo's images")
    from labelaudit.io import overlaps

    if overlaps(images_dir, args.out):
        raise InputError(f"--images: '{images_dir}' overlaps --out '{args.out}'; give two separate folders")
    run = _open_results(args, "demo", data=images_dir)
    data = load_noisy_digits()
    for row, (values, label) in enumerate(zip(data.X_train, data.labels)):
        (images_dir / str(label)).mkdir(parents=True, exist_ok=True)
        _digit_image(values).save(images_dir / f"{label}/img{row:04d}.png")
    print(f"Wrote {len(data.labels):,} training digits as 32 x 32 PNG class folders to {images_dir}; "
          f"{int(data.is_flipped.sum())} of them sit in the folder of a wrong class.\n")
    args.data, args.model, args.own_model, args.image_size, args.cv, args.n_jobs = str(images_dir), None, None, 32, 5, None
    labelled = _audit_from_images(args)
    issues = _issues_table(labelled, FILTER_BY, RANK_BY)
    summary = health_summary(labelled.codes, labelled.pred_probs, class_names=labelled.class_names, verbose=False)
    train_rows = np.array([int(Path(p).stem[3:]) for p in labelled.table["path"]])  # each file's row
    flagged = np.zeros(len(train_rows), dtype=bool)
    flagged[issues["row"].to_numpy()] = True
    flips = data.is_flipped[train_rows]
    hits = int((flagged & flips).sum())
    print(f"\n{len(issues)} files flagged: precision {hits / max(len(issues), 1):.3f} ({hits} are real flips), "
          f"recall {hits / max(int(flips.sum()), 1):.3f}. Worst first:")
    print(_show(issues, DEMO_TOP))
    from labelaudit.io.images import load_image_folder

    pixels = load_image_folder(images_dir).pixels
    test = np.stack([np.asarray(_digit_image(v), dtype=np.float32) / 255 for v in data.X_test])[..., None]
    test_codes = np.searchsorted(labelled.classes.astype(str), data.y_test.astype(str))
    model = default_image_model()
    noisy = clone(model).fit(pixels, labelled.codes).score(test, test_codes)
    cleaned = clone(model).fit(pixels[~flagged], labelled.codes[~flagged]).score(test, test_codes)
    print(f"\nTest accuracy of the image model on {len(test)} clean test digits: {noisy:.4f} trained on every "
          f"file, {cleaned:.4f} without the {len(issues)} flagged ({100 * (cleaned - noisy):+.2f} points).")
    report = {"precision": hits / max(len(issues), 1), "recall": hits / max(int(flips.sum()), 1),
              "num_flagged": len(issues), "num_flipped": int(flips.sum()), "num_train": len(train_rows),
              "num_test": len(test), "accuracy_noisy": noisy, "accuracy_cleaned": cleaned,
              "model": "HOG features + logistic regression (labelaudit.vision), 5-fold cross-validation"}
    with run:
        written = _stage_results(run, labelled, issues, summary.to_dict(),
                                 title="labelaudit demo: noisy digits as image files", documents={"demo.json": report})
    print(f"\nWrote {', '.join(p.name for p in written)} to {args.out}")
    print(_next_steps(args.out))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """``labelaudit demo``: find the known label errors in noisy digits and retrain."""
    if args.images is not None:
        return run_demo_images(args)
    run = _open_results(args, "demo")

    import numpy as np
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from labelaudit import CleanLearning, find_label_issues, health_summary
    from labelaudit.datasets import DIGITS_CONFUSIONS, load_noisy_digits

    started = time.perf_counter()
    data = load_noisy_digits()
    flipped = data.is_flipped
    pairs = sorted({tuple(sorted((t, g))) for t, (g, _) in DIGITS_CONFUSIONS.items()})
    print(
        f"labelaudit demo: scikit-learn's handwritten digits (8x8 images, 10 classes), "
        f"{len(data.labels):,} training images of which {int(flipped.sum())} "
        f"({flipped.mean():.1%}) carry a flipped label ({', '.join(f'{a}<->{b}' for a, b in pairs)}), "
        f"{len(data.y_test)} clean test images."
    )
    model = build_model("logistic")
    print("Model: standardised pixels + logistic regression (C=0.1).\n")
    with threadpool_limits(limits=1):  # tiny fits: BLAS threads only add overhead
        pred_probs = _cross_validate(model, "logistic", data.X_train, data.labels, 10, 5, None)
        labelled = Labelled(data.labels, np.arange(10), pred_probs, list(range(10)))
        issues = _issues_table(labelled, FILTER_BY, RANK_BY)
        issues.insert(2, "true_label", data.true_labels[issues["row"].to_numpy()])
        summary = health_summary(data.labels, pred_probs, verbose=False)
        mask = np.zeros(len(data.labels), dtype=bool)
        mask[issues["row"].to_numpy()] = True
        relabelled = data.labels.copy()
        relabelled[issues["row"].to_numpy()] = issues["predicted_label"].to_numpy()
        accuracy = {
            "accuracy_noisy": clone(model).fit(data.X_train, data.labels).score(data.X_test, data.y_test),
            "accuracy_cleaned": CleanLearning(model).fit(data.X_train, data.labels, label_issues=mask)
            .score(data.X_test, data.y_test),
            "accuracy_relabeled": clone(model).fit(data.X_train, relabelled).score(data.X_test, data.y_test),
            "accuracy_true_labels": clone(model).fit(data.X_train, data.true_labels)
            .score(data.X_test, data.y_test),
        }
    hits = int((mask & flipped).sum())
    precision = hits / max(int(mask.sum()), 1)
    recall = hits / max(int(flipped.sum()), 1)

    print()
    print(summary.to_text(max_rows=10))
    print(f"\nTop {DEMO_TOP} of {len(issues)} flagged examples (row of the training set):")
    print(_show(issues, DEMO_TOP))
    published = int(find_label_issues(data.labels, pred_probs, filter_by="prune_by_noise_rate").sum())
    print(
        f"\nThe counts: the health score's {summary.num_label_issues} labels estimated wrong are the "
        "off-diagonal part of the calibrated confident joint (confident learning's estimate of how "
        f"many are wrong). The {int(mask.sum())} flagged are the rows whose most probable class, "
        "once the model's belief is corrected by the estimated noise, is not the given label "
        f"(filter_by='auto'); confident learning's own rule, prune_by_noise_rate, flags {published}."
    )
    print(
        f"\nFlags vs the known flips: precision {precision:.3f} ({hits} of {int(mask.sum())} flags are "
        f"real flips), recall {recall:.3f} ({hits} of {int(flipped.sum())} flips found)."
    )
    print(f"\nTest accuracy on the same {len(data.y_test)} clean test images:")
    rows = [
        ("trained on all noisy labels", accuracy["accuracy_noisy"]),
        (f"trained with the {int(mask.sum())} issues removed", accuracy["accuracy_cleaned"]),
        ("trained with predicted labels applied", accuracy["accuracy_relabeled"]),
        ("(reference: trained on the true labels)", accuracy["accuracy_true_labels"]),
    ]
    for text, value in rows:
        print(f"  {text:<42} {value:.4f}")
    gain = accuracy["accuracy_cleaned"] - accuracy["accuracy_noisy"]
    print(f"  removing the issues changes accuracy by {100 * gain:+.2f} points")
    seconds = time.perf_counter() - started
    report = {
        **accuracy,
        "precision": precision,
        "recall": recall,
        "num_flagged": int(mask.sum()),
        "num_flipped": int(flipped.sum()),
        "num_train": len(data.labels),
        "num_test": len(data.y_test),
        "confusions": {f"{t}->{g}": rate for t, (g, rate) in DIGITS_CONFUSIONS.items()},
        "model": "StandardScaler + LogisticRegression(C=0.1), 5-fold cross-validation",
        "seconds": round(seconds, 2),
    }
    import pandas as pd

    pixels = [f"pixel_{i}" for i in range(data.X_train.shape[1])]
    table = pd.DataFrame(data.X_train.astype(np.int64), columns=pixels)
    table.insert(0, "label", data.labels)
    image = {"columns": pixels, "shape": [8, 8], "max_value": 16}
    labelled = Labelled(data.labels, np.arange(10), pred_probs, list(range(10)), table=table, image=image)
    with run:
        written = _stage_results(
            run, labelled, issues, summary.to_dict(), title="labelaudit demo: noisy handwritten digits",
            documents={"demo.json": report},
        )
    print(f"\nWrote {len(written)} files to {args.out} in {time.perf_counter() - started:.1f} s: "
          + ", ".join(p.name for p in written))
    print(_next_steps(args.out))
    return 0


# -- report, review, export --------------------------------------------------------------------


@contextlib.contextmanager
def _folder_errors(argument: str) -> Iterator[None]:
    """A missing or unreadable results folder is bad input to ``argument`` (errors that name
    their own argument, such as an output path, keep it)."""
    from labelaudit.io import FolderError

    try:
        yield
    except FolderError as err:
        raise InputError(_one_line(err)) from None
    except (FileNotFoundError, ValueError, ImportError) as err:
        raise InputError(f"{argument}: {_one_line(err)}") from None


def run_report(args: argparse.Namespace) -> int:
    """``labelaudit report DIR``: write the self-contained HTML report of a results folder."""
    from labelaudit.report import report_folder

    with _folder_errors("DIR"):
        path = report_folder(args.dir, args.output, argument="-o")
    print(f"Wrote {path}")
    return 0


def run_review(args: argparse.Namespace) -> int:
    """``labelaudit review DIR``: serve the review app until interrupted.

    The port is bound, then the folder read, before anything is written.
    """
    import errno

    from labelaudit.review.app import create_app, host_names, listen, run

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port: {args.port} is not a TCP port; use 1..65535 (0: any free port)")
    with _as_input_error("--host/--allow-host"):
        names = host_names(args.host, args.allow_host)
    try:
        sock = listen(args.host, args.port)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise InputError(f"--port: {args.port} is in use on {args.host}; pick another port, or 0 for any free one") from None
        argument = "--port" if err.errno == errno.EACCES else "--host"
        raise InputError(f"{argument}: cannot listen on {args.host} port {args.port}: {err.strerror or _one_line(err)}") from None
    with sock:
        with _folder_errors("DIR"):
            app = create_app(args.dir, host=args.host, port=sock.getsockname()[1], allow_hosts=args.allow_host)
        scripts = (f"X-CSRF-Token: {app.state.csrf_token} and Content-Type: application/json with "
                   "every POST and DELETE")
        if app.state.access_token is not None:
            sys.stderr.write(
                f"labelaudit review: warning: --host {args.host} can be reached from other machines; every "
                "request needs the access token in the URL below, and the Host header must be one of "
                f"{', '.join(names)} (add names with --allow-host NAME)\n"
            )
            scripts = f"Authorization: Token {app.state.access_token} with every request, and {scripts}"
        print(f"Reviewing {args.dir} at {app.state.url} (Ctrl+C to stop; every decision is saved in "
              f"{Path(args.dir) / 'decisions.sqlite'} as it is made)")
        print(f"Scripts: send {scripts}", flush=True)
        earlier = app.state.review.store.earlier()
        if earlier:
            print(f"Note: {len(earlier):,} decision{'s' * (len(earlier) != 1)} in {args.dir} made on other "
                  "data (an earlier audit) are kept, not shown, and applied only by 'labelaudit export "
                  "--earlier-decisions carry' to examples that did not change.", flush=True)
        run(app, sock)
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``labelaudit export DIR --out FILE``: the dataset with the review's decisions applied."""
    from labelaudit.review import export_cleaned

    with _folder_errors("DIR"):
        result = export_cleaned(args.dir, args.out, earlier=args.earlier_decisions, copy_to=args.copy_to)
    print(result.describe())
    return 0


# -- parser ------------------------------------------------------------------------------------

_AUDIT_EXAMPLES = """examples:
  labelaudit audit data.csv --label species --model hgb --top 20
  labelaudit audit data.parquet --label y --features x1,x2,color --out audit-out --format json
  labelaudit audit --labels labels.npy --pred-probs pred_probs.npy --filter-by both
  labelaudit audit --labels labels.npy --pred-probs pred_probs.npy --scheduler tcp://host:8786
  labelaudit audit photos --out photos-audit          (photos/<class>/<file>)
  labelaudit audit list.csv --label y --image-column file --model mynets.py:small_cnn
  labelaudit audit --labels labels.npy --logits logits.npy

inputs:
  DATA is a .csv (with a header row) or .parquet table; --label names its label column and
  --features the feature columns (default: all others; text columns are categorical).
  DATA may also be a folder of class folders of images (pip install 'labelaudit[images]'), or a
  table whose --image-column holds image paths relative to it; the model then gets X as
  float32 pixels in [0, 1] of shape (n, H, W, C) at --image-size.
  --labels and --pred-probs (or --logits) are .npy, .csv or .parquet; a table of pred_probs has
  one column per class, its header giving the class names that text labels refer to.

output: --out is a new or empty folder, or one an earlier labelaudit run wrote (anything else is
refused, and so is a folder holding one of the inputs). It gets issues.csv|json|parquet (row,
given_label, predicted_label, label_quality), health.json, report.html, examples.csv (a copy of
.npy labels; a table is never copied) and manifest.json (the inputs with their SHA-256, the
classes, the files written), all committed together: a failed run leaves the earlier results as
they were. Review decisions already in the folder are kept, and apply only to the same data.
Exit status 2 on bad input, with nothing written."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``labelaudit`` command."""
    from labelaudit.filter import FILTER_METHODS
    from labelaudit.rank import RANK_METHODS

    parser = _Parser(
        prog="labelaudit",
        description="Find and fix label errors with confident learning.",
        epilog="examples:\n  labelaudit demo\n  labelaudit audit data.csv --label species",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"labelaudit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{demo,audit,report,review,export}", required=True)

    demo = commands.add_parser(
        "demo",
        help="find known label errors in noisy handwritten digits and retrain",
        description="Cross-validate a model on scikit-learn's digits with 13.5% of the training "
        "labels flipped (1<->7, 3<->8, 4<->9, 5<->6), show the health summary and the flagged "
        "examples, measure precision and recall against the known flips, and compare test "
        "accuracy with and without the issues. Writes issues.csv, health.json, demo.json, "
        "examples.csv (the images), report.html and manifest.json.",
        epilog="example:\n  labelaudit demo --out demo-out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--out", default="labelaudit-out", metavar="DIR", help="results folder: new, empty or written by labelaudit (default: %(default)s)")
    demo.add_argument("--images", metavar="DIR", help="write the digits as PNG class folders to DIR (a new folder) and audit them as a folder of images")
    demo.set_defaults(run=run_demo)

    audit = commands.add_parser(
        "audit",
        help="find label issues in your data (features or your own pred_probs)",
        description="Find label issues and summarise label health, from a table of features and "
        "labels (a model is cross-validated) or from labels and out-of-sample pred_probs.",
        epilog=_AUDIT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("data", nargs="?", help="table of features and labels (.csv or .parquet), or a folder of class folders of images")
    audit.add_argument("--label", metavar="COLUMN", help="the label column (of DATA or of a --labels table)")
    audit.add_argument("--features", metavar="COLS", help="comma-separated feature columns (default: all others)")
    audit.add_argument("--id", metavar="COLUMN", help="a column naming each example (of DATA or a --labels table): review decisions follow it when the data change")
    audit.add_argument("--model", metavar="MODEL", help="classifier cross-validated on DATA: logistic (default for tables), hgb, forest, or package.module:factory / file.py:factory for your own (default for images: HOG features + logistic regression)")
    audit.add_argument("--image-column", metavar="COLUMN", help="DATA's column of image file paths, relative to the table's folder: the images are the features")
    audit.add_argument("--image-size", type=_int_at_least(4), default=32, metavar="PX", help="images are resized to PX x PX for the model, in memory (default: %(default)s)")
    audit.add_argument("--cv", type=_int_at_least(2), default=5, metavar="K", help="folds (default: %(default)s)")
    audit.add_argument("--n-jobs", type=int, default=None, metavar="N", help="folds fitted in parallel (-1: all cores)")
    audit.add_argument("--labels", metavar="FILE", help="given labels (.npy, .csv or .parquet)")
    audit.add_argument("--pred-probs", nargs="+", metavar="FILE", help="out-of-sample predicted probabilities (.npy, .csv or .parquet); several files (one per model) are combined with weights learned from the labels")
    audit.add_argument("--logits", metavar="FILE", help="out-of-sample raw scores instead of --pred-probs (a softmax makes the probabilities)")
    audit.add_argument("--filter-by", choices=FILTER_METHODS, default=FILTER_BY, help="rule (default: %(default)s, labelaudit's own, which finds more real errors: see the README; prune_by_noise_rate is confident learning's)")
    audit.add_argument("--rank-by", choices=RANK_METHODS, default=RANK_BY, help="label quality score (default: %(default)s)")
    audit.add_argument("--top", type=_int_at_least(0), default=20, metavar="N", help="issues to print, 0 = all (default: %(default)s)")
    audit.add_argument("--out", default="labelaudit-out", metavar="DIR", help="results folder: new, empty or written by labelaudit (default: %(default)s)")
    audit.add_argument("--format", choices=FORMATS, default="csv", help="format of the issues file (default: %(default)s)")
    audit.add_argument("--scheduler", metavar="ADDRESS", help="compute on this dask scheduler (with --pred-probs; pip install 'labelaudit[dask]')")
    audit.add_argument("--dask-workers", type=_int_at_least(1), metavar="N", help="compute on a local dask cluster of N worker processes (with --pred-probs)")
    audit.set_defaults(run=run_audit)

    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of an output folder",
        description="Write one HTML file that works offline (no network requests): health score, "
        "label quality per class, noise matrix, overlapping classes and a sortable, filterable "
        "table of every issue with its example.",
        epilog="example:\n  labelaudit report demo-out -o demo-report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("dir", metavar="DIR", help="folder written by demo --out, audit --out or Audit.save")
    report.add_argument("-o", "--output", metavar="FILE", help="the HTML file (default: DIR/report.html)")
    report.set_defaults(run=run_report)

    review = commands.add_parser(
        "review",
        help="review flagged examples in a local web app (keep, relabel, remove)",
        description="Serve a local page that shows the flagged examples from the lowest label "
        "quality up, with keyboard shortcuts to keep, relabel or remove each one. Every decision is "
        "committed to DIR/decisions.sqlite before the page shows it; the data is never modified. "
        "Only the server's own page can write: requests must name the server in Host (and Origin), "
        "and writes must carry the page's token (printed at start-up for scripts). Beyond loopback "
        "every request needs the access token in the printed URL. "
        "Needs pip install 'labelaudit[review]'.",
        epilog="example:\n  labelaudit review demo-out\n  labelaudit export demo-out --out cleaned.csv\n"
        "  labelaudit review demo-out --host 0.0.0.0 --allow-host lab.example.org",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument("dir", metavar="DIR", help="folder written by demo --out, audit --out or Audit.save")
    review.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    review.add_argument("--port", type=_int_at_least(0), default=8765, help="port, 1..65535 or 0 for any free one (default: %(default)s)")
    review.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a further host name the page is opened by (repeatable; loopback names and --host are always allowed)")
    review.set_defaults(run=run_review)

    export = commands.add_parser(
        "export",
        help="write the dataset with the review's relabels applied and removed rows dropped",
        description="Write the audited table with the review's decisions applied, and a change log "
        "(row, old_label, new_label, action, decided_at) beside it as NAME.changes.csv|parquet. Only "
        "decisions made on this very data are applied; the audited table must be unchanged, and "
        "neither output may be a file of DIR or the audited table. Decisions made on other data "
        "(an earlier audit into DIR) are refused unless --earlier-decisions says what to do.",
        epilog="example:\n  labelaudit export demo-out --out cleaned.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("dir", metavar="DIR", help="folder reviewed with labelaudit review")
    export.add_argument("--out", required=True, metavar="FILE", help="the cleaned table (.csv or .parquet)")
    export.add_argument(
        "--copy-to", metavar="CLEAN_DIR",
        help="images only: write the cleaned class-folder tree here (hard links or copies; relabelled "
        "files in their new class folder, removed ones left out; the originals are never touched)",
    )
    export.add_argument(
        "--earlier-decisions", choices=("refuse", "carry", "ignore"), default="refuse",
        help="decisions made on other data in DIR: refuse to export (default), carry over those whose "
        "example is unchanged (same --id and content, or same content), or ignore them",
    )
    export.set_defaults(run=run_export)
    return parser


class _Terminal(io.TextIOBase):
    """Standard output that survives a closed pipe (``labelaudit audit ... | head -1``): once the
    reader is gone the rest goes to the null device and the run goes on to write its results."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.gone = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self.gone = True
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())


@contextlib.contextmanager
def _terminal() -> Iterator[None]:
    """Printable output on any terminal (characters it cannot show are escaped) and pipe."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    previous = sys.stdout
    sys.stdout = _Terminal(previous)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = previous


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 success, 2 any failure, 130 interrupted)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    with _terminal():
        try:
            with _short_warnings():
                return args.run(args)
        except InputError as err:
            sys.stderr.write(f"labelaudit {args.command}: error: {err}\n")
        except KeyboardInterrupt:
            sys.stderr.write(f"labelaudit {args.command}: interrupted; earlier results are unchanged\n")
            return 130
        except Exception as err:  # a bug: still one line, and the traceback on request
            if os.environ.get("LABELAUDIT_DEBUG"):
                raise
            sys.stderr.write(
                f"labelaudit {args.command}: error: {type(err).__name__}: {_one_line(err)} (unexpected; "
                "set LABELAUDIT_DEBUG=1 for the traceback and please report it)\n"
            )
        return 2
