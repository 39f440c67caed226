"""The data layer: loading, validation, queries and statistics (no Streamlit).

One process-wide setting has to precede the first import of DuckDB, so it lives here.
DuckDB allocates through its bundled jemalloc (symbols prefixed ``duckdb_je_``), which by
default keeps freed pages for reuse: measured here, a process that ran the page queries
over 10^6 cohorts kept 80-140 MB it no longer used, and each later query added to it.
Returning freed pages at once (decay 0) keeps the process near what it uses (about 25 MB
instead of 140 MB in that measurement; the 10^6 benchmark's peak went from 340 to 293 MB).
The price, measured with benchmarks/bench.py at 10^6: named queries take 20-40% longer
(more page faults), which only first runs feel; warm reruns are served from cache. A
decay of 250 ms or 1 s kept 313-318 MB. An operator's own setting of the variable wins;
builds without jemalloc ignore it.
"""

import os

os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
