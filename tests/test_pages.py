"""Each page as a function of (repository, view) with a stub repository: empty, one cohort, all-null, huge."""

from __future__ import annotations

import pytest

from dashboard import PAGES as ENTRY_PAGES
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice, View
from nkdata.stats import pool_proportions

from .apptest_helpers import chart_rows, texts
from .page_harness import cohort, run_page

TRIAL_PAGES = [p.module for p in ENTRY_PAGES if not p.registry and p.module != "whatsnew"]  # over the cohorts


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
    assert not at.error
    if page == "rob":
        return  # the traffic lights map publications, whatever they report
    if page != "overview":
        assert not chart_rows(at), page  # no outcome reported: nothing to draw, never a chart of zeros
        return
    # The Overview draws the evidence map (cohorts per year, source by setting), never a CR headline of zeros.
    assert "No cohorts reporting CR" in texts(at) and "Complete remission" in texts(at) + at.subheader[0].value
    per_year, by_setting = chart_rows(at)[:2]
    assert sum(r["cohorts"] for r in per_year) == 2 and {r["year"] for r in per_year} == {2020}
    assert sum(r["cohorts"] for r in by_setting) == 2 and not any("%" in m.value for m in at.markdown)


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
    expected = pool_proportions(
        [i % 7 for i in range(600)], [10 + i % 5 for i in range(600)], Analysis().pool, test=Analysis().test
    )
    pooled = next(r for r in forest if r["kind"] == "pooled")
    assert pooled["estimate"] == pytest.approx(expected.estimate)


def _zero_gvhd_repo() -> TrialsRepository:
    """Seven R/R cohorts, 116 patients, no GVHD in any: the issue's 0/116 (shown 3.3% before)."""
    sizes = [10, 12, 15, 20, 25, 18, 16]
    return TrialsRepository.from_records(
        [
            cohort(cohort_id=f"stub2020-z{i}", study_id=f"stub{i}", n_treated=n, cr_count=i + 1, gvhd_any=0)
            for i, n in enumerate(sizes)
        ]
    )


def test_zero_events_everywhere_is_the_exact_pooled_count_in_sof_and_its_download() -> None:
    from nkdata import analysis

    repo = _zero_gvhd_repo()
    at = run_page("evidence", repo)
    table = at.dataframe[0].value
    row = table[(table["Outcome"] == "GVHD, any") & (table["Setting"] == "Relapsed/refractory")].iloc[0]
    assert (row["k"], row["N"]) == (7, 116)
    assert (row["Estimate %"], row["CI low %"], row["CI high %"]) == ("0.0", "0.0", "3.1")  # never a 3.3% pool
    assert "exact" in row["How"]
    sof = analysis.summary_of_findings(repo, Slice(), Analysis())  # what the download writes
    gvhd = sof[sof["Outcome"] == "GVHD, any"].iloc[0]
    assert gvhd["Estimate %"] == 0 and round(gvhd["CI high %"], 1) == 3.1


@pytest.mark.parametrize("pool", ["GLMM", "REML", "DL"])
def test_no_model_turns_zero_events_into_a_pooled_rate(pool: str) -> None:
    from nkdata import analysis

    result = analysis.rate_analysis(_zero_gvhd_repo(), Slice(), "gvhd_any", "n_treated", "setting", Analysis(pool=pool))
    diamond = result.forest[result.forest["kind"] == "pooled"].iloc[0]
    assert diamond["estimate"] == 0 and round(100 * diamond["ci_high"], 1) == 3.1
    assert diamond["label"].startswith("Pooled count, exact CI")


def test_metaregression_page_names_the_cohorts_entering_and_those_lacking_the_moderator() -> None:
    records = [
        cohort(
            cohort_id=f"stub20{10 + i}-m",
            study_id=f"stub{i}",
            year=2010 + i,
            n_treated=10 + i,
            cr_count=(i * 3) % 11,
            dose_max_per_kg=(1e6 * (i + 1)) if i % 2 else None,
        )
        for i in range(8)
    ]
    repo = TrialsRepository.from_records(records)
    at = run_page("metaregression", repo, View(analysis=Analysis(mods=("dose",))))
    text = texts(at)
    assert "Cohorts entering: 4 of 8" in text and "NK dose per kg (log10): 4 of 8 not reported" in text
    assert "test of moderators F(1, 2)" in text
    rows = chart_rows(at)[0]
    bubbles = [r for r in rows if "rate" in r]
    assert len(bubbles) == 4 and {r["x"] for r in bubbles} == {2e6, 4e6, 6e6, 8e6}  # only cohorts with a dose
    assert any("fitted" in r for r in rows)
    at = run_page("metaregression", repo, View(analysis=Analysis(mods=())))
    assert "Choose at least one moderator" in texts(at)


def test_safety_gives_zero_event_rows_their_exact_interval() -> None:
    at = run_page("safety", _zero_gvhd_repo())
    table = next(df.value for df in at.dataframe if "All cohorts" in df.value.columns)
    gvhd = table[table["Outcome"].str.startswith("GVHD (any")]["All cohorts"].tolist()
    assert gvhd == ["0/116 (0%; 0-3)"]  # the count with its exact interval, never a logit-pooled 3.3%
