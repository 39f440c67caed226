"""Relapse: relapse among patients in remission, by source and setting."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import analysis_controls, count_caption, empty_state, forest, pct, pooled_dataframe
from nkdata import analysis, charts
from nkdata.repository import TrialsRepository
from nkdata.slices import View

RELAPSE_GROUPS = {"nk_source": "NK source", "setting": "Setting", "product_class": "Product class"}


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Relapse")
    choices = analysis_controls(show=("group", "pool", "ci"), groups=RELAPSE_GROUPS)
    view = cached(repo, analysis.relapse_view, view.slice, choices)
    if view is None:
        empty_state()
        return
    result = view.result
    st.subheader(f"Relapse proportion per cohort, grouped by {RELAPSE_GROUPS[choices.group]}")
    if result.cohorts_shown == 0:
        empty_state("cohorts reporting relapse among patients at risk")
        return
    forest(result, "Relapse proportion", reference=result.overall.estimate)
    count_caption(f"Patients who relapsed over patients in remission at risk; {choices.ci} 95% intervals, "
                  f"{choices.pool} pooled diamonds. Follow-up differs between cohorts.",
                  result.cohorts_shown, result.patients_shown, result.cohorts_not_reported, result.cohorts_in_slice)
    o = result.overall
    st.markdown(f"**Overall pooled relapse: {pct(o.estimate, 1)}** (95% CI {pct(o.ci_low, 1)}-{pct(o.ci_high, 1)}), "
                f"k = {o.k}, N = {o.n_total}; tau² = {o.tau2:.3f}, I² = {pct(o.i2)} (Q-based).")
    pooled_dataframe(analysis.pooled_table(result))

    st.subheader("Relapse and follow-up")
    with_followup = view.with_followup
    if with_followup.empty:
        empty_state("cohorts reporting both relapse and follow-up")
    else:
        show_chart(charts.relapse_vs_followup, with_followup)
        st.caption(f"{view.followup_reported} of {result.cohorts_shown} cohorts with a relapse proportion also report "
                   "median follow-up; a short follow-up can make relapse look rare."
                   + (f" Only the {len(with_followup)} largest are drawn." if view.followup_truncated else ""))

    st.subheader("After HSCT: prophylaxis vs. treatment of relapse")
    post_result = view.post_hsct
    if post_result.cohorts_shown == 0:
        empty_state("post-transplant cohorts reporting relapse")
    else:
        forest(post_result, "Relapse proportion")
        count_caption("The two post-HSCT settings side by side, each pooled alone.", post_result.cohorts_shown,
                      post_result.patients_shown, post_result.cohorts_not_reported, post_result.cohorts_in_slice)

if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
