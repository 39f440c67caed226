"""Starting `streamlit run dashboard.py` on a free loopback port for browser and load tests."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.run_replicas import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def served_paths() -> list[str]:
    """The URL path of every page in the entry script's page table ("" for the default page, served at "/")."""
    from dashboard import DEFAULT_PAGE, PAGES

    return ["" if p.module == DEFAULT_PAGE else p.url_path for p in PAGES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser); closed afterwards."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def streamlit_server(dataset: Path, startup_seconds: float = 30, log: Path | None = None) -> Iterator[str]:
    """Serve the dashboard on 127.0.0.1 with ``dataset`` (its output into ``log`` when given, for tests that read
    the operator's log); stop it (and wait) afterwards."""
    port = free_port()
    env = {**os.environ, "NK_TRIALS_PATH": str(dataset)}
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(streamlit_command(port), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("streamlit did not answer /_stcore/health in time") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
