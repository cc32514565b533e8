"""Token, segmentation and detection label issues: labelaudit against the reference library.

Both libraries get the same synthetic data with planted errors (swapped token tags,
painted-over mask regions, deleted / relabelled / shifted boxes). Each library runs each task in
its own subprocess, so the time and memory measured are its own. Detection quality is the AUROC
of the image (or token, pixel) scores for "has a planted error", plus precision and recall of
the flagged set.

Memory is the peak anonymous resident memory of the worker process, sampled every 5 ms: what
the process allocates itself. Pages of the memory-mapped ``pred_probs`` that were read are
file-backed and dropped by the OS under pressure, so they are reported apart (peak total RSS).

Setup and run (the reference library lives only in this venv)::

    python3 -m venv benchmarks/.venv-structured
    benchmarks/.venv-structured/bin/pip install -e . cleanlab
    benchmarks/.venv-structured/bin/python benchmarks/bench_structured.py \
        --images 1000 --size 256 --classes 20

The reference library's segmentation ``find_label_issues`` took about 2.8 s per 256 x 256 image
with 20 classes on a shared 2-core machine, so the 1000-image case costs it most of an hour;
``--libraries labelaudit`` runs the full case for labelaudit alone, and a smaller ``--images``
compares both in one run. ``--folder`` keeps the generated segmentation data for the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

LIBRARIES = ("labelaudit", "cleanlab")
TASKS = ("token", "segmentation", "detection")
AUROC_SAMPLE = 2_000_000  # pixels used for the pixel-level AUROC (all planted ones are kept)


# --------------------------------------------------------------------------- data


def make_tokens(folder: Path, sentences: int, k: int = 9, seed: int = 0) -> None:
    """NER-like tags (class 0 frequent); 8% of tokens get another tag."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, 30, sentences)
    n = int(lengths.sum())
    prior = np.full(k, 0.4 / (k - 1))
    prior[0] = 0.6
    true = rng.choice(k, size=n, p=prior)
    logits = rng.standard_normal((n, k), dtype=np.float32) * 1.2
    logits[np.arange(n), true] += 3.0
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    swapped = rng.random(n) < 0.08
    given = np.where(swapped, (true + rng.integers(1, k, n)) % k, true)
    np.savez(folder / "token.npz", lengths=lengths, given=given, probs=probs, planted=swapped)


def make_masks(folder: Path, images: int, size: int, k: int, seed: int = 0) -> None:
    """Label maps of rectangles; every other image gets one region painted with another class.

    ``pred_probs`` (float32, images x K x H x W) is written image by image to a ``.npy`` file
    that the workers open as a memory map.
    """
    rng = np.random.default_rng(seed)
    probs = np.lib.format.open_memmap(folder / "seg_probs.npy", "w+", np.float32, (images, k, size, size))
    given = np.lib.format.open_memmap(folder / "seg_labels.npy", "w+", np.uint8, (images, size, size))
    planted = np.zeros((images, size, size), dtype=bool)
    ys, xs = np.ogrid[:size, :size]
    for i in range(images):
        true = np.zeros((size, size), dtype=np.int64)
        for _ in range(6):
            y, x = rng.integers(0, size, 2)
            h, w = rng.integers(size // 10, size // 3, 2)
            true[y : y + h, x : x + w] = rng.integers(1, k)
        logits = rng.standard_normal((k, size, size), dtype=np.float32) * 1.2
        logits[true, ys, xs] += 3.0
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=0, keepdims=True)
        probs[i] = logits
        if i % 2 == 0:
            y, x = rng.integers(0, size - size // 8, 2)
            region = (slice(y, y + size // 8), slice(x, x + size // 8))
            changed = (true[region] + rng.integers(1, k)) % k
            planted[i][region] = True
            true[region] = changed
        given[i] = true
    probs.flush()
    given.flush()
    np.save(folder / "seg_planted.npy", planted)


def make_boxes(folder: Path, images: int, k: int = 5, seed: int = 0) -> None:
    """Objects found by an imperfect detector; a third of the images get one planted error."""
    rng = np.random.default_rng(seed)
    labels, predictions, kinds = [], [], []
    for i in range(images):
        m = int(rng.integers(1, 7))
        start = rng.uniform(0, 400, (m, 2))
        size = rng.uniform(20, 120, (m, 2))
        boxes = np.hstack([start, start + size])
        classes = rng.integers(0, k, m)
        seen = rng.random(m) > 0.1
        pred = (boxes + rng.normal(scale=4.0, size=boxes.shape))[seen]
        pred_classes = np.where(rng.random(m) < 0.05, (classes + 1) % k, classes)[seen]
        conf = (0.5 + 0.5 * rng.beta(5, 1, m))[seen]  # detectors are confident on clear objects
        noise_start = rng.uniform(0, 400, (3, 2))
        pred = np.vstack([pred, np.hstack([noise_start, noise_start + 40])])
        pred_classes = np.concatenate([pred_classes, rng.integers(0, k, 3)])
        conf = np.concatenate([conf, rng.uniform(0.0, 0.5, 3)])
        kind = ("deleted", "relabelled", "shifted", "", "", "", "", "", "")[i % 9]
        j = int(rng.integers(m))
        if kind == "deleted" and m > 1:
            boxes, classes = np.delete(boxes, j, 0), np.delete(classes, j)
        elif kind == "relabelled":
            classes = classes.copy()
            classes[j] = (classes[j] + rng.integers(1, k)) % k
        elif kind == "shifted":
            boxes = boxes.copy()
            boxes[j, [0, 2]] += rng.uniform(0.3, 0.6) * size[j, 0]
        else:
            kind = ""
        labels.append({"bboxes": boxes, "labels": classes})
        predictions.append({"bboxes": pred, "labels": pred_classes, "scores": conf})
        kinds.append(kind)
    np.save(folder / "det.npy", np.array([labels, predictions], dtype=object), allow_pickle=True)
    np.save(folder / "det_kinds.npy", np.array(kinds))


# --------------------------------------------------------------------------- workers


def _memory() -> tuple[int, int]:
    """Anonymous and total resident memory of this process, in bytes."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "VmRSS"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["RssAnon"], fields["VmRSS"]


def with_peak_memory(func: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Run ``func`` while a thread samples memory every 5 ms; add the peaks (MB) to its result."""
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peaks[:] = np.maximum(peaks, _memory()).tolist()
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = func()
    finally:
        done.set()
        sampler.join()
    return {**result, "peak_anon_mb": peaks[0] / 2**20, "peak_rss_mb": peaks[1] / 2**20}


def token_worker(library: str, folder: Path, n_jobs: int) -> dict[str, float]:
    data = np.load(folder / "token.npz")
    cuts = np.cumsum(data["lengths"])[:-1]
    labels = [s.tolist() for s in np.split(data["given"], cuts)]
    probs = np.split(data["probs"], cuts)
    if library == "labelaudit":
        from labelaudit import token
    else:
        from cleanlab.token_classification.filter import find_label_issues
        from cleanlab.token_classification.rank import get_label_quality_scores
    start = time.perf_counter()
    if library == "labelaudit":
        sentence_scores, token_scores = token.get_label_quality_scores(labels, probs, n_jobs=n_jobs)
        issues = token.find_label_issues(labels, probs, n_jobs=n_jobs)
    else:
        sentence_scores, token_info = get_label_quality_scores(labels, probs)
        token_scores = [np.asarray(s) for s in token_info]
        issues = find_label_issues(labels, probs, n_jobs=n_jobs)
    seconds = time.perf_counter() - start
    flat = np.concatenate(token_scores)
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    rows = np.array([offsets[s] + t for s, t in issues], dtype=np.int64)
    np.save(folder / f"{library}_token_out.npy", np.array([flat, np.asarray(sentence_scores), rows], dtype=object))
    return {"seconds": seconds}


def segmentation_worker(library: str, folder: Path, n_jobs: int) -> dict[str, float]:
    probs = np.load(folder / "seg_probs.npy", mmap_mode="r")
    labels = np.load(folder / "seg_labels.npy", mmap_mode="r")
    if library == "labelaudit":
        from labelaudit import segmentation

        def scores() -> tuple[np.ndarray, np.ndarray]:
            return segmentation.get_label_quality_scores(labels, probs, n_jobs=n_jobs, verbose=False)

        def issues() -> np.ndarray:
            return segmentation.find_label_issues(labels, probs, n_jobs=n_jobs, verbose=False)
    else:
        from cleanlab.segmentation.filter import find_label_issues
        from cleanlab.segmentation.rank import get_label_quality_scores

        def scores() -> tuple[np.ndarray, np.ndarray]:
            return get_label_quality_scores(labels, probs, verbose=False)

        def issues() -> np.ndarray:
            return find_label_issues(labels, probs, n_jobs=n_jobs, verbose=False)

    # one call after the other, each output saved and dropped before the next call
    start = time.perf_counter()
    image_scores, pixel_scores = scores()
    timings = {"score_seconds": time.perf_counter() - start}
    np.save(folder / f"{library}_seg_image_scores.npy", np.asarray(image_scores))
    sample = np.load(folder / "seg_sample.npy")
    np.save(folder / f"{library}_seg_pixel_sample.npy", np.asarray(pixel_scores).reshape(-1)[sample])
    del image_scores, pixel_scores, sample
    start = time.perf_counter()
    flagged = issues()
    timings["find_seconds"] = time.perf_counter() - start
    timings["seconds"] = timings["score_seconds"] + timings["find_seconds"]
    np.save(folder / f"{library}_seg_issues.npy", np.packbits(np.asarray(flagged, dtype=bool)))
    return timings


def detection_worker(library: str, folder: Path, n_jobs: int) -> dict[str, float]:
    labels, predictions = np.load(folder / "det.npy", allow_pickle=True)
    labels, predictions = list(labels), list(predictions)
    if library == "cleanlab":  # one (boxes, 5) array per class: x1, y1, x2, y2, score
        k = 1 + max(int(max(p["labels"].max(initial=0), g["labels"].max(initial=0))) for g, p in zip(labels, predictions))
        predictions = [
            [np.hstack([p["bboxes"][p["labels"] == c], p["scores"][p["labels"] == c, None]]) for c in range(k)]
            for p in predictions
        ]
    if library == "labelaudit":
        from labelaudit import detection
    else:
        from cleanlab.object_detection.filter import find_label_issues
        from cleanlab.object_detection.rank import get_label_quality_scores
    start = time.perf_counter()
    if library == "labelaudit":
        scores = detection.get_label_quality_scores(labels, predictions)
        issues = detection.find_label_issues(labels, predictions)
    else:
        scores = get_label_quality_scores(labels, predictions, verbose=False)
        issues = find_label_issues(labels, predictions)
    seconds = time.perf_counter() - start
    np.save(folder / f"{library}_det_out.npy", np.vstack([np.asarray(scores, dtype=float), np.asarray(issues, dtype=float)]))
    return {"seconds": seconds}


WORKERS = {"token": token_worker, "segmentation": segmentation_worker, "detection": detection_worker}


def run_worker(library: str, task: str, folder: Path, n_jobs: int) -> None:
    print(json.dumps(with_peak_memory(lambda: WORKERS[task](library, folder, n_jobs))))


# --------------------------------------------------------------------------- evaluation


def auroc(truth: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, -np.asarray(scores, dtype=np.float64)))


def precision_recall(flagged: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    hits = int((flagged & truth).sum())
    return hits / max(int(flagged.sum()), 1), hits / max(int(truth.sum()), 1)


def evaluate(task: str, library: str, folder: Path) -> dict[str, float]:
    if task == "token":
        data = np.load(folder / "token.npz")
        flat, sentence_scores, rows = np.load(folder / f"{library}_token_out.npy", allow_pickle=True)
        planted = data["planted"]
        flagged = np.zeros(len(planted), dtype=bool)
        flagged[rows.astype(np.int64)] = True
        per_sentence = np.logical_or.reduceat(planted, np.concatenate([[0], np.cumsum(data["lengths"])[:-1]]))
        p, r = precision_recall(flagged, planted)
        return {"AUROC (tokens)": auroc(planted, flat), "AUROC (sentences)": auroc(per_sentence, sentence_scores),
                "precision": p, "recall": r}
    if task == "segmentation":
        planted = np.load(folder / "seg_planted.npy")
        sample = np.load(folder / "seg_sample.npy")
        image_scores = np.load(folder / f"{library}_seg_image_scores.npy")
        pixels = np.load(folder / f"{library}_seg_pixel_sample.npy")
        flagged = np.unpackbits(np.load(folder / f"{library}_seg_issues.npy"), count=planted.size).astype(bool)
        p, r = precision_recall(flagged, planted.reshape(-1))
        return {"AUROC (pixels)": auroc(planted.reshape(-1)[sample], pixels),
                "AUROC (images)": auroc(planted.any(axis=(1, 2)), image_scores), "precision": p, "recall": r}
    kinds = np.load(folder / "det_kinds.npy")
    scores, flagged = np.load(folder / f"{library}_det_out.npy")
    result = {"AUROC (images)": auroc(kinds != "", scores)}
    for kind in ("deleted", "relabelled", "shifted"):
        keep = (kinds == kind) | (kinds == "")
        result[f"AUROC ({kind})"] = auroc(kinds[keep] == kind, scores[keep])
    p, r = precision_recall(flagged.astype(bool), kinds != "")
    return {**result, "precision": p, "recall": r}


def prepare(task: str, folder: Path, args: argparse.Namespace) -> str:
    """Write the data of ``task`` (segmentation: unless ``--folder`` already holds it)."""
    if task == "token":
        make_tokens(folder, args.sentences)
        return f"{args.sentences} sentences, 9 classes"
    if task == "detection":
        make_boxes(folder, args.boxes_images)
        return f"{args.boxes_images} images, 5 classes"
    description = f"{args.images} images of {args.size}x{args.size}, {args.classes} classes, float32 memory map"
    if (folder / "seg_sample.npy").exists():
        shape = np.load(folder / "seg_probs.npy", mmap_mode="r").shape
        if shape == (args.images, args.classes, args.size, args.size):
            return description
    make_masks(folder, args.images, args.size, args.classes)
    total = args.images * args.size * args.size
    rng = np.random.default_rng(1)
    planted = np.flatnonzero(np.load(folder / "seg_planted.npy").reshape(-1))
    others = rng.choice(total, size=min(AUROC_SAMPLE, total), replace=False)
    np.save(folder / "seg_sample.npy", np.union1d(planted[: AUROC_SAMPLE // 4], others))
    return description


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--images", type=int, default=1000, help="segmentation images")
    parser.add_argument("--size", type=int, default=256, help="segmentation image height and width")
    parser.add_argument("--classes", type=int, default=20, help="segmentation classes")
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--boxes-images", type=int, default=3_000)
    parser.add_argument("--libraries", nargs="+", choices=LIBRARIES, default=list(LIBRARIES))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="keep the data here and reuse its segmentation data (default: a temporary folder)")
    parser.add_argument("--worker", nargs=3, metavar=("LIBRARY", "TASK", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, task, folder = args.worker
        run_worker(library, task, Path(folder), args.n_jobs)
        return
    with contextlib.ExitStack() as stack:
        folder = args.folder or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        print("| task | data | library | time (s) | peak anon. memory (MB) | peak RSS incl. mapped file (MB) | quality |")
        print("|---|---|---|---|---|---|---|")
        for task in args.tasks:
            description = prepare(task, folder, args)
            for library in args.libraries:
                command = [sys.executable, __file__, "--n-jobs", str(args.n_jobs), "--worker", library, task, str(folder)]
                done = subprocess.run(command, check=False, capture_output=True, text=True)
                if done.returncode:
                    print(f"| {task} | {description} | {library} | failed: {done.stderr.strip().splitlines()[-1]} |||||")
                    continue
                measured = json.loads(done.stdout.strip().splitlines()[-1])
                quality = ", ".join(f"{k} {v:.3f}" for k, v in evaluate(task, library, folder).items())
                seconds = f"{measured['seconds']:.1f}"
                if "score_seconds" in measured:
                    seconds += f" (scores {measured['score_seconds']:.1f} + issues {measured['find_seconds']:.1f})"
                print(f"| {task} | {description} | {library} | {seconds} | {measured['peak_anon_mb']:.0f} "
                      f"| {measured['peak_rss_mb']:.0f} | {quality} |", flush=True)


if __name__ == "__main__":
    main()
