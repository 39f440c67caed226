"""Binomial-normal generalized linear mixed model for pooled proportions (random intercept on the logit, ML).

Cohorts of 3-40 patients with 0/n results are where inverse-variance pooling of logits is weakest: it needs
a 0.5 correction and treats the estimated variance of a tiny cohort as known. The GLMM uses each cohort's
exact binomial likelihood instead (Stijnen, Hamza & Ozdemir 2010; Schwarzer et al. 2019). This is the model
of metafor's ``rma.glmm(measure="PLO", xi=, ni=)``, which fits it with lme4's ``glmer(..., nAGQ=7)``: the
marginal likelihood of each cohort is integrated over its random effect with adaptive Gauss-Hermite
quadrature (7 nodes centred on the conditional mode, scaled by its curvature), maximised over (mu, tau), and
the SE of mu comes from the Hessian of the deviance, as lme4's ``vcov()`` (tests/fixtures/stats).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

NODES = 7  # lme4's nAGQ as metafor's rma.glmm calls it
_NEWTON_STEPS = 50
_NEWTON_TOL = 1e-12
_TAU_MAX = 20.0
_HESSIAN_STEP = 1e-4


@dataclass(frozen=True)
class GlmmFit:
    """mu and its SE on the logit scale, tau^2 of the random intercept, the maximised log-likelihood."""

    mu: float
    se: float
    tau2: float
    loglik: float
    converged: bool


def _cohort_loglik(
    mu: float, tau: float, x: np.ndarray, n: np.ndarray, const: np.ndarray, z: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Each cohort's log marginal likelihood by adaptive Gauss-Hermite quadrature (exact when tau = 0)."""
    if tau <= 0.0:
        eta = np.full_like(x, mu)
        return const + x * eta - n * np.logaddexp(0.0, eta)
    u = np.zeros_like(x)
    for _ in range(_NEWTON_STEPS):  # conditional mode of the random effect: a concave 1-D problem per cohort
        p = special.expit(mu + tau * u)
        grad = tau * (x - n * p) - u
        step = grad / (tau * tau * n * p * (1 - p) + 1.0)
        u = u + step
        if np.max(np.abs(step)) < _NEWTON_TOL:
            break
    p = special.expit(mu + tau * u)
    sigma = 1.0 / np.sqrt(tau * tau * n * p * (1 - p) + 1.0)
    nodes = u[:, None] + math.sqrt(2.0) * sigma[:, None] * z[None, :]
    eta = mu + tau * nodes
    log_h = x[:, None] * eta - n[:, None] * np.logaddexp(0.0, eta) - 0.5 * nodes**2 + z[None, :] ** 2
    return const + np.log(math.sqrt(2.0) * sigma) - 0.5 * math.log(2 * math.pi) + special.logsumexp(log_h, b=w, axis=1)


def fit_glmm(
    events: Sequence[int],
    totals: Sequence[int],
    counts: Sequence[int] | None = None,
    nodes: int = NODES,
    start: tuple[float, float] | None = None,
) -> GlmmFit:
    """Maximum-likelihood fit of logit(p_i) = mu + b_i, b_i ~ N(0, tau^2), x_i ~ Binomial(n_i, p_i).

    ``counts`` gives how many cohorts share each (events, total) pair, as in :func:`nkdata.stats.pool_proportions`.
    ``start`` is (mu, tau); by default the logit of the pooled count and tau = 0.5. Every cohort having zero
    (or all) events has no finite maximum: callers pool those as an exact count instead."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    m = np.ones_like(x) if counts is None else np.asarray(counts, dtype=float)
    if len(x) == 0 or x.shape != n.shape or x.shape != m.shape or np.any(n <= 0) or np.any((x < 0) | (x > n)):
        raise ValueError("need at least one cohort, each with 0 <= events <= total and total > 0")
    if np.all(x == 0) or np.all(x == n):
        raise ValueError("every cohort has zero (or all) events: the GLMM has no finite estimate")
    z, w = np.polynomial.hermite.hermgauss(nodes)
    const = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)

    def deviance(theta: np.ndarray) -> float:
        return float(-2.0 * np.sum(m * _cohort_loglik(theta[0], max(theta[1], 0.0), x, n, const, z, w)))

    if start is None:
        pooled = (np.sum(m * x) + 0.5) / (np.sum(m * n) + 1.0)
        start = (math.log(pooled / (1 - pooled)), 0.5)
    result = optimize.minimize(
        deviance,
        np.array(start, dtype=float),
        method="L-BFGS-B",
        bounds=[(None, None), (0.0, _TAU_MAX)],
        options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500},
    )
    mu, tau = float(result.x[0]), float(result.x[1])
    if tau < 1e-5 and deviance(np.array([mu, 0.0])) <= result.fun + 1e-9:
        tau = 0.0
    return GlmmFit(mu, _se_mu(deviance, mu, tau), tau * tau, -0.5 * deviance(np.array([mu, tau])), bool(result.success))


def _se_mu(deviance, mu: float, tau: float) -> float:  # noqa: ANN001 - a closure over the data
    """SE of mu from the inverse Hessian of the deviance (observed information, as lme4's vcov());
    at tau = 0 (the boundary) from the mu-mu element alone, tau held at 0."""
    h = _HESSIAN_STEP

    def d(a: float, b: float) -> float:
        return deviance(np.array([a, b]))

    d_mm = (d(mu + h, tau) - 2 * d(mu, tau) + d(mu - h, tau)) / h**2
    if tau <= 2 * h:
        return math.sqrt(2.0 / d_mm) if d_mm > 0 else math.nan
    d_tt = (d(mu, tau + h) - 2 * d(mu, tau) + d(mu, tau - h)) / h**2
    d_mt = (d(mu + h, tau + h) - d(mu + h, tau - h) - d(mu - h, tau + h) + d(mu - h, tau - h)) / (4 * h * h)
    det = d_mm * d_tt - d_mt**2
    if det <= 0:
        return math.sqrt(2.0 / d_mm) if d_mm > 0 else math.nan
    return math.sqrt(2.0 * d_tt / det)
