"""Studies: the slice as a searchable table, the cohort card with provenance, and downloads."""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached
from nkapp.components import empty_state
from nkdata import exports, presentation
from nkdata.repository import TrialsRepository
from nkdata.slices import View

MAX_TABLE_ROWS = 2000  # what a table can usefully show; downloads hold every matching row


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Studies")
    text = st.text_input("Search author, title, product, journal or notes", key="w_search")
    found, matches = cached(repo, TrialsRepository.search_cohorts, view.slice, text, MAX_TABLE_ROWS)
    if matches == 0:
        empty_state("cohorts" if not text else f"cohorts matching '{text}'")
        return
    shown = f"the first {len(found)} of " if matches > len(found) else ""
    st.caption(f"Showing {shown}{matches} cohorts from {found['study_id'].nunique()} publications"
               f"{' (narrow the filters or search to see the rest; downloads hold all)' if shown else ''}. "
               "Select a row to see every number with its provenance.")
    link = st.column_config.LinkColumn
    event = st.dataframe(
        exports.link_table(found), hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key="studies_table",
        column_config={"DOI": link("DOI", display_text="DOI"), "PubMed": link("PubMed", display_text="PubMed"),
                       "ClinicalTrials.gov": link("ClinicalTrials.gov", display_text="NCT"),
                       "Source read": link("Source read", display_text="page")},
    )
    rows = event.selection.rows if event is not None else []
    selected = found.iloc[rows[0]]["cohort_id"] if rows and rows[0] < len(found) else None
    row = cached(repo, TrialsRepository.cohort, selected) if selected else None
    if row is not None:
        st.subheader(f"{row['first_author']} {row['year']}: {row['product']}")
        st.markdown(exports.citation_line(row))
        st.info(row["extraction_note"], icon=":material/edit_note:")
        st.dataframe(presentation.cohort_card(row), hide_index=True, width="stretch")

    def matching_rows():  # noqa: ANN202 - built only when a download is clicked
        return repo.found_cohorts(view.slice, text)

    st.subheader("Downloads")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Filtered rows (CSV)", lambda: matching_rows().to_csv(index=False), "nk_aml_slice.csv",
                       "text/csv")
    c2.download_button("Whole dataset (Parquet)", repo.path.read_bytes, "trials.parquet",
                       "application/vnd.apache.parquet")
    c3.download_button("References (BibTeX)", lambda: exports.to_bibtex(matching_rows()), "nk_aml_slice.bib",
                       "application/x-bibtex")
    c4.download_button("References (RIS)", lambda: exports.to_ris(matching_rows()), "nk_aml_slice.ris",
                       "application/x-research-info-systems")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
