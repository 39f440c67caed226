"""Process settings made once at start-up (nkdata/runtime.py) and the served configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter (these settings are process-wide) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_startup_heap_is_frozen_once_so_later_garbage_stays_collectable() -> None:
    # A freeze on every script run would put each session's garbage beyond the collector: a slow leak.
    out = run_python(
        "import gc\n"
        "from nkdata.runtime import freeze_startup_heap\n"
        "freeze_startup_heap(); first = gc.get_freeze_count()\n"
        "made_later = [[i] for i in range(5000)]\n"
        "freeze_startup_heap(); print(first > 0, gc.get_freeze_count() == first)\n"
    )
    assert out == "True True"


def test_allocator_setting_leaves_an_operators_choice_alone() -> None:
    code = "import os\nfrom nkdata.runtime import configure_allocator\nconfigure_allocator()\n"
    code += "print(os.environ['DUCKDB_JE_MALLOC_CONF'])"
    assert run_python(code, env={"PATH": "/usr/bin:/bin"}) == "dirty_decay_ms:0,muzzy_decay_ms:0"
    assert run_python(code, env={"PATH": "/usr/bin:/bin", "DUCKDB_JE_MALLOC_CONF": "narenas:1"}) == "narenas:1"


def test_served_configuration_does_not_watch_source_files() -> None:
    # With the watcher on, every finished run of every session walks all imported modules: about 0.2 s of CPU
    # per view here (docs/decisions.md, "Server CPU per view").
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["client"]["toolbarMode"] == "viewer"


def test_serving_the_app_does_not_load_the_figure_converter_until_an_export() -> None:
    # vl-convert holds about 8 MB; every replica that never exports a figure would carry it.
    out = run_python(
        "import sys\nimport dashboard, pages.outcomes, nkdata.figures\n"
        "before = 'vl_convert' in sys.modules\n"
        "import altair as alt, pandas as pd\n"
        "nkdata.figures.export_chart(alt.Chart(pd.DataFrame({'x': [1]})).mark_point().encode(x='x'), 'svg')\n"
        "print(before, 'vl_convert' in sys.modules)\n"
    )
    assert out.splitlines()[-1] == "False True"


def test_the_launcher_caps_malloc_arenas_unless_the_operator_chose() -> None:
    # Each session thread got its own glibc arena that kept freed memory: 25-30 MB more RSS over a crawl of
    # distinct links (docs/decisions.md, "Memory bounded in bytes").
    from nkapp.serve import allocator_environment

    assert allocator_environment({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    assert allocator_environment({"PATH": "/bin", "MALLOC_ARENA_MAX": "8"}) is None


@pytest.mark.slow
def test_a_served_process_runs_with_the_arena_cap(tmp_path: Path) -> None:
    """The served server (same process id after the launcher's restart) has the cap in its environment."""
    from deploy.run_replicas import streamlit_command
    from tests.server_helpers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    proc = subprocess.Popen(
        streamlit_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_ARENA_MAX=2" in environ
    finally:
        proc.terminate()
        proc.wait(timeout=15)
