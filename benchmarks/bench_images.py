"""A folder of images end to end: misfiled files found by ``labelaudit audit DIR``, test accuracy
before and after removing them, and the image checks beside cleanvision's.

Run from the repository root (needs Pillow; torch + skorch for the CNN row, cleanvision for the
peer rows; all installed only in the benchmark's venv)::

    python3 -m venv benchmarks/.venv
    benchmarks/.venv/bin/pip install -e '.[images]' cleanvision torch==2.13.0 skorch
    benchmarks/.venv/bin/python benchmarks/bench_images.py

The data: scikit-learn's bundled 8 x 8 digits, split 70/30 (stratified, seed 0); the training
digits drawn as 32 x 32 grey PNGs (dark ink on white, as ``labelaudit demo --images``) in class
folders, 10% of them (seeded) filed in a wrong class folder; then planted image issues beside
them: 10 exact copies, 10 darkened and 10 blurred copies of correctly filed digits (each in its
own class folder, so none is a label error). Each model runs through the command line
(``labelaudit audit DIR [--model ...]``, 5 folds), timed with its peak resident memory; precision
and recall are of the misfiled files among the label issues; the model is then retrained on
every training file and on those not flagged (in one seeded random order: a net that does not
shuffle its batches would otherwise see one class after another), and scored on the clean test
digits.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageFilter
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from labelaudit.vision import default_image_model

ROOT = Path(__file__).resolve().parent.parent
PLANTED = 10
MEASURE = (  # runs a command and prints its peak resident memory (MB), children included
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(code)"
)


def drawn(row: np.ndarray) -> Image.Image:
    return Image.fromarray(np.uint8(255 - row.reshape(8, 8) * 255 / 16)).resize((32, 32), Image.Resampling.BILINEAR)


def pixels(images: list[Image.Image]) -> np.ndarray:
    return (np.stack([np.asarray(i, dtype=np.float32) for i in images]) / 255)[..., None]


def write_tree(root: Path, rows: np.ndarray, labels: np.ndarray, noise: float, seed: int) -> dict[str, set[str]]:
    """The class folders; returns the planted truth by kind: misfiled, exact copies, dark, blurry."""
    rng = np.random.default_rng(seed)
    filed = labels.copy()
    moved = rng.random(len(labels)) < noise
    filed[moved] = (labels[moved] + rng.integers(1, 10, moved.sum())) % 10
    truth: dict[str, set[str]] = {"misfiled": set(), "exact_duplicate": set(), "dark": set(), "blurry": set()}
    for i, (row, folder) in enumerate(zip(rows, filed)):
        (root / str(folder)).mkdir(parents=True, exist_ok=True)
        drawn(row).save(root / f"{folder}/img{i:04d}.png")
        if moved[i]:
            truth["misfiled"].add(f"{folder}/img{i:04d}.png")
    sources = rng.choice(np.flatnonzero(~moved), 3 * PLANTED, replace=False)
    for j, i in enumerate(sources):
        name, original = f"{filed[i]}/img{i:04d}.png", drawn(rows[i])
        if j < PLANTED:
            shutil.copy(root / name, root / f"{filed[i]}/copy{i:04d}.png")
            truth["exact_duplicate"] |= {name, f"{filed[i]}/copy{i:04d}.png"}
        elif j < 2 * PLANTED:
            original.point(lambda v: v // 6).save(root / f"{filed[i]}/dark{i:04d}.png")
            truth["dark"].add(f"{filed[i]}/dark{i:04d}.png")
        else:
            original.filter(ImageFilter.GaussianBlur(4)).save(root / f"{filed[i]}/blurry{i:04d}.png")
            truth["blurry"].add(f"{filed[i]}/blurry{i:04d}.png")
    return truth


def measured(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Seconds, peak MB and the result of running ``command`` in a child process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, float(done.stdout.strip().splitlines()[-1]), done


def score(found: set[str], truth: set[str]) -> tuple[float, float]:
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / max(len(truth), 1)


def load_factory(spec: str):
    path, name = spec.rsplit(":", 1)
    loaded = importlib.util.spec_from_file_location("bench_user_model", path)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return getattr(module, name)


LABELAUDIT_CHECKS = (
    "import json, sys\nfrom pathlib import Path\nfrom labelaudit import Audit, load_image_folder\n"
    "from labelaudit.audit import IMAGE_CHECKS\n"
    "folder = load_image_folder(sys.argv[1])\n"
    "issues = Audit(label=folder.labels).run(images=folder, issue_types=list(IMAGE_CHECKS), verbose=False).issues\n"
    "paths = folder.table()['path']\n"
    "found = {c[3:-6]: sorted(paths[issues[c]]) for c in issues.columns if c.startswith('is_')}\n"
    "Path(sys.argv[2]).write_text(json.dumps(found))\n"
)


def checks_rows(tree: Path, truth: dict[str, set[str]], work: Path) -> list[str]:
    """labelaudit's image checks (reading the folder included) and, when installed, cleanvision's
    Imagelab on the same folder: the same kinds of issue, timed the same way."""
    rows = [run_checks("labelaudit (load_image_folder + Audit)", LABELAUDIT_CHECKS, tree, truth, work)]
    if importlib.util.find_spec("cleanvision"):
        rows.append(run_checks("cleanvision (Imagelab.find_issues)", CLEANVISION_CHECKS, tree, truth, work))
    return rows


def run_checks(tool: str, code: str, tree: Path, truth: dict[str, set[str]], work: Path) -> str:
    script = work / "checks.py"
    script.write_text(code)
    seconds, peak, _ = measured([sys.executable, str(script), str(tree), str(work / "found.json")])
    found = {k.replace("exact_duplicates", "exact_duplicate"): set(v)
             for k, v in json.loads((work / "found.json").read_text()).items()}
    return checks_row(tool, found, truth, seconds, peak)


CLEANVISION_CHECKS = (
    "import json, sys\nfrom pathlib import Path\nfrom cleanvision import Imagelab\n"
    "lab = Imagelab(data_path=sys.argv[1])\n"
        "lab.find_issues({'exact_duplicates': {}, 'dark': {}, 'blurry': {}, 'light': {}, 'low_information': {},"
        " 'odd_size': {}, 'odd_aspect_ratio': {}, 'grayscale': {}, 'near_duplicates': {}}, verbose=False)\n"
        "issues = lab.issues\nroot = Path(sys.argv[1]).resolve()\n"
        "found = {c[3:-6]: sorted(Path(p).resolve().relative_to(root).as_posix() for p in issues.index[issues[c]])"
        " for c in issues.columns if c.startswith('is_')}\n"
        "Path(sys.argv[2]).write_text(json.dumps(found))\n"
)


def checks_row(tool: str, found: dict[str, set[str]], truth: dict[str, set[str]], seconds: float, peak: float) -> str:
    cells = []
    for kind in ("exact_duplicate", "dark", "blurry"):
        precision, recall = score(found.get(kind, set()), truth[kind])
        cells.append(f"{precision:.2f} / {recall:.2f}")
    near = len(found.get("near_duplicate", set()))
    others = sum(len(v) for k, v in found.items() if k not in ("exact_duplicate", "near_duplicate", "dark", "blurry"))
    return f"| {tool} | {' | '.join(cells)} | {near} | {others} | {seconds:.1f} | {peak:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noise", type=float, default=0.1, help="share of training files in a wrong folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.3, stratify=digits.target, random_state=0)
    test = pixels([drawn(r) for r in X_test])
    models = {"default (HOG + logistic)": (None, default_image_model)}
    if importlib.util.find_spec("torch") and importlib.util.find_spec("skorch"):
        spec = f"{ROOT / 'examples' / 'skorch_cnn.py'}:small_cnn"
        models["small CNN (skorch)"] = (spec, load_factory(spec))
    load = os.getloadavg()
    label_rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        tree = work / "digits"
        truth = write_tree(tree, X_train, y_train, args.noise, args.seed)
        num_files = sum(1 for _ in tree.rglob("*.png"))
        for name, (spec, factory) in models.items():
            out = work / f"out-{len(label_rows)}"
            command = [sys.executable, "-m", "labelaudit", "audit", str(tree), "--out", str(out)]
            seconds, peak, _ = measured(command + (["--model", spec] if spec else []))
            issues = pd.read_csv(out / "issues.csv", keep_default_na=False)
            flagged = set(issues.loc[issues["is_label_issue"], "path"])
            precision, recall = score(flagged, truth["misfiled"])
            files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.png"))
            X = pixels([Image.open(tree / f).convert("L") for f in files])
            y = np.array([int(f.split("/")[0]) for f in files])
            keep = np.array([f not in flagged for f in files])
            order = np.random.default_rng(args.seed).permutation(len(files))  # mixed classes, as in the folds
            accuracy = [
                float((clone(factory()).fit(X[rows], y[rows]).predict(test) == y_test).mean())
                for rows in (order, order[keep[order]])
            ]
            label_rows.append(
                f"| {name} | {len(flagged)} | {precision:.3f} | {recall:.3f} | {accuracy[0]:.4f} | {accuracy[1]:.4f} "
                f"| {seconds:.1f} | {peak:.0f} |"
            )
        check_rows = checks_rows(tree, truth, work)
    print(f"{num_files:,} training files ({len(truth['misfiled'])} misfiled, {PLANTED} exact copies, "
          f"{PLANTED} dark, {PLANTED} blurry), {len(y_test)} clean test digits; "
          f"load average before the run {load[0]:.2f}, {os.cpu_count()} cores\n")
    print("| model | flagged | precision | recall | test accuracy, all files | without the flagged | seconds | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(label_rows))
    print("\nImage checks (precision / recall of the planted files; near duplicates include the exact copies; "
          "'other flags' counts every other check's flags):\n")
    print("| tool | exact duplicates | dark | blurry | near duplicates flagged | other flags | seconds | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(check_rows))


if __name__ == "__main__":
    main()
