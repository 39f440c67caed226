"""Expansion and persistence: how often the infused cells expanded, how long they were detected, and CR."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nkapp import state
from nkapp.cache import cached, show_chart
from nkapp.components import (
    analysis_controls,
    applied_choices,
    chart_downloads,
    count_caption,
    disclosure,
    empty_state,
    forest,
    open_cohort_from,
    page_title,
    pooled_dataframe,
    view_downloads,
)
from nkapp.context import dataset_facts
from nkdata import analysis, charts
from nkdata.presentation import cohort_labels, is_true, not_reported_text, number
from nkdata.repository import TrialsRepository
from nkdata.slices import View

EXPANSION_GROUPS = {"nk_source": "NK source", "product_class": "Product class", "setting": "Setting"}


def _durations_table(durations: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Cohort": cohort_labels(durations),
            "Longest detection (days)": [
                ("≥ " if is_true(b) else "") + number(v)
                for v, b in zip(
                    durations["max_persistence_days"], durations["persistence_lower_bound"].astype(object), strict=True
                )
            ],
            "Median detection (days)": [number(v) for v in durations["median_persistence_days"]],
            "Method": durations["persistence_method"].fillna("not reported"),
        }
    )


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Expansion and persistence of infused NK cells")
    vocab, _, _ = dataset_facts(repo)
    choices = analysis_controls(show=("group", "pool", "test", "ci", "rows"), groups=EXPANSION_GROUPS)
    applied_choices(choices, ("exclude", "model", "denom", "overall"))
    result = cached(repo, analysis.expansion_view, view.slice, choices)
    expansion = result.expansion
    if expansion.cohorts_in_slice == 0:
        empty_state()
        return
    st.subheader("Patients with in vivo expansion of the infused cells")
    if expansion.cohorts_shown == 0:
        empty_state("cohorts reporting expansion among evaluated patients")
    else:
        forest(expansion, "Patients with expansion", key="expansion_forest")
        count_caption(
            "Patients with detectable expansion or engraftment of the infused cells, as each paper defines "
            "it (hover: definition), over patients evaluated; pooled per group. " + analysis.inclusion_note(view.slice),
            expansion.cohorts_shown,
            expansion.patients_shown,
            expansion.cohorts_not_reported,
            expansion.cohorts_in_slice,
            expansion.cohorts_excluded,
        )
        pooled_dataframe(analysis.pooled_table(expansion))
        st.caption(analysis.interval_note(choices))

    st.subheader("How long the infused cells were detected")
    durations = result.durations
    if len(durations) >= charts.MIN_CHART_POINTS:
        open_cohort_from(
            show_chart(
                charts.persistence_strip, durations, key=state.selection_key("persistence_strip"), by=choices.rows
            )
        )
        chart_downloads(
            charts.persistence_strip,
            durations.drop(columns=["from_review", "converted_from_percent"]),
            "Detection of infused NK cells",
            key="persistence_figure",
            by=choices.rows,
        )
    elif len(durations):
        st.dataframe(_durations_table(durations), hide_index=True, width="stretch")
    else:
        empty_state("cohorts reporting how long the cells were detected")
    st.caption(
        f"Longest detection per cohort (days, log scale); a triangle pointing right means the cells were still "
        f"there at the last test, so the true duration is longer; a tick marks the median detection where "
        f"reported. {result.durations_reporting} of {expansion.cohorts_in_slice} cohorts report a detection "
        "time. Methods (chimerism, flow cytometry, qPCR) differ in sensitivity: compare with care."
        + (
            f" Only the {analysis.MAX_POINTS} largest cohorts are drawn."
            if result.durations_reporting > len(durations)
            else ""
        )
    )
    by_source = result.by_source[result.by_source["cohorts_reported"] > 0]
    if not by_source.empty:
        st.dataframe(
            not_reported_text(
                by_source.drop(columns=["nk_source"]).rename(
                    columns={
                        "label": "NK source",
                        "cohorts_reported": "Cohorts reporting",
                        "cohorts_not_reported": "Not reported",
                        "median": "Median of longest (days)",
                        "q1": "Q1",
                        "q3": "Q3",
                        "min": "Min",
                        "max": "Max",
                    }
                ),
                ["Median of longest (days)", "Q1", "Q3", "Min", "Max"],
            ),
            hide_index=True,
            width="stretch",
        )
    silent = result.by_source[
        (result.by_source["cohorts_reported"] == 0) & (result.by_source["cohorts_not_reported"] > 0)
    ]
    if not silent.empty:
        st.caption(
            "Report no detection time at all: "
            + "; ".join(
                f"{label} ({int(n)} cohort(s))"
                for label, n in zip(silent["label"], silent["cohorts_not_reported"], strict=True)
            )
            + ". They are not drawn: not reported is not zero."
        )
    st.subheader("Detection time and complete remission")
    persistence = result.persistence
    pairs = persistence.versus_cr if persistence is not None else pd.DataFrame()
    if len(pairs) >= charts.MIN_CHART_POINTS:
        show_chart(charts.persistence_vs_response, pairs)
    elif len(pairs):
        st.dataframe(
            pd.DataFrame(
                {
                    "Cohort": cohort_labels(pairs),
                    "Longest detection (days)": [number(v) for v in pairs["max_persistence_days"]],
                    "CR": [f"{int(e)} / {int(t)}" for e, t in zip(pairs["cr_count"], pairs["total"], strict=True)],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        empty_state("cohorts reporting both a detection time and CR")
    if persistence is not None and len(pairs):
        c = persistence.correlation
        corr = (
            f"Spearman rho = {c.rho:.2f} (p = {c.p:.2g}, n = {c.n} cohorts)"
            if c.n >= 3 and c.rho == c.rho
            else f"too few cohorts (n = {c.n}) for a rank correlation"
        )
        st.caption(f"Cohorts reporting both; {corr}. Across studies this says nothing about individual patients.")
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(
                repo,
                expansion.forest[expansion.forest["kind"] != "header"],
                "expansion",
                vocab.year_bounds,
                key="expansion_rows",
            )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
