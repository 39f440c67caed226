"""Screenshots of every page at 1440 px and 390 px in headless Chromium (Debian's), for looking at what users see.

Usage: python benchmarks/screenshots.py [--out screenshots] [--query "source=cell_line"] [--pages outcomes,studies]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nkdata.paths import DEFAULT_TRIALS_PATH  # noqa: E402
from tests.server_helpers import CHROMIUM, LAUNCH_ARGS, served_paths, streamlit_server  # noqa: E402

PAGES = served_paths()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--query", default="")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--widths", default="1440,390")
    parser.add_argument("--height", type=int, default=3200, help="tall viewport: the app scrolls inside its own frame")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with streamlit_server(DEFAULT_TRIALS_PATH) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        for width in (int(w) for w in args.widths.split(",")):
            page = browser.new_page(viewport={"width": width, "height": args.height})
            for name in args.pages.split(","):
                page.goto(f"{base}/{name}" + (f"?{args.query}" if args.query else ""))
                page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
                page.wait_for_timeout(2500)
                target = args.out / f"{name or 'overview'}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
