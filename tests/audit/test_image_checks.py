"""The image checks of the Audit: exact and near duplicates by hashes, dark, light, blurry,
low-information, odd size, odd aspect ratio and grayscale, on small images made by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

Image = pytest.importorskip("PIL.Image", reason="image checks need Pillow: pip install 'labelaudit[images]'")
from PIL import ImageFilter

from labelaudit import Audit
from labelaudit.audit import IMAGE_CHECKS
from labelaudit.audit.near_duplicate import bit_count, hash_pairs
from labelaudit.io.images import measure_image


def blobs(seed: int, side: int = 48) -> Image.Image:
    """A smooth picture: a few coloured Gaussian blobs (photographs are smooth like this)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    picture = np.zeros((side, side, 3))
    for _ in range(4):
        cx, cy, width = rng.random(3) * [1, 1, 0.3] + [0, 0, 0.05]
        picture += rng.random(3) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / width**2)[..., None]
    return Image.fromarray(np.uint8(255 * picture / picture.max()))


def noise(seed: int, size: tuple[int, int] = (48, 48), mode: str = "RGB") -> Image.Image:
    """Random pixels: sharp, busy and colourful (or grey with mode="L")."""
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(30, 226, shape, dtype=np.uint8), mode)


@pytest.fixture(scope="module")
def planted() -> tuple[list[Image.Image], list[str]]:
    """20 colourful noise images with one planted case per check (rows 20..29)."""
    images = [noise(i) for i in range(20)]
    labels = ["a", "b"] * 10
    images += [
        images[3].copy(),  # 20: an exact copy of row 3 ("b"), labelled "a": a conflict
        Image.fromarray((np.asarray(noise(30)) * 0.1).astype(np.uint8)),  # 21: dark
        Image.fromarray((235 + np.asarray(noise(31)) * 0.05).astype(np.uint8)),  # 22: light
        noise(32).filter(ImageFilter.GaussianBlur(3)),  # 23: blurry
        Image.new("RGB", (48, 48), (120, 60, 200)),  # 24: one colour: low information
        noise(33, size=(8, 8)),  # 25: odd size (and aspect 1)
        noise(34, size=(96, 24)),  # 26: odd aspect ratio
        noise(35, mode="L").convert("RGB"),  # 27: grey in a colour dataset
        blobs(36),  # 28: a smooth picture ...
        blobs(36).resize((96, 96), Image.Resampling.BICUBIC),  # 29: ... enlarged: a near duplicate
    ]
    labels += ["a", "a", "b", "a", "b", "a", "b", "a", "b", "b"]
    return images, labels


def test_each_check_flags_exactly_its_planted_image(planted):
    images, labels = planted
    audit = Audit(data={"y": labels}, label="y").run(images=images, verbose=False)
    ran = audit.summary.set_index("issue_type")
    assert ran.loc[list(IMAGE_CHECKS), "status"].eq("ran").all()
    flagged = {t: audit.get_issues(t).index.tolist() for t in IMAGE_CHECKS}
    assert flagged == {
        "exact_duplicate": [3, 20],
        "near_duplicate": [3, 20, 28, 29],
        "dark": [21],
        "light": [22],
        "blurry": [29, 28, 23],  # worst first; the smooth pictures too: softer than the noise around them
        "low_information": [24],
        "odd_size": [25],
        "odd_aspect_ratio": [26],
        "grayscale": [27],
    }
    issues = audit.issues
    assert issues.loc[[3, 20], "exact_duplicate_set"].tolist() == [3, 3]
    assert issues.loc[[3, 20], "exact_duplicate_label_conflict"].all()
    assert issues.loc[[28, 29], "near_duplicate_set"].tolist() == [28, 28]
    assert not issues.loc[[28, 29], "near_duplicate_label_conflict"].any()  # both "b"
    assert audit.info["exact_duplicate"] == {"num_sets": 1, "num_conflicting_sets": 1}
    assert np.isnan(issues.loc[24, "blurry_score"])  # one shade: no sharpness to judge
    assert issues.loc[21, "dark_score"] == pytest.approx(0.1 * 225 / 255, abs=0.02)


def test_scores_follow_the_documented_formulas():
    wide = measure_image(Image.new("L", (40, 10), 0))
    assert (wide["width"], wide["height"], wide["luminance_p99"], wide["entropy"]) == (40, 10, 0.0, 0.0)
    half = Image.fromarray(np.r_[np.zeros((4, 8)), np.full((4, 8), 255)].astype(np.uint8))
    assert measure_image(half)["entropy"] == 1.0  # two shades, half each: one bit
    colour = np.zeros((10, 10, 3), np.uint8)
    colour[:3, :, 0] = 200  # 30 of 100 pixels red
    assert measure_image(Image.fromarray(colour))["colour_fraction"] == pytest.approx(0.3)
    sizes = [Image.new("RGB", s, (9, 99, 199)) for s in [(10, 10), (20, 20), (20, 20), (80, 20)]]
    audit = Audit(label=[0, 1, 0, 1]).run(images=sizes, issue_types=["odd_size", "odd_aspect_ratio"], verbose=False)
    assert audit.issues["odd_size_score"].tolist() == [0.5, 1.0, 1.0, 0.5]  # side 40 vs median 20
    assert audit.issues["odd_aspect_ratio_score"].tolist() == [1.0, 1.0, 1.0, 0.25]


def test_image_checks_are_defaults_only_with_images():
    audit = Audit(data={"y": [0, 1, 0, 1], "x": [1.0, 2.0, 3.0, 4.0]}, label="y").run(verbose=False)
    assert not set(IMAGE_CHECKS) - {"near_duplicate"} & set(audit.summary["issue_type"])
    asked = Audit(label=[0, 1]).run(issue_types=["dark"], verbose=False)
    assert asked.summary[["status", "note"]].values.tolist() == [
        ["skipped", "not run: needs images (an image folder, file paths or PIL images)."]
    ]


def test_files_columns_and_unreadable_files(tmp_path):
    for i in range(4):
        noise(i).save(tmp_path / f"{i}.png")
    noise(0).save(tmp_path / "copy.bmp")  # the same pixels in another format
    (tmp_path / "broken.png").write_bytes(b"not an image")
    files = [str(tmp_path / f) for f in ["0.png", "1.png", "2.png", "3.png", "copy.bmp", "broken.png"]]
    audit = Audit(data={"file": files, "y": [0, 0, 1, 1, 1, 0]}, label="y")
    audit.run(images="file", issue_types=["exact_duplicate", "dark"], verbose=False)
    assert audit.get_issues("exact_duplicate").index.tolist() == [0, 4]
    assert audit.issues["exact_duplicate_label_conflict"].tolist() == [True, False, False, False, True, False]
    assert np.isnan(audit.issues.loc[5, "dark_score"]) and not audit.issues.loc[5, "is_dark_issue"]
    assert "1 images could not be measured" in audit.summary.set_index("issue_type").loc["dark", "note"]


def test_refusals_name_the_argument():
    audit = Audit(label=[0, 1, 0])
    with pytest.raises(ValueError, match="images has 2 items but the audit has 3"):
        audit.run(images=[noise(0), noise(1)], verbose=False)
    with pytest.raises(ValueError, match="images='path' names no column of data"):
        audit.run(images="path", verbose=False)
    with pytest.raises(TypeError, match="images must be"):
        audit.run(images=np.zeros((3, 4, 4)), verbose=False)
    with pytest.raises(TypeError, match="item 1 is int"):
        audit.run(images=[noise(0), 5, noise(1)], verbose=False)
    three = [noise(0), noise(1), noise(2)]
    with pytest.raises(ValueError, match="hash_distance=40 is not valid"):
        audit.run(images=three, issue_types={"near_duplicate": {"hash_distance": 40}}, verbose=False)
    with pytest.raises(ValueError, match="method='features' needs features or knn_graph"):
        audit.run(images=three, issue_types={"near_duplicate": {"method": "features"}}, verbose=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=40),
    st.integers(0, 6),
    st.integers(0, 2**32),
)
def test_hash_pairs_finds_every_close_pair_found_by_brute_force(seeds, max_distance, flip_seed):
    rng = np.random.default_rng(flip_seed)
    hashes = np.array(seeds, dtype=np.uint64)
    near = hashes[rng.integers(0, len(hashes), len(hashes))]  # copies with a few bits flipped
    for i in range(len(near)):
        for bit in rng.choice(64, int(rng.integers(0, 8)), replace=False):
            near[i] ^= np.uint64(1) << np.uint64(bit)
    hashes = np.r_[hashes, near, hashes[:3]]
    a, b = np.triu_indices(len(hashes), 1)
    distance = bit_count(hashes[a] ^ hashes[b])
    expected = {(int(i), int(j)) for i, j, d in zip(a, b, distance) if d <= max_distance}
    source, target, bits = hash_pairs(hashes, max_distance)
    assert (bits <= max_distance).all() and (bits == bit_count(hashes[source] ^ hashes[target])).all()
    # the pairs found join exactly the same groups as every close pair does
    from labelaudit.audit.near_duplicate import sets_from_pairs

    if expected:
        ea, eb = np.array(sorted(expected)).T
    else:
        ea = eb = np.array([], dtype=np.int64)
    assert sets_from_pairs(source, target, len(hashes)).tolist() == sets_from_pairs(ea, eb, len(hashes)).tolist()


def test_row_order_does_not_change_what_is_flagged(planted):
    images, labels = planted
    order = np.random.default_rng(7).permutation(len(images))
    first = Audit(label=labels).run(images=images, verbose=False).issues
    shuffled = Audit(label=[labels[i] for i in order]).run(images=[images[i] for i in order], verbose=False).issues
    flags = [c for c in first.columns if c.startswith("is_")]
    pd.testing.assert_frame_equal(first.loc[order, flags].reset_index(drop=True), shuffled[flags])
