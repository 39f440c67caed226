"""Reference values: Stijnen, Hamza & Ozdemir 2010 (Stat Med 29:3046, Table II), Niel-Weise 2007 data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nkdata.stats import (
    cohort_rates,
    distribution_by_group,
    forest_rows,
    pool_by_group,
    pool_proportions,
    proportion_ci,
    spearman,
)

EVENTS = [3, 3, 9, 7, 6, 4, 3, 2, 19, 2, 7, 1, 5, 11, 0, 1, 3, 1]
TOTALS = [117, 35, 195, 136, 157, 139, 177, 39, 103, 122, 64, 58, 175, 180, 105, 262, 362, 69]
TOL = 1e-4


def test_reml_reference() -> None:
    r = pool_proportions(EVENTS, TOTALS, "REML")
    assert r.logit == pytest.approx(-3.3018, abs=TOL)
    assert r.se == pytest.approx(0.2378, abs=TOL)
    assert r.tau2 == pytest.approx(0.6629, abs=TOL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((0.0355, 0.0226, 0.0554), abs=TOL)
    assert r.q == pytest.approx(72.1659, abs=TOL) and r.q_df == 17
    assert r.k == 18 and r.n_corrected == 1 and r.n_total == sum(TOTALS)
    assert r.i2 == pytest.approx((72.1659 - 17) / 72.1659, abs=TOL)
    assert r.pi_low < r.ci_low < r.estimate < r.ci_high < r.pi_high


def test_dl_reference() -> None:
    r = pool_proportions(EVENTS, TOTALS, "DL")
    assert r.logit == pytest.approx(-3.3168, abs=TOL)
    assert r.se == pytest.approx(0.2492, abs=TOL)
    assert r.tau2 == pytest.approx(0.7553, abs=TOL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((0.0350, 0.0218, 0.0558), abs=TOL)


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


def test_forest_rows_match_stats() -> None:
    rates = _rates()
    rows = forest_rows(rates, "grp", "cr_count", "n_evaluable")
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


def test_spearman_and_distribution() -> None:
    assert math.isnan(spearman([1, 2], [1, 2]).rho)
    c = spearman([1, 2, 3, 4, None], [0.1, 0.2, 0.3, 0.5, 0.9])
    assert c.n == 4 and c.rho == pytest.approx(1.0)
    d = distribution_by_group(pd.DataFrame({"g": ["a", "a", "a", "b"], "v": [7, 14, None, None]}), "g", "v")
    a = d.set_index("g").loc["a"]
    assert (a["median"], a["min"], a["max"], a["cohorts_not_reported"]) == (10.5, 7, 14, 1)
    assert d.set_index("g").loc["b", "cohorts_reported"] == 0


def test_forest_without_cohorts_keeps_the_same_diamonds() -> None:
    rates = _rates()
    full = forest_rows(rates, "grp", "cr_count", "n_evaluable")
    diamonds = forest_rows(rates, "grp", "cr_count", "n_evaluable", include_cohorts=False)
    assert set(diamonds["kind"]) == {"pooled", "overall"}
    expected = full[full["kind"] != "cohort"][["label", "estimate", "ci_low", "ci_high"]].reset_index(drop=True)
    assert diamonds[["label", "estimate", "ci_low", "ci_high"]].equals(expected)
