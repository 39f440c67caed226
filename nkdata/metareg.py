"""Meta-regression of a logit proportion on cohort-level moderators: REML mixed-effects model, Knapp-Hartung tests.

The first question a trialist asks of pooled CR rates is whether they move with dose, year or NK source.
This is metafor's ``rma(yi, vi, mods = ~ ..., method="REML", test="knha")`` (tests/test_metareg.py checks tau^2,
coefficients, SEs, the F test of moderators and R^2 against it): weighted least squares with weights
1 / (v_i + tau^2), tau^2 by REML (Fisher scoring), the coefficients' covariance scaled by the Knapp-Hartung
factor on k - p degrees of freedom, and R^2 = (tau^2 without moderators - tau^2 with) / tau^2 without, on
the same cohorts, truncated at 0. Categorical moderators enter as treatment contrasts against their first
level in alphabetical order of the code (R's default). With few small cohorts any slope is fragile: the
page says how many cohorts enter and how many lack each moderator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from nkdata import stats

# Moderator code -> (label, kind). Kinds: "numeric" (as is), "log10" (positive values, log10), "category".
MODERATORS: dict[str, tuple[str, str]] = {
    "dose": ("NK dose per kg (log10)", "log10"),
    "year": ("Publication year", "numeric"),
    "nk_source": ("NK source", "category"),
    "product_class": ("Product class", "category"),
    "lymphodepletion": ("Lymphodepletion: fludarabine-based or other", "category"),
    "cytokine": ("Cytokine support: any or none", "category"),
}
_TOL = 1e-10
_MAX_ITER = 500


def moderator_values(cohorts: pd.DataFrame, code: str) -> pd.Series:
    """One moderator per cohort from the dataset's columns; NaN/None where the paper did not report it.

    Lymphodepletion and cytokine support are free text in the data: any regimen naming fludarabine (Flu/Cy,
    Flu/Ara-C, FLAG) is "fludarabine-based", any other named regimen "other"; a cytokine text starting with
    "none" is "none", any other "any". Not reported stays missing (never "none")."""
    if code == "dose":
        dose = pd.to_numeric(cohorts["dose_max_per_kg"], errors="coerce")
        return dose.where(dose > 0)
    if code == "year":
        return pd.to_numeric(cohorts["year"], errors="coerce")
    if code in ("nk_source", "product_class"):
        return cohorts[code].where(cohorts[code].notna(), None)
    if code == "lymphodepletion":
        text = cohorts["lymphodepletion"]
        return pd.Series(
            [
                None
                if not isinstance(t, str)
                else "fludarabine-based"
                if ("flu" in t.lower() or "flag" in t.lower())
                else "other"
                for t in text
            ],
            index=cohorts.index,
            dtype=object,
        )
    if code == "cytokine":
        text = cohorts["cytokine_support"]
        return pd.Series(
            [
                None if not isinstance(t, str) else "none" if t.strip().lower().startswith("none") else "any"
                for t in text
            ],
            index=cohorts.index,
            dtype=object,
        )
    raise ValueError(f"unknown moderator {code!r}; use one of {tuple(MODERATORS)}")


def design_matrix(values: pd.DataFrame, moderators: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept plus one column per numeric moderator and one treatment contrast per non-reference level of a
    categorical one (levels that do not occur among these cohorts do not enter). ``values`` holds the
    moderators (:func:`moderator_values`) of complete cases only."""
    columns, names = [np.ones(len(values))], ["intercept"]
    for code in moderators:
        kind = MODERATORS[code][1]
        if kind == "category":
            levels = sorted(values[code].unique())
            for level in levels[1:]:
                columns.append((values[code] == level).to_numpy(dtype=float))
                names.append(f"{code}={level}")
        else:
            x = values[code].to_numpy(dtype=float)
            columns.append(np.log10(x) if kind == "log10" else x)
            names.append(code)
    return np.column_stack(columns), names


@dataclass(frozen=True)
class MetaRegression:
    """A fitted meta-regression; coefficient arrays follow ``names`` (the intercept first)."""

    k: int
    names: tuple[str, ...]
    beta: np.ndarray
    se: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tau2: float
    tau2_null: float  # REML tau^2 of the same cohorts without moderators
    r2: float  # proportion of tau^2 explained, 0-1 (NaN when tau^2 without moderators is 0)
    f: float  # test of moderators: F on (df1, df2) = (coefficients tested, k - p)
    f_df1: int
    f_df2: int
    f_p: float
    qe: float  # residual heterogeneity (fixed-effect weights)
    qe_p: float


def _weighted_fit(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> tuple[np.ndarray, np.ndarray]:
    w = 1.0 / (v + tau2)
    xtwx_inv = np.linalg.inv(x.T @ (w[:, None] * x))
    return xtwx_inv @ (x.T @ (w * y)), xtwx_inv


def _tau2_reml(y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """REML tau^2 by Fisher scoring (metafor's algorithm), from 0 and truncated at 0, step-halved if needed."""
    tau2 = max(0.0, float(np.var(y, ddof=1) - np.mean(v))) if len(y) > 1 else 0.0
    for _ in range(_MAX_ITER):
        w = 1.0 / (v + tau2)
        xw = x.T * w
        p_mat = np.diag(w) - xw.T @ np.linalg.inv(xw @ x) @ xw
        py = p_mat @ y
        step = float((py @ py - np.trace(p_mat)) / np.sum(p_mat * p_mat))
        new = tau2 + step
        while new < 0 and step < -_TOL:  # as metafor: halve the step rather than leave [0, inf)
            step /= 2
            new = tau2 + step
        new = max(0.0, new)
        if abs(new - tau2) < _TOL:
            return new
        tau2 = new
    return tau2


def fit(
    y: Sequence[float], v: Sequence[float], x: np.ndarray, names: Sequence[str], level: float = 0.95
) -> MetaRegression:
    """REML mixed-effects meta-regression with Knapp-Hartung tests (metafor ``test="knha"``: the factor is not
    truncated at 1 here, as metafor does for meta-regression). Needs k > p (a residual degree of freedom)."""
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    k, p = x.shape
    if k <= p or np.linalg.matrix_rank(x) < p:
        raise ValueError(f"{k} cohorts cannot estimate {p} coefficients (need more cohorts than coefficients)")
    tau2 = _tau2_reml(y, v, x)
    beta, xtwx_inv = _weighted_fit(y, v, x, tau2)
    w = 1.0 / (v + tau2)
    resid = y - x @ beta
    s2 = float(np.sum(w * resid**2)) / (k - p)
    vb = s2 * xtwx_inv
    se = np.sqrt(np.diag(vb))
    df2 = k - p
    t = beta / se
    pval = 2 * special.stdtr(df2, -np.abs(t))
    crit = float(special.stdtrit(df2, 0.5 + level / 2))
    m = p - 1
    if m > 0:
        b = beta[1:]
        f = float(b @ np.linalg.solve(vb[1:, 1:], b)) / m
        f_p = float(special.fdtrc(m, df2, f))
    else:
        f, f_p = math.nan, math.nan
    tau2_null = _tau2_reml(y, v, np.ones((k, 1)))
    r2 = max(0.0, (tau2_null - tau2) / tau2_null) if tau2_null > 0 else math.nan
    fe_beta, _ = _weighted_fit(y, v, x, 0.0)
    qe = float(np.sum((y - x @ fe_beta) ** 2 / v))
    return MetaRegression(
        k,
        tuple(names),
        beta,
        se,
        pval,
        beta - crit * se,
        beta + crit * se,
        tau2,
        tau2_null,
        r2,
        f,
        m,
        df2,
        f_p,
        qe,
        float(special.chdtrc(df2, qe)),
    )


@dataclass(frozen=True)
class ModeratorFit:
    """What a page needs: the cohorts with their moderators, how many lack each, and the fit (or why none)."""

    cohorts: pd.DataFrame  # every reporting cohort, with yi, vi, the moderators and ``complete``
    missing: dict[str, int]  # moderator -> cohorts that do not report it
    result: MetaRegression | None
    problem: str = ""  # why there is no fit


def fit_moderators(
    cohorts: pd.DataFrame, moderators: Sequence[str], events: str = "events", totals: str = "total"
) -> ModeratorFit:
    """Meta-regression of logit(events / totals) (0.5 added to 0/n and n/n cohorts) on ``moderators`` over the
    cohorts that report every one of them; categorical moderators with one level among them are dropped."""
    frame = cohorts.copy()
    y, v = stats.logit_and_variance(frame[events].astype(int), frame[totals].astype(int))
    frame["yi"], frame["vi"] = y, v
    missing = {}
    for code in moderators:
        frame[code] = moderator_values(frame, code)
        missing[code] = int(frame[code].isna().sum())
    frame["complete"] = frame[list(moderators)].notna().all(axis=1) if moderators else True
    if not moderators:
        return ModeratorFit(frame, missing, None, "Choose at least one moderator.")
    complete = frame[frame["complete"]]
    used = [c for c in moderators if MODERATORS[c][1] != "category" or complete[c].nunique() > 1]
    constant = [MODERATORS[c][0] for c in moderators if c not in used]
    if not used:
        return ModeratorFit(frame, missing, None, "The moderator does not vary among the cohorts that report it.")
    x, names = design_matrix(complete, used)
    try:
        result = fit(complete["yi"], complete["vi"], x, names)
    except (ValueError, np.linalg.LinAlgError) as error:
        return ModeratorFit(frame, missing, None, str(error))
    note = f"Left out (one value only among these cohorts): {', '.join(constant)}." if constant else ""
    return ModeratorFit(frame, missing, result, note)
