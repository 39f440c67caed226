"""Survival and relapse over time: landmark estimates (OS, LFS, EFS, cumulative incidence of relapse...) as reported."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nkapp import state
from nkapp.cache import cached, show_chart
from nkapp.components import (
    analysis_controls,
    chart_downloads,
    disclosure,
    empty_state,
    fitted_dataframe,
    open_cohort_from,
    page_title,
    view_downloads,
)
from nkapp.context import dataset_facts
from nkdata import analysis, charts, presentation
from nkdata import vocabulary as voc
from nkdata.presentation import cohort_labels, is_true, number
from nkdata.repository import TrialsRepository
from nkdata.slices import LANDMARKS, View


def _table(entries: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Cohort": cohort_labels(entries),
            "Setting": [voc.label(voc.SETTINGS, c) for c in entries["setting"]],
            "Endpoint": [voc.ENDPOINTS.get(e, e) for e in entries["endpoint"]],
            "Landmark (months)": [number(v) for v in entries["landmark_months"]],
            "Estimate %": [number(v) for v in entries["estimate_pct"]],
            "95% CI": [
                f"{number(lo)}-{number(hi)}" if pd.notna(lo) else "not reported"
                for lo, hi in zip(entries["ci_low_pct"], entries["ci_high_pct"], strict=True)
            ],
            "Median (months)": [
                "not reached" if is_true(nr) else number(m) if pd.notna(m) else "—"
                for m, nr in zip(entries["median_months"], entries["median_not_reached"], strict=True)
            ],
            "n analysed": [number(v) for v in entries["n_analysed"]],
            "Comparator": [
                f"{number(c)}% ({lbl})" if pd.notna(c) else "—"
                for c, lbl in zip(entries["comparator_pct"], entries["comparator_label"], strict=True)
            ],
            "Median follow-up (months)": [number(v) for v in entries["median_followup_months"]],
            "Read in": [
                (s if isinstance(s, str) else c) + (" (earlier report)" if is_true(inh) else "")
                for s, c, inh in zip(
                    entries["source_cohort"], entries["cohort_id"], entries["inherited"].astype(object), strict=True
                )
            ],
            "cohort_id": entries["cohort_id"],
        }
    )


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Survival and relapse over time")
    vocab, _, _ = dataset_facts(repo)
    choices = analysis_controls(show=("endpoint", "landmark"))
    result = cached(repo, analysis.survival_view, view.slice, choices)
    if result.cohorts_in_slice == 0:
        empty_state()
        return
    endpoint = voc.ENDPOINTS[choices.endpoint]
    st.subheader(f"{endpoint} at {LANDMARKS[choices.landmark]}, per cohort")
    points = result.at_landmark
    if len(points) >= charts.MIN_CHART_POINTS:
        event = show_chart(
            charts.survival_points, points, key=state.selection_key("survival_chart"), value_title=f"{endpoint} (%)"
        )
        open_cohort_from(event)
        chart_downloads(
            charts.survival_points,
            points,
            f"{endpoint} at {LANDMARKS[choices.landmark]}",
            key="survival_figure",
            value_title=f"{endpoint} (%)",
        )
    elif len(points):
        fitted_dataframe(_table(points).drop(columns=["cohort_id"]))
    else:
        st.info(
            f"No cohort in this slice reports {endpoint.lower()} at {LANDMARKS[choices.landmark]}. "
            "Other endpoints and landmarks reported in the slice are listed below.",
            icon=":material/info:",
        )
    direction = "lower is better" if choices.endpoint in voc.INCIDENCE_ENDPOINTS else "higher is better"
    st.caption(
        f"Kaplan-Meier or cumulative-incidence estimates as each paper reports them ({direction}); lines are "
        "95% CIs where the paper gave one. Not pooled: papers rarely give the standard errors that pooling "
        f"needs, and follow-up differs. {result.cohorts_reporting} of {result.cohorts_in_slice} cohorts in the "
        "slice report any time-to-event result. "
        + presentation.capped_note(len(points), result.at_landmark_total, "entries at this landmark")
    )
    if not result.medians.empty:
        st.markdown(f"**Median {endpoint.lower()}** (cohorts reporting a median rather than a landmark)")
        fitted_dataframe(_table(result.medians).drop(columns=["cohort_id"]))
        if note := presentation.capped_note(len(result.medians), result.medians_total, "median-only entries"):
            st.caption(note)
    st.subheader("Every time-to-event result in the slice")
    if result.entries.empty:
        empty_state("time-to-event results")
        return
    table = _table(result.entries)
    fitted_dataframe(table.drop(columns=["cohort_id"]))
    st.caption(
        presentation.capped_note(len(table), result.entries_total, "entries")
        + " 'Read in' names the report an entry was read in; '(earlier report)' marks a result that only an "
        "earlier report of the same patients gave, carried into the newer report."
    )
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(repo, table, "survival", vocab.year_bounds, key="survival_rows")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
