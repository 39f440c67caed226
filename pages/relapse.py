"""Relapse counts: patients who relapsed among those at risk, by source and setting."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached
from nkapp.components import analysis_controls, count_caption, empty_state, forest, pooled_dataframe, view_downloads
from nkapp.context import dataset_facts
from nkdata import analysis
from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import View

RELAPSE_GROUPS = {"setting": "Setting", "nk_source": "NK source", "product_class": "Product class"}


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Relapse counts")
    vocab, _, _ = dataset_facts(repo)
    choices = analysis_controls(show=("group", "model", "pool", "ci"), groups=RELAPSE_GROUPS)
    result = cached(repo, analysis.relapse_analysis, view.slice, choices, choices.group
                    if choices.group in RELAPSE_GROUPS else "setting")
    if result.cohorts_in_slice == 0:
        empty_state()
        return
    st.subheader(f"Relapse among patients at risk, pooled within each {RELAPSE_GROUPS.get(choices.group, 'setting').lower()}")
    if result.cohorts_shown == 0:
        empty_state("cohorts reporting relapse among patients at risk")
        return
    forest(result, "Relapse proportion", key="relapse_forest")
    count_caption(f"Patients who relapsed over patients in remission at risk, as counted at each paper's follow-up "
                  f"(which differs: see the Survival page for landmark incidences); {choices.ci} 95% intervals.",
                  result.cohorts_shown, result.patients_shown, result.cohorts_not_reported, result.cohorts_in_slice)
    pooled_dataframe(analysis.pooled_table(result))
    settings = sorted({voc.label(voc.SETTINGS, s) for s in result.forest.get("setting", []) if s})
    if settings:
        st.caption("Settings with relapse counts in this slice: " + ", ".join(settings) + ".")
    with st.expander("Downloads", icon=":material/download:"):
        view_downloads(repo, result.forest[result.forest["kind"] != "header"], "relapse", vocab.year_bounds, key="relapse_rows")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
