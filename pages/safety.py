"""Safety: CRS, ICANS, GVHD and treatment-related deaths, with "not reported" kept apart from zero."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import chart_downloads, disclosure, empty_state, page_title, view_downloads
from nkapp.context import dataset_facts
from nkdata import charts
from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Safety")
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
    show_chart(charts.safety_bars, safety)
    chart_downloads(charts.safety_bars, safety, "Safety by NK source", key="safety_figure")
    st.caption(
        "Patients per NK source: orange = patients with the event, blue = patients in cohorts that reported "
        "the outcome without the event, grey = patients in cohorts that did not report the outcome at all "
        "(not reported is not zero). Counts are patients, not events."
    )
    table = safety.copy()
    table["NK source"] = [voc.label(voc.NK_SOURCES, c) for c in table["nk_source"]]
    table["Outcome"] = [voc.SAFETY_FIELDS.get(o, o) for o in table["outcome"]]
    table["Events / patients"] = [
        f"{int(e)} / {int(p)}" if c else "not reported"
        for e, p, c in zip(table["events"], table["patients_reported"], table["cohorts_reported"], strict=True)
    ]
    st.dataframe(
        table[
            [
                "NK source",
                "Outcome",
                "Events / patients",
                "cohorts_reported",
                "cohorts_reported_zero",
                "cohorts_not_reported",
            ]
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
    st.caption(
        "GVHD is counted as reported: any GVHD (acute or chronic), acute GVHD by grade, chronic GVHD. Pooled "
        "rates with intervals per setting are on the Summary of findings page."
    )
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(
                repo,
                table.drop(columns=["Events / patients"]),
                "safety",
                dataset_facts(repo)[0].year_bounds,
                key="safety_rows",
            )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
