"""Summary of findings: every outcome by disease setting, with k, N, estimate, intervals and GRADE certainty."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached
from nkapp.components import choices_popover, disclosure, empty_state, page_title, stacked_on_phones, view_downloads
from nkapp.context import dataset_facts
from nkdata import analysis, grade
from nkdata.presentation import markdown_link_table, not_applicable_text
from nkdata.repository import TrialsRepository
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Summary of findings")
    vocab, _, _ = dataset_facts(repo)
    choices = choices_popover((("model", "pool", "test", "ci"), ("exclude",)))
    table, graded = cached(repo, analysis.summary_with_certainty, view.slice, choices, vocab.year_bounds)
    if table.empty:
        empty_state("outcomes")
        return
    st.caption(
        "One row per outcome and disease setting for the slice in the sidebar (choose an NK source there to "
        "see one source). Proportions: " + analysis.method_words(choices) + "; a setting with one cohort shows "
        "that cohort. Crude relapse counts (over different follow-up) are not pooled: Range gives the cohorts' "
        "lowest and highest. A landmark is pooled only over cohorts whose follow-up reaches it, otherwise its "
        "median and range are given (Range columns are never confidence intervals). Flags say what lowers "
        "confidence (few cohorts, single-arm designs, mostly abstracts, heterogeneity, imprecision). Certainty "
        "is GRADE's: every row starts low (single-arm cohorts, no comparator) and each downgrade is named by "
        "domain with its reason (rules under About & methods). The outcome links to its page with this view. "
        + analysis.inclusion_note(view.slice)
        + " "
        + analysis.exclusion_note(choices)
    )
    stacked_on_phones([c for c in graded.columns if c != "Link"])
    st.markdown(markdown_link_table(graded, "Link", "Outcome"))
    st.caption(
        f"{grade.SYMBOLS[2]} Low: the true value may be substantially different from the estimate. "
        f"{grade.SYMBOLS[1]} Very low: the true value is likely to be substantially different."
    )
    with_certainty = table.assign(Certainty=graded["Certainty"].to_numpy(), Why=graded["Why"].to_numpy())
    st.subheader("The numbers behind each row")
    shown = not_applicable_text(table, [c for c in table.columns if c.endswith("%")])
    st.dataframe(shown, hide_index=True, width="stretch", height=36 * (len(shown) + 1) + 4)
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(repo, with_certainty, "summary-of-findings", vocab.year_bounds, key="sof_rows")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
