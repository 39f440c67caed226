"""Evidence statistics for small single-arm cohorts: intervals, random-effects pooling, summaries.

NK-cell cohorts in AML are small (often 5-20 patients, 0/6 and 5/5 are common),
so a crude total hides both uncertainty and heterogeneity. Everything here is a
pure function of counts, so the app, the tests and a reviewer's own script get
the same numbers.

Choices (stated again on the About & methods page):
- per-cohort intervals: Clopper-Pearson (exact, default) or Wilson score;
- pooling: the binomial-normal GLMM (:mod:`nkdata.glmm`, metafor ``rma.glmm``), or the logit transform with
  inverse-variance random effects, REML (metafor's ``rma`` default) or DerSimonian-Laird, or the
  fixed-effect (common-effect) model "FE" (tau^2 = 0) to show beside them; for inverse variance 0.5 is added
  to events and non-events only in cohorts with 0 or all events. :func:`pool_logits` does the
  pooling on any inverse-variance scale (logits here, log risk ratios in a test);
- confidence interval of the pooled logit: z, or for few cohorts ("knha"; "auto" below KH_BELOW cohorts)
  Knapp-Hartung with metafor's truncation ``test="adhoc"`` (the scale factor never below 1) on t(k-1), and
  for the GLMM the Wald interval on t(k-1) (``rma.glmm(test="t")``);
- groups where every cohort has zero (or every cohort all) events are not modelled at all: the pooled count
  with its exact Clopper-Pearson interval (0/116: 0-3.1%), since a logit pool with 0.5 added reports a
  non-zero rate whose interval excludes the observed zero;
- Q is Cochran's Q with fixed-effect weights; I^2 is the Q-based (Q - df) / Q,
  truncated at 0 (it differs from metafor's tau^2-based I^2 under REML);
- prediction interval: mu +- t(k-2) * sqrt(SE^2 + tau^2) (Higgins, Thompson & Spiegelhalter 2009; IntHout
  et al. 2016), only for k >= 3 (NaN below); the fixed-effect model's equals its CI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from nkdata import glmm

CI_METHODS = ("clopper-pearson", "wilson")
POOL_METHODS = ("REML", "DL", "FE", "GLMM")
IV_METHODS = ("REML", "DL", "FE")  # inverse variance: the methods pool_logits (and leave-one-out) run
TESTS = ("auto", "knha", "z")  # pooled-CI choice: Knapp-Hartung below KH_BELOW cohorts, always, or never
KH_BELOW = 10
PI_MIN_K = 3
_REML_TOL = 1e-10
_REML_MAX_ITER = 1000


def _z(level: float) -> float:
    return float(special.ndtri(0.5 + level / 2))


def _t(level: float, df: int) -> float:
    return float(special.stdtrit(df, 0.5 + level / 2))


def _chi2_sf(q: float, df: int) -> float:
    return float(special.chdtrc(df, q))


def resolve_test(test: str, k: int) -> str:
    """The interval actually used: "knha" (small-sample) or "z"; "auto" is Knapp-Hartung below KH_BELOW cohorts."""
    if test not in TESTS:
        raise ValueError(f"unknown interval {test!r}; use one of {TESTS}")
    return "knha" if test == "knha" or (test == "auto" and k < KH_BELOW) else "z"


def prediction_interval(mu: float, se: float, tau2: float, k: int, level: float = 0.95) -> tuple[float, float]:
    """Where a new cohort's true logit may fall: mu +- t(k-2) sqrt(SE^2 + tau^2); NaN below PI_MIN_K cohorts."""
    if k < PI_MIN_K:
        return math.nan, math.nan
    half = _t(level, k - 2) * math.sqrt(se**2 + tau2)
    return mu - half, mu + half


def proportion_ci(k: int, n: int, method: str = "clopper-pearson", level: float = 0.95) -> tuple[float, float]:
    """Interval for k events in n patients; exact at k = 0 and k = n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    low, high = proportion_ci_arrays(np.array([k]), np.array([n]), method, level)
    return float(low[0]), float(high[0])


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class PooledResult:
    """A pooled proportion; proportions are back-transformed from the logit scale."""

    k: int
    n_total: int
    events_total: int
    n_corrected: int
    method: str
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    pi_low: float = math.nan
    pi_high: float = math.nan
    logit: float = math.nan
    se: float = math.nan
    tau2: float = math.nan
    q: float = math.nan
    q_df: int = 0
    q_p: float = math.nan
    i2: float = math.nan
    ci_test: str = "z"  # the pooled CI as computed: "z", "knha" (t-based) or "exact" (a pooled count)
    exact: bool = False  # every cohort had zero (or all) events: the pooled count with a Clopper-Pearson CI

    @property
    def has_data(self) -> bool:
        return self.k > 0

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def _logit_and_variance(events: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit proportions and their variances, with 0.5 added only to 0/n and n/n cohorts (flagged)."""
    needs = (events == 0) | (events == totals)
    e = events + 0.5 * needs
    t = totals + 1.0 * needs
    y = np.log(e / (t - e))
    v = 1.0 / e + 1.0 / (t - e)
    return y, v, needs


def _tau2_dl(y: np.ndarray, v: np.ndarray, m: np.ndarray) -> tuple[float, float]:
    w = m / v
    mu = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu) ** 2))
    c = float(np.sum(w) - np.sum(w**2 / m) / np.sum(w))
    tau2 = max(0.0, (q - (np.sum(m) - 1)) / c) if c > 0 else 0.0
    return tau2, q


def _tau2_reml(y: np.ndarray, v: np.ndarray, m: np.ndarray, start: float) -> float:
    """REML by fixed-point iteration from the DL estimate (statsmodels has no REML)."""
    tau2 = start
    for _ in range(_REML_MAX_ITER):
        w = 1.0 / (v + tau2)
        mw, mw2 = m * w, m * w**2
        mu = np.sum(mw * y) / np.sum(mw)
        new = max(0.0, float(np.sum(mw2 * ((y - mu) ** 2 - v)) / np.sum(mw2) + 1.0 / np.sum(mw)))
        if abs(new - tau2) < _REML_TOL:
            return new
        tau2 = new
    return tau2


@dataclass(frozen=True)
class LogitPool:
    """An inverse-variance pooled estimate on the analysis scale (logit, log RR, ...), before any back-transform.

    ``i2`` is the Q-based (Q - df) / Q, truncated at 0 (NaN for one estimate)."""

    k: int
    method: str
    mu: float
    se: float
    tau2: float
    q: float
    q_df: int
    q_p: float
    i2: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    ci_test: str = "z"


def _fe_q(y: np.ndarray, v: np.ndarray, m: np.ndarray) -> float:
    """Cochran's Q with fixed-effect weights."""
    w = m / v
    return float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))


def pool_logits(
    y: Sequence[float],
    v: Sequence[float],
    method: str = "REML",
    level: float = 0.95,
    counts: Sequence[int] | None = None,
    test: str = "z",
) -> LogitPool:
    """Inverse-variance pooling of estimates ``y`` with sampling variances ``v``: REML, DL or FE (tau^2 = 0).

    The proportion API sits on top of this; it takes yi/vi directly so it can be checked against
    published metafor output for any effect measure. ``counts`` as in :func:`pool_proportions`; ``test`` as
    :func:`resolve_test` (Knapp-Hartung: metafor ``test="adhoc"``)."""
    if method not in IV_METHODS:
        raise ValueError(f"unknown pooling method {method!r}; use one of {IV_METHODS}")
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    m = np.ones_like(y) if counts is None else np.asarray(counts, dtype=float)
    if y.shape != v.shape or y.shape != m.shape:
        raise ValueError("estimates, variances and counts differ in length")
    if len(y) == 0 or np.any(v <= 0) or np.any(m < 1) or not np.all(np.isfinite(y)):
        raise ValueError("need at least one finite estimate, every variance > 0 and every count >= 1")
    k = int(m.sum())
    z = _z(level)
    if k == 1:
        se = math.sqrt(v[0])
        mu = float(y[0])
        return LogitPool(
            1, method, mu, se, 0.0, 0.0, 0, math.nan, math.nan, mu - z * se, mu + z * se, math.nan, math.nan
        )
    tau2, q = _tau2_dl(y, v, m)
    if method == "REML":
        tau2 = _tau2_reml(y, v, m, tau2)
    elif method == "FE":
        tau2 = 0.0
    w = m / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(1.0 / math.sqrt(np.sum(w)))
    df = k - 1
    ci_test = resolve_test(test, k)
    half = z * se
    if ci_test == "knha":  # metafor test="adhoc": the Knapp-Hartung factor, never below 1, on t(k-1)
        half = _t(level, df) * se * math.sqrt(max(1.0, float(np.sum(w * (y - mu) ** 2)) / df))
    pi_low, pi_high = (mu - half, mu + half) if method == "FE" else prediction_interval(mu, se, tau2, k, level)
    return LogitPool(
        k,
        method,
        mu,
        se,
        float(tau2),
        q,
        df,
        _chi2_sf(q, df),
        max(0.0, (q - df) / q) if q > 0 else 0.0,
        mu - half,
        mu + half,
        pi_low,
        pi_high,
        ci_test,
    )


def pool_glmm(
    events: np.ndarray, totals: np.ndarray, counts: np.ndarray, level: float = 0.95, test: str = "z"
) -> LogitPool:
    """The binomial-normal GLMM (metafor ``rma.glmm(measure="PLO")``) as a LogitPool: Wald CI on z, or on
    t(k-1) for ``knha`` (``rma.glmm(test="t")``); Q and I^2 as the inverse-variance ones, for comparison.
    Without a finite maximum (the fit did not converge) the SE is NaN, and the caller falls back."""
    k = int(counts.sum())
    fit = glmm.fit_glmm(events, totals, counts)
    y, v, _ = _logit_and_variance(events, totals)
    if not fit.converged:
        return replace(pool_logits(y, v, "REML", level, counts, test), se=math.nan)
    q = _fe_q(y, v, counts)
    ci_test = resolve_test(test, k)
    half = (_t(level, k - 1) if ci_test == "knha" else _z(level)) * fit.se
    pi_low, pi_high = prediction_interval(fit.mu, fit.se, fit.tau2, k, level)
    return LogitPool(
        k,
        "GLMM",
        fit.mu,
        fit.se,
        fit.tau2,
        q,
        k - 1,
        _chi2_sf(q, k - 1),
        max(0.0, (q - k + 1) / q) if q > 0 else 0.0,
        fit.mu - half,
        fit.mu + half,
        pi_low,
        pi_high,
        ci_test,
    )


def logit_and_variance(events: Sequence[int], totals: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-cohort logits and variances as pooled (0.5 added only to 0/n and n/n cohorts)."""
    y, v, _ = _logit_and_variance(np.asarray(events, dtype=float), np.asarray(totals, dtype=float))
    return y, v


def pool_proportions(
    events: Sequence[int],
    totals: Sequence[int],
    method: str = "REML",
    level: float = 0.95,
    single_ci: str = "clopper-pearson",
    counts: Sequence[int] | None = None,
    test: str = "z",
) -> PooledResult:
    """Pooled proportion on the logit scale: the GLMM, random effects (REML, DL) or fixed effect (FE).

    ``counts`` says how many cohorts share each (events, total) pair: a large slice arrives
    from SQL as its distinct pairs, and every sum below is the same as over the cohorts one
    by one (a test checks this). k = 0 gives a result with ``has_data`` False; k = 1 gives
    that cohort's own proportion and ``single_ci`` interval (its logit and SE are still
    filled so it can enter a subgroup test). Every cohort with zero events (or every cohort with all
    events) gives the pooled count with its exact interval (``exact``), whatever the method.
    ``test`` chooses the pooled CI (:func:`resolve_test`).
    """
    if method not in POOL_METHODS:
        raise ValueError(f"unknown pooling method {method!r}; use one of {POOL_METHODS}")
    e = np.asarray(events, dtype=float)
    t = np.asarray(totals, dtype=float)
    m = np.ones_like(e) if counts is None else np.asarray(counts, dtype=float)
    if e.shape != t.shape or e.shape != m.shape:
        raise ValueError("events, totals and counts differ in length")
    if np.any(t <= 0) or np.any(e < 0) or np.any(e > t) or np.any(m < 1):
        raise ValueError("each cohort needs 0 <= events <= total and total > 0")
    k = int(m.sum())
    base = {"k": k, "n_total": int((m * t).sum()), "events_total": int((m * e).sum()), "method": method}
    if k == 0:
        return PooledResult(n_corrected=0, **base)
    y, v, needs = _logit_and_variance(e, t)
    n_corrected = int(np.sum(m * needs))
    if k == 1:
        low, high = proportion_ci(int(e[0]), int(t[0]), single_ci, level)
        return PooledResult(
            n_corrected=n_corrected,
            estimate=float(e[0] / t[0]),
            ci_low=low,
            ci_high=high,
            pi_low=math.nan,
            pi_high=math.nan,
            logit=float(y[0]),
            se=math.sqrt(v[0]),
            tau2=0.0,
            q=0.0,
            q_df=0,
            **base,
        )
    if np.all(e == 0) or np.all(e == t):
        return exact_pooled_count(base, level)
    p = pool_glmm(e, t, m, level, test) if method == "GLMM" and not np.all((e == 0) | (e == t)) else None
    if p is None or not math.isfinite(p.se):  # no finite GLMM maximum: inverse variance (REML), named as such
        p = pool_logits(y, v, "REML" if method == "GLMM" else method, level, m, test)
        base["method"] = p.method
    return PooledResult(
        n_corrected=0 if p.method == "GLMM" else n_corrected,
        estimate=_expit(p.mu),
        ci_low=_expit(p.ci_low),
        ci_high=_expit(p.ci_high),
        pi_low=_expit(p.pi_low) if math.isfinite(p.pi_low) else math.nan,
        pi_high=_expit(p.pi_high) if math.isfinite(p.pi_high) else math.nan,
        logit=p.mu,
        se=p.se,
        tau2=p.tau2,
        q=p.q,
        q_df=p.q_df,
        q_p=p.q_p,
        i2=p.i2,
        ci_test=p.ci_test,
        **base,
    )


def exact_pooled_count(base: dict, level: float = 0.95) -> PooledResult:
    """Zero (or all) events in every cohort: the pooled count and its Clopper-Pearson interval, no model.
    No logit, SE, tau^2 or prediction interval exists (NaN), so the group never enters a subgroup test."""
    low, high = proportion_ci(base["events_total"], base["n_total"], "clopper-pearson", level)
    return PooledResult(
        n_corrected=0,
        estimate=base["events_total"] / base["n_total"],
        ci_low=low,
        ci_high=high,
        ci_test="exact",
        exact=True,
        **base,
    )


@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences: Q between pooled subgroup estimates (separate tau^2 per group)."""

    q_between: float
    df: int
    p: float
    groups: int


def proportion_ci_arrays(
    k: np.ndarray, n: np.ndarray, method: str = "clopper-pearson", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`proportion_ci` for many cohorts at once (same formulas)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1 - level
    if method == "clopper-pearson":
        with np.errstate(invalid="ignore", divide="ignore"):
            low = np.where(k == 0, 0.0, special.betaincinv(k, n - k + 1, alpha / 2))
            high = np.where(k == n, 1.0, special.betaincinv(k + 1, n - k, 1 - alpha / 2))
        return low, high
    if method == "wilson":
        z = _z(level)
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        low = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
        high = np.where(k == n, 1.0, np.minimum(1.0, centre + half))
        return low, high
    raise ValueError(f"unknown CI method {method!r}; use one of {CI_METHODS}")


def cohort_rates(
    cohorts: pd.DataFrame, events: str, totals: str, ci_method: str = "clopper-pearson", level: float = 0.95
) -> pd.DataFrame:
    """Cohorts with both counts reported, with rate and interval; others are left out here
    (callers count them as "not reported")."""
    mask = cohorts[events].notna() & cohorts[totals].notna() & (cohorts[totals] > 0)
    usable = cohorts.loc[mask].copy()
    usable[events] = usable[events].astype(int)
    usable[totals] = usable[totals].astype(int)
    low, high = proportion_ci_arrays(usable[events].to_numpy(), usable[totals].to_numpy(), ci_method, level)
    usable["rate"] = usable[events] / usable[totals]
    usable["ci_low"] = low
    usable["ci_high"] = high
    return usable


def pool_by_group(
    rates: pd.DataFrame,
    group: str,
    events: str,
    totals: str,
    method: str = "REML",
    level: float = 0.95,
    single_ci: str = "clopper-pearson",
    counts: str | None = None,
    test: str = "z",
) -> tuple[pd.DataFrame, SubgroupTest]:
    """Pooled estimate per subgroup (each pooled alone) and the test for subgroup differences (groups with a
    model estimate; an exact pooled count has no logit). ``counts`` names a column of multiplicities (see
    :func:`pool_proportions`)."""
    rows = []
    for name, part in rates.groupby(group, sort=True, dropna=False):
        result = pool_proportions(
            part[events].tolist(),
            part[totals].tolist(),
            method,
            level,
            single_ci,
            part[counts].tolist() if counts else None,
            test,
        )
        rows.append({group: name, **result.as_dict()})
    table = pd.DataFrame(rows)
    if table.empty:
        return table, SubgroupTest(math.nan, 0, math.nan, 0)
    usable = table[(table["k"] > 0) & np.isfinite(table["se"].astype(float))]
    w = 1.0 / usable["se"].to_numpy() ** 2
    y = usable["logit"].to_numpy()
    if len(usable) < 2:
        return table, SubgroupTest(math.nan, 0, math.nan, len(usable))
    mu = float(np.sum(w * y) / np.sum(w))
    q_between = float(np.sum(w * (y - mu) ** 2))
    df = len(usable) - 1
    return table, SubgroupTest(q_between, df, _chi2_sf(q_between, df), len(usable))


def forest_rows(
    pooled: pd.DataFrame,
    overall: PooledResult,
    group: str,
    cohorts: pd.DataFrame | None = None,
    events: str = "events",
    totals: str = "total",
) -> pd.DataFrame:
    """The rows of a forest plot in display order: each cohort of ``cohorts`` (rows of
    :func:`cohort_rates`, weighted within its subgroup by that subgroup's tau^2), a diamond per
    subgroup of ``pooled`` (from :func:`pool_by_group`) and the ``overall`` diamond, the diamonds
    with their prediction interval (``pi_low``/``pi_high``, NaN on cohort rows). Without
    ``cohorts`` only the diamonds (for slices with too many cohorts to draw)."""
    columns = [
        "order",
        "kind",
        "group",
        "label",
        "estimate",
        "ci_low",
        "ci_high",
        "weight",
        "events",
        "total",
        "cohort_id",
        "first_author",
        "year",
        "product",
        "pi_low",
        "pi_high",
    ]
    if pooled.empty or overall.k == 0:
        return pd.DataFrame(columns=columns)
    if cohorts is None:
        cohorts = pd.DataFrame(columns=[group, events, totals, "year", "first_author", "cohort_id"])
    out: list[dict] = []
    for _, g in pooled[pooled["k"] > 0].iterrows():
        part = cohorts[cohorts[group] == g[group]].sort_values(["year", "first_author", "cohort_id"])
        _, v, _ = _logit_and_variance(part[events].to_numpy(float), part[totals].to_numpy(float))
        # inverse-variance weights with the group's tau^2 (approximate for the GLMM); an exact pooled count
        # weighs each cohort by its patients
        w = part[totals].to_numpy(float) if g.get("exact") else 1.0 / (v + (g["tau2"] if g["k"] > 1 else 0.0))
        weights = w / w.sum() if len(w) else w
        for (_, row), weight in zip(part.iterrows(), weights, strict=True):
            out.append(
                {
                    "kind": "cohort",
                    "group": g[group],
                    "label": f"{row['first_author']} {row['year']} - {row['product']} ({row[events]}/{row[totals]})",
                    "estimate": row["rate"],
                    "ci_low": row["ci_low"],
                    "ci_high": row["ci_high"],
                    "weight": float(weight),
                    "events": int(row[events]),
                    "total": int(row[totals]),
                    "cohort_id": row["cohort_id"],
                    "first_author": row["first_author"],
                    "year": int(row["year"]),
                    "product": row["product"],
                }
            )
        out.append(
            {
                "kind": "pooled",
                "group": g[group],
                "label": f"Pooled: {g[group]} (k={g['k']}, N={g['n_total']})",
                "estimate": g["estimate"],
                "ci_low": g["ci_low"],
                "ci_high": g["ci_high"],
                "weight": 1.0,
                "events": int(g["events_total"]),
                "total": int(g["n_total"]),
                "pi_low": g["pi_low"],
                "pi_high": g["pi_high"],
            }
        )
    out.append(
        {
            "kind": "overall",
            "group": "All",
            "label": f"Overall (k={overall.k}, N={overall.n_total})",
            "estimate": overall.estimate,
            "ci_low": overall.ci_low,
            "ci_high": overall.ci_high,
            "weight": 1.0,
            "events": overall.events_total,
            "total": overall.n_total,
            "pi_low": overall.pi_low,
            "pi_high": overall.pi_high,
        }
    )
    frame = pd.DataFrame(out, columns=[c for c in columns if c != "order"])
    frame.insert(0, "order", range(len(frame)))
    return frame


@dataclass(frozen=True)
class Correlation:
    n: int
    rho: float
    p: float


def rank_correlation(n: int, rho: float | None, distinct_x: int, distinct_y: int) -> Correlation:
    """Spearman's rho with the two-sided t-approximation p-value of scipy.stats.spearmanr; NaN below
    3 pairs or when either side does not vary (SQL's corr() then gives null or NaN). The ranking
    itself happens in SQL (persistence_rank_correlation), so a large slice is never held here
    cohort by cohort."""
    if n < 3 or distinct_x < 2 or distinct_y < 2 or pd.isna(rho):
        return Correlation(n, math.nan, math.nan)
    rho = min(1.0, max(-1.0, float(rho)))
    df = n - 2
    t = rho * math.sqrt(df / ((1 - rho) * (1 + rho))) if abs(rho) < 1 else math.copysign(math.inf, rho)
    return Correlation(n, rho, float(2 * special.stdtr(df, -abs(t))))
