"""Relapse counts: patients who relapsed among those at risk, by source and setting."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import (
    analysis_controls,
    count_caption,
    disclosure,
    empty_state,
    forest,
    page_title,
    view_downloads,
)
from nkapp.context import dataset_facts
from nkdata import analysis, charts
from nkdata import vocabulary as voc
from nkdata.presentation import cohort_labels, number
from nkdata.repository import TrialsRepository
from nkdata.safe_text import md_text
from nkdata.slices import View

RELAPSE_GROUPS = {"setting": "Setting", "nk_source": "NK source", "product_class": "Product class"}


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Relapse counts")
    vocab, _, _ = dataset_facts(repo)
    choices = analysis_controls(show=("group", "ci", "exclude"), groups=RELAPSE_GROUPS)
    relapse = cached(repo, analysis.relapse_view, view.slice, choices)
    if relapse is None:
        empty_state()
        return
    result = relapse.result
    st.subheader(
        f"Relapse among patients at risk, by {RELAPSE_GROUPS.get(choices.group, 'setting').lower()}: crude counts, "
        "not pooled"
    )
    if result.cohorts_shown == 0:
        empty_state("cohorts reporting relapse among patients at risk")
        return
    if result.forest_truncated:  # without pooled diamonds a forest of this many cohorts has nothing left to draw
        st.caption(
            f"{result.cohorts_shown} cohorts are too many to draw one by one (more than "
            f"{analysis.MAX_FOREST_COHORTS}): the table below gives each group's totals and range."
        )
    else:
        forest(result, "Relapse proportion", key="relapse_forest")
    count_caption(
        f"Patients who relapsed over patients in remission at risk, as counted at each paper's follow-up "
        f"(which differs: see the Survival page for landmark incidences); {choices.ci} 95% intervals. Counts "
        "over follow-up of different lengths are not pooled into one proportion: the table gives each group's "
        "totals and the range of its cohorts. "
        + analysis.inclusion_note(view.slice)
        + " "
        + analysis.exclusion_note(choices),
        result.cohorts_shown,
        result.patients_shown,
        result.cohorts_not_reported,
        result.cohorts_in_slice,
        result.cohorts_excluded,
    )
    st.dataframe(
        relapse.by_group,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.1f") for c in relapse.by_group if c.endswith("%")},
    )
    settings = sorted({voc.label(voc.SETTINGS, s) for s in result.forest.get("setting", []) if s})
    if settings:
        st.caption("Settings with relapse counts in this slice: " + md_text(", ".join(settings)) + ".")
    st.subheader("Relapse and follow-up")
    points = relapse.with_followup
    if len(points) >= charts.MIN_CHART_POINTS:
        show_chart(charts.relapse_vs_followup, points)
    elif len(points):
        st.dataframe(
            pd.DataFrame(
                {
                    "Cohort": cohort_labels(points),
                    "Relapsed / at risk": [
                        f"{int(e)} / {int(t)}"
                        for e, t in zip(points["relapse_count"], points["relapse_at_risk"], strict=True)
                    ],
                    "Median follow-up (months)": [number(v) for v in points["median_followup_months"]],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        empty_state("cohorts reporting both relapse and follow-up")
    st.caption(
        f"{relapse.followup_reported} of {result.cohorts_shown} cohorts with a relapse proportion also report "
        "median follow-up; a short follow-up makes relapse look rare."
        + (f" Only the {len(points)} largest are drawn." if relapse.followup_truncated else "")
    )
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(
                repo, result.forest[result.forest["kind"] != "header"], "relapse", vocab.year_bounds, key="relapse_rows"
            )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
