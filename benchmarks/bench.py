"""Performance figures (median / p95 over repeated runs); prints a Markdown report.

    python benchmarks/bench.py                 # bundled data + 1e4, 1e5, 1e6 synthetic cohorts
    python benchmarks/bench.py --sizes 1e4     # quicker

Measures, on this machine:
- each page's server run time under AppTest: first run in a fresh process, then warm reruns;
- the same pages on synthetic datasets (benchmarks/generate.py, written to data/synthetic/,
  not committed), with the peak memory (max RSS) of the process that ran them;
- each named query's DuckDB time, and the same aggregate done by pandas (read Parquet +
  filter + groupby) as a ratio;
- cold start: `streamlit run` until /_stcore/health answers.
Targets (2 cores): warm rerun <= 100 ms median on the bundled data and <= 300 ms at 1e6
cohorts; cold start <= 1 s; peak memory <= 300 MB at 1e6.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import PAGES as ENTRY_PAGES  # noqa: E402
from nkdata.runtime import configure_allocator  # noqa: E402

PAGES = [f"pages/{p.module}.py" for p in ENTRY_PAGES]  # Registered trials reads the bundled registry


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95}


def measure_pages(dataset: str, runs: int) -> dict:
    """Run in a fresh process: AppTest timings per page, then the process's peak memory."""
    os.environ["NK_TRIALS_PATH"] = dataset
    configure_allocator()  # as dashboard.py does, before DuckDB is imported
    import tomllib

    from streamlit import config
    from streamlit.runtime.caching.global_cache_budget import reconfigure_global_cache_budget_from_config
    from streamlit.testing.v1 import AppTest

    served = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    config.set_option("server.maxCacheDataSize", served["maxCacheDataSize"])  # the served byte budget, as a server
    reconfigure_global_cache_budget_from_config()
    out: dict = {"pages": {}}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.switch_page(page)
        start = time.perf_counter()
        at.run()
        first = (time.perf_counter() - start) * 1000
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
        warm = []
        for _ in range(runs):
            start = time.perf_counter()
            at.run()
            warm.append((time.perf_counter() - start) * 1000)
        out["pages"][Path(page).stem] = {"first_ms": first, **{f"warm_{k}_ms": v for k, v in _stats(warm).items()}}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM resets at exec; ru_maxrss does not (on Linux a
    child inherits its parent's high-water mark), which once reported the generator's 2.8 GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_queries(dataset: str, runs: int) -> dict:
    configure_allocator()
    import pandas as pd

    from nkdata.repository import TrialsRepository
    from nkdata.slices import Slice

    repo = TrialsRepository(Path(dataset))
    slice_ = Slice(years=(2008, 2024), include_mixed=True)
    params = {
        **slice_.sql_params(),
        "group_by": "nk_source",
        "words": [],
        "limit": 2000,
        "events": "cr_count",
        "totals": "n_treated",
        "need_rate": True,
        "need_persistence": False,
        "need_followup": False,
        "groups": [],
        "cohort_id": repo.search_cohorts(Slice(), "", 1)[0]["cohort_id"].iloc[0],
        "exclude": [],
        "endpoint": "os",
        "landmark": 12.0,
        "medians_only": False,
        "setting": "relapsed_refractory",
    }
    out = {}
    for name in repo._queries:  # noqa: SLF001 - the benchmark times every named query
        if name.startswith(("setup_", "registry_")):
            continue
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            repo.query(name, params)
            samples.append((time.perf_counter() - start) * 1000)
        out[name] = _stats(samples)

    def pandas_group_summary() -> pd.DataFrame:
        df = pd.read_parquet(
            dataset, columns=["year", "nk_source", "aml_only", "superseded_by", "n_treated", "n_evaluable", "cr_count"]
        )
        df = df[df["year"].between(2008, 2024) & df["superseded_by"].isna()]
        reported = df[df["cr_count"].notna()]
        return (
            df.groupby("nk_source")
            .agg(cohorts=("n_treated", "size"), patients=("n_treated", "sum"))
            .join(reported.groupby("nk_source").agg(cr=("cr_count", "sum"), evaluable=("n_evaluable", "sum")))
        )

    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        pandas_group_summary()
        samples.append((time.perf_counter() - start) * 1000)
    out["pandas_group_summary"] = _stats(samples)
    return out


def measure_cold_start(runs: int) -> dict:
    from deploy.run_replicas import streamlit_command

    sys.path.insert(0, str(ROOT / "tests"))
    from server_helpers import free_port

    samples = []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        proc = subprocess.Popen(
            streamlit_command(port),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                if time.perf_counter() - start > 30:
                    break
                time.sleep(0.02)
        samples.append((time.perf_counter() - start) * 1000)
        proc.terminate()
        proc.wait(timeout=15)
    return _stats(samples)


def _in_subprocess(mode: str, dataset: str, runs: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, f"--{mode}", dataset, "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=["1e4", "1e5", "1e6"])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pages", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pages:
        print(json.dumps(measure_pages(args.pages, args.runs)))
        return 0
    if args.queries:
        print(json.dumps(measure_queries(args.queries, args.runs)))
        return 0

    datasets = {"bundled": str(ROOT / "data" / "trials.parquet")}
    for size in args.sizes:
        path = ROOT / "data" / "synthetic" / f"trials-{size}.parquet"
        if not path.exists():  # in a subprocess, so its memory does not count against the measurements
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), size, str(path)], check=True)
        datasets[size] = str(path)

    print(f"# Benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, runs={args.runs})\n")
    print("## Page server run time (AppTest; ms)\n")
    print("| dataset | page | first run | warm median | warm p95 |\n|---|---|---|---|---|")
    peaks = {}
    for label, path in datasets.items():
        result = _in_subprocess("pages", path, args.runs if label == "bundled" else max(5, args.runs // 3))
        peaks[label] = result["peak_rss_mb"]
        for page, t in result["pages"].items():
            print(f"| {label} | {page} | {t['first_ms']:.0f} | {t['warm_median_ms']:.0f} | {t['warm_p95_ms']:.0f} |")
    print("\n## Peak memory of the process running all pages (max RSS, MB)\n")
    print("| dataset | peak MB |\n|---|---|")
    for label, mb in peaks.items():
        print(f"| {label} | {mb:.0f} |")
    print("\n## Named queries (DuckDB; ms) and pandas for the same group summary\n")
    print("| dataset | query | median | p95 |\n|---|---|---|---|")
    for label, path in datasets.items():
        result = _in_subprocess("queries", path, args.runs)
        for name, t in result.items():
            print(f"| {label} | {name} | {t['median']:.1f} | {t['p95']:.1f} |")
        ratio = result["pandas_group_summary"]["median"] / result["group_summary"]["median"]
        print(f"| {label} | pandas / DuckDB (group summary) | {ratio:.1f}x | |")
    cold = measure_cold_start(5)
    print(
        f"\n## Cold start\n\n`streamlit run` until `/_stcore/health` answers: median {cold['median']:.0f} ms, "
        f"p95 {cold['p95']:.0f} ms (5 runs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
