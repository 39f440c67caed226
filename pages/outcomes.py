"""Outcomes: complete remission per cohort with intervals, pooled per group."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import analysis_controls, count_caption, empty_state, forest, pct, pooled_dataframe
from nkdata import analysis, charts
from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import DENOMINATORS, View


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Outcomes: complete remission")
    choices = analysis_controls()
    view = cached(repo, analysis.outcomes_view, view.slice, choices)
    if view is None:
        empty_state()
        return
    result = view.cr
    denominator = DENOMINATORS[choices.denom].lower()
    group_name = voc.GROUPINGS[choices.group]

    st.subheader(f"CR rate per cohort, grouped by {group_name}")
    if result.cohorts_shown == 0:
        empty_state(f"cohorts reporting CR over {denominator}")
    else:
        forest(result, "CR rate", reference=result.overall.estimate)
        count_caption(f"Complete remission (CR, with CRi/CRh/CRp as each paper counts) over {denominator}; squares "
                      f"sized by weight within the group, lines are {choices.ci} 95% intervals, diamonds are "
                      f"{choices.pool} random-effects pooled estimates, the dashed line is the overall estimate.",
                      result.cohorts_shown, result.patients_shown, result.cohorts_not_reported, result.cohorts_in_slice)

        o = result.overall
        st.markdown(f"**Overall pooled CR: {pct(o.estimate, 1)}** (95% CI {pct(o.ci_low, 1)}-{pct(o.ci_high, 1)}; "
                    f"95% prediction interval {pct(o.pi_low, 1)}-{pct(o.pi_high, 1)}) from k = {o.k} cohorts, "
                    f"N = {o.n_total} patients; tau² = {o.tau2:.3f}, I² = {pct(o.i2)} (Q-based).")
        pooled_dataframe(analysis.pooled_table(result))
        t = result.test
        if t.groups >= 2:
            st.caption(f"Test for subgroup differences (random effects, separate tau² per group): "
                       f"Q = {t.q_between:.2f}, df = {t.df}, p = {t.p:.3g}. With few small cohorts per group this test "
                       "has little power; a non-significant result does not show the groups are alike.")
        else:
            st.caption("Test for subgroup differences: needs at least two groups with data.")

    left, right = st.columns(2)
    with left:
        st.subheader("Patients by NK source")
        groups = view.patients_by_source
        show_chart(charts.patients_by_group, groups, group_label="NK source")
        st.caption(f"Patients who received NK cells, {int(groups['cohorts'].sum())} cohorts "
                   f"({int(groups['cohorts_cr_not_reported'].sum())} without a CR count).")
    with right:
        st.subheader("CR by setting (pooled)")
        by_setting = view.by_setting
        if by_setting.pooled.empty:
            empty_state("cohorts reporting CR")
        else:
            show_chart(charts.pooled_bars, by_setting.pooled, group_label="Setting", value_title="CR rate")
            count_caption(f"Pooled CR over {denominator} per setting; thick line 95% CI, thin grey line prediction interval.",
                          by_setting.cohorts_shown, by_setting.patients_shown, by_setting.cohorts_not_reported,
                          by_setting.cohorts_in_slice)


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
