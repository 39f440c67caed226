"""The app in a real browser: Playwright driving Debian's Chromium against `streamlit run`.

Never downloads a browser: it uses /usr/bin/chromium (installed by .ci/run). Outside
CI the tests are skipped when Chromium is missing; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .server_helpers import CHROMIUM, served_paths, streamlit_server

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "screenshots"
PAGES = served_paths()  # every page of the entry's page table, the default one at "/"
pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: .ci/run installs the Debian package 'chromium'", pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live_dataset(fixture_parquet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture the live-fault test may damage and restore."""
    path = tmp_path_factory.mktemp("live") / "trials.parquet"
    shutil.copy2(fixture_parquet, path)
    return path


@pytest.fixture(scope="module")
def server(live_dataset: Path) -> Iterator[str]:
    """A fresh server: the first request of the module is a deep link (the cold shared-link case)."""
    with streamlit_server(live_dataset) as base:
        yield base


@pytest.fixture()
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    page = browser.new_page(viewport={"width": 1440, "height": 1200}, accept_downloads=True)
    yield page
    page.close()


def _settle(page: sync_api.Page) -> None:
    """Wait until the app has drawn and finished running its script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_selector(
        '[data-testid="stSidebar"] [data-testid="stSlider"], [data-testid="stAlert"]', timeout=60_000
    )
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(800)  # charts and the URL update land just after the run ends


def _chips(page: sync_api.Page) -> list[str]:
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelectTagsContainer"] > *').all_inner_texts()
    return [t.strip() for t in chips if t.strip()]


def _query(page: sync_api.Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _no_traceback(page: sync_api.Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_cold_shared_link_survives_navigation(page: sync_api.Page, server: str) -> None:
    """The first visit to a fresh server is a deep link: the page, its sidebar and its slice all appear."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/outcomes?source=cell_line&years=2012&years=2022&group=nk_source")
    _settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    page.screenshot(path=str(SCREENSHOTS / "browser-shared-link.png"))
    assert [c.rsplit(" (", 1)[0] for c in _chips(page)] == ["NK cell line"]
    slider_text = sidebar.locator('[data-testid="stSlider"]').inner_text()
    assert "2012" in slider_text and "2022" in slider_text
    page.wait_for_selector(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg', timeout=30_000
    )
    assert page.get_by_text("CR rate per cohort", exact=False).first.is_visible()
    assert _query(page) == {"source": ["cell_line"], "years": ["2012", "2022"], "group": ["nk_source"]}

    sidebar.get_by_role("link", name="Expansion & persistence").click()
    page.wait_for_url("**/persistence**", timeout=30_000)
    _settle(page)
    assert _query(page)["source"] == ["cell_line"] and _query(page)["years"] == ["2012", "2022"]
    assert [c.rsplit(" (", 1)[0] for c in _chips(page)] == ["NK cell line"]


def test_changing_a_filter_updates_the_url(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/safety?source=cell_line")
    _settle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("Include superseded reports").click()
    _settle(page)
    assert _query(page) == {"source": ["cell_line"], "superseded": ["1"]}
    page.get_by_text("Share or cite this view").first.click()
    box = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').first  # the link, then the BibTeX
    box.wait_for(timeout=30_000)
    share = box.inner_text()
    assert "source=cell_line" in share and "superseded=1" in share


def test_the_overview_answers_at_its_own_path_too(page: sync_api.Page, server: str) -> None:
    """Streamlit serves the default page at "/" and met "/overview" with a "page not found" dialog."""
    page.goto(f"{server}/overview?source=cell_line")
    _settle(page)
    page.get_by_text("Adoptive NK-cell therapy in AML").first.wait_for(timeout=30_000)
    assert page.get_by_text("Page not found").count() == 0
    assert [c.rsplit(" (", 1)[0] for c in _chips(page)] == ["NK cell line"]


def test_more_filters_open_on_click_and_from_a_link(page: sync_api.Page, server: str) -> None:
    """The box's filters are drawn only when it is open: a click must draw them, a link using one must open it."""
    page.goto(f"{server}/")
    _settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("Donor type").count() == 0
    sidebar.get_by_text("More filters").click()
    sidebar.get_by_text("Donor type").wait_for(timeout=30_000)
    page.goto(f"{server}/?population=pediatric")
    _settle(page)
    assert [c.rsplit(" (", 1)[0] for c in _chips(page)] == ["Pediatric"]
    _no_traceback(page)


def test_unknown_page_and_garbage_link_give_short_notices(page: sync_api.Page, server: str) -> None:
    keys = "&".join(f"k{i}=1" for i in range(999))  # with source: the 1000 fields Streamlit accepts at most
    page.goto(f"{server}/nope?source=nonsense&{keys}")
    _settle(page)
    page.get_by_text("Parts of the link were ignored").wait_for(timeout=30_000)
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any("Page not found" in a for a in alerts)
    notice = next(a for a in alerts if "ignored" in a)
    assert "999 unknown" in notice and len(notice.splitlines()) < 10
    _no_traceback(page)


def test_outcomes_on_a_phone_shows_the_intervals(browser: sync_api.Browser, server: str) -> None:
    phone = browser.new_page(viewport={"width": 390, "height": 2400})
    phone.goto(f"{server}/outcomes?superseded=1")
    _settle(phone)
    drawn = phone.wait_for_selector(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg', timeout=30_000
    )
    phone.wait_for_timeout(1000)
    phone.screenshot(path=str(SCREENSHOTS / "browser-outcomes-390.png"))
    box = drawn.bounding_box()
    assert box and box["width"] > 300  # the plot uses the phone's width: intervals are not squeezed out by labels
    phone.close()


def test_five_quick_downloads_all_arrive(page: sync_api.Page, server: str, tmp_path: Path) -> None:
    page.goto(f"{server}/studies")
    _settle(page)
    page.get_by_text("Downloads", exact=True).click()  # the files are built only once the box is opened
    page.get_by_role("button", name="Rows (CSV)").first.wait_for(timeout=30_000)
    files = []
    for label in ("Rows (CSV)", "Rows (JSON)", "References (BibTeX)", "References (RIS)", "Rows (CSV)"):
        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name=label).first.click()
        target = tmp_path / f"{len(files)}-{download.value.suggested_filename}"
        download.value.save_as(target)
        files.append(target)
    assert all(f.stat().st_size > 0 for f in files)
    assert files[0].name.endswith(".csv") and "_v" in files[0].name


def test_a_closed_downloads_box_opens_and_its_file_arrives(page: sync_api.Page, server: str, tmp_path: Path) -> None:
    page.goto(f"{server}/outcomes")
    _settle(page)
    assert page.get_by_role("button", name="Rows (CSV)").count() == 0  # built only once the box is opened
    page.get_by_text("Downloads", exact=True).click()
    button = page.get_by_role("button", name="Rows (CSV)").first
    button.wait_for(timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        button.click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.suffix == ".csv" and target.stat().st_size > 0


def test_a_click_on_a_persistence_point_opens_its_card(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/persistence?superseded=1")
    _settle(page)
    strip = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Detection of infused cells").first
    point = strip.locator("g.mark-symbol path").first
    point.wait_for(timeout=30_000)
    point.click(force=True)
    page.get_by_text("Where the numbers came from").first.wait_for(timeout=30_000)
    # the link is rewritten after the card is drawn (a later message): wait for it, do not race it
    page.wait_for_function("() => new URLSearchParams(location.search).has('cohort')", timeout=30_000)
    assert "cohort" in _query(page)
    _no_traceback(page)


def test_live_faults_show_the_panel_and_recover(
    page: sync_api.Page, server: str, live_dataset: Path, fixture_parquet: Path
) -> None:
    """Damage with the same modification time (cp -p of a bad copy), a folder in its place, deletion, then the
    good file again: every new view shows the one panel (no traceback, no server path) and then recovers."""
    good = fixture_parquet.read_bytes()
    stat = live_dataset.stat()

    def visit(path: str = "outcomes") -> str:
        page.goto(f"{server}/{path}")
        _settle(page)
        _no_traceback(page)
        return page.locator('[data-testid="stApp"]').inner_text()

    assert "CR rate per cohort" in visit()
    try:
        damaged = bytearray(good)
        damaged[len(damaged) // 2 : len(damaged) // 2 + 64] = b"\0" * 64
        live_dataset.write_bytes(bytes(damaged))
        os.utime(live_dataset, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime, as cp -p or rsync -t
        text = visit("safety")
        assert "cannot be used right now" in text and str(live_dataset.parent) not in text

        live_dataset.unlink()
        live_dataset.mkdir()
        text = visit("relapse")
        assert "cannot be used right now" in text and str(live_dataset.parent) not in text

        live_dataset.rmdir()
        text = visit()
        assert "file not found" in text and str(live_dataset.parent) not in text
    finally:
        if live_dataset.is_dir():
            live_dataset.rmdir()
        live_dataset.write_bytes(good)
    time.sleep(0.05)
    assert "CR rate per cohort" in visit()  # recovered without a restart


def test_screenshot_every_page(page: sync_api.Page, server: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for name in PAGES:
        page.goto(f"{server}/{name}")
        _settle(page)
        _no_traceback(page)
        page.screenshot(path=str(SCREENSHOTS / f"browser-{name or 'overview'}.png"), full_page=True)
    assert len(list(SCREENSHOTS.glob("browser-*.png"))) >= len(PAGES)
