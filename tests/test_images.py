"""Image folders as data: reading a class-folder tree, the default image model, the folder
route of ``labelaudit audit DIR`` and a model of the user's own (``--model module:factory``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

Image = pytest.importorskip("PIL.Image", reason="image folders need Pillow: pip install 'labelaudit[images]'")

from labelaudit.datasets import load_noisy_digits
from labelaudit.io.images import load_image_folder
from labelaudit.report._findings import image_file_uri
from labelaudit.vision import HogFeatures

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labelaudit", *args], capture_output=True, text=True,
                          cwd=cwd, env=ENV, check=False, timeout=300)


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """The noisy digits' first 600 training images as 32 x 32 PNGs in class folders, one
    broken file; and which of the images carry a flipped label."""
    root = tmp_path_factory.mktemp("images") / "digits"
    data = load_noisy_digits()
    for i, (row, label) in enumerate(zip(data.X_train[:600], data.labels[:600])):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        grey = np.uint8(255 - row.reshape(8, 8) * 255 / 16)
        Image.fromarray(grey).resize((32, 32)).save(folder / f"img{i:04d}.png")
    (root / "3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root, data.is_flipped[:600]


def test_load_image_folder_reads_every_image_sorted_with_its_class(digits):
    root, _ = digits
    folder = load_image_folder(root, size=16)
    assert len(folder) == 600 and folder.pixels.shape == (600, 16, 16, 1)
    assert folder.paths == sorted(folder.paths) and folder.paths[0].startswith("0/")
    assert folder.labels[0] == "0" and folder.pixels.dtype == np.float32
    assert 0 <= folder.pixels.min() and folder.pixels.max() <= 1
    assert folder.unreadable["path"].tolist() == ["3/broken.png"]


def test_colour_nested_folders_any_size_and_refusals(tmp_path):
    (tmp_path / "cat" / "indoor").mkdir(parents=True)
    (tmp_path / "dog").mkdir()
    Image.new("RGB", (40, 20), (255, 0, 0)).save(tmp_path / "cat" / "indoor" / "a.jpg")
    Image.new("L", (7, 9), 128).save(tmp_path / "dog" / "b.bmp")
    folder = load_image_folder(tmp_path, size=8)
    assert folder.paths == ["cat/indoor/a.jpg", "dog/b.bmp"] and folder.labels.tolist() == ["cat", "dog"]
    assert folder.pixels.shape == (2, 8, 8, 3)  # the grey image is read as RGB beside a colour one
    np.testing.assert_allclose(folder.pixels[0, :, :, 0], 1.0, atol=0.01)
    assert folder.sizes.tolist() == [[40, 20], [7, 9]]
    Image.new("L", (4, 4)).save(tmp_path / "loose.png")
    with pytest.raises(ValueError, match="outside a class folder"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="size must be"):
        load_image_folder(tmp_path / "dog", size=2)


def test_hog_ignores_brightness_and_sees_orientation():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 0.5, (3, 32, 32, 1)).astype(np.float32)
    features = HogFeatures().fit_transform(images)
    np.testing.assert_allclose(HogFeatures().fit_transform(images + 0.25), features, atol=1e-5)
    vertical, horizontal = np.zeros((1, 32, 32, 1), np.float32), np.zeros((1, 32, 32, 1), np.float32)
    vertical[0, :, 16:] = 1
    horizontal[0, 16:, :] = 1
    v, h = (HogFeatures().fit_transform(x).reshape(-1, 9).sum(axis=0) for x in (vertical, horizontal))
    assert v.argmax() == 0 and h.argmax() == 4  # gradient along x (0 rad) vs along y (pi/2)


def test_audit_a_folder_finds_the_misfiled_images(digits, tmp_path):
    root, flipped = digits
    result = run("audit", str(root), "--out", "out", "--top", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 files could not be read" in result.stdout
    issues = pd.read_csv(tmp_path / "out" / "issues.csv")
    checks = ["label", "exact_duplicate", "near_duplicate", "dark", "light", "blurry", "low_information",
              "odd_size", "odd_aspect_ratio", "grayscale"]
    assert list(issues.columns) == [
        "row", "path", "given_label", "predicted_label", "label_quality", *[f"is_{c}_issue" for c in checks],
        "exact_duplicate_set", "exact_duplicate_label_conflict", "near_duplicate_set", "near_duplicate_label_conflict",
    ]
    label_issues = issues[issues["is_label_issue"]]
    index = label_issues["path"].str.extract(r"img(\d+)")[0].astype(int).to_numpy()
    hits = flipped[index].sum()
    assert hits / len(label_issues) > 0.8 and hits / flipped.sum() > 0.8
    assert pd.read_csv(tmp_path / "out" / "unreadable.csv")["path"].tolist() == ["3/broken.png"]
    from labelaudit.review.app import ReviewState

    first = ReviewState(tmp_path / "out").issues(0, 1)["issues"][0]
    assert first["example"]["src"] == f"/api/examples/{first['row']}/image"
    assert "data:image/png;base64," in (tmp_path / "out" / "report.html").read_text()  # thumbnails
    cleaned = run("export", "out", "--out", "cleaned.csv", cwd=tmp_path)
    assert cleaned.returncode == 0 and pd.read_csv(tmp_path / "cleaned.csv").shape == (0, 6)  # none decided


def test_folder_route_refusals(digits, tmp_path):
    root, _ = digits
    for args, needle in [
        (["--label", "y"], "--label: a folder of images"),
        (["--model", "hgb"], "--model: hgb is a model for tables"),
        (["--out", str(root / "results")], "inside the data folder"),
    ]:
        result = run("audit", str(root), *args, cwd=tmp_path)
        assert result.returncode == 2 and needle in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (root / "results").exists()


def test_a_model_of_the_users_own_by_module_or_file(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": np.r_[rng.normal(-3, 1, 40), rng.normal(3, 1, 40)]})
    frame["y"] = np.repeat(["a", "b"], 40)
    frame.loc[[0, 45], "y"] = ["b", "a"]
    frame.to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "mymodels.py").write_text(
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "def knn():\n    return KNeighborsClassifier(7)\n"
        "def broken():\n    raise RuntimeError('no GPU here')\n"
        "def not_a_classifier():\n    return object()\n"
    )
    result = run("audit", "t.csv", "--label", "y", "--model", "mymodels.py:knn", "--out", "o1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(pd.read_csv(tmp_path / "o1" / "issues.csv")["row"]) >= {0, 45}
    for spec, needle in [
        ("mymodels.py:broken", "RuntimeError: no GPU here"),
        ("mymodels.py:not_a_classifier", "has no fit or predict_proba"),
        ("nowhere.py:knn", "not found"),
        ("svm", "not one of logistic, hgb, forest"),
    ]:
        bad = run("audit", "t.csv", "--label", "y", "--model", spec, "--out", "o2", cwd=tmp_path)
        assert bad.returncode == 2 and needle in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    assert not (tmp_path / "o2").exists()


def test_image_uris_never_leave_the_audited_folder(tmp_path):
    (tmp_path / "data" / "cat").mkdir(parents=True)
    Image.new("L", (200, 100), 10).save(tmp_path / "data" / "cat" / "a.png")
    Image.new("L", (4, 4)).save(tmp_path / "secret.png")
    shown = image_file_uri(tmp_path / "data", "cat/a.png")
    assert shown["kind"] == "image"
    assert image_file_uri(tmp_path / "data", "../secret.png")["kind"] == "none"
    assert image_file_uri(tmp_path / "data", "cat/missing.png")["kind"] == "none"


def test_export_of_images_lists_decided_files_and_copies_a_cleaned_tree(digits, tmp_path):
    root, _ = digits
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    assert run("audit", str(root), "--out", "out", cwd=tmp_path).returncode == 0
    from labelaudit.review.app import ReviewState

    state = ReviewState(tmp_path / "out")
    first, second, third = state.issues(0, 3)["issues"]
    state.decide({"row": first["row"], "action": "relabel", "label": first["predicted_label"]})
    state.decide({"row": second["row"], "action": "remove"})
    state.decide({"row": third["row"], "action": "keep"})
    result = run("export", "out", "--out", "decided.csv", "--copy-to", "clean", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 relabelled, 1 removed, 1 kept" in result.stdout and "599 images in clean" in result.stdout
    decided = pd.read_csv(tmp_path / "decided.csv")
    assert decided.columns.tolist() == ["row", "path", "given_label", "new_label", "action", "decided_at"]
    assert sorted(decided["action"]) == ["keep", "relabel", "remove"]
    moved = Path(str(first["predicted_label"])) / Path(decided.loc[decided.action == "relabel", "path"].item()).name
    assert (tmp_path / "clean" / moved).is_file()
    gone = decided.loc[decided.action == "remove", "path"].item()
    assert not any(p.name == Path(gone).name for p in (tmp_path / "clean").rglob("*"))
    assert sum(1 for p in (tmp_path / "clean").rglob("*") if p.is_file()) == 599
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before  # the originals untouched
    for args, needle in [(["--copy-to", "clean"], "not an empty folder"),
                         (["--copy-to", str(root / "c")], "overlaps the audited images")]:
        refused = run("export", "out", "--out", "d2.csv", *args, cwd=tmp_path)
        assert refused.returncode == 2 and needle in refused.stderr


def test_review_serves_the_image_files_through_a_route_inside_the_folder_only(digits, tmp_path):
    pytest.importorskip("starlette", reason="the review app needs pip install 'labelaudit[review]'")
    root, _ = digits
    assert run("audit", str(root), "--out", "out", cwd=tmp_path).returncode == 0
    from labelaudit.review.app import ReviewState, _Invalid

    state = ReviewState(tmp_path / "out")
    item = state.issues(0, 1)["issues"][0]
    assert item["example"] == {"kind": "image", "src": f"/api/examples/{item['row']}/image"}
    assert item["path"] == state.findings.examples.table.loc[item["row"], "path"]
    png = state.image(str(item["row"]))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    state.findings.examples.table.loc[item["row"], "path"] = "../../etc/passwd"  # a tampered path
    with pytest.raises(_Invalid, match="outside the audited folder"):
        state.image(str(item["row"]))
    with pytest.raises(_Invalid):
        state.image("²")


def test_a_table_of_image_paths_keeps_its_rows(digits, tmp_path):
    root, flipped = digits
    files = sorted(p.relative_to(root.parent).as_posix() for p in root.rglob("*.png"))
    table = pd.DataFrame({"file": files, "digit": [int(Path(f).parts[1]) for f in files]})
    table.to_csv(root.parent / "list.csv", index=False)
    out = tmp_path / "out"
    result = run("audit", str(root.parent / "list.csv"), "--label", "digit", "--image-column", "file",
                 "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    issues = pd.read_csv(out / "issues.csv")
    assert issues.columns[1] == "file"
    assert (table.loc[issues["row"], "file"].to_numpy() == issues["file"].to_numpy()).all()  # rows of the table
    assert "3/broken.png" in pd.read_csv(out / "unreadable.csv")["path"].iloc[0]
    index = issues["file"].str.extract(r"img(\d+)")[0].astype(int).to_numpy()
    assert flipped[index].mean() > 0.8
    table.loc[0, "file"] = "../../etc/passwd"
    table.to_csv(tmp_path / "bad.csv", index=False)
    refused = run("audit", "bad.csv", "--label", "digit", "--image-column", "file", "--out", "o2", cwd=tmp_path)
    assert refused.returncode == 2 and "leads outside the table's folder" in refused.stderr


def test_demo_images_runs_the_folder_route_end_to_end(tmp_path):
    result = run("demo", "--images", "digits-png", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sum(1 for p in (tmp_path / "digits-png").rglob("*.png")) == 1257
    demo = __import__("json").loads((tmp_path / "out" / "demo.json").read_text())
    assert demo["precision"] > 0.9 and demo["recall"] > 0.9 and demo["accuracy_cleaned"] >= demo["accuracy_noisy"] - 0.01
    assert "files flagged: precision" in result.stdout and "Test accuracy of the image model" in result.stdout
    again = run("demo", "--images", "digits-png", "--out", "out2", cwd=tmp_path)
    assert again.returncode == 2 and "--images" in again.stderr and "not an empty folder" in again.stderr
    inside = run("demo", "--images", "out/png", "--out", "out", cwd=tmp_path)
    assert inside.returncode == 2 and "overlaps --out" in inside.stderr


def test_image_checks_flag_planted_duplicates_dark_and_blurry_files_by_path(digits, tmp_path):
    import shutil

    from PIL import ImageFilter

    root = tmp_path / "planted"
    shutil.copytree(digits[0], root)
    (root / "3" / "broken.png").unlink()
    first = next(root.glob("*/img0000.png"))
    other = next(c for c in sorted(p.name for p in root.iterdir()) if c != first.parent.name)
    shutil.copy(first, first.parent / "copy.png")
    shutil.copy(first, root / other / "copy in another class.png")  # the same image in another class
    Image.open(first).point(lambda v: v // 8).save(root / other / "dark.png")
    Image.open(first).filter(ImageFilter.GaussianBlur(4)).save(first.parent / "blurry.png")
    result = run("audit", str(root), "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Image checks: exact_duplicate 3, near_duplicate 3, dark 1, blurry 1 (of 604 images)" in result.stdout
    assert "1 exact duplicate sets hold files of different classes" in result.stdout
    issues = pd.read_csv(tmp_path / "out" / "issues.csv", keep_default_na=False).set_index("path")
    home = first.parent.name
    copies = sorted([f"{home}/copy.png", f"{home}/img0000.png", f"{other}/copy in another class.png"])
    assert sorted(issues.index[issues["is_exact_duplicate_issue"]]) == copies
    assert (issues.loc[copies, "exact_duplicate_set"] == copies[0]).all()  # named by its first file
    assert issues.loc[copies, "exact_duplicate_label_conflict"].all()
    assert issues.index[issues["is_dark_issue"]].tolist() == [f"{other}/dark.png"]
    assert issues.index[issues["is_blurry_issue"]].tolist() == [f"{home}/blurry.png"]
    assert (issues.loc[copies, "near_duplicate_set"] == copies[0]).all()
    health = __import__("json").loads((tmp_path / "out" / "health.json").read_text())
    assert {c["issue_type"] for c in health["image_checks"]} >= {"exact_duplicate", "dark", "blurry"}
    from labelaudit.review.app import ReviewState

    state = ReviewState(tmp_path / "out")
    assert {"label", "exact_duplicate", "dark"} <= set(state.findings.tables)
    dark = next(i for i in state.items if "dark" in i["issue_types"])
    assert state.issues(state.items.index(dark), 1)["issues"][0]["path"] == f"{other}/dark.png"
