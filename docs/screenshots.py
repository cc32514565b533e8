"""Remake the README's screenshots from a fresh ``labelaudit demo`` (not part of the tests).

    .venv/bin/python docs/screenshots.py      # needs Playwright and Debian's chromium

Writes docs/report.png (the report), docs/review.png (one card) and docs/review-grid.png (the
grid) at 1200 px wide.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    out = Path(tempfile.mkdtemp()) / "demo"
    subprocess.run([sys.executable, "-m", "labelaudit", "demo", "--out", str(out)], check=True,
                   capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "labelaudit", "review", str(out), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"http://\S+", server.stdout.readline()).group(0)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 1500})
            page.goto((out / "report.html").as_uri())
            page.screenshot(path=str(DOCS / "report.png"))
            page.set_viewport_size({"width": 1200, "height": 620})
            page.goto(url)
            page.wait_for_selector("#card img")
            time.sleep(0.3)
            page.screenshot(path=str(DOCS / "review.png"))
            page.set_viewport_size({"width": 1200, "height": 800})
            page.keyboard.press("g")
            time.sleep(0.5)
            page.screenshot(path=str(DOCS / "review-grid.png"))
            browser.close()
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
