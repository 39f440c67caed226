"""Pooling methods against metafor 3.8 / lme4 1.1-31 (R 4.2), values stored in tests/fixtures/stats/pooling.json.

Produced once by ``Rscript tests/fixtures/stats/pooling.R`` (R is not needed to run these tests). Per data set
(xi events, ni patients) it calls::

    es <- escalc(measure="PLO", xi=xi, ni=ni)                  # 0.5 added only to 0/n and n/n cohorts
    rma(yi, vi, data=es, method="REML")                          # reml
    rma(yi, vi, data=es, method="DL")                            # dl
    rma(yi, vi, data=es, method="REML", test="adhoc")            # reml_adhoc (Knapp-Hartung, truncated)
    rma(yi, vi, data=es, method="DL", test="adhoc")              # dl_adhoc
    rma.glmm(measure="PLO", xi=xi, ni=ni)                        # glmm (lme4 glmer, nAGQ = 7, ML)
    rma.glmm(measure="PLO", xi=xi, ni=ni, test="t")              # glmm_t
    b + c(-1, 1) * qt(0.975, k - 2) * sqrt(se^2 + tau2)          # pi_t, for k >= 3 (Higgins 2009)

Data sets: ``rr_cr`` the bundled relapsed/refractory CR counts of 2026-12-03 (14 cohorts, 82/224, frozen
here), ``nielweise`` Niel-Weise et al. 2007 (Stijnen 2010), ``sparse`` four zero-event cohorts of seven,
``k2`` and ``k3`` two and three cohorts (where z intervals are most over-precise), ``homogeneous`` four cohorts
whose tau² is 0 under REML, DL and the GLMM (the boundary, and its standard error, that mutants showed untested).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nkdata import glmm
from nkdata.paths import REPO_ROOT
from nkdata.stats import logit_and_variance, pool_logits, pool_proportions

FIXTURE = json.loads((REPO_ROOT / "tests" / "fixtures" / "stats" / "pooling.json").read_text())
SETS = sorted(FIXTURE)
TOL = 1e-4  # logit scale: metafor stops REML at a tau² change below 1e-5, lme4 within ~2e-5 of our optimum
CI_TOL = 2e-4


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("method", ["REML", "DL"])
def test_inverse_variance_equals_rma(name: str, method: str) -> None:
    ref = FIXTURE[name][method.lower()]
    y, v = logit_and_variance(FIXTURE[name]["xi"], FIXTURE[name]["ni"])
    p = pool_logits(y, v, method)
    assert (p.mu, p.se, p.tau2) == pytest.approx((ref["mu"], ref["se"], ref["tau2"]), abs=TOL)


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("method", ["REML", "DL"])
def test_knapp_hartung_equals_rma_adhoc(name: str, method: str) -> None:
    ref = FIXTURE[name][f"{method.lower()}_adhoc"]
    y, v = logit_and_variance(FIXTURE[name]["xi"], FIXTURE[name]["ni"])
    p = pool_logits(y, v, method, test="knha")
    assert p.ci_test == "knha" and (p.ci_low, p.ci_high) == pytest.approx(tuple(ref["ci"]), abs=TOL)
    z = pool_logits(y, v, method, test="z")
    assert p.ci_high - p.ci_low >= z.ci_high - z.ci_low - 1e-12  # adhoc never narrows the z interval


@pytest.mark.parametrize("name", SETS)
def test_t_prediction_interval_only_from_three_cohorts(name: str) -> None:
    ref = FIXTURE[name]["reml"]["pi_t"]
    y, v = logit_and_variance(FIXTURE[name]["xi"], FIXTURE[name]["ni"])
    p = pool_logits(y, v, "REML")
    if len(y) < 3:
        assert ref == [None, None] and math.isnan(p.pi_low) and math.isnan(p.pi_high)
    else:
        assert (p.pi_low, p.pi_high) == pytest.approx(tuple(ref), abs=TOL)


@pytest.mark.parametrize("name", SETS)
def test_glmm_equals_rma_glmm(name: str) -> None:
    ref = FIXTURE[name]["glmm"]
    fit = glmm.fit_glmm(FIXTURE[name]["xi"], FIXTURE[name]["ni"])
    assert fit.converged
    assert (fit.mu, fit.se, fit.tau2) == pytest.approx((ref["mu"], ref["se"], ref["tau2"]), abs=TOL)
    pooled = pool_proportions(FIXTURE[name]["xi"], FIXTURE[name]["ni"], "GLMM")
    assert pooled.estimate == pytest.approx(_expit(ref["mu"]), abs=TOL)
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx(tuple(_expit(c) for c in ref["ci"]), abs=CI_TOL)
    t = pool_proportions(FIXTURE[name]["xi"], FIXTURE[name]["ni"], "GLMM", test="knha")
    ref_t = tuple(_expit(c) for c in FIXTURE[name]["glmm_t"]["ci"])
    assert (t.ci_low, t.ci_high) == pytest.approx(ref_t, abs=CI_TOL)
    if ref["pi_t"][0] is not None:
        assert (pooled.pi_low, pooled.pi_high) == pytest.approx(tuple(_expit(c) for c in ref["pi_t"]), abs=CI_TOL)
    else:
        assert math.isnan(pooled.pi_low)


def test_bundled_rr_cr_reference_values_as_the_issue_states() -> None:
    """The numbers a reader compares: REML 38.7% (26.5-52.4), GLMM 34.5% (20.9-51.2), KH 24.6-54.9, PI 9.1-79.9."""
    xi, ni = FIXTURE["rr_cr"]["xi"], FIXTURE["rr_cr"]["ni"]

    def pct(*values: float) -> list[float]:
        return [round(100 * x, 1) for x in values]

    reml = pool_proportions(xi, ni, "REML")
    assert pct(reml.estimate, reml.ci_low, reml.ci_high, reml.pi_low, reml.pi_high) == [38.7, 26.5, 52.4, 9.1, 79.9]
    kh = pool_proportions(xi, ni, "REML", test="knha")
    assert pct(kh.ci_low, kh.ci_high) == [24.6, 54.9]
    g = pool_proportions(xi, ni, "GLMM")
    assert pct(g.estimate, g.ci_low, g.ci_high) == [34.5, 20.9, 51.2]
    assert pool_proportions(xi, ni, "REML", test="auto").ci_test == "z"  # 14 cohorts: not below 10


def test_auto_interval_switches_below_ten_cohorts() -> None:
    xi, ni = FIXTURE["rr_cr"]["xi"], FIXTURE["rr_cr"]["ni"]
    assert pool_proportions(xi[:9], ni[:9], "REML", test="auto").ci_test == "knha"
    assert pool_proportions(xi * 2, ni * 2, "REML", test="auto").ci_test == "z"


def test_glmm_with_multiplicities_equals_every_cohort() -> None:
    """A large slice arrives as distinct (events, total) pairs with counts: the likelihood is the same."""
    xi, ni = [1, 1, 4, 4, 4, 0], [10, 10, 12, 12, 12, 9]
    one_by_one = glmm.fit_glmm(xi, ni)
    grouped = glmm.fit_glmm([1, 4, 0], [10, 12, 9], [2, 3, 1])
    assert (grouped.mu, grouped.se, grouped.tau2) == pytest.approx(
        (one_by_one.mu, one_by_one.se, one_by_one.tau2), abs=TOL
    )


def test_glmm_refuses_all_zero_and_bad_input() -> None:
    with pytest.raises(ValueError):
        glmm.fit_glmm([0, 0], [5, 6])
    with pytest.raises(ValueError):
        glmm.fit_glmm([3], [2])
    assert np.isfinite(glmm.fit_glmm([0, 0, 1], [5, 6, 7]).mu)


@pytest.mark.parametrize(("xi", "ni"), [([0, 5], [5, 5]), ([0, 0, 12], [12, 12, 12]), ([0, 0, 11], [12, 12, 12])])
def test_glmm_without_a_finite_maximum_falls_back_to_reml_and_says_so(xi: list[int], ni: list[int]) -> None:
    """Cohorts all at 0 or n (mixed), or nearly so: the likelihood keeps rising with tau (lme4 reports tau² 80 for
    the last). The pooled result is then inverse-variance REML, and its ``method`` names it."""
    pooled = pool_proportions(xi, ni, "GLMM")
    reml = pool_proportions(xi, ni, "REML")
    assert pooled.method == "REML" and pooled.estimate == pytest.approx(reml.estimate)
    assert math.isfinite(pooled.ci_low) and math.isfinite(pooled.ci_high)
