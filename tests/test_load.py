"""Concurrent sessions get their own, correct numbers.

1. 24 threads share one repository (one DuckDB connection, a cursor per query) and each
   runs different slices many times: every answer must equal the single-threaded one.
2. 20 real browser sessions (Chromium pages) open 20 different links on one running
   server at the same time: no errors, and each page's KPIs equal the single-session
   answer for its slice. Both are bounded in time and stop by themselves.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from nkdata import analysis
from nkdata import vocabulary as voc
from nkdata.paths import DEFAULT_TRIALS_PATH
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice, View, to_query_params

from .server_helpers import CHROMIUM, LAUNCH_ARGS, streamlit_server

YEAR_BOUNDS = (2005, 2025)


def _slices(count: int) -> list[Slice]:
    sources = list(voc.NK_SOURCES)
    settings = list(voc.SETTINGS)
    out = []
    for i in range(count):
        out.append(
            Slice(
                years=(2005 + i % 10, 2025 - i % 5),
                sources=tuple(sources[j] for j in range(len(sources)) if (i >> j) & 1)[:3] if i % 3 else (),
                settings=(settings[i % len(settings)],) if i % 4 == 1 else (),
                include_mixed=i % 5 != 0,
                include_superseded=i % 7 == 0,
            )
        )
    return out


def _answer(repo: TrialsRepository, slice_: Slice) -> tuple:
    result = analysis.cr_analysis(repo, slice_, Analysis())
    return (
        tuple(repo.summary(slice_).values()),
        tuple(repo.cohorts(slice_)["cohort_id"]),
        round(result.overall.estimate, 12) if result.overall.k else None,
    )


@pytest.mark.slow
def test_threads_share_one_repository_without_mixing_results() -> None:
    repo = TrialsRepository(DEFAULT_TRIALS_PATH)
    slices = _slices(24)
    expected = [_answer(repo, s) for s in slices]
    deadline = time.monotonic() + 60

    def worker(i: int) -> int:
        wrong = 0
        for _ in range(15):
            if time.monotonic() > deadline:
                break
            if _answer(repo, slices[i]) != expected[i]:
                wrong += 1
        return wrong

    with ThreadPoolExecutor(max_workers=24) as pool:
        wrong = list(pool.map(worker, range(24)))
    assert sum(wrong) == 0


def _expected_metrics(repo: TrialsRepository, slice_: Slice) -> dict[str, str]:
    s = repo.summary(slice_)
    if not s["cohorts"]:
        return {}
    return {
        "Trials": str(repo.identity_counts(slice_)["trials"]),
        "Publications": str(s["publications"]),
        "Cohorts": str(s["cohorts"]),
        "Patients treated": str(s["patients_treated"]),
        "Mixed-diagnosis cohorts": str(s["cohorts_mixed"]),
    }


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian chromium not installed")
def test_twenty_concurrent_browser_sessions() -> None:
    from playwright.async_api import async_playwright

    repo = TrialsRepository(DEFAULT_TRIALS_PATH)
    slices = _slices(20)
    expected = [_expected_metrics(repo, s) for s in slices]

    async def session(browser, base: str, slice_: Slice) -> dict[str, str] | str:
        context = await browser.new_context()
        page = await context.new_page()
        try:
            query = urlencode(to_query_params(View(slice_), YEAR_BOUNDS), doseq=True)
            await page.goto(f"{base}/?{query}", timeout=90_000)
            await page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSlider"]', timeout=90_000)
            await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=90_000)
            # Under load the last elements arrive after the run state flips: wait for the content itself.
            await page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length === 5"
                " || document.body.innerText.includes('No cohorts in this slice')",
                timeout=90_000,
            )
            if await page.locator('[data-testid="stException"]').count():
                return "exception"
            labels = await page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
            values = await page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}
        except Exception as exc:  # noqa: BLE001 - counted as an error, reported below
            return f"error: {exc.__class__.__name__}"
        finally:
            await context.close()

    async def run_all(base: str) -> list[dict[str, str] | str]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                return await asyncio.wait_for(asyncio.gather(*(session(browser, base, s) for s in slices)), 240)
            finally:
                await browser.close()

    with streamlit_server(DEFAULT_TRIALS_PATH) as base:
        results = asyncio.run(run_all(base))
    errors = [r for r in results if isinstance(r, str)]
    assert errors == []
    assert results == expected
