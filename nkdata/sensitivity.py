"""Sensitivity of a pooled proportion: leave-one-out, exclusion of a subset, and the plain flags
that lower confidence in a summary-of-findings row.

A review author must show that a pooled rate does not hinge on one cohort and say why the
evidence is weak; these are pure functions of counts (and of :mod:`nkdata.stats` results), so
a page, a test and a reviewer's script get the same answer.

Rules (stated again on the About & methods page):
- leave-one-out refits the same model (REML, DL or FE) without each cohort in turn, as
  metafor's ``leave1out()``; I^2 is the Q-based one of :mod:`nkdata.stats`;
- a cohort is flagged ``outlier`` when its standardized deleted residual (metafor's
  ``rstudent()``: the cohort against the model fitted without it, tau^2 included) exceeds 1.96 in
  absolute value, the two-sided 5% point of the N(0, 1) it follows if it shares the others'
  distribution. About 1 in 20 cohorts is flagged by chance, so a flag asks for a look, not a removal.
  Not "leaving it out moves the estimate outside the full CI": under random effects an extreme
  cohort inflates tau^2 and so widens the very CI it is tested against (a test shows a 38/40 cohort
  among seven near 20% passing that rule). The ``change`` column still shows the shift;
- summary-of-findings flags: fewer than 3 cohorts; single-arm cohorts only; more than half of the
  cohorts from conference abstracts or company reports; I^2 > 50% or tau^2 > 0.25 on the logit
  scale; a 95% CI wider than 40 percentage points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nkdata import stats
from nkdata.dictionary import GREY_PUBLICATION_TYPES

LOO_COLUMNS = [
    "label",
    "events",
    "total",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "tau2",
    "i2",
    "q",
    "change",
    "rstudent",
    "outlier",
]
OUTLIER_Z = 1.96


def leave_one_out_logits(
    y: Sequence[float], v: Sequence[float], method: str = "REML", level: float = 0.95
) -> pd.DataFrame:
    """The model refitted without each estimate in turn, on the analysis scale (like metafor ``leave1out()``),
    with each left-out estimate's standardized deleted residual (metafor ``rstudent()``):
    (y_i - mu_(-i)) / sqrt(v_i + tau2_(-i) + se_(-i)^2)."""
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    rows = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        p = stats.pool_logits(y[keep], v[keep], method, level)
        rows.append(
            {
                "omitted": i,
                "mu": p.mu,
                "se": p.se,
                "ci_low": p.ci_low,
                "ci_high": p.ci_high,
                "tau2": p.tau2,
                "q": p.q,
                "q_df": p.q_df,
                "q_p": p.q_p,
                "i2": p.i2,
                "rstudent": (y[i] - p.mu) / math.sqrt(v[i] + p.tau2 + p.se**2),
            }
        )
    return pd.DataFrame(
        rows, columns=["omitted", "mu", "se", "ci_low", "ci_high", "tau2", "q", "q_df", "q_p", "i2", "rstudent"]
    )


def leave_one_out(
    events: Sequence[int],
    totals: Sequence[int],
    labels: Sequence[str],
    method: str = "REML",
    level: float = 0.95,
    single_ci: str = "clopper-pearson",
) -> pd.DataFrame:
    """One row per cohort: the pooled proportion, CI, PI, tau^2 and I^2 with that cohort left out, the change
    of the estimate (proportion, left-out minus full), its standardized deleted residual and the
    ``outlier`` flag (|residual| > 1.96). Fewer than 2 cohorts: no rows."""
    e = np.asarray(events, dtype=int)
    t = np.asarray(totals, dtype=int)
    if not len(e) == len(t) == len(labels):
        raise ValueError("events, totals and labels differ in length")
    if len(e) < 2:
        return pd.DataFrame(columns=LOO_COLUMNS)
    full = stats.pool_proportions(e, t, method, level, single_ci)
    y, v = stats.logit_and_variance(e, t)
    residuals = leave_one_out_logits(y, v, method, level)["rstudent"]
    rows = []
    for i, label in enumerate(labels):
        keep = np.arange(len(e)) != i
        r = stats.pool_proportions(e[keep], t[keep], method, level, single_ci)
        rows.append(
            {
                "label": label,
                "events": int(e[i]),
                "total": int(t[i]),
                "k": r.k,
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "pi_low": r.pi_low,
                "pi_high": r.pi_high,
                "tau2": r.tau2,
                "i2": r.i2,
                "q": r.q,
                "change": r.estimate - full.estimate,
                "rstudent": float(residuals[i]),
                "outlier": bool(abs(residuals[i]) > OUTLIER_Z),
            }
        )
    return pd.DataFrame(rows, columns=LOO_COLUMNS)


@dataclass(frozen=True)
class Exclusion:
    """The pooled result with and without a subset of cohorts (e.g. conference abstracts)."""

    full: stats.PooledResult
    kept: stats.PooledResult
    excluded: int

    @property
    def difference(self) -> float:
        """Kept minus full estimate (proportion; NaN when nothing is left)."""
        return self.kept.estimate - self.full.estimate


def exclusion_sensitivity(
    events: Sequence[int],
    totals: Sequence[int],
    exclude: Sequence[bool],
    method: str = "REML",
    level: float = 0.95,
    single_ci: str = "clopper-pearson",
) -> Exclusion:
    """Pool all cohorts, then only those not marked in ``exclude``, so a page can say how much e.g. the
    abstracts move the answer."""
    e = np.asarray(events, dtype=int)
    t = np.asarray(totals, dtype=int)
    mask = np.asarray(exclude, dtype=bool)
    if mask.shape != e.shape:
        raise ValueError("exclude must mark every cohort")
    return Exclusion(
        stats.pool_proportions(e, t, method, level, single_ci),
        stats.pool_proportions(e[~mask], t[~mask], method, level, single_ci),
        int(mask.sum()),
    )


# --- summary of findings ---------------------------------------------------------------------------

LOW_K = 3
ABSTRACT_SHARE = 0.5
I2_HIGH = 0.5  # Higgins et al. 2003: above 50% is "substantial"
TAU2_HIGH = 0.25  # tau = 0.5 on the logit scale: the middle 95% of true cohort odds spans a ~7-fold range
CI_WIDTH_WIDE = 0.40


@dataclass(frozen=True)
class Flag:
    """A reason to lower confidence: a stable ``code`` for the UI and tests, a plain-language ``text``."""

    code: str
    text: str


def confidence_flags(
    pooled: stats.PooledResult,
    publication_types: Sequence[str],
    single_arm: bool = True,
    i2_high: float = I2_HIGH,
    tau2_high: float = TAU2_HIGH,
    ci_width_wide: float = CI_WIDTH_WIDE,
) -> list[Flag]:
    """The plain flags that lower confidence in one outcome's pooled result. ``publication_types`` has one
    entry per pooled cohort; tau^2 is checked as well as I^2 because with cohorts of 5-20 patients the
    within-cohort variance is large and I^2 stays low even when true rates differ widely."""
    flags: list[Flag] = []
    if pooled.k < LOW_K:
        flags.append(Flag("few_cohorts", f"Only {pooled.k} cohort{'s' if pooled.k != 1 else ''} (fewer than {LOW_K})"))
    if single_arm:
        flags.append(Flag("single_arm", "Single-arm cohorts only: no comparator"))
    if publication_types:
        share = sum(p in GREY_PUBLICATION_TYPES for p in publication_types) / len(publication_types)
        if share > ABSTRACT_SHARE:
            flags.append(
                Flag("mostly_abstracts", f"{share:.0%} of cohorts from conference abstracts or company reports")
            )
    heterogeneity = []
    if not math.isnan(pooled.i2) and pooled.q_df > 0 and pooled.i2 > i2_high:
        heterogeneity.append(f"I\u00b2 {pooled.i2:.0%}")
    if not math.isnan(pooled.tau2) and pooled.tau2 > tau2_high:
        heterogeneity.append(f"\u03c4\u00b2 {pooled.tau2:.2f} (logit)")
    if heterogeneity:
        flags.append(Flag("heterogeneity", "High heterogeneity: " + ", ".join(heterogeneity)))
    width = pooled.ci_high - pooled.ci_low
    if pooled.has_data and width > ci_width_wide:
        flags.append(Flag("imprecision", f"Wide 95% CI: {100 * width:.0f} percentage points"))
    return flags


def summary_of_findings(
    outcomes: Mapping[str, tuple[stats.PooledResult, Sequence[str]]], single_arm: bool = True
) -> pd.DataFrame:
    """One row per outcome (in the mapping's order): k, patients, pooled estimate and CI, and its flags as
    codes and as one readable line. ``outcomes`` maps an outcome name to (pooled result, publication
    type per pooled cohort)."""
    rows = []
    for outcome, (pooled, types) in outcomes.items():
        flags = confidence_flags(pooled, types, single_arm)
        rows.append(
            {
                "outcome": outcome,
                "k": pooled.k,
                "patients": pooled.n_total,
                "estimate": pooled.estimate,
                "ci_low": pooled.ci_low,
                "ci_high": pooled.ci_high,
                "i2": pooled.i2,
                "tau2": pooled.tau2,
                "n_flags": len(flags),
                "flags": tuple(f.code for f in flags),
                "concerns": "; ".join(f.text for f in flags),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "k",
            "patients",
            "estimate",
            "ci_low",
            "ci_high",
            "i2",
            "tau2",
            "n_flags",
            "flags",
            "concerns",
        ],
    )
