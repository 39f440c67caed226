"""Where the bundled data lives; ``NK_TRIALS_PATH`` points the app at another dataset."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
SOURCE_DIR = DATA_DIR / "studies"
RELEASE_FILE = DATA_DIR / "release.yaml"
DEFAULT_TRIALS_PATH = DATA_DIR / "trials.parquet"
TRIALS_PATH_ENV = "NK_TRIALS_PATH"


def trials_path() -> Path:
    """The dataset the app and queries read: the environment override, else the bundled file."""
    override = os.environ.get(TRIALS_PATH_ENV)
    return Path(override) if override else DEFAULT_TRIALS_PATH
