"""Safety: CRS, ICANS, GVHD and treatment-related deaths, with "not reported" kept apart from zero."""

from __future__ import annotations

import streamlit as st

from nkapp import state
from nkapp.cache import cached, show_chart
from nkapp.components import chart_downloads, disclosure, empty_state, page_title, view_downloads
from nkapp.context import dataset_facts
from nkdata import analysis, charts
from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.safety import SAFETY_GROUPS, rate_export, rate_matrix, safety_rates, silent_groups
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Safety")
    vocab = dataset_facts(repo)[0]
    safety = cached(repo, TrialsRepository.safety_by_source, view.slice)
    if safety.empty:
        empty_state()
        return
    if int(safety["cohorts_reported"].sum()) == 0:
        st.info(
            "No cohort in this slice reports any safety outcome (CRS, ICANS, GVHD, DLT, treatment-related "
            "deaths): not reported is not zero.",
            icon=":material/info:",
        )
        return
    state.seed("w_safety_by", "nk_source")
    group_by = st.segmented_control(
        "Rates by", list(SAFETY_GROUPS), format_func=SAFETY_GROUPS.get, key="w_safety_by", required=True
    )
    group_by = group_by or "nk_source"
    choices = view.analysis
    rates = cached(repo, safety_rates, view.slice, group_by, choices)
    name = SAFETY_GROUPS[group_by]
    st.subheader(f"Patients with each event, by {name if name[1].isupper() else name.lower()}")
    matrix = rate_matrix(rates)
    silent = silent_groups(rates)
    st.dataframe(
        matrix,
        hide_index=True,
        width="stretch",
        column_config={
            "Outcome": st.column_config.TextColumn("Outcome", pinned=True, width="medium"),
            "Group": st.column_config.TextColumn(name, width="large"),
        },
    )
    st.caption(
        "Each cell: patients with the event / patients treated in the cohorts that reported the outcome (crude "
        "rate; exact Clopper-Pearson 95% CI). 0/N is a reported zero; *not reported* means no cohort of that "
        "group reported it, and such cohorts never enter a denominator. 'All cohorts' is the total the Summary of "
        "findings pools (same cohorts, same sensitivity choices)."
        + (
            f" No safety outcome reported for {len(silent)} group(s): {', '.join(silent[:8])}"
            + (f" and {len(silent) - 8} more." if len(silent) > 8 else ".")
            if silent
            else ""
        )
        + (f" {analysis.exclusion_note(choices)}" if analysis.exclusion_note(choices) else "")
    )
    show_chart(charts.safety_rate_dots, rates)
    chart_downloads(charts.safety_rate_dots, rates, f"Safety by {SAFETY_GROUPS[group_by].lower()}", key="safety_figure")
    if box := disclosure("Who reported what (cohorts per NK source)", key="open_reporting", icon=":material/rule:"):
        with box:
            table = safety.copy()
            table["NK source"] = [voc.label(voc.NK_SOURCES, c) for c in table["nk_source"]]
            table["Outcome"] = [voc.SAFETY_FIELDS.get(o, o) for o in table["outcome"]]
            st.dataframe(
                table[
                    ["NK source", "Outcome", "cohorts_reported", "cohorts_reported_zero", "cohorts_not_reported"]
                ].rename(
                    columns={
                        "cohorts_reported": "Cohorts reporting",
                        "cohorts_reported_zero": "of which zero",
                        "cohorts_not_reported": "Cohorts not reporting",
                    }
                ),
                hide_index=True,
                width="stretch",
            )
            st.caption("GVHD is counted as reported: any GVHD (acute or chronic), acute GVHD by grade, chronic GVHD.")
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(repo, rate_export(rates), "safety", vocab.year_bounds, key="safety_rows")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
