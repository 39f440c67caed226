"""Shared fixtures: a small fictional dataset built fresh for each test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture()
def records() -> list[dict]:
    """The fixture studies as validation records (a fresh copy per test: tests change them)."""
    from nkdata.source import load_folder

    loaded, issues = load_folder(FIXTURE_STUDIES)
    assert issues == []
    return loaded


@pytest.fixture(scope="session")
def repo(fixture_parquet: Path) -> TrialsRepository:
    return TrialsRepository(fixture_parquet)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per browser-test module (tests/server_helpers.chromium)."""
    from .server_helpers import chromium

    with chromium() as launched:
        yield launched


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests (servers, browsers, proxies) run in CI (CI=true) and when asked for (-m slow); a plain local
    `pytest` skips them so it stays under a minute."""
    if os.environ.get("CI") or config.getoption("markexpr"):
        return
    skip = pytest.mark.skip(reason="slow: runs in CI (CI=true) or with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
