"""Run N `streamlit run dashboard.py` replicas behind Debian's nginx, all on 127.0.0.1.

    python deploy/run_replicas.py                          # 2 replicas on 8611-8612, proxy on 8600
    python deploy/run_replicas.py --replicas 3 --proxy-port 8650 --dataset /data/trials.parquet

Standard parts only: Streamlit processes and nginx with a config rendered from
deploy/nginx.conf.template into a temporary directory that also holds its pid file, logs
and temp files, so nginx needs no root and no system paths. A supervisor restarts any
replica (or nginx) that dies, as systemd's Restart=always would; one death never stops the
others, and the run directory with its logs is kept. Ctrl-C (or SIGTERM) stops everything
and waits for every process. Tests and benchmarks use `run_replicas()`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = "/usr/sbin/nginx"
LOOPBACK = "127.0.0.1"


@dataclass
class Cluster:
    """The running processes: the proxy's URL and each replica's process by port."""

    proxy_url: str
    replicas: dict[int, subprocess.Popen[bytes]]
    nginx: subprocess.Popen[bytes]
    run_dir: Path
    killed: list[int] = field(default_factory=list)
    restarts: dict[int, int] = field(default_factory=dict)  # replica port -> times the supervisor restarted it
    nginx_restarts: int = 0

    def upstream(self, port: int) -> str:
        """The value nginx reports in X-Upstream for the replica on ``port``."""
        return f"{LOOPBACK}:{port}"

    def port_of(self, upstream: str) -> int:
        """The replica port behind an X-Upstream value (the last address if nginx tried several)."""
        return int(upstream.split(",")[-1].strip().rsplit(":", 1)[1])

    def kill_replica(self, port: int) -> None:
        """SIGKILL one replica, as a crash would, and reap it."""
        proc = self.replicas[port]
        proc.kill()
        proc.wait()
        self.killed.append(port)


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``port`` on the loopback address right now."""
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def pick_free_ports(count: int, low: int = 8600, high: int = 8699) -> list[int]:
    """``count`` free loopback ports from [low, high], in random order so parallel runs rarely collide."""
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)
    free = [p for p in candidates if port_is_free(p)][:count]
    if len(free) < count:
        raise RuntimeError(f"fewer than {count} free ports in {low}-{high}")
    return free


def render_config(template: str, listen_port: int, upstream_ports: Sequence[int], run_dir: Path) -> str:
    """Fill the template's placeholders; fail loudly if one is left (nginx would reject it less clearly)."""
    servers = "\n".join(f"        server {LOOPBACK}:{p} max_fails=1 fail_timeout=10s;" for p in upstream_ports)
    text = (
        template.replace("{{ run_dir }}", str(run_dir))
        .replace("{{ listen }}", f"{LOOPBACK}:{listen_port}")
        .replace("{{ upstream_servers }}", servers)
    )
    if "{{" in text:
        raise ValueError("unfilled placeholder in the nginx template")
    return text


def streamlit_command(port: int, extra_args: Sequence[str] = (), script: Path | None = None) -> list[str]:
    """The replica command line: the README's `streamlit run dashboard.py` (or ``script``), bound to loopback,
    through ``nkapp.serve`` (Streamlit's command line with the link and nested-path guards)."""
    return [
        sys.executable,
        "-m",
        "nkapp.serve",
        "run",
        str(script or REPO / "dashboard.py"),
        "--server.address",
        LOOPBACK,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *extra_args,
    ]


def start_replica(
    port: int, dataset: Path | None, log_path: Path, extra_args: Sequence[str] = (), append: bool = False
) -> subprocess.Popen[bytes]:
    """Start one Streamlit process; its output goes to ``log_path`` (appended after a restart) for post-mortems."""
    env = dict(os.environ)
    if dataset is not None:
        env["NK_TRIALS_PATH"] = str(dataset)
    with log_path.open("ab" if append else "wb") as log:
        return subprocess.Popen(
            streamlit_command(port, extra_args), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200; give up early if ``proc`` died (no point waiting)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout} s")
        time.sleep(0.2)


class Supervisor:
    """Restart whatever died: a replica on its own port (its log appended), nginx with the same config.

    One thread, polling once per ``interval``; what it did is written to ``run_dir/supervisor.log`` and
    counted in the Cluster, so an operator (and the proxy test) can see a crash and its recovery.
    """

    def __init__(
        self,
        cluster: Cluster,
        dataset: Path | None,
        extra_args: Sequence[str],
        nginx: str,
        interval: float = 0.5,
    ) -> None:
        self.cluster, self.dataset, self.extra_args, self.nginx_bin = cluster, dataset, tuple(extra_args), nginx
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="replica-supervisor", daemon=True)

    def _log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with (self.cluster.run_dir / "supervisor.log").open("a", encoding="utf-8") as log:
            log.write(f"{stamp} {message}\n")
        print(message, file=sys.stderr, flush=True)

    def check_once(self) -> list[str]:
        """Restart every dead process; return what was restarted (for tests and the log)."""
        restarted: list[str] = []
        with self._lock:
            if self._stop.is_set():
                return restarted
            for port, proc in list(self.cluster.replicas.items()):
                if proc.poll() is None:
                    continue
                self._log(f"replica {port} exited with {proc.returncode}; restarting it")
                log_path = self.cluster.run_dir / f"streamlit-{port}.log"
                new = start_replica(port, self.dataset, log_path, self.extra_args, append=True)
                self.cluster.replicas[port] = new
                self.cluster.restarts[port] = self.cluster.restarts.get(port, 0) + 1
                restarted.append(f"replica {port}")
            if self.cluster.nginx.poll() is None:
                return restarted
            self._log(f"nginx exited with {self.cluster.nginx.returncode}; restarting it")
            config = (self.cluster.run_dir / "nginx.conf").read_text(encoding="utf-8")
            self.cluster.nginx = start_nginx(config, self.cluster.run_dir, self.nginx_bin)
            self.cluster.nginx_restarts += 1
            restarted.append("nginx")
        return restarted

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_once()
            except (OSError, RuntimeError) as exc:  # keep supervising: the next poll tries again
                self._log(f"restart failed: {exc}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop supervising before the processes are stopped on purpose (so they are not restarted)."""
        with self._lock:
            self._stop.set()
        self._thread.join(timeout=5)


def start_nginx(config: str, run_dir: Path, nginx: str = NGINX) -> subprocess.Popen[bytes]:
    """Check the config with `nginx -t`, then run nginx in the foreground with every path in run_dir."""
    conf = run_dir / "nginx.conf"
    conf.write_text(config, encoding="utf-8")
    args = [nginx, "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "error.log")]
    check = subprocess.run([*args, "-t", "-q"], check=False, capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejected the config: {check.stderr.strip()}")
    with (run_dir / "nginx.stderr").open("wb") as err:
        return subprocess.Popen([*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=err)


def stop(procs: Sequence[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    """SIGTERM all at once (Streamlit needs 2-4 s each to exit), then wait; SIGKILL stragglers."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def run_replicas(
    replica_ports: Sequence[int],
    proxy_port: int,
    dataset: Path | None = None,
    extra_args: Sequence[str] = (),
    template: Path = TEMPLATE,
    keep_run_dir: bool = False,
    supervise: bool = True,
) -> Iterator[Cluster]:
    """Start the replicas and nginx, yield a Cluster once the proxy answers, and stop everything after.

    With ``supervise`` a dead replica or nginx is restarted while the cluster runs (Supervisor)."""
    if not Path(NGINX).exists() and shutil.which("nginx") is None:
        raise FileNotFoundError("nginx is not installed (apt-get install nginx)")
    nginx = NGINX if Path(NGINX).exists() else str(shutil.which("nginx"))
    run_dir = Path(tempfile.mkdtemp(prefix="nk-replicas-"))
    run_dir.chmod(0o755)  # nginx started as root runs its workers as 'nobody': they must reach the temp dirs
    replicas: dict[int, subprocess.Popen[bytes]] = {}
    with ExitStack() as cleanup:
        if not keep_run_dir:
            cleanup.callback(shutil.rmtree, run_dir, True)
        cleanup.callback(lambda: stop(list(replicas.values())))
        for port in replica_ports:
            replicas[port] = start_replica(port, dataset, run_dir / f"streamlit-{port}.log", extra_args)
        for port, proc in replicas.items():
            wait_healthy(f"http://{LOOPBACK}:{port}/_stcore/health", proc)
        config = render_config(template.read_text(encoding="utf-8"), proxy_port, replica_ports, run_dir)
        proxy = start_nginx(config, run_dir, nginx)
        proxy_url = f"http://{LOOPBACK}:{proxy_port}"
        wait_healthy(f"{proxy_url}/_stcore/health", proxy, timeout=15)
        cluster = Cluster(proxy_url, replicas, proxy, run_dir)
        cleanup.callback(lambda: stop([cluster.nginx]))  # the supervisor may have replaced nginx
        if supervise:
            supervisor = Supervisor(cluster, dataset, extra_args, nginx)
            supervisor.start()
            cleanup.callback(supervisor.stop)  # runs first: nothing is restarted while stopping
        yield cluster


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="number of Streamlit processes")
    parser.add_argument("--first-port", type=int, default=8611, help="replica ports are first-port, +1, ...")
    parser.add_argument("--proxy-port", type=int, default=8600, help="where nginx listens on 127.0.0.1")
    parser.add_argument("--dataset", type=Path, default=None, help="Parquet to serve (NK_TRIALS_PATH)")
    parser.add_argument("--agent-api", action="store_true", help="also enable Streamlit's agent API")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into the same clean shutdown as Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    """Run until Ctrl-C or SIGTERM, then stop every process and wait for it."""
    args = _parse_args(argv)
    ports = [args.first_port + i for i in range(args.replicas)]
    extra = ["--server.enableAgentApi", "true"] if args.agent_api else []
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with run_replicas(ports, args.proxy_port, args.dataset, extra, keep_run_dir=True) as cluster:
            print(
                f"proxy {cluster.proxy_url} -> replicas {', '.join(map(str, ports))}; "
                f"config and logs in {cluster.run_dir} (kept); a process that dies is restarted; Ctrl-C stops all",
                flush=True,
            )
            while True:  # the supervisor thread restarts what dies; this thread only waits for Ctrl-C/SIGTERM
                time.sleep(1)
    except KeyboardInterrupt:
        print("stopping", flush=True)


if __name__ == "__main__":
    main()
