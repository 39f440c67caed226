"""Speed of the pooling methods and the meta-regression (prints figures; not a timed test).

Targets (issue 18): a GLMM fit on 20 cohorts <= 50 ms, a meta-regression <= 50 ms. Run from the repository root:
``python benchmarks/stats_bench.py [--runs 50] [--cohorts 20]``. Data: a fixed pseudo-random set of cohorts of
5-40 patients with true CR rates around 35% (tau = 0.8 on the logit scale), a quarter of them 0/n-prone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nkdata import glmm, metareg, stats  # noqa: E402


def _cohorts(k: int, seed: int = 18) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 41, k)
    p = 1 / (1 + np.exp(-(np.log(0.35 / 0.65) + 0.8 * rng.standard_normal(k))))
    x = rng.binomial(n, p)
    year = rng.integers(2005, 2026, k).astype(float)
    return x, n, year


def _time(label: str, work: Callable[[], object], runs: int) -> None:
    work()  # warm: imports, first allocation
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(1000 * (time.perf_counter() - start))
    print(f"{label:<52} median {statistics.median(times):7.2f} ms   min {min(times):7.2f}   max {max(times):7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--cohorts", type=int, default=20)
    args = parser.parse_args()
    x, n, year = _cohorts(args.cohorts)
    k = args.cohorts
    print(f"{k} cohorts, {int(n.sum())} patients, {int(x.sum())} events, {int((x == 0).sum())} with 0 events")
    _time("GLMM fit (nkdata.glmm.fit_glmm, nAGQ 7)", lambda: glmm.fit_glmm(x, n), args.runs)
    _time("GLMM pooled proportion, t interval", lambda: stats.pool_proportions(x, n, "GLMM", test="knha"), args.runs)
    _time("REML pooled proportion, Knapp-Hartung", lambda: stats.pool_proportions(x, n, "REML", test="knha"), args.runs)
    y, v = stats.logit_and_variance(x, n)
    one = np.column_stack([np.ones(k), year])
    _time("meta-regression, 1 moderator (REML, knha)", lambda: metareg.fit(y, v, one, ["i", "year"]), args.runs)
    source = (np.arange(k) % 3).astype(float)
    three = np.column_stack([np.ones(k), year, source == 1, source == 2])
    names = ["i", "year", "s1", "s2"]
    _time("meta-regression, year + 3-level factor", lambda: metareg.fit(y, v, three, names), args.runs)


if __name__ == "__main__":
    main()
