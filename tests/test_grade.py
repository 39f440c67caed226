"""GRADE certainty of the Summary of findings (issue 18, item 5): each domain's rule at its boundaries, the start
at low for single-arm evidence, the floor, and the rated table with its links on the fixture data."""

from __future__ import annotations

import pytest

from nkdata import grade
from nkdata.analysis import graded_summary
from nkdata.repository import TrialsRepository
from nkdata.slices import Analysis, Slice

SOLID = grade.Evidence(k=12, n=400, ci_low=30.0, ci_high=45.0, i2=10.0, pi_low=25.0, pi_high=50.0)


def test_solid_single_arm_evidence_stays_low_with_no_downgrade() -> None:
    rating = grade.rate(SOLID)
    assert rating.label == "Low" and all(d.change == 0 for d in rating.domains)
    assert rating.why().startswith("Start low (single-arm).") and "No downgrade." in rating.why()


@pytest.mark.parametrize(
    ("changes", "domain", "change"),
    [
        ({"n_rob_high": 200}, "Risk of bias", -2),  # half the patients at high risk
        ({"n_rob_high": 199}, "Risk of bias", 0),
        ({"n_rob_some": 150, "n_rob_none": 50}, "Risk of bias", -1),  # half not at low risk
        ({"n_rob_some": 150, "n_rob_none": 49}, "Risk of bias", 0),
        ({"i2": 50.0}, "Inconsistency", -1),
        ({"i2": 49.9}, "Inconsistency", 0),
        ({"pi_low": 10.0, "pi_high": 60.1}, "Inconsistency", -1),  # prediction interval wider than 50 points
        ({"n_indirect": 100, "n_mixed": 100}, "Indirectness", -1),  # a quarter of patients mixed
        ({"n_indirect": 99, "n_co_transplant": 99}, "Indirectness", 0),
        ({"k_review": 3}, "Indirectness", -1),  # a quarter of the cohorts review-only
        ({"n": 99}, "Imprecision", -1),
        ({"n": 29}, "Imprecision", -2),
        ({"ci_low": 20.0, "ci_high": 50.0}, "Imprecision", -1),
        ({"ci_low": 20.0, "ci_high": 70.0}, "Imprecision", -2),
        ({"k_grey": 6}, "Publication bias", -1),
        ({"k_grey": 5}, "Publication bias", 0),
    ],
)
def test_each_domain_downgrades_at_its_written_threshold(changes: dict, domain: str, change: int) -> None:
    values = {**SOLID.__dict__, **changes}
    rating = grade.rate(grade.Evidence(**values))
    got = {d.name: d for d in rating.domains}[domain]
    assert got.change == change, got
    if change:
        assert f"{domain} {change:+d}:" in rating.why()


def test_few_cohorts_make_publication_bias_and_inconsistency_not_assessable() -> None:
    one = grade.rate(grade.Evidence(k=1, n=150, ci_low=40.0, ci_high=60.0))
    domains = {d.name: d for d in one.domains}
    assert domains["Inconsistency"].change == 0 and "not assessable (one cohort)" in domains["Inconsistency"].reason
    assert "not assessable (k = 1 < 10)" in domains["Publication bias"].reason
    assert "Publication bias: not assessable" in one.why()


def test_certainty_never_goes_below_very_low_and_says_so() -> None:
    worst = grade.rate(grade.Evidence(k=2, n=10, ci_low=0.0, ci_high=80.0, i2=90.0, n_rob_high=10))
    assert worst.level == 1 and worst.label == "Very low" and worst.symbol == "⊕◯◯◯"
    assert "Total -5, floored at very low." in worst.why()


def test_landmark_rows_without_a_pooled_interval_are_judged_on_patients_and_spread() -> None:
    e = grade.Evidence(k=3, n=150, ci_low=20.0, ci_high=80.0, pooled=False)  # median and range, not a CI
    domains = {d.name: d for d in grade.rate(e).domains}
    assert domains["Imprecision"].change == 0 and "no pooled interval" in domains["Imprecision"].reason
    assert domains["Inconsistency"].change == -1 and "range 20-80%" in domains["Inconsistency"].reason


def test_the_fixture_summary_of_findings_is_rated_with_reasons_and_links(repo: TrialsRepository) -> None:
    """R/R CR on the fixtures: alpha 2/10 (low risk), gamma2022 0/3 and 2/4 (high risk): 17 patients."""
    table = graded_summary(repo, Slice(), Analysis(), (2010, 2022))
    row = table[(table["Outcome"] == "Complete remission (of treated)") & (table["Setting"] == "Relapsed/refractory")]
    row = row.iloc[0]
    assert row["Cohorts / patients"] == "3 / 17"
    assert row["Certainty"] == "⊕◯◯◯ Very low"
    assert "Imprecision -2: 17 patients (fewer than 30)" in row["Why"]
    assert "Risk of bias" not in row["Why"]  # 10 of 17 patients (59%) in a low-risk publication: not serious
    assert "Publication bias: not assessable (k = 3 < 10)" in row["Why"]
    assert row["Link"] == "/outcomes?setting=relapsed_refractory"
    assert set(table["Certainty"]) <= {"⊕⊕◯◯ Low", "⊕◯◯◯ Very low"}  # single-arm: never above low
    assert table["Why"].str.startswith("Start low (single-arm).").all()
    survival = table[table["Outcome"].str.startswith("Overall survival at 12")].iloc[0]
    assert survival["Link"].startswith("/survival?") and "endpoint" not in survival["Link"]  # os is the default
    assert "landmark=12" in survival["Link"]


def test_low_risk_of_bias_only_changes_the_rows_and_keeps_the_choice_in_the_link(repo: TrialsRepository) -> None:
    table = graded_summary(repo, Slice(), Analysis(exclude=("rob",)), (2010, 2022))
    row = table[(table["Outcome"] == "Complete remission (of treated)") & (table["Setting"] == "Relapsed/refractory")]
    assert row["Cohorts / patients"].iloc[0] == "1 / 10"  # alpha2010 only
    assert row["Link"].iloc[0] == "/outcomes?setting=relapsed_refractory&exclude=rob"


def test_the_page_shows_certainty_and_links_each_row() -> None:
    from tests.apptest_helpers import run_app

    at = run_app(page="pages/evidence.py")
    table = "\n".join(m.value for m in at.markdown if "| Outcome |" in m.value)
    assert "| Outcome | Setting | Cohorts / patients | Estimate (95% CI) | Certainty | Why |" in table
    assert "[Complete remission (of treated)](/outcomes?setting=relapsed_refractory)" in table
    assert "Very low" in table
