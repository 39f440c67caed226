"""Process settings made once at start-up (nkdata/runtime.py) and the served configuration."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

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
