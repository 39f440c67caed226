"""Process settings the app makes once, explicitly, at start-up (nothing is changed at import time)."""

from __future__ import annotations

import gc
import os

JEMALLOC_SETTING = "DUCKDB_JE_MALLOC_CONF"
JEMALLOC_RETURN_AT_ONCE = "dirty_decay_ms:0,muzzy_decay_ms:0"


def configure_allocator() -> None:
    """Make DuckDB's bundled jemalloc return freed memory at once (docs/decisions.md, "Memory at 10^6 cohorts").

    Must run before DuckDB is first imported; an operator's own setting wins; builds without jemalloc ignore it.
    """
    os.environ.setdefault(JEMALLOC_SETTING, JEMALLOC_RETURN_AT_ONCE)


_startup_heap_frozen = False


def freeze_startup_heap() -> None:
    """Once per process, put the objects imports made (modules, classes, schemas) beyond the cyclic collector.

    Streamlit runs a full ``gc.collect()`` after every script run of every session; without this it walks the
    whole import graph each time (docs/decisions.md, "Server CPU per view"). Reference counting still frees
    these objects; only cycles among them are no longer looked for, and import-time objects live for good.
    """
    global _startup_heap_frozen
    if not _startup_heap_frozen:
        gc.collect()
        gc.freeze()
        _startup_heap_frozen = True
