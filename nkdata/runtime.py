"""Process settings the app makes once, explicitly, at start-up (nothing is changed at import time)."""

from __future__ import annotations

import os

JEMALLOC_SETTING = "DUCKDB_JE_MALLOC_CONF"
JEMALLOC_RETURN_AT_ONCE = "dirty_decay_ms:0,muzzy_decay_ms:0"


def configure_allocator() -> None:
    """Make DuckDB's bundled jemalloc return freed memory at once (docs/decisions.md, "Memory at 10^6 cohorts").

    Must run before DuckDB is first imported; an operator's own setting wins; builds without jemalloc ignore it.
    """
    os.environ.setdefault(JEMALLOC_SETTING, JEMALLOC_RETURN_AT_ONCE)
