"""Remission: complete remission per cohort with intervals, pooled within each group (disease setting by default)."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached
from nkapp.components import (
    choices_popover,
    count_caption,
    disclosure,
    empty_state,
    figure_downloads,
    forest,
    page_title,
    pooled_dataframe,
    view_downloads,
)
from nkapp.context import dataset_facts
from nkdata import analysis
from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import DENOMINATORS, View


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Complete remission")
    vocab, _, _ = dataset_facts(repo)
    # One control holds the choices, so a phone's first screen shows the title, the slice and the chart.
    choices = choices_popover((("group", "denom", "model", "pool", "test", "ci"), ("overall", "exclude")))
    result = cached(repo, analysis.cr_analysis, view.slice, choices)
    if result.cohorts_in_slice == 0:
        empty_state()
        return
    denominator = DENOMINATORS[choices.denom].lower()
    group_name = voc.GROUPINGS[choices.group]
    st.subheader(f"CR rate per cohort, pooled within each {group_name.lower()}")
    if result.cohorts_shown == 0:
        empty_state(f"cohorts reporting CR over {denominator}")
        return
    if choices.group != "setting":
        st.warning(
            "Cohorts of different disease settings (relapsed/refractory, in remission, around a transplant) "
            "are pooled together within each group here. Group by setting for comparable estimates.",
            icon=":material/warning:",
        )
    if result.show_overall:
        st.warning(
            "The across-groups estimate pools cohorts that differ in who was treated; read it as a rough "
            "summary, not as one effect.",
            icon=":material/warning:",
        )
    forest(result, "CR rate", key="cr_forest")
    count_caption(
        f"Complete remission as each paper defines it (hover a row: definition, setting, cautions) over "
        f"{denominator}; squares sized by weight within the group, lines {choices.ci} 95% intervals, "
        f"diamonds pooled estimates ({analysis.method_words(choices)}; a group of one cohort shows only that "
        "cohort). Click a cohort to see where its numbers came from. "
        + analysis.inclusion_note(view.slice)
        + " "
        + analysis.exclusion_note(choices)
        + (
            f" {result.cohorts_excluded} cohort(s) left out by the sensitivity choice."
            if result.cohorts_excluded
            else ""
        ),
        result.cohorts_shown,
        result.patients_shown,
        result.cohorts_not_reported,
        result.cohorts_in_slice,
        result.cohorts_excluded,
    )
    if result.show_overall:
        st.markdown(f"**Across groups: {analysis.pooled_sentence(result.overall)}**")
    st.markdown("**Pooled per group**")
    pooled_dataframe(analysis.pooled_table(result))
    st.caption(analysis.interval_note(choices))
    t = result.test
    if t.groups >= 2:
        st.caption(
            f"Test for subgroup differences (separate tau² per group): Q = {t.q_between:.2f}, df = {t.df}, "
            f"p = {t.p:.3g}. With few small cohorts per group this test has little power."
        )
    if box := disclosure(
        "Sensitivity: GLMM, REML and fixed effect; leave-one-out", key="open_sensitivity", icon=":material/tune:"
    ):
        with box:
            st.markdown("**The GLMM, inverse-variance REML and the fixed effect side by side** (the chosen interval)")
            st.dataframe(analysis.model_table(result), hide_index=True, width="stretch")
            st.markdown(
                "**Leave-one-out** (groups of at least 3 cohorts; inverse variance, REML when the GLMM is chosen, "
                "as metafor's leave1out): the pooled estimate with each cohort left out; *Influential* marks a "
                "standardized deleted residual beyond ±1.96 (about 1 in 20 by chance)."
            )
            loo = analysis.leave_one_out_table(result)
            if loo.empty:
                st.caption("No group has 3 or more cohorts.")
            else:
                st.dataframe(
                    loo.drop(columns=["cohort_id"]),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        c: st.column_config.NumberColumn(format="%.1f")
                        for c in loo.columns
                        if c.endswith("%") or c.startswith("Change")
                    },
                )
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(
                repo, result.forest[result.forest["kind"] != "header"], "remission", vocab.year_bounds, key="cr_rows"
            )
            figure_downloads(
                repo,
                result,
                f"Complete remission per cohort, by {group_name.lower()}",
                "CR rate",
                vocab.year_bounds,
                key="cr_forest_figure",
                note=analysis.exclusion_note(choices),
            )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
