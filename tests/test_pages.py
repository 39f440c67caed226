"""Each page as a function of (repository, view) with a stub repository: empty, one cohort, all-null, huge."""

from __future__ import annotations

import pytest

from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice, View
from nkdata.stats import pool_proportions

from .apptest_helpers import chart_rows, texts
from .page_harness import cohort, run_page

TRIAL_PAGES = [
    *("overview", "outcomes", "survival", "persistence", "relapse", "safety"),
    *("evidence", "rob", "studies", "about"),
]


@pytest.fixture(scope="module")
def one_cohort() -> TrialsRepository:
    return TrialsRepository.from_records(
        [
            cohort(
                cr_count=3,
                relapse_count=1,
                relapse_at_risk=3,
                survival=[{"endpoint": "os", "landmark_months": 24.0, "estimate_pct": 30.0, "note": "stub"}],
            )
        ]
    )


@pytest.fixture(scope="module")
def all_null() -> TrialsRepository:
    """Two cohorts that report nothing but their size (and one that does not even report that)."""
    return TrialsRepository.from_records([cohort(), cohort(cohort_id="stub2020-b", n_treated=None)])


@pytest.mark.parametrize("page", TRIAL_PAGES)
def test_every_page_renders_an_empty_slice(one_cohort: TrialsRepository, page: str) -> None:
    at = run_page(page, one_cohort, View(Slice(sources=("ipsc",))))
    assert not at.error
    if page != "about":
        assert "No " in texts(at), page  # an empty state says what is missing, never a blank chart


@pytest.mark.parametrize("page", TRIAL_PAGES)
def test_every_page_renders_all_null_outcomes(all_null: TrialsRepository, page: str) -> None:
    at = run_page(page, all_null)
    assert not at.error and not chart_rows(at) or page in ("overview", "rob")  # maps of cohorts, publications


def test_one_cohort_is_shown_as_itself_not_as_a_pooled_diamond(one_cohort: TrialsRepository) -> None:
    at = run_page("outcomes", one_cohort)
    forest = chart_rows(at)[0]
    assert [r["kind"] for r in forest] == ["header", "cohort"]  # no "pooled" row for a group of one
    table = at.dataframe[0].value
    assert table.iloc[0]["Cohorts (k)"] == 1 and table.iloc[0]["Estimate %"] == pytest.approx(30.0)
    assert table.iloc[0][["PI low %", "tau²", "I² %"]].tolist() == ["—", "—", "—"]  # do not apply to one cohort


def test_one_survival_point_is_a_table_not_a_chart(one_cohort: TrialsRepository) -> None:
    at = run_page("survival", one_cohort, View(analysis=Analysis(endpoint="os", landmark="24")))
    assert not chart_rows(at)  # below three points a chart says less than a table
    assert at.dataframe[0].value.iloc[0]["Estimate %"] == "30"


def test_patients_not_reported_stay_out_of_totals(all_null: TrialsRepository) -> None:
    at = run_page("overview", all_null)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cohorts"] == "2" and metrics["Patients treated"] == "10"


def test_huge_slice_draws_only_pooled_diamonds() -> None:
    records = [cohort(cohort_id=f"stub2020-c{i}", cr_count=i % 7, n_treated=10 + i % 5) for i in range(600)]
    repo = TrialsRepository.from_records(records)
    at = run_page("outcomes", repo)
    forest = chart_rows(at)[0]
    assert {r["kind"] for r in forest} == {"header", "pooled"}  # 600 cohorts: no row per cohort
    assert "too many to draw one by one" in texts(at)
    expected = pool_proportions([i % 7 for i in range(600)], [10 + i % 5 for i in range(600)])
    pooled = next(r for r in forest if r["kind"] == "pooled")
    assert pooled["estimate"] == pytest.approx(expected.estimate)
