"""The shared sidebar filters: one widget per slice field, each followed by what remains."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice, Vocabulary, narrow_products
from nkapp import state
from nkapp.cache import cached


def _multi(label: str, key: str, options: list[str], format_func: Callable[[str], str], help_text: str) -> list[str]:
    current = [v for v in st.session_state.get(key, []) if v in options]
    st.session_state[key] = current  # options may have narrowed (products follow sources)
    return st.multiselect(label, options, key=key, format_func=format_func, placeholder="All", help=help_text)


def _coded(vocabulary: dict[str, str]) -> Callable[[str], str]:
    return lambda code: voc.label(vocabulary, code)


# The multiselects in sidebar order after the year slider: (Slice field, widget key, label, help).
# Options and labels come from the vocabulary, or from the dataset for products and CAR targets.
MULTI_FILTERS: tuple[tuple[str, str, str, str], ...] = (
    ("sources", "w_source", "NK source", "Where the infused NK cells come from."),
    ("product_classes", "w_product_class", "Product class", "How the cells were prepared or engineered."),
    ("products", "w_product", "Product", "Options narrow to the chosen NK sources."),
    ("car_targets", "w_car_target", "CAR target", "Antigen targeted by a CAR."),
    ("settings", "w_setting", "Setting", "Disease setting at NK-cell infusion."),
    ("populations", "w_population", "Population", "Age group treated."),
    ("donors", "w_donor", "Donor type", "Relation of the cell donor to the patient."),
    ("pubtypes", "w_pubtype", "Publication type", "Peer-reviewed: journal articles and case reports."),
)
_VOCABULARIES: dict[str, dict[str, str]] = {
    "sources": voc.NK_SOURCES, "product_classes": voc.PRODUCT_CLASSES, "settings": voc.SETTINGS,
    "populations": voc.POPULATIONS, "donors": voc.DONOR_TYPES, "pubtypes": voc.PUBLICATION_TYPES,
}


def _options(field: str, chosen: dict[str, list[str]], vocab: Vocabulary,
             products_by_source: dict[str, list[str]]) -> tuple[list[str], Callable[[str], str]]:
    if field == "products":
        sources = chosen.get("sources") or []
        return sorted({p for src, ps in products_by_source.items() if not sources or src in sources for p in ps}), str
    if field == "car_targets":
        options = sorted(vocab.car_targets, key=lambda c: (c != voc.NO_CAR_CODE, c))
        return options, lambda c: voc.NO_CAR_LABEL if c == voc.NO_CAR_CODE else c
    return list(_VOCABULARIES[field]), _coded(_VOCABULARIES[field])


def sidebar_filters(repo: TrialsRepository, vocab: Vocabulary, products_by_source: dict[str, list[str]]) -> Slice:
    """Render the filters from the view, store the new slice, and caption each filter with the funnel."""
    view = state.initial_view(vocab)
    s = narrow_products(view.slice, products_by_source)
    low, high = vocab.year_bounds
    years = s.years or (low, high)
    state.seed("w_years", (max(low, years[0]), min(high, years[1])))
    for field, key, _, _ in MULTI_FILTERS:
        state.seed(key, list(getattr(s, field)))
    state.seed("w_mixed", s.include_mixed)
    state.seed("w_superseded", s.include_superseded)

    captions = []
    chosen: dict[str, list[str]] = {}
    with st.sidebar:
        st.markdown("### Filters")
        if low < high:
            chosen_years = st.slider("Publication year", low, high, key="w_years")
        else:
            st.session_state["w_years"] = (low, high)
            chosen_years = (low, high)
            st.caption(f"Publication year: {low}")
        captions.append(st.empty())
        for field, key, label, help_text in MULTI_FILTERS:
            options, format_func = _options(field, chosen, vocab, products_by_source)
            chosen[field] = _multi(label, key, options, format_func, help_text)
            captions.append(st.empty())
        mixed = st.toggle("Include mixed-diagnosis cohorts", key="w_mixed",
                          help="Cohorts that mix AML with MDS, ALL or other diagnoses and give no AML-only numbers.")
        captions.append(st.empty())
        superseded = st.toggle("Include superseded reports", key="w_superseded",
                               help="Earlier reports of patients published again later. Off: each patient counted once.")
        captions.append(st.empty())

    chosen_slice = Slice(years=(int(chosen_years[0]), int(chosen_years[1])),
                         **{field: tuple(values) for field, values in chosen.items()},
                         include_mixed=bool(mixed), include_superseded=bool(superseded))
    state.store_slice(chosen_slice)
    funnel = cached(repo, TrialsRepository.filter_funnel, chosen_slice)
    for placeholder, row in zip(captions, funnel.itertuples(index=False), strict=True):
        placeholder.caption(f"{int(row.cohorts)} cohorts · {int(row.patients)} patients remain")
    return chosen_slice
