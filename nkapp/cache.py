"""Caching per view: a rerun of the same view (same data, slice and choices) does no work twice, in bounded memory.

Results are keyed by the dataset's identity (which follows the file's content, see DatasetIdentity), the function
and its arguments. Every cache that grows with the links visitors open is a ``ByteBudgetCache``: it keeps the
pickled result, so its size is known exactly, evicts the least recently used entries past its byte budget
(``BUDGETS``, one table), and hands every caller its own unpickled copy, so a page can never change a result
another session sees. Chart specs are built once per chart data: Altair's schema validation of every spec on
every rerun was the largest cost of a page.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from nkdata.registry_repository import RegistryRepository
from nkdata.repository import DatasetIdentity, TrialsRepository

T = TypeVar("T")
MB = 1024 * 1024

# The byte budget of each cache (decisions.md, "Memory bounded in bytes": sized so that a 2,000-link crawl keeps
# one process under 320 MB). An entry larger than a quarter of its budget is computed but not kept.
BUDGETS: dict[str, int] = {
    "results": 16 * MB,  # query results and pooled analyses per (dataset, function, arguments)
    "chart_specs": 8 * MB,  # Vega-Lite specs with their inline data
    "paper_figures": 8 * MB,  # forest figures as SVG, PDF and PNG (built only when a reader asks)
    "chart_files": 4 * MB,  # any chart prepared for a slide
    "downloads": 16 * MB,  # a Studies slice as CSV, JSON, BibTeX and RIS (built only when the box is open)
    "dataset_file": 32 * MB,  # the whole dataset file offered as a download
}


@dataclass(frozen=True)
class CacheStats:
    """What one cache holds now, and how often it was asked."""

    name: str
    entries: int
    bytes: int
    budget: int
    hits: int
    misses: int


class ByteBudgetCache:
    """A least-recently-used cache of pickled values whose total size never exceeds ``budget`` bytes.

    Thread-safe (Streamlit runs each session in its own thread). Two sessions asking for the same missing key at
    once may both compute it; the second store replaces the first, which is harmless and keeps the lock short."""

    def __init__(self, name: str, budget: int) -> None:
        self.name, self.budget = name, budget
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = self._hits = self._misses = 0
        self._lock = threading.Lock()

    def get(self, key: bytes) -> tuple[bool, Any]:
        with self._lock:
            blob = self._entries.get(key)
            if blob is None:
                self._misses += 1
                return False, None
            self._entries.move_to_end(key)
            self._hits += 1
        return True, pickle.loads(blob)

    def put(self, key: bytes, value: Any) -> None:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(blob) > self.budget // 4:
            return  # one huge result must not flush every other visitor's entries
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes -= len(old) if old is not None else 0
            self._entries[key] = blob
            self._bytes += len(blob)
            while self._bytes > self.budget:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self.name, len(self._entries), self._bytes, self.budget, self._hits, self._misses)


CACHES: dict[str, ByteBudgetCache] = {name: ByteBudgetCache(name, budget) for name, budget in BUDGETS.items()}


def cache_key(name: str, args: dict[str, Any]) -> bytes:
    """A digest of the function's name and its arguments' pickled bytes (equal values, equal key)."""
    return hashlib.blake2b(pickle.dumps((name, args), protocol=pickle.HIGHEST_PROTOCOL), digest_size=20).digest()


def byte_cached(cache: str, spinner: str | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Like ``st.cache_data``, into the named ``ByteBudgetCache``: arguments whose name starts with ``_`` are not
    part of the key (repositories, builders: their identity is passed separately); ``spinner`` shows on a miss."""
    store = CACHES[cache]

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        signature = inspect.signature(fn)
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            bound = signature.bind(*args, **kwargs)
            key = cache_key(name, {k: v for k, v in bound.arguments.items() if not k.startswith("_")})
            found, value = store.get(key)
            if found:
                return value
            if spinner:
                with st.spinner(spinner):
                    value = fn(*args, **kwargs)
            else:
                value = fn(*args, **kwargs)
            store.put(key, value)
            return value

        return wrapper

    return decorate


def cache_stats() -> list[CacheStats]:
    """Every byte-bounded cache's entries and bytes (the crawl benchmark and the tests read them)."""
    return [c.stats() for c in CACHES.values()]


@byte_cached("results")
def _call(identity: DatasetIdentity, name: str, args: tuple, _fn: Callable[..., Any], _repo: Any) -> Any:
    return _fn(_repo, *args)


def cached(repo: TrialsRepository | RegistryRepository, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(repo, *args)``, computed once per dataset content, function and (hashable) arguments."""
    return _call(repo.identity, f"{fn.__module__}.{fn.__qualname__}", args, fn, repo)


@byte_cached("chart_specs")
def chart_spec(
    builder_name: str,
    _builder: Callable[..., alt.TopLevelMixin],
    data: pd.DataFrame,
    kwargs: tuple[tuple[str, Any], ...],
) -> dict:
    """The Vega-Lite spec of ``builder(data, **kwargs)``, built once per distinct data and options."""
    return _builder(data, **dict(kwargs)).to_dict(validate=False)


def show_chart(
    builder: Callable[..., alt.TopLevelMixin], data: pd.DataFrame, key: str | None = None, **kwargs: Any
) -> Any:
    """Draw ``builder(data, **kwargs)``; with ``key``, point selections come back (to open a cohort's card)."""
    lists = [
        c
        for c in data.columns
        if data[c].dtype == object and data[c].map(lambda v: hasattr(v, "__len__") and not isinstance(v, str)).any()
    ]
    data = data.drop(columns=lists)  # no chart draws a list column, and hashing one is slow
    spec = chart_spec(f"{builder.__module__}.{builder.__qualname__}", builder, data, tuple(sorted(kwargs.items())))
    if key:
        return st.vega_lite_chart(spec, width="stretch", key=key, on_select="rerun")
    return st.vega_lite_chart(spec, width="stretch")
