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


@pytest.mark.parametrize(("method", "logit", "se", "tau2", "pooled"), [
    ("REML", -3.3018, 0.2378, 0.6629, (0.0355, 0.0226, 0.0554)),
    ("DL", -3.3168, 0.2492, 0.7553, (0.0350, 0.0218, 0.0558)),
])
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


@pytest.mark.parametrize(("k", "n", "method", "expected"), [
    (3, 11, "clopper-pearson", (0.0602, 0.6097)), (3, 11, "wilson", (0.0975, 0.5656)),
    (0, 6, "clopper-pearson", (0.0, 0.4593)), (0, 6, "wilson", (0.0, 0.3903)),
    (10, 10, "clopper-pearson", (0.6915, 1.0)), (10, 10, "wilson", (0.7225, 1.0)),
])
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


def test_all_zero_and_all_full() -> None:
    zero = pool_proportions([0, 0, 0], [5, 6, 7])
    assert zero.n_corrected == 3 and 0 < zero.estimate < 0.15 and zero.tau2 == 0
    full = pool_proportions([5, 6, 7], [5, 6, 7])
    assert full.n_corrected == 3 and 0.85 < full.estimate < 1 and full.tau2 == 0


def test_identical_studies_give_zero_tau2() -> None:
    for method in ("REML", "DL"):
        r = pool_proportions([4, 4, 4, 4], [10, 10, 10, 10], method)
        assert r.tau2 == 0 and r.estimate == pytest.approx(0.4) and r.i2 == 0


def _rates() -> pd.DataFrame:
    frame = pd.DataFrame({
        "cohort_id": [f"c{i}" for i in range(6)], "first_author": list("ABCDEF"), "year": [2010 + i for i in range(6)],
        "product": ["P"] * 6, "grp": ["x", "x", "x", "y", "y", "z"],
        "cr_count": [2, 5, 0, 3, 4, 1], "n_evaluable": [8, 10, 6, 3, 9, 4],
    })
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


@pytest.mark.parametrize("method", ["REML", "DL"])
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
