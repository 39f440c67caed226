"""Caching per view: a rerun of the same view (same data, slice and choices) does no work twice, in bounded memory.

Results are keyed by the dataset's identity (which follows the file's content, see DatasetIdentity), the function
and its arguments (frozen dataclasses). ``st.cache_data`` hands every caller its own copy, so a page can never
change a result another session sees. Every entry counts against one byte budget for the whole process,
``server.maxCacheDataSize`` in ``.streamlit/config.toml`` (Streamlit evicts the least recently used entries past
it); figure and download bytes are made only when a reader clicks, and not cached. Chart specs are built once per chart
data: Altair's schema validation of every spec on every rerun was the largest cost of a page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from nkdata.registry_repository import RegistryRepository
from nkdata.repository import DatasetIdentity, TrialsRepository


@st.cache_data(show_spinner=False)
def _call(identity: DatasetIdentity, name: str, args: tuple, _fn: Callable[..., Any], _repo: Any) -> Any:
    return _fn(_repo, *args)


def cached(repo: TrialsRepository | RegistryRepository, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(repo, *args)``, computed once per dataset content, function and (hashable) arguments."""
    return _call(repo.identity, f"{fn.__module__}.{fn.__qualname__}", args, fn, repo)


@st.cache_data(show_spinner=False)
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
