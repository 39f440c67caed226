"""Reference values: Stijnen, Hamza & Ozdemir 2010 (Stat Med 29:3046, Table II), Niel-Weise 2007 data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from nkdata.stats import (
    cohort_rates,
    forest_rows,
    pool_by_group,
    pool_proportions,
    proportion_ci,
    rank_correlation,
)

EVENTS = [3, 3, 9, 7, 6, 4, 3, 2, 19, 2, 7, 1, 5, 11, 0, 1, 3, 1]
TOTALS = [117, 35, 195, 136, 157, 139, 177, 39, 103, 122, 64, 58, 175, 180, 105, 262, 362, 69]
TOL = 1e-4


@pytest.mark.parametrize(
    ("method", "logit", "se", "tau2", "pooled"),
    [
        ("REML", -3.3018, 0.2378, 0.6629, (0.0355, 0.0226, 0.0554)),
        ("DL", -3.3168, 0.2492, 0.7553, (0.0350, 0.0218, 0.0558)),
    ],
)
def test_pooling_reference(method: str, logit: float, se: float, tau2: float, pooled: tuple[float, ...]) -> None:
    r = pool_proportions(EVENTS, TOTALS, method)
    assert (r.logit, r.se, r.tau2) == pytest.approx((logit, se, tau2), abs=TOL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(pooled, abs=TOL)


def test_reml_heterogeneity_reference() -> None:
    r = pool_proportions(EVENTS, TOTALS, "REML")
    assert r.q == pytest.approx(72.1659, abs=TOL) and r.q_df == 17
    assert r.k == 18 and r.n_corrected == 1 and r.n_total == sum(TOTALS)
    assert r.i2 == pytest.approx((72.1659 - 17) / 72.1659, abs=TOL)
    assert r.pi_low < r.ci_low < r.estimate < r.ci_high < r.pi_high


@pytest.mark.parametrize(
    ("k", "n", "method", "expected"),
    [
        (3, 11, "clopper-pearson", (0.0602, 0.6097)),
        (3, 11, "wilson", (0.0975, 0.5656)),
        (0, 6, "clopper-pearson", (0.0, 0.4593)),
        (0, 6, "wilson", (0.0, 0.3903)),
        (10, 10, "clopper-pearson", (0.6915, 1.0)),
        (10, 10, "wilson", (0.7225, 1.0)),
    ],
)
def test_single_proportions(k: int, n: int, method: str, expected: tuple[float, float]) -> None:
    assert proportion_ci(k, n, method) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("method", ["clopper-pearson", "wilson"])
def test_vectorised_intervals_match_scalar(method: str) -> None:
    from nkdata.stats import proportion_ci_arrays

    ks, ns = [0, 3, 10, 1, 7], [6, 11, 10, 2, 30]
    low, high = proportion_ci_arrays(ks, ns, method)
    for i, (k, n) in enumerate(zip(ks, ns, strict=True)):
        assert (low[i], high[i]) == pytest.approx(proportion_ci(k, n, method), abs=1e-12)


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError):
        proportion_ci(3, 2)
    with pytest.raises(ValueError):
        pool_proportions([1], [0])
    with pytest.raises(ValueError):
        pool_proportions([1], [5], method="bayes")


def test_k0_is_no_data() -> None:
    r = pool_proportions([], [])
    assert not r.has_data and r.k == 0 and math.isnan(r.estimate)


def test_k1_is_the_cohort_itself() -> None:
    r = pool_proportions([3], [11])
    assert r.estimate == pytest.approx(3 / 11)
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_ci(3, 11))
    assert r.tau2 == 0 and r.q_df == 0


@pytest.mark.parametrize("method", ["REML", "DL", "FE", "GLMM"])
def test_all_zero_and_all_full_are_exact_pooled_counts(method: str) -> None:
    """Zero events in every cohort is the pooled count 0/18 with its Clopper-Pearson interval, never a
    logit-pooled non-zero rate (0.5 added would give about 7%); all events likewise at 100%."""
    zero = pool_proportions([0, 0, 0], [5, 6, 7], method)
    assert zero.exact and zero.ci_test == "exact" and zero.estimate == 0.0
    assert (zero.ci_low, zero.ci_high) == pytest.approx(proportion_ci(0, 18), abs=1e-12)
    assert math.isnan(zero.tau2) and math.isnan(zero.pi_low) and math.isnan(zero.logit)
    full = pool_proportions([5, 6, 7], [5, 6, 7], method)
    assert full.exact and full.estimate == 1.0 and full.ci_high == 1.0
    assert full.ci_low == pytest.approx(proportion_ci(18, 18)[0], abs=1e-12)
    one_event = pool_proportions([0, 1, 0], [5, 6, 7], method)
    assert not one_event.exact and one_event.estimate > 0


def test_zero_events_in_116_patients_is_0_to_3_1_percent() -> None:
    """The issue's reference: any GVHD in R/R, 0 of 116 in 7 cohorts, exact 0-3.1% (shown 3.3% before)."""
    r = pool_proportions([0] * 7, [10, 12, 15, 20, 25, 18, 16], "REML")
    assert r.n_total == 116 and r.estimate == 0 and round(100 * r.ci_high, 1) == 3.1


def test_exact_group_stays_out_of_the_subgroup_test() -> None:
    rates = cohort_rates(
        pd.DataFrame(
            {
                "cohort_id": list("abcdef"),
                "grp": ["x", "x", "y", "y", "z", "z"],
                "e": [0, 0, 3, 4, 6, 2],
                "n": [5, 7, 10, 9, 12, 8],
            }
        ),
        "e",
        "n",
    )
    table, test = pool_by_group(rates, "grp", "e", "n")
    assert table.set_index("grp").at["x", "exact"] and test.groups == 2 and test.df == 1


def test_identical_studies_give_zero_tau2() -> None:
    for method in ("REML", "DL", "FE"):
        r = pool_proportions([4, 4, 4, 4], [10, 10, 10, 10], method)
        assert r.tau2 == 0 and r.estimate == pytest.approx(0.4) and r.i2 == 0


def _rates() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cohort_id": [f"c{i}" for i in range(6)],
            "first_author": list("ABCDEF"),
            "year": [2010 + i for i in range(6)],
            "product": ["P"] * 6,
            "grp": ["x", "x", "x", "y", "y", "z"],
            "cr_count": [2, 5, 0, 3, 4, 1],
            "n_evaluable": [8, 10, 6, 3, 9, 4],
        }
    )
    return cohort_rates(frame, "cr_count", "n_evaluable")


def test_subgroups_equal_pooling_each_alone() -> None:
    rates = _rates()
    table, test = pool_by_group(rates, "grp", "cr_count", "n_evaluable")
    for _, row in table.iterrows():
        part = rates[rates["grp"] == row["grp"]]
        alone = pool_proportions(part["cr_count"].tolist(), part["n_evaluable"].tolist())
        assert row["estimate"] == pytest.approx(alone.estimate) and row["tau2"] == pytest.approx(alone.tau2)
    assert test.df == 2 and test.groups == 3 and 0 <= test.p <= 1 and test.q_between > 0


def _forest(rates: pd.DataFrame, include_cohorts: bool = True) -> pd.DataFrame:
    pooled, _ = pool_by_group(rates, "grp", "cr_count", "n_evaluable")
    overall = pool_proportions(rates["cr_count"], rates["n_evaluable"])
    return forest_rows(pooled, overall, "grp", rates if include_cohorts else None, "cr_count", "n_evaluable")


def test_forest_rows_match_stats() -> None:
    rates = _rates()
    rows = _forest(rates)
    assert len(rows) == 6 + 3 + 1
    assert list(rows["kind"]).count("cohort") == 6
    cohort = rows[rows["cohort_id"] == "c0"].iloc[0]
    assert (cohort["ci_low"], cohort["ci_high"]) == pytest.approx(proportion_ci(2, 8))
    assert cohort["label"] == "A 2010 - P (2/8)"
    overall = rows[rows["kind"] == "overall"].iloc[0]
    assert overall["estimate"] == pytest.approx(pool_proportions([2, 5, 0, 3, 4, 1], [8, 10, 6, 3, 9, 4]).estimate)
    weights = rows[(rows["kind"] == "cohort") & (rows["group"] == "x")]["weight"]
    assert weights.sum() == pytest.approx(1.0)


def test_cohort_rates_skip_unreported() -> None:
    frame = pd.DataFrame({"cr_count": [1, None, 2], "n_evaluable": [4, 5, None]}).astype("Int64")
    assert len(cohort_rates(frame, "cr_count", "n_evaluable")) == 1


def test_rank_correlation_p_value_equals_scipy() -> None:
    x, y = [7, 14, 14, 28, 60, 90, 90, 120], [0.0, 0.2, 0.25, 0.2, 0.5, 0.4, 0.75, 0.5]
    expected = scipy_stats.spearmanr(x, y)
    got = rank_correlation(len(x), float(expected.statistic), len(set(x)), len(set(y)))
    assert (got.n, got.rho) == (8, pytest.approx(expected.statistic)) and got.p == pytest.approx(expected.pvalue)


def test_rank_correlation_needs_three_pairs_and_variation() -> None:
    assert math.isnan(rank_correlation(2, 1.0, 2, 2).rho)
    assert math.isnan(rank_correlation(5, math.nan, 5, 1).p)
    assert math.isnan(rank_correlation(5, None, 5, 5).rho)  # SQL corr() of constant ranks is null
    perfect = rank_correlation(4, 1.0, 4, 4)
    assert perfect.rho == 1.0 and perfect.p == 0.0


@pytest.mark.parametrize("method", ["REML", "DL", "FE"])
def test_pooling_with_counts_equals_pooling_every_cohort(method: str) -> None:
    """The slice arrives from SQL as distinct (events, total) rows with a count: same result as one by one."""
    rng = np.random.default_rng(7)
    totals = rng.integers(2, 12, size=300)
    events = rng.binomial(totals, 0.35)
    one_by_one = pool_proportions(events, totals, method)
    grouped = pd.DataFrame({"e": events, "t": totals}).value_counts().reset_index(name="n")
    assert len(grouped) < len(events)
    collapsed = pool_proportions(grouped["e"], grouped["t"], method, counts=grouped["n"])
    for field in ("k", "n_total", "events_total", "n_corrected", "q_df"):
        assert getattr(collapsed, field) == getattr(one_by_one, field)
    for field in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "q", "q_p", "i2"):
        assert getattr(collapsed, field) == pytest.approx(getattr(one_by_one, field), rel=1e-9, abs=1e-12)


def test_single_cohort_with_counts_is_that_cohort() -> None:
    r = pool_proportions([2], [8], counts=[1])
    assert (r.k, r.estimate, (r.ci_low, r.ci_high)) == (1, 0.25, pytest.approx(proportion_ci(2, 8)))


def test_intervals_equal_scipy_stats() -> None:
    """stats uses scipy.special (a fraction of scipy.stats' memory); the answers are the same."""
    for k, n in [(0, 5), (1, 5), (3, 7), (5, 5), (12, 40)]:
        low, high = proportion_ci(k, n)
        assert low == pytest.approx(scipy_stats.beta.ppf(0.025, k, n - k + 1) if k else 0.0, abs=1e-12)
        assert high == pytest.approx(scipy_stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0, abs=1e-12)


def test_forest_without_cohorts_keeps_the_same_diamonds() -> None:
    rates = _rates()
    full = _forest(rates)
    diamonds = _forest(rates, include_cohorts=False)
    assert set(diamonds["kind"]) == {"pooled", "overall"}
    expected = full[full["kind"] != "cohort"][["label", "estimate", "ci_low", "ci_high"]].reset_index(drop=True)
    assert diamonds[["label", "estimate", "ci_low", "ci_high"]].equals(expected)


# dat.bcg (Colditz et al. 1994, JAMA 271:698; metafor/metadat ``dat.bcg``): TB cases and non-cases among
# vaccinated (tpos, tneg) and unvaccinated (cpos, cneg) in 13 BCG trials.
BCG = [
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]


def bcg_log_rr() -> tuple[np.ndarray, np.ndarray]:
    """metafor ``escalc(measure="RR")``: log risk ratio and its large-sample variance."""
    a, b, c, d = (np.array(col, dtype=float) for col in zip(*BCG, strict=True))
    return np.log(a / (a + b)) - np.log(c / (c + d)), 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)


def test_fixed_effect_reference_dat_bcg() -> None:
    """metafor ``rma(yi, vi, method="FE")`` on dat.bcg log RR, checked there against Stata ``metan ..., fixedi``:
    wviechtb/metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r (values printed to 4 decimals)."""
    from nkdata.stats import pool_logits

    r = pool_logits(*bcg_log_rr(), method="FE")
    assert (r.mu, r.ci_low, r.ci_high) == pytest.approx((-0.4303, -0.5097, -0.3509), abs=1e-4)
    assert r.mu / r.se == pytest.approx(-10.6247, abs=1e-4)
    assert r.q == pytest.approx(152.2330, abs=1e-4) and r.q_df == 12 and r.tau2 == 0
    assert (r.pi_low, r.pi_high) == (r.ci_low, r.ci_high)  # no heterogeneity in the model: PI = CI
    assert [math.exp(x) for x in (r.mu, r.ci_low, r.ci_high)] == pytest.approx([0.6503, 0.6007, 0.7040], abs=1e-4)


def test_dl_reference_dat_bcg() -> None:
    """metafor ``rma(yi, vi, method="DL")`` vs Stata ``metan ..., randomi`` (same file as above). Under DL the
    tau^2-based I^2 of metafor equals the Q-based one shown here, so 92.1173% applies."""
    from nkdata.stats import pool_logits

    r = pool_logits(*bcg_log_rr(), method="DL")
    assert (r.mu, r.ci_low, r.ci_high) == pytest.approx((-0.7141, -1.0644, -0.3638), abs=1e-4)
    assert (r.mu / r.se, r.tau2, 100 * r.i2) == pytest.approx((-3.9952, 0.3088, 92.1173), abs=1e-4)


def test_reml_reference_dat_bcg() -> None:
    """metafor ``rma(yi, vi)`` (REML) on dat.bcg log RR: tau2 and QE stored to full precision in
    wviechtb/metafor tests/testthat/test_misc_influence.r (the ``influence()`` reference object)."""
    from nkdata.stats import pool_logits

    r = pool_logits(*bcg_log_rr(), method="REML")
    assert r.tau2 == pytest.approx(0.313243325980895, abs=1e-7)
    assert r.q == pytest.approx(152.233008082373, abs=1e-7)


def test_fixed_effect_proportions_are_the_inverse_variance_mean() -> None:
    """FE through the proportion API: the plain 1/v-weighted mean of the logits, whatever the heterogeneity."""
    from nkdata.stats import logit_and_variance

    y, v = logit_and_variance(EVENTS, TOTALS)
    fe = pool_proportions(EVENTS, TOTALS, "FE")
    assert fe.tau2 == 0 and fe.logit == pytest.approx(np.sum(y / v) / np.sum(1 / v), rel=1e-12)
    assert fe.se == pytest.approx(np.sum(1 / v) ** -0.5, rel=1e-12)
    assert (fe.q, fe.i2) == pytest.approx(
        (72.1659, (72.1659 - 17) / 72.1659), abs=TOL
    )  # Q does not depend on the model
    reml = pool_proportions(EVENTS, TOTALS, "REML")
    assert fe.ci_high - fe.ci_low < reml.ci_high - reml.ci_low  # heterogeneous data: FE is (too) narrow
    assert (fe.pi_low, fe.pi_high) == (fe.ci_low, fe.ci_high)


def test_forest_rows_carry_prediction_intervals() -> None:
    rows = _forest(_rates())
    diamonds = rows[rows["kind"] != "cohort"]
    with_pi = diamonds[diamonds["group"].isin(["x", "All"])]  # 3 and 6 cohorts; y has 2: no t(k-2) interval
    assert with_pi["pi_low"].notna().all() and (with_pi["pi_low"] <= with_pi["ci_low"] + 1e-12).all()
    assert diamonds.loc[diamonds["group"] == "y", "pi_low"].isna().all()
    assert rows.loc[rows["kind"] == "cohort", "pi_low"].isna().all()
    overall = pool_proportions([2, 5, 0, 3, 4, 1], [8, 10, 6, 3, 9, 4])
    assert rows.iloc[-1]["pi_high"] == pytest.approx(overall.pi_high)
