"""The shared sidebar filters: one widget per slice field, each followed by what remains."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import Slice, Vocabulary, narrow_products
from nkapp import state


def _multi(label: str, key: str, options: list[str], format_func: Callable[[str], str], help_text: str) -> list[str]:
    current = [v for v in st.session_state.get(key, []) if v in options]
    st.session_state[key] = current  # options may have narrowed (products follow sources)
    return st.multiselect(label, options, key=key, format_func=format_func, placeholder="All", help=help_text)


def sidebar_filters(repo: TrialsRepository, vocab: Vocabulary, products_by_source: dict[str, list[str]]) -> Slice:
    """Render the filters from the view, store the new slice, and caption each filter with the funnel."""
    view = state.initial_view(vocab)
    s = narrow_products(view.slice, products_by_source)
    low, high = vocab.year_bounds
    years = s.years or (low, high)
    state.seed("w_years", (max(low, years[0]), min(high, years[1])))
    state.seed("w_source", list(s.sources))
    state.seed("w_product_class", list(s.product_classes))
    state.seed("w_product", list(s.products))
    state.seed("w_car_target", list(s.car_targets))
    state.seed("w_setting", list(s.settings))
    state.seed("w_population", list(s.populations))
    state.seed("w_donor", list(s.donors))
    state.seed("w_pubtype", list(s.pubtypes))
    state.seed("w_mixed", s.include_mixed)
    state.seed("w_superseded", s.include_superseded)

    sidebar = st.sidebar
    captions = []
    with sidebar:
        st.markdown("### Filters")
        if low < high:
            chosen_years = st.slider("Publication year", low, high, key="w_years")
        else:
            st.session_state["w_years"] = (low, high)
            chosen_years = (low, high)
            st.caption(f"Publication year: {low}")
        captions.append(st.empty())
        sources = _multi("NK source", "w_source", list(voc.NK_SOURCES), lambda c: voc.label(voc.NK_SOURCES, c),
                         "Where the infused NK cells come from.")
        captions.append(st.empty())
        classes = _multi("Product class", "w_product_class", list(voc.PRODUCT_CLASSES),
                         lambda c: voc.label(voc.PRODUCT_CLASSES, c), "How the cells were prepared or engineered.")
        captions.append(st.empty())
        product_options = sorted({p for src, ps in products_by_source.items() if not sources or src in sources for p in ps})
        products = _multi("Product", "w_product", product_options, str, "Options narrow to the chosen NK sources.")
        captions.append(st.empty())
        car_options = sorted(vocab.car_targets, key=lambda c: (c != voc.NO_CAR_CODE, c))
        cars = _multi("CAR target", "w_car_target", car_options,
                      lambda c: voc.NO_CAR_LABEL if c == voc.NO_CAR_CODE else c, "Antigen targeted by a CAR.")
        captions.append(st.empty())
        settings = _multi("Setting", "w_setting", list(voc.SETTINGS), lambda c: voc.label(voc.SETTINGS, c),
                          "Disease setting at NK-cell infusion.")
        captions.append(st.empty())
        populations = _multi("Population", "w_population", list(voc.POPULATIONS),
                             lambda c: voc.label(voc.POPULATIONS, c), "Age group treated.")
        captions.append(st.empty())
        donors = _multi("Donor type", "w_donor", list(voc.DONOR_TYPES), lambda c: voc.label(voc.DONOR_TYPES, c),
                        "Relation of the cell donor to the patient.")
        captions.append(st.empty())
        pubtypes = _multi("Publication type", "w_pubtype", list(voc.PUBLICATION_TYPES),
                          lambda c: voc.label(voc.PUBLICATION_TYPES, c),
                          "Peer-reviewed: journal articles and case reports.")
        captions.append(st.empty())
        mixed = st.toggle("Include mixed-diagnosis cohorts", key="w_mixed",
                          help="Cohorts that mix AML with MDS, ALL or other diagnoses and give no AML-only numbers.")
        captions.append(st.empty())
        superseded = st.toggle("Include superseded reports", key="w_superseded",
                               help="Earlier reports of patients published again later. Off: each patient counted once.")
        captions.append(st.empty())

    chosen = Slice(
        years=(int(chosen_years[0]), int(chosen_years[1])), sources=tuple(sources), product_classes=tuple(classes),
        products=tuple(products), car_targets=tuple(cars), settings=tuple(settings), populations=tuple(populations),
        donors=tuple(donors), pubtypes=tuple(pubtypes), include_mixed=bool(mixed), include_superseded=bool(superseded),
    )
    state.store_slice(chosen)
    funnel = repo.filter_funnel(chosen)
    for placeholder, row in zip(captions, funnel.itertuples(index=False), strict=True):
        placeholder.caption(f"{int(row.cohorts)} cohorts · {int(row.patients)} patients remain")
    return chosen
