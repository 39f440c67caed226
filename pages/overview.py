"""Overview: the slice at a glance."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import empty_state, pct
from nkdata import analysis, charts
from nkdata.repository import TrialsRepository
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Adoptive NK-cell therapy in AML: the evidence")
    st.caption("Every number is traceable to its publication (see Studies). Filters in the sidebar apply to every page.")
    k = analysis.kpis(cached(repo, TrialsRepository.summary, view.slice), view.analysis.ci)
    if k["cohorts"] == 0:
        empty_state()
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Publications", k["publications"])
    c2.metric("Cohorts", k["cohorts"])
    c3.metric("Patients treated", k["patients_treated"])
    c4.metric("CR among evaluable", pct(k["cr_rate"]),
              help="Crude total over cohorts reporting both CR and evaluable patients; see Outcomes for pooled estimates.")
    st.caption(f"CR among evaluable: {k['cr_events']} of {k['cr_evaluable']} patients "
               f"(95% CI {pct(k['cr_ci_low'])}-{pct(k['cr_ci_high'])}, {view.analysis.ci}); "
               f"{k['cohorts_cr_not_reported']} cohort(s) did not report CR or evaluable patients and are not counted.")

    st.subheader("Cohorts per publication year")
    show_chart(charts.cohorts_per_year, cached(repo, TrialsRepository.cohorts_per_year, view.slice))
    st.caption("Cohorts (treated arms) by year of publication, coloured by NK source.")
    st.subheader("NK source by setting")
    show_chart(charts.source_setting_matrix, cached(repo, TrialsRepository.source_by_setting, view.slice))
    st.caption("Cohorts in each cell, patients treated in brackets.")

    st.subheader("What these data can and cannot say")
    st.markdown(
        "- Almost all cohorts are **small, single-arm** phase 1/2 studies; remission rates come with wide "
        "confidence intervals and depend on who was treated (relapsed/refractory vs. in remission).\n"
        "- Sources, products, doses, lymphodepletion and cytokine support differ between cohorts, so a "
        "comparison across NK sources is **descriptive**, not causal.\n"
        "- Many results come from **abstracts and company reports**; a field that a source did not report is "
        "shown as *not reported*, never as zero.\n"
        "- Later reports of the same patients replace earlier ones (superseded reports are off by default), "
        "so each patient is counted once.\n"
        "- Mixed-diagnosis cohorts (AML with MDS or ALL) are included by default and can be left out in the sidebar."
    )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
