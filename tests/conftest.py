"""Shared fixtures: the real published data in ../shared/data (skipped where absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Example A (K = 3, n = 9), checked by hand. Thresholds t = [17/30, 1/2, 2/3]. Rows 2 and 5 are
# mislabelled (0 -> 1 and 1 -> 2); row 8 reaches no threshold and is not counted.
LABELS_A = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
PROBS_A = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.7, 0.2, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.8, 0.1],
        [0.1, 0.6, 0.3],
        [0.1, 0.1, 0.8],
        [0.0, 0.1, 0.9],
        [0.1, 0.2, 0.7],
        [0.3, 0.3, 0.4],
    ]
)
RAW_CJ_A = [[2, 1, 0], [0, 2, 1], [0, 0, 2]]
CALIBRATED_CJ_A = [[2, 1, 0], [0, 2, 1], [0, 0, 3]]


def load_fixture(relative: str) -> dict[str, np.ndarray]:
    """Arrays of ``../shared/data/<relative>``; skips the test when the folder is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real fixture {relative} not found: ../shared/data is absent in this checkout")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium driven by Playwright; skips when either is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need Playwright: pip install 'labelaudit[test]'"
    )
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium: apt-get install -y chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The --out folder of one ``labelaudit demo`` run (issues, health, images, report.html)."""
    import os
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo") / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "labelaudit", "demo", "--out", str(out)],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def one_blas_thread():
    """Tiny model fits are much faster with one BLAS thread, above all on a busy machine."""
    with threadpool_limits(limits=1):
        yield
