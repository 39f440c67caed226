"""Studies: the slice as a searchable table (search and selected row are in the link), and downloads."""

from __future__ import annotations

import functools

import streamlit as st

from nkapp import state
from nkapp.cache import cached
from nkapp.components import disclosure, empty_state, page_title
from nkapp.context import dataset_facts
from nkdata import analysis, exports, presentation
from nkdata.repository import TrialsRepository, search_key
from nkdata.safe_text import md_text
from nkdata.slices import MAX_SEARCH_CHARS, View

# Key columns first; identifiers last, as short links (the cohort id is in its card and link), so the table
# reads at 1440 px without sideways scrolling.
STUDIES_COLUMNS: tuple[str, ...] = (
    "Study",
    "Product",
    "NK source",
    "Setting",
    "n treated",
    "CR",
    "n evaluable",
    "Type",
    "Superseded by",
    "Source read",
    "DOI",
    "PubMed",
    "ClinicalTrials.gov",
)
MAX_DOWNLOAD_ROWS = 20_000  # larger slices: narrow them, or take the whole dataset as Parquet
DOWNLOADS: tuple[tuple[str, str, str], ...] = (  # kind, button label, MIME type
    ("csv", "Rows (CSV)", "text/csv"),
    ("json", "Rows (JSON)", "application/json"),
    ("bib", "References (BibTeX)", "application/x-bibtex"),
    ("ris", "References (RIS)", "application/x-research-info-systems"),
)


def download_file(repo: TrialsRepository, slice_: object, text: str, kind: str) -> bytes:
    """One download of the slice and search, made when the reader clicks (not cached: the rows of a large slice
    are megabytes, more than the cache budget should hold for one reader)."""
    rows = repo.found_cohorts(slice_, text)
    if kind == "csv":
        return presentation.export_csv(rows)
    if kind == "json":
        table = presentation.reader_export(presentation.export_frame(rows))
        return table.to_json(orient="records", force_ascii=False, indent=1).encode("utf-8")
    return (exports.to_bibtex(rows) if kind == "bib" else exports.to_ris(rows)).encode("utf-8")


def render(repo: TrialsRepository, view: View) -> None:
    page_title("Studies")
    vocab, _, _ = dataset_facts(repo)
    state.seed("w_search", view.query)
    text = st.text_input("Search author, title, product, journal or notes", key="w_search", max_chars=MAX_SEARCH_CHARS)
    text = " ".join(text.split())
    state.update_view(query=text)
    found, matches = cached(
        repo, TrialsRepository.search_cohorts, view.slice, search_key(text), analysis.MAX_TABLE_ROWS
    )
    if matches == 0:
        empty_state("cohorts" if not text else f"cohorts matching '{md_text(text)}'")
        return
    shown = f"the first {len(found)} of " if matches > len(found) else ""
    st.caption(
        f"Showing {shown}{matches} cohorts from {found['study_id'].nunique()} publications"
        f"{' (narrow the filters or search to see the rest; downloads hold all)' if shown else ''}. "
        "Select a row to see every number with where it was read (the card opens in a window; its link is shareable)."
    )
    link = st.column_config.LinkColumn
    column = st.column_config.TextColumn
    table = exports.link_table(found)
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=state.selection_key("studies_table"),
        column_order=[c for c in STUDIES_COLUMNS if c != "Superseded by" or view.slice.include_superseded],
        row_height=48,  # two lines: long products and settings wrap instead of being cut
        column_config={
            "Study": column("Study", width=95, pinned=True),
            "Product": column("Product", width=150),
            "NK source": column("NK source", width=100),
            "Setting": column("Setting", width=120),
            "Type": column("Type", width=100),
            "n treated": column("Treated", width=62),
            "CR": column("CR", width=40),
            "n evaluable": column("Evaluable", width=70),
            "Superseded by": column("Superseded by", width=110),
            "DOI": link("DOI", display_text="DOI", width=42),
            "PubMed": link("PubMed", display_text="PubMed", width=62),
            "ClinicalTrials.gov": link("Trial", display_text="NCT", width=42),
            "Source": link("Publication", display_text="open", width=82),
            "Page read": link("Page read", display_text="page read", width=70),
        },
    )
    rows = event.selection.rows if event is not None else []
    selected = found.iloc[rows[0]]["cohort_id"] if rows and rows[0] < len(found) else None
    if selected and selected != view.cohort:
        state.update_view(cohort=str(selected))
        st.rerun()

    box = disclosure("Downloads", key="open_downloads", icon=":material/download:")
    if box is None:  # built only when asked for: the files of a slice are the page's largest cost
        return
    with box:
        _downloads(repo, view, text, matches, vocab.year_bounds)


def _downloads(repo: TrialsRepository, view: View, text: str, matches: int, year_bounds: tuple[int, int]) -> None:
    """The slice's rows (CSV, JSON), its references (BibTeX, RIS) and the whole dataset (Parquet)."""
    release = repo.release or {}
    version = str(release.get("version", "user-file"))
    share = state.share_link(year_bounds)
    if matches > MAX_DOWNLOAD_ROWS:
        st.info(
            f"{matches} cohorts are more than a download of rows holds ({MAX_DOWNLOAD_ROWS}); narrow the slice, "
            "or take the whole dataset as Parquet.",
            icon=":material/info:",
        )
    else:
        for column, (kind, label, mime) in zip(st.columns(len(DOWNLOADS)), DOWNLOADS, strict=True):
            column.download_button(
                label,
                functools.partial(download_file, repo, view.slice, search_key(text), kind),
                presentation.download_name("studies", version, share, kind),
                mime,
                key=f"download_{kind}",
            )
    if repo.path.exists():
        st.download_button(
            "Whole dataset (Parquet, self-describing: each column carries its description and unit)",
            repo.path.read_bytes,  # read when the reader clicks
            f"nk-aml_trials_v{version}.parquet",
            "application/vnd.apache.parquet",
            key="download_parquet",
        )


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
