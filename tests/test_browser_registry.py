"""Registered trials in a real browser: the page's own filters are in the link and survive navigation."""

from __future__ import annotations

import pytest

from nkdata.paths import DEFAULT_REGISTRY_PATH
from nkdata.registry_repository import RegistryRepository
from nkdata.slices import RegistrySlice

from .test_browser import _no_traceback, _query, _settle, live_dataset, page, server  # noqa: F401

pytestmark = pytest.mark.slow


def _metric(tab, label: str) -> str:  # noqa: ANN001
    box = tab.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_registry_filters_survive_navigation(page, server: str) -> None:  # noqa: ANN001, F811
    expected = RegistryRepository(DEFAULT_REGISTRY_PATH).summary(
        RegistrySlice(phases=("1",), statuses=("recruiting",))
    )["trials"]
    page.goto(f"{server}/pipeline?phase=1&status=recruiting")
    _settle(page)
    _no_traceback(page)
    assert _metric(page, "Registered trials") == str(expected)
    assert _query(page) == {"phase": ["1"], "status": ["recruiting"]}

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("link", name="Overview").click()
    _settle(page)
    assert _query(page) == {"phase": ["1"], "status": ["recruiting"]}  # kept in the link on other pages
    sidebar.get_by_role("link", name="Registered trials").click()
    page.wait_for_url("**/pipeline**", timeout=30_000)
    _settle(page)
    assert _query(page) == {"phase": ["1"], "status": ["recruiting"]}
    assert _metric(page, "Registered trials") == str(expected)
