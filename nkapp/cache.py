"""Caching per view: a rerun of the same view (same data, slice and choices) does no work twice.

Results are keyed by the dataset file (path and modification time), the function and its
arguments (frozen dataclasses), and shared read-only across sessions. Chart specs are
built once per chart data and sent with st.vega_lite_chart: Altair's schema validation of
every spec on every rerun was the largest cost of a page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from nkdata.repository import TrialsRepository


def _dataset_key(repo: TrialsRepository) -> tuple[str, int]:
    try:
        return str(repo.path), repo.path.stat().st_mtime_ns
    except OSError:
        return str(repo.path), -1


@st.cache_resource(max_entries=128, show_spinner=False)
def _call(key: tuple, _fn: Callable[..., Any], _args: tuple) -> Any:
    return _fn(*_args)


def cached(repo: TrialsRepository, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(repo, *args)``, computed once per dataset, function and (hashable) arguments."""
    key = (_dataset_key(repo), f"{fn.__module__}.{fn.__qualname__}", args)
    return _call(key, fn, (repo, *args))


@st.cache_data(max_entries=256, show_spinner=False)
def _spec(builder_name: str, _builder: Callable[..., alt.TopLevelMixin], data: pd.DataFrame,
          kwargs: tuple[tuple[str, Any], ...]) -> dict:
    return _builder(data, **dict(kwargs)).to_dict(validate=False)


def show_chart(builder: Callable[..., alt.TopLevelMixin], data: pd.DataFrame, **kwargs: Any) -> None:
    """Draw ``builder(data, **kwargs)``; the spec is built once per distinct data and options."""
    spec = _spec(f"{builder.__module__}.{builder.__qualname__}", builder, data, tuple(sorted(kwargs.items())))
    st.vega_lite_chart(spec, width="stretch")
