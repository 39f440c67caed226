"""Shared fixtures: a small fictional dataset built fresh for each test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from nkdata.dataset import build
from nkdata.repository import TrialsRepository

FIXTURE_STUDIES = Path(__file__).parent / "fixtures" / "studies"


@pytest.fixture(scope="session")
def fixture_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixture") / "trials.parquet"
    build(FIXTURE_STUDIES, out)
    return out


@pytest.fixture(scope="session")
def repo(fixture_parquet: Path) -> TrialsRepository:
    return TrialsRepository(fixture_parquet)
