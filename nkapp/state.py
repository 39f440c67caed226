"""The view's life cycle: URL -> view once per session, widgets -> view every run, view -> URL.

Streamlit's own query-param binding matches *labels* and drops bad values
silently, while the link contract needs canonical codes and a visible notice.
It also clears widget state on page changes. So the view lives in session
state under a plain key; widgets are seeded from it when Streamlit has dropped
them, and the URL is rewritten from it at the end of every run.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from nkdata.slices import Analysis, Slice, View, Vocabulary, parse_query_params, to_query_params

VIEW_KEY = "_nk_view"
NOTICES_KEY = "_nk_notices"


def current_query_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def initial_view(vocab: Vocabulary) -> View:
    """The view of this session: parsed from the link on the first run, then kept in state."""
    if VIEW_KEY not in st.session_state:
        view, notices = parse_query_params(current_query_params(), vocab)
        st.session_state[VIEW_KEY] = view
        st.session_state[NOTICES_KEY] = notices
    return st.session_state[VIEW_KEY]


def pop_notices() -> list[str]:
    """Notices about the link, shown once."""
    return st.session_state.pop(NOTICES_KEY, [])


def seed(key: str, value: object) -> None:
    """Give a widget its value from the view when Streamlit has none for it (first run, page change)."""
    if key not in st.session_state:
        st.session_state[key] = value


def store_slice(slice_: Slice) -> View:
    view = replace(st.session_state[VIEW_KEY], slice=slice_)
    st.session_state[VIEW_KEY] = view
    return view


def store_analysis(analysis: Analysis) -> View:
    view = replace(st.session_state[VIEW_KEY], analysis=analysis)
    st.session_state[VIEW_KEY] = view
    return view


def current_view() -> View:
    return st.session_state[VIEW_KEY]


def sync_url(year_bounds: tuple[int, int]) -> None:
    """Write the view into the URL (only when it differs, to avoid needless browser updates)."""
    desired = to_query_params(current_view(), year_bounds)
    if current_query_params() != desired:
        st.query_params.from_dict(desired)


def share_link(year_bounds: tuple[int, int]) -> str:
    """The full link of this page and view, for copying."""
    query = urlencode(to_query_params(current_view(), year_bounds), doseq=True)
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - no browser context (AppTest, bare mode)
        url = ""
    if not url:
        return f"?{query}" if query else "(this page)"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
