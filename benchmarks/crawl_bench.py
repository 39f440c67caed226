"""Server memory under a crawl of distinct links: RSS every 100 links (issue 22, "memory bounded in bytes").

    python benchmarks/crawl_bench.py                 # 2,000 distinct links on the bundled data
    python benchmarks/crawl_bench.py --links 400 --threads 2

Each link is a new visitor (an agent-API session with its own cookies) opening one page with one distinct
combination of link parameters (slice, analysis choices, Studies search, open cohort card), as a crawler
following shared links would. Sessions expire after the server's agent TTL, so what stays in memory is what
the caches keep. Prints a table of links done, VmRSS and VmHWM (peak) of the server process, errors, and
the same figures for a trivial one-chart page served in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.browser_bench import TRIVIAL, memory_mb, open_session, start_server, wait_for_expiry  # noqa: E402
from deploy.run_replicas import pick_free_ports, stop  # noqa: E402
from nkdata.paths import DEFAULT_TRIALS_PATH  # noqa: E402

PAGES = ("overview", "outcomes", "survival", "persistence", "relapse", "safety", "evidence", "studies", "pipeline")
SOURCES = ("peripheral_blood", "umbilical_cord_blood", "cell_line", "ipsc", "placenta")
CLASSES = ("activated", "memory_like", "expanded", "car_engineered")
SETTINGS = ("relapsed_refractory", "consolidation_in_cr", "post_hsct_prophylaxis", "pre_hsct")
WORDS = ("nk", "cord", "memory", "il-15", "car", "haplo", "relapse", "gvhd", "cd33", "minnesota")


def links(count: int, seed: int = 7) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """``count`` distinct (page, query parameters) pairs, deterministic for a seed."""
    rng = random.Random(seed)
    seen: set[str] = set()
    years = list(range(2005, 2027))
    for i in itertools.count():
        if len(seen) >= count:
            return
        page = PAGES[i % len(PAGES)]
        params: dict[str, list[str]] = {}
        a, b = sorted(rng.sample(years, 2))
        params["years"] = [str(a), str(b)]
        if rng.random() < 0.5:
            params["source"] = sorted(rng.sample(SOURCES, rng.randint(1, 2)))
        if rng.random() < 0.4:
            params["product_class"] = [rng.choice(CLASSES)]
        if rng.random() < 0.3:
            params["setting"] = [rng.choice(SETTINGS)]
        if rng.random() < 0.3:
            params["pool"] = ["DL"]
        if rng.random() < 0.3:
            params["ci"] = ["wilson"]
        if rng.random() < 0.3:
            params["exclude"] = [rng.choice(("review", "converted", "grey"))]
        if page == "studies":
            params["q"] = [" ".join(rng.sample(WORDS, rng.randint(1, 3)))]
        key = page + json.dumps(params, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        yield page, params


def open_link(url: str, page: str, params: dict[str, list[str]]) -> bool:
    """One visitor opens one link; True when the run settled without an error."""
    try:
        open_session(url, page, params)
    except (RuntimeError, OSError, ValueError):
        return False
    return True


def crawl(url: str, pid: int, count: int, threads: int, every: int) -> list[dict[str, float]]:
    """Open ``count`` distinct links, ``threads`` at a time; memory of ``pid`` after every ``every`` links."""
    rows = [{"links": 0, "errors": 0, **memory_mb(pid)}]
    errors = 0
    todo = list(links(count))
    with ThreadPoolExecutor(threads) as pool:
        for start in range(0, len(todo), every):
            batch = todo[start : start + every]
            results = list(pool.map(lambda item: open_link(url, *item), batch))
            errors += results.count(False)
            rows.append({"links": start + len(batch), "errors": errors, **memory_mb(pid)})
            print(
                f"{rows[-1]['links']:>5} links  RSS {rows[-1]['VmRSS']:.0f} MB  peak {rows[-1]['VmHWM']:.0f} MB"
                f"  errors {errors}",
                flush=True,
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_TRIALS_PATH)
    args = parser.parse_args(argv)
    app_port, trivial_port = pick_free_ports(2, 8700, 8799)
    logs = Path(tempfile.mkdtemp(prefix="nk-crawl-"))
    app = start_server(ROOT / "dashboard.py", app_port, args.dataset, logs / "app.log")
    trivial = start_server(ROOT / "benchmarks" / "trivial_app.py", trivial_port, args.dataset, logs / "trivial.log")
    try:
        t0 = time.perf_counter()
        open_link(trivial.url, "", {})  # the baseline after one view, as the app is after its first
        base = memory_mb(trivial.proc.pid)
        rows = crawl(app.url, app.proc.pid, args.links, args.threads, args.every)
        elapsed = time.perf_counter() - t0
        wait_for_expiry()  # what stays once every visitor's session has closed: the caches and the heap
        closed = memory_mb(app.proc.pid)
        print("\n| links | app VmRSS (MB) | app peak VmHWM (MB) | errors |\n|---|---|---|---|")
        for r in rows:
            print(f"| {r['links']} | {r['VmRSS']:.0f} | {r['VmHWM']:.0f} | {r['errors']} |")
        print(f"| after the sessions closed | {closed['VmRSS']:.0f} | {closed['VmHWM']:.0f} | |")
        print(
            f"\ntrivial one-chart page ({TRIVIAL}) after one view in the same run: VmRSS {base['VmRSS']:.0f} MB; "
            f"crawl took {elapsed:.0f} s with {args.threads} threads; logs in {logs}"
        )
    finally:
        stop([app.proc, trivial.proc])
    return 0


if __name__ == "__main__":
    sys.exit(main())
