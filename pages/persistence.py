"""Persistence: how long infused NK cells were detected."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import analysis_controls, empty_state
from nkdata import analysis, charts
from nkdata.presentation import not_reported_text
from nkdata.repository import TrialsRepository
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Persistence of infused NK cells")
    choices = analysis_controls(show=("denom", "ci"))
    result = cached(repo, analysis.persistence_view, view.slice, choices)
    if result is None:
        empty_state()
        return
    st.subheader("Longest detection per cohort")
    by = st.radio("Rows", ["product", "nk_source"], horizontal=True, key="w_persist_rows",
                  format_func={"product": "Product", "nk_source": "NK source"}.get)
    if result.cohorts.empty:
        empty_state("cohorts reporting persistence")
    else:
        show_chart(charts.persistence_strip, result.cohorts, by=by)
    st.caption(f"Longest time the infused cells were detected (days, log scale), as each paper measured it "
               f"(method in the tooltip: chimerism, flow cytometry, qPCR...). Shows {len(result.cohorts)} of "
               f"{result.cohorts_in_slice} cohorts; {result.cohorts_in_slice - result.cohorts_reporting} did not "
               "report persistence. Methods differ in sensitivity, so compare with care."
               + (f" Only the {analysis.MAX_POINTS} largest cohorts are drawn." if result.points_truncated else ""))
    st.dataframe(not_reported_text(result.by_source.drop(columns=["nk_source"]).rename(columns={
        "label": "NK source", "cohorts_reported": "Cohorts reporting", "cohorts_not_reported": "Not reported",
        "median": "Median (days)", "q1": "Q1", "q3": "Q3", "min": "Min", "max": "Max"}),
        ["Median (days)", "Q1", "Q3", "Min", "Max"]), hide_index=True, width="stretch")

    st.subheader("Persistence and complete remission")
    if result.versus_cr.empty:
        empty_state("cohorts reporting both persistence and CR")
        return
    show_chart(charts.persistence_vs_response, result.versus_cr)
    c = result.correlation
    corr = (f"Spearman rho = {c.rho:.2f} (p = {c.p:.2g}, n = {c.n} cohorts)" if c.n >= 3 and c.rho == c.rho
            else f"Too few cohorts (n = {c.n}) for a rank correlation")
    st.caption(f"Each point is a cohort reporting both values; size = patients in the CR denominator, colour = cytokine "
               f"given with the cells. {corr}. Caution: few, small, heterogeneous cohorts; a correlation across "
               "studies says nothing about individual patients.")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
