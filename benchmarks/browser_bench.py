"""Real-browser speed and load of the running dashboard; prints a Markdown report.

    python benchmarks/browser_bench.py                               # 5 runs, 5,10,20,40 sessions
    python benchmarks/browser_bench.py --runs 2 --sessions 5,10 --rss-sessions 20
    python benchmarks/browser_bench.py --dataset data/synthetic/trials-1e6.parquet

Measures, against `streamlit run dashboard.py` on 127.0.0.1 (agent API on):
(a) warm time from `page.goto` to the first chart visible and the script stopped, per page,
    in headless Debian Chromium, next to benchmarks/trivial_app.py (one chart) measured in the
    same runs; reported as ratios, since absolute times follow the machine's load;
(b) the server's CPU seconds per view (/proc/<pid>/stat utime+stime before and after);
(c) N simultaneous sessions (Streamlit's agent API, no browser): p50/p95 time until each
    session's first run has settled, and the server's memory (VmRSS/VmHWM) with
    --rss-sessions sessions open and after they have expired.
Each view is a new tab, so a new server session; static files come from the browser cache. Ports come from 8600-8699.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from deploy.run_replicas import LOOPBACK, pick_free_ports, stop, streamlit_command, wait_healthy  # noqa: E402 - after the sys.path line above
from tests.server_helpers import CHROMIUM as CHROMIUM_PATH  # noqa: E402
from tests.server_helpers import LAUNCH_ARGS  # noqa: E402

CHROMIUM = str(CHROMIUM_PATH)
TRIVIAL = "trivial"
CHART = (
    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg, .vega-embed canvas, .vega-embed svg'
)
CONTENT = '[data-testid="stMain"] [data-testid="stElementContainer"]'
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TICK = os.sysconf("SC_CLK_TCK")
TTL_SECONDS = 10  # agent sessions idle this long are closed, so "after they close" comes quickly


@dataclass
class Server:
    """One `streamlit run` process and its base URL."""

    proc: subprocess.Popen[bytes]
    url: str


@dataclass
class View:
    """One measured browser view, in seconds from navigation start: first chart drawn (None when the page
    draws none), script settled; the server's and the browser tab's CPU seconds for the view."""

    first_chart: float | None
    settled: float
    cpu: float
    browser_cpu: float

    @property
    def shown(self) -> float:
        """What the ratio is taken on: the first chart, or for a page without one, its settled content."""
        return self.first_chart if self.first_chart is not None else self.settled


def start_server(script: Path, port: int, dataset: Path, log: Path) -> Server:
    """Serve ``script`` on loopback with the agent API on, sized for the load test's sessions."""
    args = streamlit_command(
        port,
        script=script,
        extra_args=[
            "--server.enableAgentApi",
            "true",
            "--server.agentMaxSessions",
            "1000",
            "--server.agentWaitTimeout",
            "300",
            "--server.agentSessionTTL",
            str(TTL_SECONDS),
        ],
    )
    env = {**os.environ, "NK_TRIALS_PATH": str(dataset)}
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://{LOOPBACK}:{port}"
    wait_healthy(f"{url}/_stcore/health", proc)
    return Server(proc, url)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process: the work a view cost the server, whatever the wall clock did."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of stat(5)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) in MB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


# Polled every animation frame inside the tab, so the times are the browser's own, from navigation start.
MARKS_JS = """(hasChart) => new Promise((resolve, reject) => {
  const marks = {};
  const give_up = performance.now() + 120000;
  const check = () => {
    const now = performance.now();
    if (!marks.running && document.querySelector('[data-testid="stApp"][data-test-script-state="running"]'))
      marks.running = now;
    if (marks.running && !marks.settled && document.querySelector(SETTLED)) marks.settled = now;
    if (!marks.chart && document.querySelector(CHART)) marks.chart = now;
    if (marks.settled && (marks.chart || !hasChart)) return resolve(marks);
    if (now > give_up) return reject(new Error('not rendered: ' + JSON.stringify(marks)));
    requestAnimationFrame(check);
  };
  check();
})""".replace("SETTLED", json.dumps(SETTLED)).replace("CHART", json.dumps(CHART))


def view_once(context: object, url: str, pid: int, has_chart: bool) -> View:
    """Open ``url`` in a new tab (a new session); times of the first chart and of the settled script."""
    page = context.new_page()  # type: ignore[attr-defined]
    cdp = context.new_cdp_session(page)  # type: ignore[attr-defined]
    try:
        cdp.send("Performance.enable")
        cpu0 = cpu_seconds(pid)
        page.goto(url, timeout=120_000)
        marks = page.evaluate(MARKS_JS, has_chart)
        cpu = cpu_seconds(pid) - cpu0
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        chart = marks["chart"] / 1000 if has_chart else None
        return View(chart, marks["settled"] / 1000, cpu, metrics["TaskDuration"])
    finally:
        page.close()


def warm_up(context: object, url: str) -> bool:
    """One unmeasured view per URL: fills the server's and the browser's caches; whether it draws a chart."""
    page = context.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(url, timeout=120_000)
        page.wait_for_selector(CONTENT, timeout=120_000)
        page.wait_for_selector(SETTLED, timeout=120_000)
        try:
            page.wait_for_selector(CHART, state="visible", timeout=10_000)  # charts land just after the run
            return True
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: this page draws no chart
            return False
    finally:
        page.close()


def measure_pages(app: Server, trivial: Server, pages: Sequence[str], runs: int) -> dict[str, list[View]]:
    """Interleave the trivial page and every app page in each run, so load drift hits all alike.

    One browser context per target: like a returning visitor, static files come from the browser's
    cache, so the time and CPU measured are the session's own, not the download of Streamlit's JS.
    """
    from playwright.sync_api import sync_playwright

    targets = {TRIVIAL: (trivial.url + "/", trivial.proc.pid)}
    targets.update({page: (f"{app.url}/{page}", app.proc.pid) for page in pages})
    views: dict[str, list[View]] = {name: [] for name in targets}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            contexts = {name: browser.new_context(viewport={"width": 1400, "height": 1000}) for name in targets}
            charts = {name: warm_up(contexts[name], url) for name, (url, _) in targets.items()}
            for _ in range(runs):
                for name, (url, pid) in targets.items():
                    views[name].append(view_once(contexts[name], url, pid, charts[name]))
        finally:
            browser.close()
    return views


def discover_pages(url: str) -> list[str]:
    """Every page's url_path as the running app lists them (agent API), so new pages are measured too."""
    request = urllib.request.Request(
        f"{url}/_stcore/agent/interact", b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return [page["url_path"] for page in json.load(response)["pages"] if not page.get("hidden")]


def open_session(url: str, page: str = "", params: dict[str, list[str]] | None = None) -> float:
    """Create one agent session on ``page`` (default: the default page) with link ``params``; seconds until its
    run has settled. Each call is a visitor with its own cookie jar, so behind the proxy its follow-up requests
    reach the replica holding its session."""
    body: dict = {"page": page, "query_params": params or {}} if page else {}
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    t0 = time.perf_counter()
    for _ in range(20):
        request = urllib.request.Request(
            f"{url}/_stcore/agent/interact",
            json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with opener.open(request, timeout=300) as response:
                reply, status = json.load(response), response.status
        except urllib.error.HTTPError as error:
            reply, status = json.load(error), error.code
        if status == 200 and reply.get("status") == "ready":
            return time.perf_counter() - t0
        if status != 202:
            raise RuntimeError(f"agent API answered {status}: {reply}")
        body = {"session_id": reply["session_id"]}
    raise RuntimeError("session did not settle")


def simultaneous(count: int, action: Callable[[], float]) -> tuple[list[float], int]:
    """Run ``action`` in ``count`` threads released together; the times of those that worked, and errors."""
    barrier = threading.Barrier(count)

    def one(_: int) -> float | None:
        barrier.wait()
        try:
            return action()
        except Exception:  # noqa: BLE001 - counted, not fatal: the report shows errors
            return None

    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(one, range(count)))
    return [r for r in results if r is not None], sum(r is None for r in results)


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: no interpolation between the few samples a run has."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def session_levels(url: str, levels: Sequence[int], pid: int | None = None) -> list[dict]:
    """p50/p95 of simultaneous sessions per level, and the server's CPU per session when one process serves."""
    rows = []
    for count in levels:
        cpu0, t0 = (cpu_seconds(pid) if pid else 0.0), time.perf_counter()
        times, errors = simultaneous(count, lambda: open_session(url))
        row = {
            "sessions": count,
            "p50": percentile(times, 0.5) if times else None,
            "p95": percentile(times, 0.95) if times else None,
            "errors": errors,
            "wall": time.perf_counter() - t0,
        }
        if pid:
            row["cpu_per_session"] = (cpu_seconds(pid) - cpu0) / count
        rows.append(row)
    return rows


def measure_load(app: Server, levels: Sequence[int], rss_sessions: int) -> dict:
    """Concurrent agent sessions per level, then memory with many open and after they expire."""
    pid = app.proc.pid
    rows = session_levels(app.url, levels, pid)
    wait_for_expiry()
    idle = memory_mb(pid)
    _, errors = simultaneous(rss_sessions, lambda: open_session(app.url))
    loaded = memory_mb(pid)
    wait_for_expiry()
    closed = memory_mb(pid)
    return {
        "levels": rows,
        "rss_sessions": rss_sessions,
        "rss_errors": errors,
        "idle": idle,
        "loaded": loaded,
        "closed": closed,
    }


def wait_for_expiry() -> None:
    """Sleep past the agent-session TTL plus one sweep, so idle sessions are closed by the server."""
    time.sleep(2 * TTL_SECONDS + 3)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _row(*cells: object) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: Sequence[str]) -> list[str]:
    """A Markdown table's header and rule."""
    return [_row(*header), _row(*["---"] * len(header))]


def report(views: dict[str, list[View]], load: dict, args: argparse.Namespace) -> str:
    """The Markdown tables: per-page ratios and CPU, then the concurrency and memory figures."""
    trivial = views[TRIVIAL]
    base = statistics.median(v.shown for v in trivial)
    base_settled = statistics.median(v.settled for v in trivial)
    dataset = args.dataset.resolve()
    shown = dataset.relative_to(ROOT) if dataset.is_relative_to(ROOT) else dataset
    intro = (
        f"Dataset `{shown}`; {args.runs} measured views per page after one warm-up; "
        f"{os.cpu_count()} cores (shared with other work while measured). Times from navigation start, "
        "medians; a page without a chart is timed to its settled content."
    )
    lines = [intro, ""]
    lines += _table(
        [
            "page",
            "first chart (s)",
            "ratio to trivial page",
            "script settled (s)",
            "ratio",
            "server CPU s/view",
            "browser tab CPU s/view",
        ]
    )
    for name, samples in views.items():
        first = statistics.median(v.shown for v in samples)
        settled = statistics.median(v.settled for v in samples)
        lines.append(
            _row(
                "trivial one-chart page" if name == TRIVIAL else f"`/{name}`",
                f"{first:.2f}" if samples[0].first_chart is not None else f"({first:.2f}, no chart)",
                f"{first / base:.2f}",
                f"{settled:.2f}",
                f"{settled / base_settled:.2f}",
                f"{statistics.median(v.cpu for v in samples):.2f}",
                f"{statistics.median(v.browser_cpu for v in samples):.2f}",
            )
        )
    lines += [
        "",
        *_table(
            [
                "simultaneous sessions (agent API)",
                "p50 to settled (s)",
                "p95 (s)",
                "errors",
                "wall (s)",
                "server CPU s/session",
            ]
        ),
    ]
    for row in load["levels"]:
        lines.append(
            _row(
                row["sessions"],
                _fmt(row["p50"]),
                _fmt(row["p95"]),
                row["errors"],
                f"{row['wall']:.1f}",
                f"{row['cpu_per_session']:.2f}",
            )
        )
    lines += ["", *_table(["server memory", "VmRSS (MB)", "VmHWM peak (MB)"])]
    for label, key in (
        ("idle, after the runs above had expired", "idle"),
        (f"{load['rss_sessions']} sessions open ({load['rss_errors']} errors)", "loaded"),
        (f"after they closed (TTL {TTL_SECONDS} s)", "closed"),
    ):
        lines.append(_row(label, f"{load[key]['VmRSS']:.0f}", f"{load[key]['VmHWM']:.0f}"))
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured browser views per page")
    parser.add_argument("--sessions", default="5,10,20,40", help="simultaneous-session levels, comma-separated")
    parser.add_argument("--rss-sessions", type=int, default=80, help="sessions open when memory is read")
    parser.add_argument("--dataset", type=Path, default=ROOT / "data" / "trials.parquet")
    parser.add_argument(
        "--replicas", type=int, default=0, help="also measure the sessions through N replicas and nginx"
    )
    parser.add_argument(
        "--pages",
        default=None,
        help="url paths to measure, comma-separated ('' is the default page); default: every page",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start both servers, measure, print the report, and stop the servers (waiting for them)."""
    args = _parse_args(argv)
    levels = [int(s) for s in args.sessions.split(",") if s.strip()]
    app_port, trivial_port = pick_free_ports(2)
    logs = Path(tempfile.mkdtemp(prefix="nk-browser-bench-"))
    servers: list[Server] = []
    try:
        servers.append(start_server(ROOT / "dashboard.py", app_port, args.dataset, logs / "app.log"))
        servers.append(
            start_server(ROOT / "benchmarks" / "trivial_app.py", trivial_port, args.dataset, logs / "trivial.log")
        )
        app, trivial = servers
        pages = args.pages.split(",") if args.pages is not None else discover_pages(app.url)
        views = measure_pages(app, trivial, pages, args.runs)
        load = measure_load(app, levels, args.rss_sessions)
    finally:
        stop([s.proc for s in servers])
    print(report(views, load, args))
    if args.replicas > 1:
        from deploy.run_replicas import run_replicas

        *replica_ports, proxy_port = pick_free_ports(args.replicas + 1)
        with run_replicas(replica_ports, proxy_port, args.dataset, ["--server.enableAgentApi", "true"]) as cluster:
            simultaneous(2 * args.replicas, lambda: open_session(cluster.proxy_url))  # warm every replica first
            rows = session_levels(cluster.proxy_url, levels)
        print(f"\n### {args.replicas} replicas behind nginx (sticky cookie), simultaneous sessions\n")
        print("| sessions | p50 (s) | p95 (s) | errors | wall (s) |\n|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['sessions']} | {_fmt(r['p50'])} | {_fmt(r['p95'])} | {r['errors']} | {_fmt(r['wall'], 1)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
