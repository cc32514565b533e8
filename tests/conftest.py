"""Shared fixtures: the real published data in ../shared/data (skipped where absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_fixture(relative: str) -> dict[str, np.ndarray]:
    """Arrays of ``../shared/data/<relative>``; skips the test when the folder is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real fixture {relative} not found: ../shared/data is absent in this checkout")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}
