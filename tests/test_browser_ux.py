"""Issue 20 in a real browser: the cohort card opens in view and stays closed from every opener, choices survive a
walk across pages, and the slice chips remove their filter. Debian's Chromium against `streamlit run` (slow)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .server_helpers import CHROMIUM, streamlit_server

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: .ci/run installs the Debian package 'chromium'", pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
DIALOG = '[role="dialog"]'


@pytest.fixture(scope="module")
def server(fixture_parquet: Path) -> Iterator[str]:
    with streamlit_server(fixture_parquet) as base:
        yield base


@pytest.fixture()
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    yield page
    page.close()


def _settle(page: sync_api.Page) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSlider"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(900)  # charts and the URL update land just after the run ends


def _query(page: sync_api.Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _card_in_view(page: sync_api.Page) -> str:
    """The open card's text, after checking it is drawn inside the visible window (not 2,600 px above)."""
    card = page.locator(DIALOG).first
    card.wait_for(state="visible", timeout=30_000)
    box = card.bounding_box()
    viewport = page.viewport_size
    assert box and viewport and 0 <= box["y"] < viewport["height"] and box["x"] >= 0
    assert card.get_by_text("Population and product").first.is_visible()
    return card.inner_text()


def _close_and_reload(page: sync_api.Page, how: str) -> None:
    """Close the card (its button, Escape or the dialog's X), then check it stays closed, also after a reload."""
    if how == "button":
        page.locator(DIALOG).get_by_role("button", name="Close the card").click()
    elif how == "escape":
        page.keyboard.press("Escape")
    else:
        page.locator(DIALOG).get_by_role("button", name="Close").first.click()
    page.locator(DIALOG).wait_for(state="detached", timeout=30_000)
    _settle(page)
    page.wait_for_timeout(1500)  # a chart keeping its selection would reopen the card on this rerun
    assert page.locator(DIALOG).count() == 0
    assert "cohort" not in _query(page)
    page.reload()
    _settle(page)
    page.wait_for_timeout(1000)
    assert page.locator(DIALOG).count() == 0


def _click_point(page: sync_api.Page, has_text: str, marks: str) -> None:
    chart = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text=has_text).first
    point = chart.locator(marks).first
    point.wait_for(timeout=30_000)
    point.click(force=True)


def test_card_from_a_link_opens_in_view_and_closes(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/studies?cohort=beta2015-cr")
    _settle(page)
    text = _card_in_view(page)
    assert "Beta 2015" in text and "Not reported" in text
    assert "cr_count" not in text and "n_treated" not in text and "review_table" not in text
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "browser-card-open.png"))
    _close_and_reload(page, "escape")


def test_card_from_a_forest_row_closes_and_stays_closed(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/outcomes?superseded=1")
    _settle(page)
    page.mouse.wheel(0, 400)
    _click_point(page, "CR rate", "g.mark-symbol path")
    _settle(page)
    _card_in_view(page)
    assert "cohort" in _query(page)
    _close_and_reload(page, "button")


def test_card_from_a_persistence_point_closes_and_stays_closed(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/persistence?superseded=1")
    _settle(page)
    _click_point(page, "Detection of infused cells", "g.mark-symbol path")
    _settle(page)
    _card_in_view(page)
    _close_and_reload(page, "x")


def test_card_from_a_studies_row_closes_and_stays_closed(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/studies")
    _settle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=30_000)
    box = grid.bounding_box()
    assert box
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the selection box of the first row
    _settle(page)
    _card_in_view(page)
    assert "cohort" in _query(page)
    _close_and_reload(page, "button")


def test_choices_survive_a_walk_across_pages(page: sync_api.Page, server: str) -> None:
    """/outcomes?group=product, then Relapse (which cannot group by product), then Remission: still by product."""
    page.goto(f"{server}/outcomes?group=product&superseded=1&leave_out=alpha2010-rr")
    _settle(page)
    before = page.locator('[data-testid="stDataFrame"]').first.inner_text()
    sidebar = page.locator('[data-testid="stSidebar"]')
    for name, path in (("Relapse counts", "relapse"), ("Safety", "safety"), ("Remission", "outcomes")):
        sidebar.get_by_role("link", name=name).click()
        page.wait_for_url(f"**/{path}**", timeout=30_000)
        _settle(page)
        query = _query(page)
        assert query.get("group") == ["product"], (name, query)
        assert query.get("leave_out") == ["alpha2010-rr"] and query.get("superseded") == ["1"], (name, query)
    assert page.get_by_text("pooled within each product", exact=False).first.is_visible()
    assert page.locator('[data-testid="stDataFrame"]').first.inner_text() == before  # the same numbers


def test_a_slice_chip_removes_its_filter(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/safety?source=peripheral_blood&mixed=1&exclude=grey")
    _settle(page)
    chips = page.locator(".st-key-slice_chips")
    assert chips.locator("button", has_text="Peripheral blood").first.is_visible()
    assert chips.locator("button", has_text="with mixed-diagnosis cohorts").first.is_visible()
    chips.locator("button", has_text="Peripheral blood").first.click()
    _settle(page)
    query = _query(page)
    assert "source" not in query and query.get("mixed") == ["1"] and query.get("exclude") == ["grey"]
    assert chips.locator("button", has_text="Peripheral blood").count() == 0
    sidebar_tags = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelectTagsContainer"] > *')
    assert not [t for t in sidebar_tags.all_inner_texts() if "Peripheral blood" in t]
    chips.locator("button", has_text="without abstracts").first.click()
    _settle(page)
    assert "exclude" not in _query(page)
