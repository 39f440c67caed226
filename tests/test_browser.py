"""The link contract in a real browser: Playwright driving Debian's Chromium against `streamlit run`.

Never downloads a browser: it uses /usr/bin/chromium (installed by .ci/run). Outside
CI the test is skipped when Chromium is missing; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .server_helpers import CHROMIUM, LAUNCH_ARGS, streamlit_server

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "screenshots"
PAGES = ["", "outcomes", "persistence", "relapse", "safety", "studies", "about"]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: .ci/run installs the Debian package 'chromium'", pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(fixture_parquet: Path) -> Iterator[str]:
    with streamlit_server(fixture_parquet) as base:
        yield base


@pytest.fixture(scope="module")
def page(server: str) -> Iterator["sync_api.Page"]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


def _settle(page: "sync_api.Page") -> None:
    """Wait until the app has drawn its sidebar and finished running its script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=30_000)
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSlider"], [data-testid="stAlert"]',
                           timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=30_000)
    page.wait_for_timeout(800)  # charts and the URL update land just after the run ends


def _chips(page: "sync_api.Page") -> list[str]:
    """Texts of the selected options (chips) in the sidebar's multiselects."""
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelectTagsContainer"] > *').all_inner_texts()
    return [t.strip() for t in chips if t.strip()]


def _query(page: "sync_api.Page") -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_shared_link_survives_navigation(page: "sync_api.Page", server: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/outcomes?source=cell_line&years=2012&years=2022")
    _settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    page.screenshot(path=str(SCREENSHOTS / "browser-shared-link.png"))
    assert _chips(page) == ["NK cell line"]
    slider_text = sidebar.locator('[data-testid="stSlider"]').inner_text()
    assert "2012" in slider_text and "2022" in slider_text
    page.wait_for_selector('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg', timeout=20_000)
    assert page.get_by_text("CR rate per cohort", exact=False).first.is_visible()
    assert _query(page) == {"source": ["cell_line"], "years": ["2012", "2022"]}

    sidebar.get_by_role("link", name="Persistence").click()
    page.wait_for_url("**/persistence**", timeout=20_000)
    _settle(page)
    assert _query(page) == {"source": ["cell_line"], "years": ["2012", "2022"]}
    assert _chips(page) == ["NK cell line"]
    slider_text = sidebar.locator('[data-testid="stSlider"]').inner_text()
    assert "2012" in slider_text and "2022" in slider_text


def test_changing_a_filter_updates_the_url(page: "sync_api.Page", server: str) -> None:
    page.goto(f"{server}/safety?source=cell_line")
    _settle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("Include superseded reports").click()
    _settle(page)
    assert _query(page) == {"source": ["cell_line"], "superseded": ["1"]}
    share = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').inner_text()
    assert "source=cell_line" in share and "superseded=1" in share


def test_garbage_link_shows_notice(page: "sync_api.Page", server: str) -> None:
    page.goto(f"{server}/?source=nonsense&years=zz&years=1&utm_source=mail")
    _settle(page)
    assert page.get_by_text("could not be used", exact=False).first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_screenshot_every_page(page: "sync_api.Page", server: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for name in PAGES:
        page.goto(f"{server}/{name}")
        _settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, name
        page.screenshot(path=str(SCREENSHOTS / f"browser-{name or 'overview'}.png"), full_page=True)
    assert len(list(SCREENSHOTS.glob("browser-*.png"))) >= len(PAGES)
