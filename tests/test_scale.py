"""The page analyses read aggregates and capped rows from SQL; on a synthetic dataset too large
to draw, they must give exactly what the same statistics give over every cohort in memory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats as scipy_stats

from benchmarks.generate import synthetic_table
from nkdata import analysis, stats, timetoevent
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice

from .apptest_helpers import chart_rows, run_app

ROWS = 5000  # enough that every capped chart is capped (about 40% report persistence)


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "trials.parquet"
    pq.write_table(synthetic_table(ROWS, seed=11), path)
    return path


@pytest.fixture(scope="module")
def big_repo(big_parquet: Path) -> TrialsRepository:
    return TrialsRepository(big_parquet)


def _primary(repo: TrialsRepository, slice_: Slice) -> pd.DataFrame:
    cohorts = repo.cohorts(slice_)
    return cohorts[cohorts["superseded_by"].isna()]


@pytest.mark.parametrize(
    "choices",
    [Analysis(group="nk_source", overall=True), Analysis(pool="DL", denom="evaluable", group="setting", overall=True)],
)
def test_pooled_cr_equals_pooling_every_cohort(big_repo: TrialsRepository, choices: Analysis) -> None:
    slice_ = Slice(include_superseded=True)
    cohorts = _primary(big_repo, slice_)
    totals = analysis.CR_DENOMINATORS[choices.denom]
    reported = cohorts[cohorts["cr_count"].notna() & (cohorts[totals] > 0)]
    result = analysis.cr_analysis(big_repo, slice_, choices)

    expected = stats.pool_proportions(reported["cr_count"].astype(int), reported[totals].astype(int), choices.pool)
    assert (result.overall.k, result.overall.n_total) == (expected.k, expected.n_total)
    assert result.overall.estimate == pytest.approx(expected.estimate, rel=1e-9)
    assert result.overall.tau2 == pytest.approx(expected.tau2, rel=1e-9)
    for _, row in result.pooled.iterrows():
        part = reported[reported[choices.group] == row[choices.group]]
        alone = stats.pool_proportions(part["cr_count"].astype(int), part[totals].astype(int), choices.pool)
        assert (row["k"], row["estimate"]) == (alone.k, pytest.approx(alone.estimate, rel=1e-9))
    assert result.cohorts_in_slice == len(cohorts)
    assert result.cohorts_not_reported == len(cohorts) - len(reported)
    # too many cohorts to draw: only the diamonds, and no per-cohort rows kept
    assert result.forest_truncated and result.cohorts.empty
    assert set(result.forest["kind"]) == {"header", "pooled", "overall"}


def test_persistence_view_equals_in_memory(big_repo: TrialsRepository) -> None:
    cohorts = _primary(big_repo, Slice())
    view = analysis.persistence_view(big_repo, Slice(), Analysis())
    both = cohorts[cohorts["max_persistence_days"].notna() & cohorts["cr_count"].notna() & (cohorts["n_treated"] > 0)]
    expected = scipy_stats.spearmanr(
        both["max_persistence_days"].astype(float), both["cr_count"].astype(float) / both["n_treated"].astype(float)
    )
    assert view.correlation.n == len(both)
    assert view.correlation.rho == pytest.approx(expected.statistic, abs=1e-9)
    assert view.correlation.p == pytest.approx(expected.pvalue, rel=1e-6)

    days = cohorts.groupby("nk_source")["max_persistence_days"]
    table = view.by_source.set_index("nk_source")
    for source, values in days:
        values = values.dropna().astype(float)
        assert table.loc[source, "cohorts_reported"] == len(values)
        assert table.loc[source, "median"] == pytest.approx(values.median())
        assert table.loc[source, "q1"] == pytest.approx(values.quantile(0.25))
    reporting = cohorts["max_persistence_days"].notna().sum()
    assert view.cohorts_reporting == reporting and view.cohorts_in_slice == len(cohorts)
    # the strip keeps the largest cohorts: none left out is larger than the smallest drawn
    assert len(view.cohorts) == analysis.MAX_POINTS < reporting and view.points_truncated
    left_out = cohorts[cohorts["max_persistence_days"].notna() & ~cohorts["cohort_id"].isin(view.cohorts["cohort_id"])]
    assert left_out["n_treated"].max() <= view.cohorts["n_treated"].min()


def test_relapse_followup_counts_every_cohort(big_repo: TrialsRepository) -> None:
    cohorts = _primary(big_repo, Slice())
    view = analysis.relapse_view(big_repo, Slice(), Analysis())
    with_followup = cohorts[
        cohorts["relapse_count"].notna() & (cohorts["relapse_at_risk"] > 0) & cohorts["median_followup_months"].notna()
    ]
    assert view.followup_reported == len(with_followup)
    assert len(view.with_followup) == min(len(with_followup), analysis.MAX_POINTS)


@pytest.mark.parametrize(
    ("page", "forests"), [("pages/outcomes.py", 1), ("pages/relapse.py", 0), ("pages/persistence.py", 1)]
)
def test_pages_say_when_a_forest_shows_only_diamonds(
    big_parquet: Path, monkeypatch: pytest.MonkeyPatch, page: str, forests: int
) -> None:
    """Relapse counts are never pooled, so too many cohorts there leave no forest at all, only the note."""
    monkeypatch.setenv("NK_TRIALS_PATH", str(big_parquet))
    at = run_app(page=page)
    notes = [c.value for c in at.caption if "too many to draw one by one" in c.value]
    assert len(notes) == 1
    forests_drawn = [rows for rows in chart_rows(at) if rows and "kind" in rows[0]]
    assert len(forests_drawn) == forests
    assert all({row["kind"] for row in rows if "kind" in row} == {"header", "pooled"} for rows in forests_drawn)


def test_survival_rows_come_capped_with_their_true_totals(
    big_repo: TrialsRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every entry at 10^6 cohorts went through the cache and into one table: 6 s per rerun and 1.3 GB.
    monkeypatch.setattr(analysis, "MAX_POINTS", 50)
    monkeypatch.setattr(analysis, "MAX_TABLE_ROWS", 70)
    choices = Analysis(endpoint="os", landmark="12")  # the synthetic data report OS at 12 months
    view = analysis.survival_view(big_repo, Slice(), choices)
    every = big_repo.survival_entries(Slice())
    at = every[(every["endpoint"] == "os") & (every["landmark_months"] == 12)]
    medians = every[(every["endpoint"] == "os") & every["landmark_months"].isna()]
    assert len(at) > 50 and len(every) > 70  # the synthetic data really is capped
    assert (view.entries_total, view.at_landmark_total, view.medians_total) == (len(every), len(at), len(medians))
    assert view.cohorts_reporting == every["cohort_id"].nunique()
    assert len(view.at_landmark) == 50 and len(view.entries) == 70
    assert view.at_landmark["cohort_id"].tolist() == at["cohort_id"].head(50).tolist()  # reading order kept


def test_summary_of_findings_survival_rows_equal_the_entries_summarised_in_memory(big_repo: TrialsRepository) -> None:
    table = analysis.summary_of_findings(big_repo, Slice(), Analysis())
    every = big_repo.survival_entries(Slice())
    for label, endpoint, months in analysis.SOF_LANDMARKS:
        chosen = every[(every["endpoint"] == endpoint) & (every["landmark_months"] == months)]
        rows = table[table["Outcome"] == label]
        assert len(rows) == chosen["setting"].nunique(), label
        for (setting, part), (_, row) in zip(chosen.groupby("setting", sort=True), rows.iterrows(), strict=True):
            assert row["k"] == len(part), (label, setting)
            assert row["N"] == int(part["n_analysed"].fillna(part["n_treated"]).sum())
            assert (row["Range low %"], row["Range high %"]) == (part["estimate_pct"].min(), part["estimate_pct"].max())
            pooled = timetoevent.pool_landmark(part, months, "REML", Analysis().test)  # entries one by one
            if pooled.pooled is None:
                assert row["Estimate %"] == pytest.approx(part["estimate_pct"].median())
            else:  # pooled from SQL's distinct rows with multiplicities: the same as every entry in memory
                assert "pooled on the logit scale" in row["How"]
                assert row["Estimate %"] == pytest.approx(100 * pooled.estimate)
                assert row["CI low %"] == pytest.approx(100 * pooled.ci_low)


def test_survival_page_says_how_many_entries_it_left_out(big_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK_TRIALS_PATH", str(big_parquet))
    monkeypatch.setattr(analysis, "MAX_TABLE_ROWS", 100)
    monkeypatch.setattr(analysis, "MAX_POINTS", 90)
    at = run_app({"endpoint": "os", "landmark": "12", "superseded": "1"}, page="pages/survival.py")
    total = len(TrialsRepository(big_parquet).survival_entries(Slice(include_superseded=True)))
    notes = " ".join(c.value for c in at.caption)
    assert f"Only the first 100 of {total:,} entries" in notes
    assert f"Only the first 90 of {total:,} entries at this landmark" in notes  # every entry is OS at 12 months
    assert len(chart_rows(at)[0]) == 90
    assert not at.exception
