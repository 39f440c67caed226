"""Each outcome takes the most complete report of its trial, once (issue 18, item 2).

The bug this guards against: when the newest report of a trial does not repeat an outcome an earlier report gave
over a different number of patients, the result vanished (Björklund 2014 CR 4/12, Huang 2022 4/5, Nkarta 2022 3/5).
"""

from __future__ import annotations

import json
from typing import Any

from nkdata import stats
from nkdata.analysis import rate_analysis
from nkdata.paths import DEFAULT_TRIALS_PATH
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice
from nkdata.supersession import resolve
from tests.page_harness import cohort


def _report(cohort_id: str, year: int, superseded_by: str | None, **fields: Any) -> dict[str, Any]:
    study = cohort_id.split("-")[0]
    return cohort(cohort_id=cohort_id, study_id=study, year=year, superseded_by=superseded_by, **fields)


def _by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["cohort_id"]: r for r in resolve(records)}


def test_an_earlier_report_with_a_different_n_speaks_for_the_outcome_the_newest_lacks() -> None:
    early = _report("early2014-a", 2014, "late2018-a", n_treated=12, cr_count=4)
    late = _report("late2018-a", 2018, None, n_treated=16, orr_count=6)
    rows = _by_id([early, late])
    # the count is not moved onto the newer row's 16 patients (4/16 would be wrong)...
    assert rows["late2018-a"].get("cr_count") is None
    assert rows["late2018-a"]["outcomes_elsewhere"] == ["cr_count"]
    assert json.loads(rows["late2018-a"]["inherited_from"]) == {"cr_count": "early2014-a"}
    # ...the earlier row enters for CR with its own denominator, and only for CR (ORR is the newer report's)
    assert rows["early2014-a"]["outcome_report_for"] == ["cr_count"]


def test_a_same_n_earlier_report_still_moves_its_counts_into_the_newer_row() -> None:
    early = _report("early2014-a", 2014, "late2018-a", n_treated=12, cr_count=4, n_evaluable=10)
    late = _report("late2018-a", 2018, None, n_treated=12)
    rows = _by_id([early, late])
    assert (rows["late2018-a"]["cr_count"], rows["late2018-a"]["n_evaluable"]) == (4, 10)
    assert rows["late2018-a"]["outcomes_elsewhere"] == []
    assert "outcome_report_for" not in rows["early2014-a"]


def test_two_step_chain_takes_each_outcome_from_the_newest_report_that_gives_it() -> None:
    """a (2012, 8 patients: CR 2, CRS 1) -> b (2015, 12: CR 5) -> c (2019, 20: nothing). CR comes from b, the most
    complete report of CR, never from a as well; CRS only a reported, so a speaks for CRS."""
    a = _report("a2012-x", 2012, "b2015-x", n_treated=8, cr_count=2, crs_any=1)
    b = _report("b2015-x", 2015, "c2019-x", n_treated=12, cr_count=5)
    c = _report("c2019-x", 2019, None, n_treated=20)
    rows = _by_id([a, b, c])
    assert json.loads(rows["c2019-x"]["inherited_from"]) == {"cr_count": "b2015-x", "crs_any": "a2012-x"}
    assert rows["b2015-x"]["outcome_report_for"] == ["cr_count"]
    assert rows["a2012-x"]["outcome_report_for"] == ["crs_any"]


def _repo(records: list[dict[str, Any]]) -> TrialsRepository:
    return TrialsRepository.from_records(resolve(records))


def test_the_pool_counts_each_trials_patients_once_with_the_reports_own_denominator() -> None:
    early = _report("early2014-a", 2014, "late2018-a", n_treated=12, cr_count=4)
    late = _report("late2018-a", 2018, None, n_treated=16)
    other = _report("other2020-a", 2020, None, n_treated=10, cr_count=5)
    repo = _repo([early, late, other])
    counts = repo.rate_counts(Slice(), "setting", "cr_count", "n_treated")
    reported = counts[counts["events"].notna()]
    assert sorted(zip(reported["events"], reported["total"], strict=True)) == [(4, 12), (5, 10)]
    assert counts["cohorts"].sum() == 2  # the newer row does not also count as a cohort "not reporting" CR
    # with superseded reports switched on the earlier row is still counted once, not twice
    counts_all = repo.rate_counts(Slice(include_superseded=True), "setting", "cr_count", "n_treated")
    assert counts_all["cohorts"].sum() == 2
    # and the pooled estimate is the two cohorts' own
    result = rate_analysis(repo, Slice(), "cr_count", "n_treated", "setting", Analysis(pool="REML", test="z"))
    pooled = stats.pool_proportions([4, 5], [12, 10])
    assert abs(result.pooled["estimate"].iloc[0] - pooled.estimate) < 1e-12
    # an outcome the newest report gives itself never comes from the earlier one
    safety = repo.rate_counts(Slice(), "setting", "crs_any", "n_treated")
    assert safety["events"].isna().all() and safety["cohorts"].sum() == 2


def test_bundled_data_keeps_the_results_that_used_to_vanish() -> None:
    """Björklund 2014 CR 4/12, Huang 2022 4/5 and Nkarta 2022 3/5 enter the CR pool from their own rows."""
    repo = TrialsRepository(DEFAULT_TRIALS_PATH)
    rows, _ = repo.cohort_points(Slice(include_mixed=True), "setting", "cr_count", "n_treated", limit=1000)
    got = {r.cohort_id: (r.events, r.total) for r in rows.itertuples()}
    assert got["bjorklund2014-rr"] == (4, 12)
    assert got["huang2022-rr"] == (4, 5)
    assert got["nkarta2022-3dose-high"] == (3, 5)
    assert not {"bjorklund2018-rr", "huang2025-rr", "nkarta2023-flucy"} & set(got)


def test_the_card_says_which_report_an_outcome_came_from() -> None:
    from nkdata.presentation import cohort_card

    early = _report("early2014-a", 2014, "late2018-a", n_treated=12, cr_count=4)
    late = _report("late2018-a", 2018, None, n_treated=16)
    rows = _by_id([early, late])
    card = cohort_card(rows["late2018-a"]).set_index("Field")
    assert card.loc["cr_count", "Value"] == "from the earlier report early2014-a, over its own patients"
    assert "[from the earlier report early2014-a]" in card.loc["cr_count", "Where it came from"]


def test_pooling_pages_name_the_inclusion_choice() -> None:
    """A choice that changes a page's numbers is named on that page: default inclusion, then each link key."""
    from tests.apptest_helpers import run_app, texts

    for page in ("pages/outcomes.py", "pages/evidence.py", "pages/relapse.py", "pages/overview.py"):
        shown = texts(run_app(page=page))
        assert "Inclusion: AML-only cohorts" in shown and "transplant=1 adds them" in shown, page
    shown = texts(run_app({"mixed": "1", "transplant": "1"}, page="pages/outcomes.py"))
    assert "mixed-diagnosis cohorts included (sensitivity analysis)" in shown
    assert "given a transplant with the NK cells included" in shown


def test_the_forest_says_why_a_superseded_report_is_drawn() -> None:
    early = _report("early2014-a", 2014, "late2018-a", n_treated=12, cr_count=4)
    late = _report("late2018-a", 2018, None, n_treated=16)
    other = _report("other2020-a", 2020, None, n_treated=10, cr_count=5)
    result = rate_analysis(_repo([early, late, other]), Slice(), "cr_count", "n_treated", "setting", Analysis())
    rows = result.forest[result.forest["cohort_id"].notna()]
    flags = dict(zip(rows["cohort_id"], rows["flags"], strict=True))
    assert "most complete report of this outcome" in flags["early2014-a"]
    assert "most complete report" not in flags["other2020-a"] and "late2018-a" not in flags
