"""Overview: the slice at a glance, with the same pooled CR per setting as the Remission page."""

from __future__ import annotations

import streamlit as st

from nkapp import context
from nkapp.cache import cached, show_chart
from nkapp.components import applied_choices, chart_downloads, empty_state, page_title, pct
from nkapp.context import dataset_facts
from nkdata import analysis, charts
from nkdata.registry_repository import RegistryRepository
from nkdata.repository import TrialsRepository
from nkdata.safe_text import md_text
from nkdata.slices import DENOMINATORS, RegistrySlice, View


def registered_summary() -> dict | None:
    """Counts of the registry dataset, or None when it cannot be used (the Pipeline page then says why)."""
    try:
        registry = context.open_registry()
        return cached(registry, RegistryRepository.summary, RegistrySlice.from_view(None))
    except context.SERVING_ERRORS:
        return None


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Adoptive NK-cell therapy in AML: the evidence")
    _, _, dataset = dataset_facts(repo)
    release = repo.release or {}
    st.caption(
        f"Data version {md_text(release.get('version', 'user file'))}"
        + (f", last literature search {md_text(release['searched'])}" if release.get("searched") else "")
        + ". Every number is traceable to its publication (Studies). Filters in the sidebar apply to every page."
    )
    summary = cached(repo, TrialsRepository.summary, view.slice)
    if not summary["cohorts"]:
        empty_state()
        return
    identity = cached(repo, TrialsRepository.identity_counts, view.slice)
    c0, c1, c2, c3, c4 = st.columns(5)
    c0.metric(
        "Trials",
        identity["trials"],
        help="Publications sharing a trial_id (NCT id or programme) count as one trial; "
        f"{identity['publications_without_trial']} publication(s) without a trial_id count as one trial each.",
    )
    c1.metric("Publications", int(summary["publications"]))
    c2.metric(
        "Cohorts",
        int(summary["cohorts"]),
        help="Treated arms; superseded reports are counted once, as the newest report, unless you include them.",
    )
    c3.metric(
        "Patients treated",
        int(summary["patients_treated"]),
        help=f"{int(summary['cohorts_n_not_reported'])} cohort(s) do not report how many patients they treated "
        "and are not in this total.",
    )
    c4.metric("Mixed-diagnosis cohorts", int(summary["cohorts_mixed"]))
    trials = registered_summary()
    if trials:
        st.caption(
            f"Registered trials: {trials['trials']} NK-cell trials in AML are in the registry dataset, "
            f"{trials['with_results']} of them with results published in this dataset, {trials['recruiting']} "
            "recruiting on their status dates (Registered trials page)."
        )

    choices = view.analysis
    headline = cached(repo, analysis.setting_headline, view.slice, choices)
    st.subheader("Complete remission, pooled within each disease setting")
    applied_choices(choices, ("denom", "model", "pool", "ci", "exclude"))
    if headline.pooled.empty:
        empty_state("cohorts reporting CR")
    else:
        rows = []
        for _, p in headline.pooled.sort_values("k", ascending=False).iterrows():
            how = "pooled" if p["k"] > 1 else "one cohort"
            rows.append(
                f"- **{md_text(p['label'])}: {pct(p['estimate'], 1)}** (95% CI {pct(p['ci_low'], 1)}-"
                f"{pct(p['ci_high'], 1)}), k = {int(p['k'])}, N = {int(p['n_total'])} ({how})"
            )
        st.markdown("\n".join(rows))
        st.caption(
            f"CR over {DENOMINATORS[choices.denom].lower()}, {analysis.method_words(choices)}: "
            "the same numbers as the Remission page for this slice, where each cohort, its CR definition and "
            "the sensitivity analyses are shown. "
            + (
                f"{headline.cohorts_excluded} cohort(s) left out by the sensitivity choice; "
                if headline.cohorts_excluded
                else ""
            )
            + f"{headline.cohorts_not_reported} cohort(s) in the slice did "
            "not report CR. Settings are not pooled together: who was treated differs too much. "
            + analysis.inclusion_note(view.slice)
        )

    st.subheader("Cohorts per publication year")
    per_year = cached(repo, TrialsRepository.cohorts_per_year, view.slice)
    show_chart(charts.cohorts_per_year, per_year)
    st.caption("Cohorts (treated arms) by year of publication, coloured by NK source; every year of the span is shown.")
    chart_downloads(charts.cohorts_per_year, per_year, "Cohorts per publication year", key="per_year")
    st.subheader("NK source by setting")
    show_chart(charts.source_setting_matrix, cached(repo, TrialsRepository.source_by_setting, view.slice))
    st.caption(
        "Cohorts in each cell, patients treated in brackets; '+': some cohorts of the cell do not say how many "
        "patients they treated, 'n not reported': none of them does."
    )

    st.subheader("What these data can and cannot say")
    st.markdown(
        "- Almost all cohorts are **small, single-arm** phase 1/2 studies; remission rates come with wide "
        "confidence intervals and depend on who was treated (relapsed/refractory vs. in remission).\n"
        "- Sources, products, doses, lymphodepletion and cytokine support differ between cohorts, so a "
        "comparison across NK sources is **descriptive**, not causal.\n"
        "- Many results come from **abstracts and company reports**; a field that a source did not report is "
        "shown as *not reported*, never as zero.\n"
        "- Later reports of the same patients replace earlier ones field by field, so each patient is counted once "
        "and a number only the earlier report gave is kept (with its source).\n"
        f"- The dataset holds {int(dataset['publications'])} publications; publications that do not say how many "
        "patients they treated appear in the evidence map but in no total or pooled estimate."
    )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
