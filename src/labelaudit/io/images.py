"""Image folders as data: a class-folder tree (``DIR/<class>/.../<file>``) read with Pillow
(``pip install 'labelaudit[images]'``).

Every file with an image suffix (png, jpeg, bmp, webp, tiff, gif) under a class folder is an
example, its class the name of the first folder under ``DIR``; rows are in sorted path order
(relative POSIX paths). A model gets ``X`` as float32 pixels in [0, 1] of shape (n, H, W, C) at
``size`` x ``size`` (resized in memory, never on disk; grey images have C = 1, and when any image
has colour every image is read as RGB, C = 3). A file that cannot be read (truncated, not an
image) is not a row: it is listed in :attr:`ImageFolder.unreadable` with the reason.

The same pass measures each file for the image checks of :class:`labelaudit.Audit`
(:data:`MEASUREMENTS`, in :attr:`ImageFolder.measurements`): its size, luminance percentiles,
sharpness, entropy, colour and two hashes. Everything but the size and the exact hash is measured
on a working copy no larger than :data:`WORKING_SIDE` pixels on its longest side (never enlarged),
so a measurement costs the same for a phone photo and a thumbnail.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._optional import import_optional

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
DEFAULT_SIZE = 32
WORKING_SIDE = 256
COLOUR_SPREAD = 8 / 255  # a pixel has colour when its channels differ by more (JPEG noise is less)
MEASUREMENTS = {
    "width": "width in pixels, as stored",
    "height": "height in pixels, as stored",
    "luminance_p01": "1st percentile of the luminance (0 black .. 1 white)",
    "luminance_p99": "99th percentile of the luminance",
    "sharpness": "standard deviation of the Laplacian of the luminance over that of the "
    "luminance itself (contrast-free; NaN for an image of one shade)",
    "entropy": "Shannon entropy of the 256-bin luminance histogram, in bits (0 .. 8)",
    "colour_fraction": "fraction of pixels whose channels differ by more than 8/255",
    "pixel_hash": "SHA-256 of the decoded pixels (RGB) and size: equal for identical images",
    "perceptual_hash": "64-bit DCT hash of the luminance at 32 x 32 (close for similar images)",
}


def _pillow() -> Any:
    return import_optional("PIL.Image", "reading images")


@dataclass
class ImageFolder:
    """The images of a class-folder tree: relative ``paths``, their ``labels`` (class folder
    names) and ``pixels`` (float32, (n, H, W, C), in [0, 1]); ``unreadable`` has ``path`` and
    ``reason`` of every file that could not be read; ``sizes`` the original (width, height)."""

    root: Path
    paths: list[str]
    labels: np.ndarray
    pixels: np.ndarray
    sizes: np.ndarray
    unreadable: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["path", "reason"]))
    rows: np.ndarray | None = None  # for images listed by a table: the table row of each image
    measurements: pd.DataFrame | None = None  # one row per image, the columns of MEASUREMENTS

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        classes = np.unique(self.labels)
        return (
            f"ImageFolder({str(self.root)!r}, {len(self)} images, {len(classes)} classes, "
            f"pixels {tuple(self.pixels.shape)}, {len(self.unreadable)} unreadable)"
        )

    def table(self) -> pd.DataFrame:
        """One row per image: ``path`` (relative to the folder) and ``label``."""
        return pd.DataFrame({"path": self.paths, "label": self.labels})


def image_files(root: Path) -> list[Path]:
    """The image files under the class folders of ``root``, sorted by relative path."""
    found = [
        p for p in Path(root).rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not any(
            part.startswith(".") for part in p.relative_to(root).parts
        )
    ]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _read(image_module: Any, path: Path, size: int) -> tuple[np.ndarray, tuple[int, int], bool, dict[str, Any]]:
    """Pixels at ``size`` x ``size`` (grey or RGB as stored), the original size, whether it has
    colour, and its :data:`MEASUREMENTS`."""
    with image_module.open(path) as image:
        image.load()
        original = image.size
        colour = image.mode not in ("1", "L", "LA", "I", "I;16", "F")
        converted = image.convert("RGB" if colour else "L")
        resized = converted.resize((size, size), image_module.Resampling.BILINEAR)
        return np.asarray(resized, dtype=np.uint8), original, colour, measure_image(converted)


def measure_image(image: Any) -> dict[str, Any]:
    """The :data:`MEASUREMENTS` of one PIL image.

    Examples
    --------
    >>> from PIL import Image
    >>> m = measure_image(Image.new("RGB", (40, 20), (10, 10, 10)))
    >>> m["width"], m["height"], round(m["luminance_p99"], 3), m["entropy"], m["colour_fraction"]
    (40, 20, 0.039, 0.0, 0.0)
    >>> import math; math.isnan(m["sharpness"])
    True
    """
    from scipy import fft, ndimage

    image_module = _pillow()
    rgb = image.convert("RGB")
    digest = hashlib.sha256(f"{rgb.size}".encode())
    digest.update(rgb.tobytes())
    working = rgb.copy()
    working.thumbnail((WORKING_SIDE, WORKING_SIDE), image_module.Resampling.BILINEAR)
    channels = np.asarray(working, dtype=np.float32) / np.float32(255)
    grey_levels = np.asarray(working.convert("L"))
    grey = grey_levels.astype(np.float32) / np.float32(255)
    counts = np.bincount(grey_levels.ravel(), minlength=256)
    share = counts[counts > 0] / counts.sum()
    contrast = float(grey.std())
    sharpness = float(ndimage.laplace(grey).std()) / contrast if contrast > 0.5 / 255 else float("nan")
    small = np.asarray(rgb.convert("L").resize((32, 32), image_module.Resampling.BILINEAR), dtype=np.float64)
    low = fft.dctn(small, norm="ortho")[:8, :8].ravel()
    bits = low > np.median(low[1:])
    p01, p99 = np.percentile(grey, [1, 99])
    return {
        "width": int(image.size[0]),
        "height": int(image.size[1]),
        "luminance_p01": float(p01),
        "luminance_p99": float(p99),
        "sharpness": sharpness,
        "entropy": float(-(share * np.log2(share)).sum()) + 0.0,
        "colour_fraction": float(((channels.max(axis=2) - channels.min(axis=2)) > COLOUR_SPREAD).mean()),
        "pixel_hash": digest.hexdigest(),
        "perceptual_hash": int(np.packbits(bits).view(">u8")[0]),
    }


def load_image_folder(root: str | Path, *, size: int = DEFAULT_SIZE) -> ImageFolder:
    """Read a class-folder tree of images (see the module docstring).

    Raises
    ------
    ValueError
        When ``root`` is not a folder, holds images outside a class folder, or no readable image.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for name, shade in [("cat/a.png", 0), ("cat/b.png", 40), ("dog/c.png", 250)]:
    ...     (root / name).parent.mkdir(exist_ok=True)
    ...     Image.new("L", (10, 20), shade).save(root / name)
    >>> _ = (root / "dog" / "broken.png").write_bytes(b"not an image")
    >>> folder = load_image_folder(root, size=8)
    >>> folder.paths, folder.labels.tolist(), folder.pixels.shape
    (['cat/a.png', 'cat/b.png', 'dog/c.png'], ['cat', 'cat', 'dog'], (3, 8, 8, 1))
    >>> folder.unreadable["path"].tolist()
    ['dog/broken.png']
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"images: '{root}' is not a folder; pass a folder of class folders (DIR/<class>/<file>)")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or not 4 <= size <= 1024:
        raise ValueError(f"size must be an integer in 4..1024; got {size!r}")
    files = image_files(root)
    loose = [p.name for p in files if len(p.relative_to(root).parts) < 2]
    if loose:
        raise ValueError(
            f"images: '{root}' holds images outside a class folder ({', '.join(loose[:3])}); "
            "put every image in a folder named by its class (DIR/<class>/<file>)"
        )
    relative = [p.relative_to(root).as_posix() for p in files]
    labels = [p.relative_to(root).parts[0] for p in files]
    images = read_images(root, relative, int(size))
    if not images.kept:
        raise ValueError(f"images: '{root}' holds no readable image ({', '.join(IMAGE_SUFFIXES)})")
    return ImageFolder(
        root, [relative[i] for i in images.kept],
        np.asarray([labels[i] for i in images.kept], dtype=object),
        images.pixels, images.sizes, images.unreadable, measurements=images.measurements,
    )


@dataclass
class ReadImages:
    """What :func:`read_images` read: ``pixels`` (float32, (m, size, size, C)), original
    ``sizes``, the indices ``kept`` of the readable files among those asked for, their
    ``measurements`` and the ``unreadable`` files (``path``, ``reason``)."""

    pixels: np.ndarray
    sizes: np.ndarray
    kept: list[int]
    measurements: pd.DataFrame
    unreadable: pd.DataFrame


def read_images(root: Path, relative: list[str], size: int, *, n_jobs: int | None = None) -> ReadImages:
    """Read the files ``relative`` (paths under ``root``) on up to ``n_jobs`` threads (Pillow
    decodes without the GIL); see :class:`ReadImages`."""
    from labelaudit._kernels import resolve_n_jobs
    from labelaudit._threads import thread_map
    from labelaudit._validate import check_n_jobs

    image_module = _pillow()
    errors = (OSError, ValueError, SyntaxError, image_module.DecompressionBombError)

    def read_one(name: str) -> Any:
        try:
            return _read(image_module, Path(root) / name, size)
        except errors as err:
            return " ".join(str(err).split()) or type(err).__name__

    workers = resolve_n_jobs(check_n_jobs(n_jobs))
    pixels, sizes, kept, colours, broken, measured = [], [], [], [], [], []
    for index, (name, result) in enumerate(zip(relative, thread_map(read_one, relative, workers))):
        if isinstance(result, str):
            broken.append((name, result))
            continue
        array, original, colour, measurements = result
        pixels.append(array)
        sizes.append(original)
        colours.append(colour)
        measured.append(measurements)
        kept.append(index)
    if any(colours):
        pixels = [a if a.ndim == 3 else np.repeat(a[:, :, None], 3, axis=2) for a in pixels]
    else:
        pixels = [a[:, :, None] for a in pixels]
    stacked = np.stack(pixels).astype(np.float32) / np.float32(255) if pixels else np.zeros((0, size, size, 1), np.float32)
    unreadable = pd.DataFrame(broken, columns=["path", "reason"])
    if len(unreadable):
        logger.info("%d files under %s could not be read", len(unreadable), root)
    return ReadImages(
        stacked, np.asarray(sizes), kept, pd.DataFrame(measured, columns=list(MEASUREMENTS)), unreadable
    )


def load_images(table: pd.DataFrame, column: str, label: str, root: str | Path, *, size: int = DEFAULT_SIZE) -> ImageFolder:
    """The images a table lists in ``column`` (paths relative to ``root``, the table's folder),
    with the labels of ``label``; :attr:`ImageFolder.rows` are the table rows of the readable ones.

    Raises
    ------
    ValueError
        For a path that is absolute or leads outside ``root``, or no readable image.
    """
    root = Path(root).resolve()
    relative = [str(p) for p in table[column].tolist()]
    for row, name in enumerate(relative):
        if Path(name).is_absolute() or root not in (root / name).resolve().parents:
            raise ValueError(
                f"--image-column: row {row}'s path {name!r} leads outside the table's folder {root}; "
                "give paths relative to the table, inside its folder"
            )
    images = read_images(root, relative, size)
    if not images.kept:
        raise ValueError(f"--image-column: no path in {column!r} is a readable image")
    labels = table[label].to_numpy()
    return ImageFolder(
        root, [relative[i] for i in images.kept], labels[images.kept], images.pixels, images.sizes,
        images.unreadable, rows=np.asarray(images.kept, dtype=np.int64),
        measurements=images.measurements,
    )


def measure_images(images: Any, *, n_jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The :data:`MEASUREMENTS` of every image, in order, and the ``path``/``reason`` of those
    that could not be read (their measurements are missing). ``images``: file paths, PIL images,
    or an :class:`ImageFolder` (measured when it was read).

    Examples
    --------
    >>> from PIL import Image
    >>> measured, unreadable = measure_images([Image.new("L", (8, 4), 0), "no/such/file.png"])
    >>> measured[["width", "height", "luminance_p99"]].to_dict("list")
    {'width': [8.0, nan], 'height': [4.0, nan], 'luminance_p99': [0.0, nan]}
    >>> unreadable["path"].tolist()
    ['no/such/file.png']
    """
    if isinstance(images, ImageFolder):
        return images.measurements, images.unreadable.iloc[:0]
    items = list(images)
    frame = pd.DataFrame(index=pd.RangeIndex(len(items)), columns=list(MEASUREMENTS), dtype=object)
    pictures = [i for i, item in enumerate(items) if hasattr(item, "convert") and hasattr(item, "size")]
    files = [i for i, item in enumerate(items) if isinstance(item, (str, os.PathLike))]
    others = sorted(set(range(len(items))) - set(pictures) - set(files))
    if others:
        raise TypeError(
            f"images must be file paths or PIL images; item {others[0]} is {type(items[others[0]]).__name__}"
        )
    for i in pictures:
        frame.loc[i] = pd.Series(measure_image(items[i]))
    read = read_images(Path(), [os.fspath(items[i]) for i in files], 8, n_jobs=n_jobs)
    if read.kept:
        frame.loc[np.asarray(files)[read.kept]] = read.measurements.to_numpy(dtype=object)
    numeric = [c for c in MEASUREMENTS if c not in ("pixel_hash", "perceptual_hash")]
    frame[numeric] = frame[numeric].astype(np.float64)
    return frame, read.unreadable
