"""Landmark time-to-event estimates (OS, LFS, EFS, DFS, cumulative incidence of relapse) pooled only where
they are comparable: the same endpoint at the same landmark, from cohorts whose median follow-up reaches it.

Papers give Kaplan-Meier or cumulative-incidence estimates, not counts, so each estimate enters on the logit
scale with a standard error taken from its reported 95% CI ((logit(high) - logit(low)) / (2 x 1.96), treating
the interval as symmetric on the logit scale) or, without one, from the number analysed
(1 / (n p (1 - p)), the binomial variance, with 0.5 added to events and non-events at 0% or 100%). An entry
with neither cannot be weighted and is left out (counted). Pooling is inverse variance (REML or DL, the
view's interval), as metafor ``rma(yi, vi)`` on these yi/vi (tests/test_timetoevent.py); the GLMM needs counts
and does not apply. Everything else stays narrative: median and range of the reported estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from nkdata import stats

MIN_POOLED = 2


@dataclass(frozen=True)
class LandmarkPool:
    """One setting's landmark estimates: how many were reported, how many entered the pool, and the result."""

    reported: int  # entries of the endpoint at the landmark
    short_followup: int  # left out: median follow-up shorter than the landmark, or not reported
    no_se: int  # left out: neither a CI nor the number analysed
    pooled: stats.LogitPool | None  # None below MIN_POOLED usable entries
    estimate: float = math.nan  # proportions (0-1), back-transformed; one usable entry gives itself
    ci_low: float = math.nan
    ci_high: float = math.nan
    pi_low: float = math.nan
    pi_high: float = math.nan

    @property
    def used(self) -> int:
        return self.reported - self.short_followup - self.no_se


def landmark_logits(entries: pd.DataFrame, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit estimates, their variances and a usable mask, from ``estimate_pct``, ``ci_low_pct``,
    ``ci_high_pct`` and ``n_analysed`` (percentages 0-100; nulls allowed)."""
    p = entries["estimate_pct"].to_numpy(dtype=float) / 100
    low = entries["ci_low_pct"].to_numpy(dtype=float) / 100
    high = entries["ci_high_pct"].to_numpy(dtype=float) / 100
    n = entries["n_analysed"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    z = float(special.ndtri(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        from_ci = (low > 0) & (high < 1) & (low < p) & (p < high)
        v_ci = ((special.logit(high) - special.logit(low)) / (2 * z)) ** 2
        edge = (p <= 0) | (p >= 1)
        x = p * n
        p_n = np.where(edge, (x + 0.5) / (n + 1), p)
        n_n = np.where(edge, n + 1, n)
        v_n = 1 / (n_n * p_n * (1 - p_n))
        from_n = ~from_ci & np.isfinite(v_n) & (n > 0)
        y = np.where(from_ci, special.logit(p), special.logit(p_n))
        v = np.where(from_ci, v_ci, v_n)
    usable = (from_ci | from_n) & np.isfinite(y) & np.isfinite(v) & (v > 0)
    return y, v, usable


def pool_landmark(
    entries: pd.DataFrame, landmark: float, method: str = "REML", test: str = "auto", level: float = 0.95
) -> LandmarkPool:
    """Pool one setting's entries of one endpoint at ``landmark`` months (columns as :func:`landmark_logits`
    plus ``median_followup_months``; an optional ``cohorts`` column gives multiplicities)."""
    counts = entries["cohorts"].to_numpy(dtype=float) if "cohorts" in entries else np.ones(len(entries))
    followup = entries["median_followup_months"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    reaches = followup >= landmark
    y, v, usable = landmark_logits(entries, level)
    short = int(counts[~reaches].sum())
    no_se = int(counts[reaches & ~usable].sum())
    keep = reaches & usable
    result = {"reported": int(counts.sum()), "short_followup": short, "no_se": no_se}
    if counts[keep].sum() == 0:
        return LandmarkPool(pooled=None, **result)
    if counts[keep].sum() < MIN_POOLED:
        i = int(np.flatnonzero(keep)[0])
        half = float(special.ndtri(0.5 + level / 2)) * math.sqrt(v[i])
        ends = special.expit([y[i], y[i] - half, y[i] + half])
        return LandmarkPool(pooled=None, estimate=ends[0], ci_low=ends[1], ci_high=ends[2], **result)
    pooled = stats.pool_logits(y[keep], v[keep], method, level, counts[keep], test)
    estimate, low, high, pi_low, pi_high = special.expit(
        [pooled.mu, pooled.ci_low, pooled.ci_high, pooled.pi_low, pooled.pi_high]
    )
    return LandmarkPool(
        pooled=pooled, estimate=estimate, ci_low=low, ci_high=high, pi_low=pi_low, pi_high=pi_high, **result
    )
