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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

NODES = 7  # lme4's nAGQ as metafor's rma.glmm calls it
_NEWTON_STEPS = 50
_NEWTON_TOL = 1e-8  # the quadrature error from u off by 1e-8 is ~1e-16: the gradient is 0 at the mode
_TAU_MAX = 10.0  # tau² 100 on the logit scale: beyond any plausible spread of true rates
_STEP = 1e-4  # finite-difference step on the logit scale
_TOL = 1e-8
_MAX_ITER = 40


@dataclass(frozen=True)
class GlmmFit:
    """mu and its SE on the logit scale, tau^2 of the random intercept, the maximised log-likelihood."""

    mu: float
    se: float
    tau2: float
    loglik: float
    converged: bool


def _cohort_loglik(
    mu: np.ndarray,
    tau: np.ndarray,
    x: np.ndarray,
    n: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    modes: list[np.ndarray],
) -> np.ndarray:
    """Log marginal likelihood of each cohort (columns) at each of several (mu, tau) points (rows), by adaptive
    Gauss-Hermite quadrature; exact at tau = 0, where the integrand does not depend on the random effect.

    Several points per call because finite differences need nine at once and numpy's per-call cost, not the
    arithmetic, dominates at 20 cohorts. ``modes`` (a one-item list) carries the conditional modes between
    calls: the optimiser moves (mu, tau) a little each time, so Newton's method starts next to the answer."""
    mu = np.asarray(mu, dtype=float)[:, None]
    tau = np.abs(np.asarray(tau, dtype=float))[:, None]  # the likelihood is even in tau (b = tau * u)
    u = _modes(mu, tau, x, n, modes[0] if modes else np.zeros_like(x))
    if not np.all(np.isfinite(u)):  # a warm start from far away can overshoot: start again from 0
        u = _modes(mu, tau, x, n, np.zeros_like(x))
    if np.all(np.isfinite(u[0])):
        modes[:] = [u[0]]
    p = special.expit(mu + tau * u)
    sigma = 1.0 / np.sqrt(tau * tau * n * p * (1 - p) + 1.0)
    nodes = u[..., None] + math.sqrt(2.0) * sigma[..., None] * z
    eta = mu[..., None] + tau[..., None] * nodes
    log_h = x[:, None] * eta - n[:, None] * np.logaddexp(0.0, eta) - 0.5 * nodes**2 + z**2
    return np.log(math.sqrt(2.0) * sigma) - 0.5 * math.log(2 * math.pi) + special.logsumexp(log_h, b=w, axis=-1)


def _modes(mu: np.ndarray, tau: np.ndarray, x: np.ndarray, n: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Conditional modes of the random effects by Newton's method (a concave 1-D problem per cohort)."""
    u = np.broadcast_to(start, (mu.shape[0], x.shape[0])).copy()
    with np.errstate(invalid="ignore", over="ignore"):
        for _ in range(_NEWTON_STEPS):
            p = special.expit(mu + tau * u)
            step = (tau * (x - n * p) - u) / (tau * tau * n * p * (1 - p) + 1.0)
            u += step
            if np.max(np.abs(step)) < _NEWTON_TOL:
                break
    return u


_OFFSETS = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=float)


def _derivatives(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray], a: float, b: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """f, its gradient and Hessian at (a, b) by central differences (nine points in one call)."""
    h = _STEP
    f0, fa, fA, fb, fB, fab, faB, fAb, fAB = f(a + h * _OFFSETS[:, 0], b + h * _OFFSETS[:, 1])
    cross = (fab - faB - fAb + fAB) / (4 * h * h)
    grad = np.array([(fa - fA) / (2 * h), (fb - fB) / (2 * h)])
    hess = np.array([[(fa - 2 * f0 + fA) / h**2, cross], [cross, (fb - 2 * f0 + fB) / h**2]])
    return float(f0), grad, hess


def _minimise(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray], start: tuple[float, float]
) -> tuple[float, float, bool]:
    """Newton's method with a backtracking line search (a gradient step where the Hessian is not positive definite).

    Two parameters and a smooth deviance: this needs no BLAS-backed optimiser, whose thread start-up cost more
    than the fit itself on a loaded 2-core machine (docs/decisions.md, "GLMM")."""
    a, b = start
    scales = 0.5 ** np.arange(20)
    for _ in range(_MAX_ITER):
        f0, grad, hess = _derivatives(f, a, b)
        det = hess[0, 0] * hess[1, 1] - hess[0, 1] ** 2
        if hess[0, 0] > 0 and det > 0:
            step = -np.array([hess[1, 1] * grad[0] - hess[0, 1] * grad[1], hess[0, 0] * grad[1] - hess[0, 1] * grad[0]])
            step /= det
        else:
            step = -grad / max(1.0, float(np.max(np.abs(np.diag(hess)))))
        values = f(a + scales * step[0], b + scales * step[1])  # every halving at once; take the first that helps
        better = np.flatnonzero(values <= f0)
        scale = scales[better[0]] if len(better) else 0.0
        a, b = a + scale * step[0], b + scale * step[1]
        if max(abs(scale * step[0]), abs(scale * step[1])) < _TOL:
            return a, b, True
    return a, b, False


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
    const = float(np.sum(m * (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1))))
    modes: list[np.ndarray] = []

    def deviance(mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
        mu, tau = np.atleast_1d(mu).astype(float), np.atleast_1d(tau).astype(float)
        with np.errstate(invalid="ignore", over="ignore"):
            out = -2.0 * (const + _cohort_loglik(mu, tau, x, n, z, w, modes) @ m)
        return np.where(np.isfinite(mu) & (np.abs(tau) <= _TAU_MAX) & np.isfinite(out), out, np.inf)

    if start is None:
        pooled = (np.sum(m * x) + 0.5) / (np.sum(m * n) + 1.0)
        start = (math.log(pooled / (1 - pooled)), 0.5)
    mu, tau, converged = _minimise(deviance, start)
    tau = abs(tau)
    edge = deviance(np.array([mu, mu]), np.array([0.0, tau]))
    if tau < 1e-4 and edge[0] <= edge[1] + 1e-9:
        tau = 0.0  # the maximum is on the boundary (as lme4 reports it)
    f0, _, hess = _derivatives(deviance, mu, tau)
    se = _se_mu(hess, tau)
    # tau running off to its bound means the likelihood keeps rising (e.g. cohorts all at 0 or all at n):
    # no maximum to report, and the caller falls back to inverse variance
    converged = converged and tau < 0.99 * _TAU_MAX and math.isfinite(se) and math.isfinite(f0)
    return GlmmFit(float(mu), se, tau * tau, -0.5 * f0, converged)


def _se_mu(hess: np.ndarray, tau: float) -> float:
    """SE of mu from the inverse Hessian of the deviance (observed information, as lme4's vcov()); at tau = 0
    (the boundary) from the mu-mu element alone, tau held at 0."""
    d_mm, d_mt, d_tt = hess[0, 0], hess[0, 1], hess[1, 1]
    det = d_mm * d_tt - d_mt**2
    if tau > 0 and det > 0:
        return math.sqrt(2.0 * d_tt / det)
    return math.sqrt(2.0 / d_mm) if d_mm > 0 else math.nan
