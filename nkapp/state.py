"""The view's life cycle: URL -> view once per session, widgets -> view every run, view -> URL.

Streamlit's own query-param binding matches *labels* and drops bad values
silently, while the link contract needs canonical codes and a visible notice.
It also clears widget state on page changes. So the view lives in session
state under a plain key; widgets are seeded from it when Streamlit has dropped
them, and the URL is rewritten from it at the end of every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from nkapp.serve import LINK_DROPPED_KEY, NOT_FOUND_KEY
from nkdata.slices import View, Vocabulary, parse_query_params, to_query_params

VIEW_KEY = "_nk_view"
NOTICES_KEY = "_nk_notices"
NOT_FOUND_STATE = "_nk_not_found_path"
SELECTION_ROUND_KEY = "_nk_selection_round"


def current_query_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def initial_view(vocab: Vocabulary, cohort_exists: Callable[[str], bool]) -> View:
    """The view of this session: parsed from the link on the first run, then kept in state."""
    if VIEW_KEY not in st.session_state:
        params = current_query_params()
        dropped = params.pop(LINK_DROPPED_KEY, None)
        not_found = params.pop(NOT_FOUND_KEY, None)
        if not_found:
            st.session_state[NOT_FOUND_STATE] = not_found[-1]
        view, notices = parse_query_params(params, vocab, cohort_exists)
        if dropped:
            notices.insert(0, dropped_link_notice(dropped[-1]))
        st.session_state[VIEW_KEY] = view
        st.session_state[NOTICES_KEY] = (notices, to_query_params(view, vocab.year_bounds))
    return st.session_state[VIEW_KEY]


def dropped_link_notice(size: str) -> str:
    """The notice for a link Streamlit ignored whole (too many parameters): what the visitor sees is the default."""
    count = f"{int(size):,}" if size.isdigit() else "too many"
    return (
        f"This link has {count} parameters, more than the 1,000 a link can carry, so all of them were ignored and "
        "this is the default view. Ask for a shorter link (the Share box gives one)."
    )


def not_found_path() -> str | None:
    """The nested path the server redirected from (nkapp/serve.py), while the view is still the link's."""
    return st.session_state.get(NOT_FOUND_STATE) if NOTICES_KEY in st.session_state else None


def link_notices(year_bounds: tuple[int, int]) -> list[str]:
    """Notices about the link: shown while the view is still the one the link asked for (a rerun Streamlit makes
    on its own, e.g. for an unknown page, must not hide them), gone once the visitor changes the view."""
    notices, asked = st.session_state.get(NOTICES_KEY, ([], None))
    if notices and to_query_params(current_view(), year_bounds) != asked:
        st.session_state.pop(NOTICES_KEY, None)
        return []
    return notices


def seed(key: str, value: object) -> None:
    """Give a widget its value from the view when Streamlit has none for it (first run, page change)."""
    if key not in st.session_state:
        st.session_state[key] = value


def update_view(**changes: Any) -> View:
    """Store a new view with ``changes`` (slice, analysis, cohort, query)."""
    view = replace(st.session_state.get(VIEW_KEY, View()), **changes)
    st.session_state[VIEW_KEY] = view
    return view


def current_view() -> View:
    return st.session_state.get(VIEW_KEY, View())


def sync_url(year_bounds: tuple[int, int]) -> None:
    """Write the view into the URL (only when it differs, to avoid needless browser updates)."""
    desired = to_query_params(current_view(), year_bounds)
    if current_query_params() != desired:
        st.query_params.from_dict(desired)


def share_link(year_bounds: tuple[int, int], view: View | None = None) -> str:
    """The full link of this page and view, for copying."""
    query = urlencode(to_query_params(view or current_view(), year_bounds), doseq=True)
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - no browser context (AppTest, bare mode)
        url = ""
    if not url:
        return f"?{query}" if query else "(this page)"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def selection_key(base: str) -> str:
    """The widget key of a chart or table whose selection opens a cohort card: it changes when a card closes, so
    the old selection (which Streamlit keeps and a widget's state cannot be cleared by hand) is dropped."""
    return f"{base}_{st.session_state.get(SELECTION_ROUND_KEY, 0)}"


def forget_selections() -> None:
    st.session_state[SELECTION_ROUND_KEY] = st.session_state.get(SELECTION_ROUND_KEY, 0) + 1
