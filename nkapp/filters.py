"""The shared sidebar: inclusion choices first, then the filters with option counts, then the slice's size.

Every widget comes from the filter table (nkdata/filterspec.py). Each option shows
how many cohorts the slice would hold with it (every other choice kept), so an
empty choice is visible before it is tried; the one line under the filters is the
slice's own count, the same number the page headlines use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import streamlit as st

from nkapp import state
from nkapp.cache import cached
from nkapp.components import disclosure
from nkdata.filterspec import FILTERS, REGISTRY_FILTERS, START_YEARS_FIELD, TOGGLES, FilterSpec
from nkdata.registry_repository import RegistryRepository
from nkdata.repository import TrialsRepository
from nkdata.slices import START_YEAR_BOUNDS, RegistrySlice, Slice, Vocabulary, narrow_products

# Filters shown at once; the rest sit in a collapsed "More filters" box.
MAIN_FILTERS: tuple[str, ...] = ("sources", "product_classes", "settings", "products")


def widget_key(name: str) -> str:
    return f"w_{name}"


def _slice_from_widgets(vocab: Vocabulary) -> Slice:
    """The slice the widgets currently hold (seeded from the view before the first draw)."""
    low, high = vocab.year_bounds
    years = st.session_state.get(widget_key("years"), (low, high))
    return Slice(
        years=(int(years[0]), int(years[1])),
        **{f.field: tuple(st.session_state.get(widget_key(f.field), ())) for f in FILTERS},
        **{t.field: bool(st.session_state.get(widget_key(t.field), t.default)) for t in TOGGLES},
    )


def _options(spec: FilterSpec, chosen: Slice, vocab: Vocabulary, products_by_source: dict[str, list[str]]) -> list[str]:
    if spec.parent == "sources" and chosen.sources:
        return sorted({p for src in chosen.sources for p in products_by_source.get(src, [])})
    codes = vocab.allowed(spec.field)
    if spec.codes is not None:
        return [c for c in spec.codes if c in codes]
    return sorted(codes, key=lambda c: (c != spec.null_code, c))


def _formatter(spec: FilterSpec, counts: dict[str, int]) -> Callable[[str], str]:
    return lambda code: f"{spec.code_label(code)} ({counts.get(code, 0)})"


def _filter_widget(
    spec: FilterSpec,
    where: object,
    vocab: Vocabulary,
    products_by_source: dict[str, list[str]],
    facets: pd.DataFrame,
) -> None:
    """One filter's multiselect in ``where`` (the sidebar or its "More filters" box), options with counts."""
    key = widget_key(spec.field)
    options = _options(spec, _slice_from_widgets(vocab), vocab, products_by_source)
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]
    where.multiselect(  # type: ignore[attr-defined]
        spec.label,
        options,
        key=key,
        placeholder="All",
        help=spec.help,
        format_func=_formatter(spec, _counts(facets, spec.field)),
    )


def _counts(facets: pd.DataFrame, field: str, unit: str = "cohorts") -> dict[str, int]:
    rows = facets[facets["field"] == field]
    return {c: int(n) for c, n in zip(rows["code"], rows[unit], strict=True) if isinstance(c, str)}


def sidebar_filters(repo: TrialsRepository, vocab: Vocabulary, products_by_source: dict[str, list[str]]) -> Slice:
    """Render the filters from the view, store the chosen slice, and say how big it is."""
    view = state.current_view()
    s = narrow_products(view.slice, products_by_source)
    low, high = vocab.year_bounds
    years = s.years or (low, high)
    state.seed(widget_key("years"), (max(low, years[0]), min(high, years[1])))
    for spec in FILTERS:
        state.seed(widget_key(spec.field), list(getattr(s, spec.field)))
    for toggle in TOGGLES:
        state.seed(widget_key(toggle.field), getattr(s, toggle.field))

    facets = cached(repo, TrialsRepository.facet_counts, _slice_from_widgets(vocab))
    with st.sidebar:
        st.markdown("### Include")
        for toggle in TOGGLES:
            st.toggle(toggle.label, key=widget_key(toggle.field), help=toggle.help)
        st.markdown("### Filter")
        if low < high:
            st.slider("Publication year", low, high, key=widget_key("years"))
        else:
            st.session_state[widget_key("years")] = (low, high)
            st.caption(f"Publication year: {low}")
        main = [f for f in FILTERS if f.field in MAIN_FILTERS]
        more = [f for f in FILTERS if f.field not in MAIN_FILTERS]
        for spec in main:
            _filter_widget(spec, st, vocab, products_by_source, facets)
        active = sum(bool(st.session_state.get(widget_key(f.field))) for f in more)
        if box := disclosure("More filters", key="more_filters", expanded=bool(active)):
            for spec in more:
                _filter_widget(spec, box, vocab, products_by_source, facets)
        elif active:  # closed, the box's values stay in the view and still filter
            st.caption(f"{active} more filter(s) in use")
        chosen = _slice_from_widgets(vocab)
        state.update_view(slice=chosen)
        size = cached(repo, TrialsRepository.filter_funnel, chosen).iloc[-1]
        st.markdown(f"**{int(size.cohorts)} cohorts · {int(size.patients)} patients** in this view")
    return chosen


# ----- Registered trials: the page's own filters, counted in trials ---------------------------------------


def _registry_key(name: str) -> str:
    return widget_key(f"reg_{name}")


def _registry_from_widgets(view: object) -> RegistrySlice:
    """The page's filters as the widgets hold them, with the sidebar's mapped filters from the view."""
    low, high = START_YEAR_BOUNDS
    start = tuple(st.session_state.get(_registry_key(START_YEARS_FIELD), (low, high)))
    return replace(
        RegistrySlice.from_view(view),
        **{START_YEARS_FIELD: None if start == (low, high) else (int(start[0]), int(start[1]))},
        **{f.field: tuple(st.session_state.get(_registry_key(f.field), ())) for f in REGISTRY_FILTERS},
    )


def registry_filters(registry: RegistryRepository, view: object, codes: dict[str, list[str]]) -> RegistrySlice:
    """Phase, status, sponsor type, CAR target, results and start year on the page, each option with the trials it
    would leave; stores the choice in the view (so it is in the link and survives navigation) and returns the
    whole registry slice. ``codes``: the dataset's values for filters without a fixed vocabulary."""
    own = getattr(view, "registry", None) or RegistrySlice()
    low, high = START_YEAR_BOUNDS
    start = getattr(own, START_YEARS_FIELD) or (low, high)
    state.seed(_registry_key(START_YEARS_FIELD), (max(low, start[0]), min(high, start[1])))
    for spec in REGISTRY_FILTERS:
        state.seed(_registry_key(spec.field), list(getattr(own, spec.field)))
    facets = cached(registry, RegistryRepository.facet_counts, _registry_from_widgets(view))
    columns = st.columns(3)
    dropped: list[str] = []
    for index, spec in enumerate(REGISTRY_FILTERS):
        key = _registry_key(spec.field)
        options = list(spec.codes) if spec.codes is not None else codes.get(spec.field, [])
        held = list(st.session_state.get(key, []))
        st.session_state[key] = [v for v in held if v in options]
        if len(held) > len(st.session_state[key]):  # e.g. a link's CAR target this registry does not have
            dropped.append(f"{len(held) - len(st.session_state[key])} {spec.label} value(s)")
        columns[index % 3].multiselect(
            spec.label,
            options,
            key=key,
            placeholder="All",
            help=spec.help + " Counts: trials.",
            format_func=_formatter(spec, _counts(facets, spec.field, "trials")),
        )
    columns[len(REGISTRY_FILTERS) % 3].slider(
        "Start year",
        low,
        high,
        key=_registry_key(START_YEARS_FIELD),
        help="Year the trial started (actual or planned). A narrowed range leaves out trials whose start year "
        "is not reported.",
    )
    if dropped:  # counts only: link values are never echoed here
        st.caption("Ignored " + ", ".join(dropped) + " not found in the registry dataset.")
    chosen = _registry_from_widgets(view)
    state.update_view(registry=replace(RegistrySlice(), **{n: getattr(chosen, n) for n in _OWN_FIELDS}))
    return chosen


_OWN_FIELDS: tuple[str, ...] = (START_YEARS_FIELD, *(f.field for f in REGISTRY_FILTERS))
