"""Two replicas behind nginx (deploy/run_replicas.py): sticky sessions, right numbers, and a crash.

Sessions are driven without a browser through Streamlit's agent API (an HTTP client with
its own cookie jar is one visitor), and once with Chromium to prove the WebSocket path.
nginx reports the replica that answered in the X-Upstream header. Outside CI the module
is skipped when Debian's nginx is missing; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from deploy.run_replicas import NGINX, Cluster, pick_free_ports, run_replicas

from .server_helpers import CHROMIUM, LAUNCH_ARGS

pytestmark = pytest.mark.slow

if not Path(NGINX).exists():
    if os.environ.get("CI"):
        pytest.fail("nginx is required in CI: .ci/run installs the Debian package 'nginx'", pytrace=False)
    pytest.skip("Debian nginx not installed (apt-get install nginx)", allow_module_level=True)

AGENT_API = ["--server.enableAgentApi", "true"]
PAGE = "studies"
SUPERSEDED_LABEL = "Include superseded reports"  # found by label: the widget keys are the app's to rename


def assert_right_numbers(page_text: str, parquet: Path, first_year: int, superseded: bool) -> None:
    """The one check of what a visitor sees: the Studies caption counts the cohorts of their slice."""
    where = (  # the default inclusion: AML-only, no R/R cohort given a transplant with the NK cells
        f"year >= {int(first_year)} AND aml_only"
        " AND NOT (coalesce(co_transplant, false) AND setting = 'relapsed_refractory')"
        + ("" if superseded else " AND superseded_by IS NULL")
    )
    with duckdb.connect() as con:
        (expected,) = con.execute(
            f"SELECT count(*) FROM read_parquet($p) WHERE {where}", {"p": str(parquet)}
        ).fetchone()
    shown = re.search(r"Showing (?:the first \d+ of )?(\d+) cohorts", page_text)
    assert shown is not None, page_text[:500]
    assert int(shown.group(1)) == expected, (first_year, superseded)


def _years(parquet: Path) -> list[int]:
    """The publication years in the dataset: each session filters from a different one."""
    with duckdb.connect() as con:
        rows = con.execute("SELECT DISTINCT year FROM read_parquet($p) ORDER BY 1", {"p": str(parquet)}).fetchall()
    return [int(r[0]) for r in rows]


def _json(raw: bytes) -> dict:
    """The body as JSON, or its text when the proxy answered with an HTML error page."""
    try:
        return json.loads(raw)
    except ValueError:
        return {"raw": raw.decode(errors="replace")[:300]}


@dataclass
class Reply:
    status: int
    body: dict
    upstream: str


class Visitor:
    """One agent-API client with its own cookie jar, as a browser would be (the affinity cookie)."""

    def __init__(self, proxy_url: str) -> None:
        self.url = f"{proxy_url}/_stcore/agent/interact"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.session_id: str | None = None
        self.actions: list[dict] = []

    def send(self, body: dict) -> Reply:
        """POST one interaction; collect a run that outlasted the server's wait (202) by asking again."""
        for _ in range(6):
            request = urllib.request.Request(
                self.url, json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with self.opener.open(request, timeout=90) as response:
                    reply = Reply(response.status, _json(response.read()), response.headers.get("X-Upstream", ""))
            except urllib.error.HTTPError as error:  # 4xx from Streamlit, or nginx's own 502 page
                reply = Reply(error.code, _json(error.read()), error.headers.get("X-Upstream", ""))
            if reply.status == 200:
                self.actions = reply.body["actions"]  # what the next request may set, as the API asks
            if reply.status != 202:
                return reply
            body = {"session_id": reply.body["session_id"]}
        return reply

    def open_studies(self, first_year: int, last_year: int) -> Reply:
        """Start a session on the Studies page with the year filter set through the link."""
        reply = self.send({"page": PAGE, "query_params": {"years": [str(first_year), str(last_year)]}})
        if reply.status == 200:
            self.session_id = reply.body["session_id"]
        return reply

    def include_superseded(self) -> Reply:
        """Change a widget in the existing session: only the replica holding it can answer."""
        key = next(a["key"] for a in self.actions if a.get("label") == SUPERSEDED_LABEL)
        return self.send({"session_id": self.session_id, "widget_state": {key: True}})


def _text(node: object) -> str:
    """Every string in an agent-API tree, one per line: what a reader of the page would see."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return "\n".join(_text(v) for v in node.values())
    if isinstance(node, list):
        return "\n".join(_text(v) for v in node)
    return ""


@dataclass
class Opened:
    visitor: Visitor
    first_year: int
    port: int


def _open_until_both_replicas(cluster: Cluster, parquet: Path, minimum: int) -> list[Opened]:
    """Open sessions (each checked) until there are ``minimum`` and both replicas hold some."""
    years = _years(parquet)
    opened: list[Opened] = []
    for i in range(24):
        if len(opened) >= minimum and len({o.port for o in opened}) == len(cluster.replicas):
            break
        visitor, first_year = Visitor(cluster.proxy_url), years[i % len(years)]
        reply = visitor.open_studies(first_year, years[-1])
        assert reply.status == 200 and reply.body["status"] == "ready", reply.body
        assert_right_numbers(_text(reply.body["tree"]), parquet, first_year, superseded=False)
        opened.append(Opened(visitor, first_year, cluster.port_of(reply.upstream)))
    assert {o.port for o in opened} == set(cluster.replicas), "the proxy sent every session to the same replica"
    return opened


@pytest.fixture(scope="module")
def cluster(fixture_parquet: Path) -> Iterator[Cluster]:
    proxy, *replicas = pick_free_ports(3)
    with run_replicas(replicas, proxy, fixture_parquet, AGENT_API) as running:
        yield running


def test_each_session_sticks_to_its_replica_and_gets_its_own_numbers(cluster: Cluster, fixture_parquet: Path) -> None:
    opened = _open_until_both_replicas(cluster, fixture_parquet, minimum=6)
    for o in reversed(opened):  # reversed: a round-robin proxy would otherwise hit the right replicas by luck
        reply = o.visitor.include_superseded()
        assert reply.status == 200, reply.body  # unknown_session if the proxy sent it to the other replica
        assert cluster.port_of(reply.upstream) == o.port
        assert_right_numbers(_text(reply.body["tree"]), fixture_parquet, o.first_year, superseded=True)


def test_a_browser_session_works_through_the_proxy(cluster: Cluster, fixture_parquet: Path) -> None:
    """The real WebSocket path: without the Upgrade headers the page never gets past 'connecting'."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI", pytrace=False)
        pytest.skip("Debian chromium not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    first_year, last_year = _years(fixture_parquet)[1], _years(fixture_parquet)[-1]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            response = page.goto(f"{cluster.proxy_url}/{PAGE}?years={first_year}&years={last_year}")
            assert response is not None and cluster.port_of(response.headers["x-upstream"]) in cluster.replicas
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=45_000)
            page.get_by_text(re.compile(r"Showing .*cohorts")).wait_for(timeout=45_000)
            assert_right_numbers(page.inner_text("body"), fixture_parquet, first_year, superseded=False)
        finally:
            browser.close()


def test_killing_one_replica_affects_only_its_own_sessions(fixture_parquet: Path) -> None:
    """Failover alone (no supervisor): the proxy skips the dead replica and the survivor keeps serving."""
    proxy, *replicas = pick_free_ports(3)
    with run_replicas(replicas, proxy, fixture_parquet, AGENT_API, supervise=False) as cluster:
        opened = _open_until_both_replicas(cluster, fixture_parquet, minimum=4)
        dead = opened[0].port
        cluster.kill_replica(dead)

        for o in opened:
            reply = o.visitor.include_superseded()
            if o.port == dead:  # its session died with its process: an explicit error, never other numbers
                assert reply.status == 404 and reply.body["error"]["code"] == "unknown_session", reply.body
            else:
                assert reply.status == 200, reply.body
                assert cluster.port_of(reply.upstream) == o.port
                assert_right_numbers(_text(reply.body["tree"]), fixture_parquet, o.first_year, superseded=True)

        # New sessions still work: a new visitor, and a visitor whose cookie hashes to the dead replica.
        orphan = next(o.visitor for o in opened if o.port == dead)
        for visitor in (Visitor(cluster.proxy_url), orphan):
            reply = visitor.open_studies(opened[0].first_year, _years(fixture_parquet)[-1])
            assert reply.status == 200, reply.body
            assert cluster.port_of(reply.upstream) != dead
            assert_right_numbers(_text(reply.body["tree"]), fixture_parquet, opened[0].first_year, superseded=False)


def test_metrics_and_auth_endpoints_are_not_public(cluster: Cluster) -> None:
    for path in ("/_stcore/metrics", "/auth/login", "/oauth2callback"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(cluster.proxy_url + path, timeout=10)
        assert refused.value.code == 404, path
    with urllib.request.urlopen(cluster.proxy_url + "/_stcore/health", timeout=10) as ok:
        assert ok.status == 200


def _wait(condition, timeout: float, what: str) -> None:  # noqa: ANN001 - a predicate
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def test_a_dead_replica_is_restarted_and_its_browser_session_comes_back_with_the_same_numbers(
    fixture_parquet: Path,
) -> None:
    """The supervisor (deploy/run_replicas.py) restarts a SIGKILLed replica; the other keeps serving meanwhile,
    nothing else is stopped, and the browser tab that lived on the dead replica reconnects to the same numbers."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI", pytrace=False)
        pytest.skip("Debian chromium not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    first_year, last_year = _years(fixture_parquet)[1], _years(fixture_parquet)[-1]
    proxy, *replicas = pick_free_ports(3)
    with run_replicas(replicas, proxy, fixture_parquet, AGENT_API) as cluster, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            response = page.goto(f"{cluster.proxy_url}/{PAGE}?years={first_year}&years={last_year}")
            assert response is not None
            dead = cluster.port_of(response.headers["x-upstream"])
            page.get_by_text(re.compile(r"Showing .*cohorts")).wait_for(timeout=45_000)
            assert_right_numbers(page.inner_text("body"), fixture_parquet, first_year, superseded=False)
            survivor = next(port for port in cluster.replicas if port != dead)
            nginx_before = cluster.nginx.pid

            cluster.kill_replica(dead)
            # The survivor serves new visitors while the dead one is down (nginx skips it).
            reply = Visitor(cluster.proxy_url).open_studies(first_year, last_year)
            assert reply.status == 200 and cluster.port_of(reply.upstream) == survivor, reply.body
            assert_right_numbers(_text(reply.body["tree"]), fixture_parquet, first_year, superseded=False)

            _wait(lambda: cluster.restarts.get(dead) == 1, 30, "the supervisor to restart the replica")
            _wait(lambda: _healthy(f"http://127.0.0.1:{dead}/_stcore/health"), 60, "the restarted replica")
            assert cluster.nginx.pid == nginx_before and cluster.replicas[survivor].poll() is None
            assert f"replica {dead} exited" in (cluster.run_dir / "supervisor.log").read_text(encoding="utf-8")

            # The old tab reconnects (Streamlit's client retries its WebSocket) and shows the same slice.
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
            page.get_by_text(re.compile(r"Showing .*cohorts")).wait_for(timeout=60_000)
            assert_right_numbers(page.inner_text("body"), fixture_parquet, first_year, superseded=False)
            assert f"years={first_year}" in page.url
            # A live session again (not a stale page): moving to another page runs it over the new WebSocket.
            page.locator('[data-testid="stSidebarNav"] a', has_text="About & methods").click()
            page.get_by_role("heading", name="About & methods").wait_for(timeout=60_000)

            cluster.nginx.kill()  # the proxy itself dies: it is restarted too, with the same config
            _wait(lambda: cluster.nginx_restarts == 1, 30, "the supervisor to restart nginx")
            _wait(lambda: _healthy(f"{cluster.proxy_url}/_stcore/health"), 30, "the restarted proxy")
        finally:
            browser.close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
