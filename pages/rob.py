"""Risk of bias: the JBI case-series appraisal of every publication in the slice, as a traffic-light table."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import empty_state
from nkdata import charts, rob
from nkdata.repository import TrialsRepository
from nkdata.slices import View


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Risk of bias")
    table = cached(repo, TrialsRepository.rob_appraisals, view.slice)
    if table.empty:
        empty_state("publications")
        return
    total, appraised = int(table["publications"].iloc[0]), int(table["publications_appraised"].iloc[0])
    if total > len(table):
        st.caption(f"The first {len(table)} of {total} publications (reading order); narrow the slice for the rest.")
    st.caption(
        f"{appraised} of {total} publications with a cohort in this slice are appraised with the "
        f"{rob.INSTRUMENTS['jbi_case_series']}: every included study is single-arm or non-comparative. "
        f"Overall rule: {rob.OVERALL_RULE} On the pooled pages, the sensitivity choice 'Publications not at low "
        "risk of bias' (link: exclude=rob) keeps only publications appraised at low risk."
    )
    if appraised < total:
        st.warning(
            f"{total - appraised} publication(s) in this slice have no appraisal yet (grey rows); the "
            "'low risk of bias only' choice leaves them out.",
            icon=":material/pending:",
        )
    show_chart(charts.rob_traffic_lights, rob.traffic_light_frame(table))
    st.caption(
        "Green: yes / low risk; yellow: unclear / some concerns; red: no / high risk; grey: not applicable or "
        "not yet appraised. Hover a circle for the question and the appraiser's note. "
        + " ".join(f"{i.short}: {i.question}" for i in rob.JBI_ITEMS)
    )
    done = table[table["appraised"]]
    if len(done):
        labels = dict(zip(done["study_id"], rob.traffic_light_frame(done)["Publication"].unique(), strict=True))
        chosen = st.selectbox("Read an appraisal", list(labels), format_func=labels.get, key="rob_pick")
        lights = rob.traffic_light_frame(done[done["study_id"] == chosen])
        row = done[done["study_id"] == chosen].iloc[0]
        st.caption(f"Appraised by {row['appraised_by']} on {row['appraised_on']}; pages read: {row['source_url']}")
        st.dataframe(
            lights[["Item", "Question", "Judgement", "Note"]],
            hide_index=True,
            width="stretch",
            column_config={"Question": st.column_config.TextColumn(width="medium")},
        )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
