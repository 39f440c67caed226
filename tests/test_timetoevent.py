"""Landmark pooling against metafor: ``Rscript tests/fixtures/stats/timetoevent.R`` computed yi/vi by the rules of
nkdata/timetoevent.py in R, then ``rma(yi, vi, method="REML")`` and ``rma(..., test="adhoc")`` over the entries whose
median follow-up reaches 24 months (values in tests/fixtures/stats/timetoevent.json; R is not needed here)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special

from nkdata import timetoevent
from nkdata.paths import REPO_ROOT

REF = json.loads((REPO_ROOT / "tests" / "fixtures" / "stats" / "timetoevent.json").read_text())
TOL = 1e-4


def _entries() -> pd.DataFrame:
    d = pd.DataFrame(REF["data"])
    return pd.DataFrame(
        {
            "estimate_pct": d["est"],
            "ci_low_pct": d["lo"],
            "ci_high_pct": d["hi"],
            "n_analysed": d["n"].astype("Int64"),
            "median_followup_months": d["fu"],
        }
    )


def test_logits_and_variances_follow_the_stated_rules() -> None:
    y, v, usable = timetoevent.landmark_logits(_entries())
    assert usable.all()
    assert y == pytest.approx(REF["yi"], abs=1e-12) and v == pytest.approx(REF["vi"], abs=1e-12)


def test_pool_equals_rma_on_entries_that_reach_the_landmark() -> None:
    result = timetoevent.pool_landmark(_entries(), REF["landmark"], "REML", test="z")
    assert (result.reported, result.short_followup, result.no_se, result.used) == (6, 1, 0, 5)
    p = result.pooled
    assert (p.mu, p.se, p.tau2) == pytest.approx((REF["reml"]["mu"], REF["reml"]["se"], REF["reml"]["tau2"]), abs=TOL)
    assert (result.ci_low, result.ci_high) == pytest.approx(tuple(special.expit(REF["reml"]["ci"])), abs=TOL)
    assert (result.pi_low, result.pi_high) == pytest.approx(tuple(special.expit(REF["pi_t"])), abs=TOL)
    kh = timetoevent.pool_landmark(_entries(), REF["landmark"], "REML", test="knha")
    assert (kh.ci_low, kh.ci_high) == pytest.approx(tuple(special.expit(REF["reml_adhoc"]["ci"])), abs=TOL)


def test_short_or_unknown_follow_up_and_no_se_are_left_out() -> None:
    entries = _entries()
    entries.loc[0, "median_followup_months"] = np.nan  # unknown follow-up: cannot be shown to reach 24 months
    entries.loc[3, ["ci_low_pct", "ci_high_pct"]] = np.nan  # neither CI nor n: cannot be weighted
    result = timetoevent.pool_landmark(entries, 24.0)
    assert (result.short_followup, result.no_se, result.used) == (2, 1, 3)
    one = timetoevent.pool_landmark(entries.iloc[[1, 5]], 24.0)
    assert one.pooled is None and one.used == 1 and one.estimate == pytest.approx(0.55)
    assert timetoevent.pool_landmark(entries.iloc[[5]], 24.0).used == 0


def test_follow_up_exactly_at_the_landmark_reaches_it() -> None:
    """A 24-month median follow-up reaches the 24-month landmark (bug: '>' for 'reaches' left it out)."""
    entries = _entries().iloc[[1, 2]].reset_index(drop=True)
    entries["median_followup_months"] = [24.0, 24.0]
    result = timetoevent.pool_landmark(entries, 24.0)
    assert (result.short_followup, result.used) == (0, 2) and result.pooled is not None
    entries.loc[0, "median_followup_months"] = 23.9
    assert timetoevent.pool_landmark(entries, 24.0).short_followup == 1


def test_two_usable_entries_are_pooled_and_one_gives_its_own_interval() -> None:
    """MIN_POOLED = 2 entries make a pool; one usable entry shows its own estimate and CI from its logit
    variance (bug: a pool of one, or the interval of another entry)."""
    entries = _entries().iloc[[1, 2]].reset_index(drop=True)
    entries["median_followup_months"] = [36.0, 36.0]
    two = timetoevent.pool_landmark(entries, 24.0)
    assert two.pooled is not None and two.used == timetoevent.MIN_POOLED
    one = timetoevent.pool_landmark(entries.iloc[[1]], 24.0)
    y, v, _ = timetoevent.landmark_logits(entries.iloc[[1]])
    half = 1.959963984540054 * np.sqrt(v[0])
    assert one.pooled is None
    assert (one.estimate, one.ci_low, one.ci_high) == pytest.approx(
        tuple(special.expit([y[0], y[0] - half, y[0] + half]))
    )


def test_multiplicities_count_as_that_many_cohorts() -> None:
    """A row standing for 3 identical cohorts is 3 reported and 3 short (bug: counted once)."""
    entries = _entries().iloc[[1, 2]].reset_index(drop=True)
    entries["median_followup_months"] = [12.0, 36.0]
    entries["cohorts"] = [3, 1]
    result = timetoevent.pool_landmark(entries, 24.0)
    assert (result.reported, result.short_followup, result.used) == (4, 3, 1)
