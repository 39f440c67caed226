"""Each named query returns the hand-checked numbers of the fixture (tests/fixtures/studies)."""

from __future__ import annotations

import pandas as pd
import pytest

from nkdata.queries import load_queries
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice

# Primary cohorts of the fixture (gamma2021-rr is superseded by gamma2022-high):
#   alpha2010-rr   PB  activated  R/R        10 treated, 8 eval, CR 2
#   beta2015-cr    UCB expanded   CR cons.    6 treated, 6 eval, CR not reported
#   delta2018-post PB  memory     post-HSCT   6 treated, 6 eval, CR 3 (mixed AML+MDS, pediatric)
#   gamma2022-low  NK-92 CAR      R/R         3 treated, 3 eval, CR 0
#   gamma2022-high NK-92 CAR      R/R         4 treated, 4 eval, CR 2


def test_every_query_is_named_and_used() -> None:
    names = set(load_queries())
    assert {"slice_cohorts", "slice_summary", "group_summary", "safety_by_source", "filter_funnel"} <= names


def test_summary_default_slice(repo: TrialsRepository) -> None:
    s = repo.summary(Slice())
    assert (s["publications"], s["cohorts"], s["patients_treated"]) == (4, 5, 29)
    assert (s["cr_events"], s["cr_evaluable"], s["cohorts_cr_not_reported"]) == (7, 21, 1)


def test_summary_with_superseded_and_without_mixed(repo: TrialsRepository) -> None:
    s = repo.summary(Slice(include_superseded=True, include_mixed=False))
    assert (s["publications"], s["cohorts"], s["patients_treated"]) == (5, 6, 34)  # + gamma2021-rr


def test_slice_filters(repo: TrialsRepository) -> None:
    def ids(sl):
        return list(repo.cohorts(sl)["cohort_id"])

    assert ids(Slice(sources=("cell_line",))) == ["gamma2022-high", "gamma2022-low"]
    assert ids(Slice(years=(2011, 2020))) == ["beta2015-cr", "delta2018-post"]
    assert ids(Slice(car_targets=("none",))) == ["alpha2010-rr", "beta2015-cr", "delta2018-post"]
    assert ids(Slice(populations=("pediatric",))) == ["delta2018-post"]
    assert ids(Slice(pubtypes=("conference_abstract",), include_superseded=True)) == ["gamma2021-rr"]
    assert ids(Slice(products=("CIML NK", "UCB NK"))) == ["beta2015-cr", "delta2018-post"]
    assert ids(Slice(sources=("ipsc",))) == []


def test_group_summary_by_source(repo: TrialsRepository) -> None:
    g = repo.group_summary(Slice(), "nk_source").set_index("group")
    assert g.loc[
        "peripheral_blood", ["cohorts", "patients_treated", "cr_events", "cr_evaluable_denominator"]
    ].tolist() == [2, 16, 5, 14]
    assert g.loc["cell_line", ["cr_events", "cr_treated_denominator"]].tolist() == [2, 7]
    assert g.loc["umbilical_cord_blood", ["cohorts_cr_reported", "cohorts_cr_not_reported"]].tolist() == [0, 1]


def test_safety_keeps_not_reported_apart_from_zero(repo: TrialsRepository) -> None:
    s = repo.safety_by_source(Slice()).set_index(["nk_source", "outcome"])
    crs_pb = s.loc[("peripheral_blood", "crs_any")]
    assert (crs_pb["events"], crs_pb["cohorts_reported_zero"], crs_pb["cohorts_not_reported"]) == (0, 1, 1)
    assert crs_pb["patients_reported"] == 10 and crs_pb["patients_not_reported"] == 6
    crs_cl = s.loc[("cell_line", "crs_any")]
    assert (crs_cl["events"], crs_cl["patients_reported"]) == (3, 7)
    ucb = s.loc[("umbilical_cord_blood", "gvhd_any")]
    assert (ucb["cohorts_reported"], ucb["cohorts_not_reported"]) == (0, 1)


def test_funnel_counts_each_filter_step(repo: TrialsRepository) -> None:
    f = repo.filter_funnel(Slice(sources=("peripheral_blood",), include_mixed=False))
    # years, 8 filters, then mixed (epsilon2019-mixed out), transplant (epsilon2019-hct out), superseded
    assert f["cohorts"].tolist() == [8, 4, 4, 4, 4, 4, 4, 4, 4, 3, 2, 2]
    assert f["patients"].tolist()[-1] == 16  # alpha 10 + delta 6


def test_cohorts_per_year_and_matrix(repo: TrialsRepository) -> None:
    per_year = repo.cohorts_per_year(Slice())
    assert per_year[per_year["year"] == 2022][["nk_source", "cohorts", "patients"]].values.tolist() == [
        ["cell_line", 2, 7]
    ]
    matrix = repo.source_by_setting(Slice()).set_index(["nk_source", "setting"])
    assert matrix.loc[("peripheral_blood", "relapsed_refractory"), "patients"] == 10


def test_nulls_survive_queries(repo: TrialsRepository) -> None:
    rows = repo.cohorts(Slice()).set_index("cohort_id")
    assert pd.isna(rows.loc["beta2015-cr", "cr_count"])
    assert rows.loc["alpha2010-rr", "crs_any"] == 0
    assert pd.isna(rows.loc["alpha2010-rr", "relapse_count"])


def test_vocabulary_from_data(repo: TrialsRepository) -> None:
    v = repo.vocabulary()
    assert v.year_bounds == (2010, 2022)
    assert v.allowed("car_targets") == {"CD33", "none"}
    assert repo.products_by_source()["peripheral_blood"] == ["CIML NK", "Haplo NK + IL-2"]


def test_sql_injection_is_just_a_value(repo: TrialsRepository) -> None:
    evil = "x'); DROP TABLE trials; --"
    assert repo.cohorts(Slice(sources=(evil,))).empty
    assert repo.overview()["cohorts"] == 8


def test_rate_counts_collapse_primary_cohorts(repo: TrialsRepository) -> None:
    counts = repo.rate_counts(Slice(include_superseded=True), "nk_source", "cr_count", "n_treated")
    rows = {(r.grp, None if pd.isna(r.events) else r.events, r.total): r.cohorts for r in counts.itertuples()}
    # gamma2021-rr is superseded: never counted, even when the slice shows superseded reports
    assert rows == {
        ("cell_line", 0, 3): 1,
        ("cell_line", 2, 4): 1,
        ("peripheral_blood", 2, 10): 1,
        ("peripheral_blood", 3, 6): 1,
        ("umbilical_cord_blood", None, 6): 1,
    }
    pairs = repo.persistence_rank_correlation(Slice(), "cr_count", "n_treated")
    # alpha (14 d, 2/10), delta (60 d, 3/6), gamma2022-high (14 d inherited from gamma2021-rr, 2/4)
    assert (pairs["n"], pairs["distinct_x"], pairs["distinct_y"]) == (3, 2, 2)


def test_cohort_points_keep_the_largest_and_count_all(repo: TrialsRepository) -> None:
    rows, qualified = repo.cohort_points(Slice(), "nk_source", "cr_count", "n_treated", limit=2)
    assert qualified == 4  # alpha, delta and both gamma2022 cohorts report CR; beta does not
    assert rows["cohort_id"].tolist() == ["alpha2010-rr", "delta2018-post"]  # 10 and 6 treated, reading order
    followup, with_followup = repo.cohort_points(
        Slice(),
        "setting",
        "relapse_count",
        "relapse_at_risk",
        limit=10,
        need_followup=True,
        groups=("post_hsct_relapse",),
    )
    assert with_followup == 1 and followup["cohort_id"].tolist() == ["delta2018-post"]
    strip, reporting = repo.cohort_points(
        Slice(), "nk_source", "cr_count", "n_treated", limit=10, need_rate=False, need_persistence=True
    )
    # gamma2022-high reports persistence through the interim report it supersedes (field-level supersession)
    assert reporting == 4 and set(strip["cohort_id"]) == {
        "alpha2010-rr",
        "beta2015-cr",
        "delta2018-post",
        "gamma2022-high",
    }


def test_persistence_quantiles_match_pandas(repo: TrialsRepository) -> None:
    table = repo.persistence_by_group(Slice(), "nk_source").set_index("group")
    pb = table.loc["peripheral_blood"]  # 14 and 60 days
    expected = pd.Series([14.0, 60.0]).quantile([0.25, 0.5, 0.75]).tolist()
    assert [pb["q1"], pb["median"], pb["q3"]] == expected == [25.5, 37.0, 48.5]
    assert (pb["cohorts_reported"], pb["min"], pb["max"]) == (2, 14, 60)
    cell_line = table.loc["cell_line"]
    assert (cell_line["cohorts_reported"], cell_line["cohorts_not_reported"], cell_line["median"]) == (1, 1, 14)


def test_rate_columns_are_checked(repo: TrialsRepository) -> None:
    for args in (
        ("title", "cr_count", "n_treated"),
        ("nk_source", "n_treated", "n_treated"),
        ("nk_source", "cr_count", "cr_count"),
    ):
        with pytest.raises(ValueError, match="is not one of"):
            repo.rate_counts(Slice(), *args)


def test_sensitivity_exclusions_mark_the_right_cohorts() -> None:
    """'review' leaves out counts only a review gave, 'converted' counts converted from a percentage, 'grey'
    conference abstracts and company reports; each choice marks only its own cohorts."""
    from .page_harness import cohort

    repo = TrialsRepository.from_records(
        [
            cohort(cohort_id="stub2020-review", cr_count=3, from_review=["cr_count"]),
            cohort(cohort_id="stub2020-converted", cr_count=4, converted_from_percent=["cr_count"]),
            cohort(cohort_id="stub2020-grey", cr_count=5, publication_type="conference_abstract"),
            cohort(cohort_id="stub2020-plain", cr_count=6),
        ]
    )
    for choice, events in (("review", {3}), ("converted", {4}), ("grey", {5}), ((), set())):
        counts = repo.rate_counts(Slice(), "setting", "cr_count", "n_treated", (choice,) if choice else ())
        assert set(counts.loc[counts["excluded"], "events"]) == events, choice


def test_survival_entries_come_from_primary_reports_only(repo: TrialsRepository) -> None:
    entries = repo.survival_entries(Slice(include_superseded=True))
    assert "gamma2021-rr" not in set(entries["cohort_id"])  # superseded: shown through its successor only
    inherited = entries[entries["source_cohort"] == "gamma2021-rr"]
    assert inherited["cohort_id"].tolist() == ["gamma2022-high"] and inherited["inherited"].tolist() == [True]


def test_grouping_by_product_groups_by_product(repo: TrialsRepository) -> None:
    counts = repo.rate_counts(Slice(), "product", "cr_count", "n_treated")
    assert set(counts["grp"]) == {"Haplo NK + IL-2", "UCB NK", "CIML NK", "CD33 CAR NK-92"}


def test_trials_publications_and_cohorts_are_counted_apart() -> None:
    """Three publications of one trial (a shared trial_id) and one without: 2 trials, 4 publications, 5 cohorts."""
    from nkdata.repository import TrialsRepository as Repo
    from nkdata.slices import Slice as S

    def row(cohort: str, study: str, trial: str | None) -> dict:
        return {
            "cohort_id": cohort,
            "study_id": study,
            "trial_id": trial,
            "first_author": "X",
            "year": 2020,
            "title": "t",
            "publication_type": "journal_article",
            "design": "prospective_trial",
            "nk_source": "peripheral_blood",
            "product": "p",
            "product_class": "activated",
            "setting": "relapsed_refractory",
            "aml_only": True,
            "source_url": "https://doi.org/10.1/x",
            "source_section": "abstract",
            "extraction_note": "n",
        }

    rows = [
        row("a2020-1", "a2020", "NCT01234567"),
        row("a2020-2", "a2020", "NCT01234567"),
        row("b2021-1", "b2021", "NCT01234567"),
        row("c2022-1", "c2022", "NCT01234567"),
        row("d2023-1", "d2023", None),
    ]
    counts = Repo.from_records(rows).identity_counts(S())
    assert counts == {
        "trials": 2,
        "trials_identified": 1,
        "publications_without_trial": 1,
        "publications": 4,
        "cohorts": 5,
    }
