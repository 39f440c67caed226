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
REGISTRY_DIR = DATA_DIR / "registry"
DEFAULT_REGISTRY_PATH = DATA_DIR / "registry.parquet"
REGISTRY_SCREENING = DATA_DIR / "registry_screening.yaml"
REGISTRY_PATH_ENV = "NK_REGISTRY_PATH"
SCREENING_DIR = DATA_DIR / "screening"
SECOND_READS_DIR = DATA_DIR / "second_reads"
RELEASES_DIR = DATA_DIR / "releases"
CITATION_FILE = REPO_ROOT / "CITATION.cff"
ZENODO_FILE = REPO_ROOT / ".zenodo.json"


def trials_path() -> Path:
    """The dataset the app and queries read: the environment override, else the bundled file."""
    override = os.environ.get(TRIALS_PATH_ENV)
    return Path(override) if override else DEFAULT_TRIALS_PATH


def registry_path() -> Path:
    """The registered-trials dataset the Pipeline page reads: the environment override, else the bundled file."""
    override = os.environ.get(REGISTRY_PATH_ENV)
    return Path(override) if override else DEFAULT_REGISTRY_PATH
