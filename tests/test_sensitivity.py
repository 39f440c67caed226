"""Leave-one-out, exclusion and summary-of-findings flags.

Reference: metafor on dat.bcg log risk ratios (REML), from wviechtb/metafor
tests/testthat/test_misc_influence.r: ``leave1out(res)[1]`` and ``influence(res)`` for trial 1
(Aronson 1948), stored there to full precision. Only trial 1's row is printed in that source,
so the other rows are checked by what must hold for every row (alignment, refit without it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nkdata import sensitivity as sens
from nkdata.stats import PooledResult, pool_proportions
from tests.test_stats import EVENTS, TOTALS, bcg_log_rr


def test_leave1out_reference_dat_bcg_trial_1() -> None:
    loo = sens.leave_one_out_logits(*bcg_log_rr(), method="REML")
    first = loo.iloc[0]
    assert first["mu"] == pytest.approx(-0.707083788031436, abs=1e-6)
    assert first["se"] == pytest.approx(0.189961024702717, abs=1e-6)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((-1.07940055491509, -0.334767021147788), abs=1e-6)
    assert first["tau2"] == pytest.approx(0.336156745300306, abs=1e-6)
    assert first["q"] == pytest.approx(151.582572747109, abs=1e-6) and first["q_df"] == 11
    assert first["q_p"] == pytest.approx(7.0778599767807e-27, rel=1e-4)
    # metafor's I2 here is tau2-based (93.2259%); ours is Q-based, from the same Q:
    assert first["i2"] == pytest.approx((151.582572747109 - 11) / 151.582572747109, abs=1e-9)
    assert first["rstudent"] == pytest.approx(-0.218142474344442, abs=1e-6)  # influence(res)$inf$rstudent[1]
    assert len(loo) == 13 and list(loo["omitted"]) == list(range(13))


def test_leave1out_fixed_effect_has_no_tau2() -> None:
    loo = sens.leave_one_out_logits(*bcg_log_rr(), method="FE")
    assert (loo["tau2"] == 0).all()
    y, v = bcg_log_rr()
    keep = np.arange(13) != 7  # TPT Madras, the largest trial, dominates the FE mean
    assert loo.iloc[7]["mu"] == pytest.approx(np.sum(y[keep] / v[keep]) / np.sum(1 / v[keep]), rel=1e-12)


def _outlier_data() -> tuple[list[int], list[int], list[str]]:
    events = [4, 5, 3, 4, 6, 5, 4, 38]
    totals = [20, 22, 18, 20, 25, 24, 19, 40]
    return events, totals, [f"Cohort {c}" for c in "ABCDEFGH"]


def test_leave_one_out_rows_are_aligned_with_their_cohort() -> None:
    events, totals, labels = _outlier_data()
    loo = sens.leave_one_out(events, totals, labels)
    assert list(loo["label"]) == labels and list(loo["events"]) == events and list(loo["total"]) == totals
    for i in (0, 7):
        without = pool_proportions(events[:i] + events[i + 1 :], totals[:i] + totals[i + 1 :])
        assert loo.iloc[i]["estimate"] == pytest.approx(without.estimate)
        assert loo.iloc[i]["tau2"] == pytest.approx(without.tau2) and loo.iloc[i]["k"] == 7
    full = pool_proportions(events, totals)
    assert loo["change"].to_numpy() == pytest.approx(loo["estimate"].to_numpy() - full.estimate)


def test_only_the_outlying_cohort_is_flagged() -> None:
    events, totals, labels = _outlier_data()
    loo = sens.leave_one_out(events, totals, labels)
    assert list(loo.loc[loo["outlier"], "label"]) == ["Cohort H"]
    h = loo.set_index("label").loc["Cohort H"]
    assert h["change"] < 0 and h["rstudent"] > 1.96 and h["tau2"] < 0.05
    assert (loo.loc[~loo["outlier"], "rstudent"] < 0).all()
    # why not "estimate outside the full CI": H inflates tau2, so the full CI still holds the estimate without H
    full = pool_proportions(events, totals)
    assert full.ci_low < h["estimate"] < full.ci_high


def test_outlier_rule_is_two_sided() -> None:
    labels = _outlier_data()[2]
    low = sens.leave_one_out([36, 35, 37, 36, 34, 35, 36, 1], [40] * 8, labels)
    assert list(low.loc[low["outlier"], "label"]) == ["Cohort H"] and low.iloc[7]["rstudent"] < -1.96


def test_homogeneous_cohorts_flag_nothing() -> None:
    loo = sens.leave_one_out([4, 4, 4, 4], [10, 10, 10, 10], list("abcd"))
    assert not loo["outlier"].any() and loo["change"].abs().max() < 1e-12 and (loo["rstudent"] == 0).all()


def test_fixed_effect_flags_more_than_random_effects() -> None:
    """Stijnen's data are heterogeneous: without tau2 (FE) residuals are larger, so more cohorts stand out."""
    labels = [f"s{i}" for i in range(len(EVENTS))]
    fe = sens.leave_one_out(EVENTS, TOTALS, labels, method="FE")
    reml = sens.leave_one_out(EVENTS, TOTALS, labels, method="REML")
    assert fe["outlier"].sum() > reml["outlier"].sum() and (fe["tau2"] == 0).all()
    assert set(reml.loc[reml["outlier"], "label"]) <= set(fe.loc[fe["outlier"], "label"])


def test_leave_one_out_needs_two_cohorts() -> None:
    assert sens.leave_one_out([3], [10], ["only"]).empty
    two = sens.leave_one_out([1, 9], [10, 10], ["a", "b"])
    assert list(two["estimate"]) == pytest.approx([0.9, 0.1])  # each left with the other cohort alone
    with pytest.raises(ValueError):
        sens.leave_one_out([1, 2], [10, 10], ["a"])


def test_exclusion_equals_pooling_the_rest() -> None:
    events, totals, _ = _outlier_data()
    mask = [False] * 7 + [True]
    result = sens.exclusion_sensitivity(events, totals, mask)
    assert result.excluded == 1 and result.kept.k == 7 and result.full.k == 8
    assert result.kept.estimate == pytest.approx(pool_proportions(events[:7], totals[:7]).estimate)
    assert result.difference == pytest.approx(result.kept.estimate - result.full.estimate) and result.difference < 0
    nothing = sens.exclusion_sensitivity(events, totals, [False] * 8)
    assert nothing.difference == 0
    everything = sens.exclusion_sensitivity(events, totals, [True] * 8)
    assert not everything.kept.has_data and math.isnan(everything.difference)


def _pooled(
    k: int = 5, estimate: float = 0.3, ci: tuple[float, float] = (0.2, 0.4), i2: float = 0.2, tau2: float = 0.1
) -> PooledResult:
    return PooledResult(
        k=k,
        n_total=10 * k,
        events_total=3 * k,
        n_corrected=0,
        method="REML",
        estimate=estimate,
        ci_low=ci[0],
        ci_high=ci[1],
        tau2=tau2,
        q_df=max(k - 1, 0),
        i2=i2,
    )


def _codes(pooled: PooledResult, types: list[str], single_arm: bool = False) -> set[str]:
    return {f.code for f in sens.confidence_flags(pooled, types, single_arm)}


def test_no_flags_for_solid_evidence() -> None:
    assert _codes(_pooled(), ["journal_article"] * 5) == set()


def test_few_cohorts_at_k_below_3() -> None:
    assert "few_cohorts" in _codes(_pooled(k=2), ["journal_article"] * 2)
    assert "few_cohorts" not in _codes(_pooled(k=3), ["journal_article"] * 3)


def test_single_arm_is_the_callers_statement() -> None:
    assert "single_arm" in _codes(_pooled(), ["journal_article"] * 5, single_arm=True)
    assert "single_arm" not in _codes(_pooled(), ["journal_article"] * 5, single_arm=False)


def test_mostly_abstracts_above_half() -> None:
    half = ["conference_abstract", "journal_article", "company_report", "journal_article"]
    assert "mostly_abstracts" not in _codes(_pooled(k=4), half)
    more = ["conference_abstract", "company_report", "journal_article"]
    flags = sens.confidence_flags(_pooled(k=3), more, single_arm=False)
    assert [f.text for f in flags if f.code == "mostly_abstracts"] == [
        "67% of cohorts from conference abstracts or company reports"
    ]
    assert "mostly_abstracts" not in _codes(_pooled(k=3), ["preprint", "case_report", "journal_article"])


def test_heterogeneity_by_i2_or_tau2() -> None:
    assert "heterogeneity" in _codes(_pooled(i2=0.51), ["journal_article"] * 5)
    assert "heterogeneity" not in _codes(_pooled(i2=0.50), ["journal_article"] * 5)
    assert "heterogeneity" in _codes(_pooled(i2=0.1, tau2=0.30), ["journal_article"] * 5)  # small cohorts: low I2
    assert "heterogeneity" not in _codes(_pooled(k=1, i2=math.nan, tau2=0.0), ["journal_article"])


def test_wide_ci_above_40_points() -> None:
    assert "imprecision" in _codes(_pooled(ci=(0.1, 0.55)), ["journal_article"] * 5)
    assert "imprecision" not in _codes(_pooled(ci=(0.1, 0.5)), ["journal_article"] * 5)


def test_summary_of_findings_table() -> None:
    cr = pool_proportions([2, 5, 1], [8, 10, 4])
    relapse = pool_proportions([3], [7])
    table = sens.summary_of_findings(
        {"CR": (cr, ["journal_article"] * 3), "Relapse": (relapse, ["conference_abstract"])}
    )
    assert list(table["outcome"]) == ["CR", "Relapse"]
    assert table.iloc[1]["flags"] == ("few_cohorts", "single_arm", "mostly_abstracts", "imprecision")
    assert table.iloc[1]["n_flags"] == 4 and "Only 1 cohort (fewer than 3)" in table.iloc[1]["concerns"]
    assert table.iloc[0]["estimate"] == pytest.approx(cr.estimate) and table.iloc[0]["patients"] == 22
