"""Image folders as data: a class-folder tree (``DIR/<class>/.../<file>``) read with Pillow
(``pip install 'labelaudit[images]'``).

Every file with an image suffix (png, jpeg, bmp, webp, tiff, gif) under a class folder is an
example, its class the name of the first folder under ``DIR``; rows are in sorted path order
(relative POSIX paths). A model gets ``X`` as float32 pixels in [0, 1] of shape (n, H, W, C) at
``size`` x ``size`` (resized in memory, never on disk; grey images have C = 1, and when any image
has colour every image is read as RGB, C = 3). A file that cannot be read (truncated, not an
image) is not a row: it is listed in :attr:`ImageFolder.unreadable` with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelaudit._optional import import_optional

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
DEFAULT_SIZE = 32


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


def _read(image_module: Any, path: Path, size: int) -> tuple[np.ndarray, tuple[int, int], bool]:
    """Pixels at ``size`` x ``size`` (grey or RGB as stored), the original size, and whether it has colour."""
    with image_module.open(path) as image:
        image.load()
        original = image.size
        colour = image.mode not in ("1", "L", "LA", "I", "I;16", "F")
        converted = image.convert("RGB" if colour else "L")
        resized = converted.resize((size, size), image_module.Resampling.BILINEAR)
        return np.asarray(resized, dtype=np.uint8), original, colour


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
    pixels, sizes, kept, unreadable = read_images(root, relative, int(size))
    if not kept:
        raise ValueError(f"images: '{root}' holds no readable image ({', '.join(IMAGE_SUFFIXES)})")
    return ImageFolder(
        root, [relative[i] for i in kept], np.asarray([labels[i] for i in kept], dtype=object),
        pixels, sizes, unreadable,
    )


def read_images(root: Path, relative: list[str], size: int) -> tuple[np.ndarray, np.ndarray, list[int], pd.DataFrame]:
    """Pixels (float32, (m, size, size, C)), original sizes and the indices of the readable ones
    among ``relative`` (paths under ``root``), and ``path``/``reason`` of the others."""
    image_module = _pillow()
    pixels, sizes, kept, colours, broken = [], [], [], [], []
    for index, name in enumerate(relative):
        try:
            array, original, colour = _read(image_module, Path(root) / name, size)
        except (OSError, ValueError, SyntaxError, image_module.DecompressionBombError) as err:
            broken.append((name, " ".join(str(err).split()) or type(err).__name__))
            continue
        pixels.append(array)
        sizes.append(original)
        colours.append(colour)
        kept.append(index)
    if any(colours):
        pixels = [a if a.ndim == 3 else np.repeat(a[:, :, None], 3, axis=2) for a in pixels]
    else:
        pixels = [a[:, :, None] for a in pixels]
    stacked = np.stack(pixels).astype(np.float32) / np.float32(255) if pixels else np.zeros((0, size, size, 1), np.float32)
    unreadable = pd.DataFrame(broken, columns=["path", "reason"])
    if len(unreadable):
        logger.info("%d files under %s could not be read", len(unreadable), root)
    return stacked, np.asarray(sizes), kept, unreadable


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
    pixels, sizes, kept, unreadable = read_images(root, relative, size)
    if not kept:
        raise ValueError(f"--image-column: no path in {column!r} is a readable image")
    labels = table[label].to_numpy()
    return ImageFolder(
        root, [relative[i] for i in kept], labels[kept], pixels, sizes,
        unreadable, rows=np.asarray(kept, dtype=np.int64),
    )
