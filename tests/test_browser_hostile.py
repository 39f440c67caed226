"""Hostile links in a real browser (Chromium against `python -m nkapp.serve run dashboard.py`): no live link or
remote image comes out of a link value, the search or the path; a nested unknown path and a link Streamlit drops
whole (over 1,000 parameters) say so instead of a blank page or a silent default view; the log names each
dataset fault once."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyarrow.parquet as pq
import pytest

from .hostile import HOSTILE_ID, hostile_record, write_dataset
from .server_helpers import CHROMIUM, streamlit_server

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: .ci/run installs the Debian package 'chromium'", pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

EVIL_LINK = "[Sign in again](https://evil.example/a)"
EVIL_IMAGE = "![](https://evil.example/banner.png) **Dataset withdrawn**"


@pytest.fixture(scope="module")
def server(fixture_parquet: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """A server over the fixture plus one hostile cohort (as an operator's own file), its log kept for reading."""
    folder = tmp_path_factory.mktemp("hostile")
    dataset = write_dataset(folder / "trials.parquet", pq.read_table(fixture_parquet).to_pylist() + [hostile_record()])
    log = folder / "server.log"
    with streamlit_server(dataset, log=log) as base:
        yield base, dataset, log


@pytest.fixture()
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    page = browser.new_page(viewport={"width": 1440, "height": 1200}, accept_downloads=True)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.requested = requested  # type: ignore[attr-defined]
    yield page
    page.close()


def _settle(page: sync_api.Page) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(1000)


def _no_evil_markup(page: sync_api.Page) -> None:
    assert page.locator('a[href^="https://evil"]').count() == 0
    assert page.locator('img[src^="https://evil"]').count() == 0
    assert not [u for u in page.requested if "evil" in (urlsplit(u).hostname or "")]  # type: ignore[attr-defined]


def test_hostile_link_values_search_and_path_render_as_text(page: sync_api.Page, server: tuple) -> None:
    base = server[0]
    hostile = quote(EVIL_LINK)
    page.goto(f"{base}/studies?q={quote(EVIL_IMAGE)}&source={hostile}&utm={hostile}&pool={hostile}")
    _settle(page)
    _no_evil_markup(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Parts of the link were ignored" in body and "Sign in again](https" in body  # shown, as text
    assert page.locator('[data-testid="stMain"] strong', has_text="Dataset withdrawn").count() == 0
    page.goto(f"{base}/{quote('[x](https:')}%2F%2Fevil.example)")
    _settle(page)
    _no_evil_markup(page)


def test_hostile_data_in_the_card_renders_as_text_and_the_csv_is_formula_safe(
    page: sync_api.Page, server: tuple, tmp_path: Path
) -> None:
    page.goto(f"{server[0]}/studies?cohort={HOSTILE_ID}&q=hostile")
    _settle(page)
    card = page.get_by_role("dialog")  # the cohort card opens as a dialog in view
    card.wait_for(timeout=30_000)
    assert "Where the numbers came from" in card.inner_text() and "Heading" in card.inner_text()
    _no_evil_markup(page)
    assert card.locator("h1", has_text="Heading").count() == 0  # a '# ' in a note never becomes a heading
    page.keyboard.press("Escape")  # close the card before using the page behind it
    card.wait_for(state="hidden", timeout=30_000)
    page.get_by_text("Downloads", exact=True).click()
    button = page.get_by_role("button", name="Rows (CSV)").first
    button.wait_for(timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        button.click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 2 and rows[1][rows[0].index("cohort_id")] == HOSTILE_ID
    for cell in (c for row in rows for c in row):  # every cell of the file
        assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not re.match(r"-(?!\d+(\.\d+)?$)", cell), cell


def test_nested_unknown_path_says_page_not_found(page: sync_api.Page, server: tuple) -> None:
    page.goto(f"{server[0]}/studies/extra/deeper")
    _settle(page)
    assert "Page not found" in page.locator('[data-testid="stMain"]').inner_text()


def test_a_link_streamlit_drops_whole_gets_a_notice(page: sync_api.Page, server: tuple) -> None:
    page.goto(f"{server[0]}/outcomes?source=cell_line&" + "&".join(f"k{i}=1" for i in range(1200)))
    _settle(page)
    assert "more than the 1,000 a link can carry" in page.locator('[data-testid="stMain"]').inner_text()
