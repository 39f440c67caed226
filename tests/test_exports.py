"""The cohort card shows every number with its provenance; references export the slice's publications once."""

from __future__ import annotations

import pandas as pd

from nkdata import exports, presentation
from nkdata.repository import TrialsRepository
from nkdata.safe_text import md_text
from nkdata.slices import Slice


def test_cohort_card_has_value_and_note(repo: TrialsRepository) -> None:
    rows = repo.cohorts(Slice()).set_index("cohort_id", drop=False)
    card = presentation.cohort_card(rows.loc["alpha2010-rr"]).set_index("Field")
    assert card.loc["crs_any", "Value"] == "0" and card.loc["crs_any", "Where it came from"] == "fixture"
    assert card.loc["relapse_count", "Value"] == "not reported"
    assert card.loc["nct_ids", "Value"] == "NCT00000001"
    beta = presentation.cohort_card(rows.loc["beta2015-cr"]).set_index("Field")
    assert beta.loc["cr_count", "Value"] == "not reported" and beta.loc["nct_ids", "Value"] == "not reported"
    assert beta.loc["first_author", "Where it came from"].startswith("[not confirmed on a page read")


def test_references_once_per_publication(repo: TrialsRepository) -> None:
    cohorts = repo.cohorts(Slice(sources=("cell_line",), include_superseded=True))
    bib = exports.to_bibtex(cohorts)
    assert bib.count("@article{gamma2022,") == 1 and "@inproceedings{gamma2021," in bib
    assert "doi = {10.1000/fixture.gamma}" in bib
    ris = exports.to_ris(cohorts)
    assert ris.count("TY  - ") == 2 and "ID  - gamma2022" in ris and "TY  - ABST" in ris


def test_search_and_links(repo: TrialsRepository) -> None:
    cohorts = repo.cohorts(Slice())
    found, matches = repo.search_cohorts(Slice(), "CIML children", limit=10)
    assert list(found["cohort_id"]) == ["delta2018-post"] and matches == 1
    found, matches = repo.search_cohorts(Slice(), "", limit=2)
    assert len(found) == 2 and matches == 5
    found, _ = repo.search_cohorts(Slice(), "'; drop table trials; --", limit=10)
    assert found.empty and repo.overview()["cohorts"] == 8
    links = exports.link_table(cohorts).set_index("Cohort")
    assert links.loc["gamma2022-low", "ClinicalTrials.gov"] == "https://clinicaltrials.gov/study/NCT00000003"
    assert links.loc["beta2015-cr", "PubMed"] == "https://pubmed.ncbi.nlm.nih.gov/1000002/"
    assert links.loc["beta2015-cr", "DOI"] == ""  # an empty cell, never "None"


def test_table_rows_are_narrow_and_downloads_and_card_are_whole(repo: TrialsRepository) -> None:
    found, _ = repo.search_cohorts(Slice(), "cord", limit=10)
    assert list(found["cohort_id"]) == ["beta2015-cr"]
    assert "extraction_note" not in found.columns  # the table never reads the long text columns
    exports.link_table(found)  # ...but has every column the table shows
    whole = repo.found_cohorts(Slice(), "cord")
    assert list(whole["cohort_id"]) == ["beta2015-cr"] and {"title", "field_notes", "extraction_note"} <= set(
        whole.columns
    )
    card = presentation.cohort_card(repo.cohort("beta2015-cr"))
    assert card.set_index("Field").loc["cr_count", "Value"] == presentation.NOT_REPORTED
    assert repo.cohort("no-such-cohort") is None


def test_citation_line_leaves_out_a_missing_journal(repo: TrialsRepository) -> None:
    row = repo.cohort("beta2015-cr")
    title, journal = md_text(row["title"]), md_text(row["journal"])  # the card's Markdown escapes data text
    assert exports.citation_line(row).startswith(f"*{title}*. {journal}. Source: [")
    row["journal"] = float("nan")  # how a null journal arrives from the Parquet
    line = exports.citation_line(row)
    assert "nan" not in line and line.startswith(f"*{title}*. Source: [{md_text(row['source_section'])}](")


def test_canonical_link_first_then_the_page_read(repo: TrialsRepository) -> None:
    """Study files carry read_at (the page actually read) beside source_url (canonical): the card and the Studies
    table show the canonical link as the source and the page read after it, as provenance."""
    row = repo.cohort("beta2015-cr")
    row["source_url"], row["read_at"] = "https://doi.org/10.1000/beta", "https://meddatax.com/copy/beta"
    line = exports.citation_line(row)
    assert line.index("Source: [") < line.index(
        f"page read: [{md_text('meddatax.com')}](https://meddatax.com/copy/beta)"
    )
    row["read_at"] = None
    assert "page read" not in exports.citation_line(row)
    frame = exports.link_table(pd.DataFrame([row]))
    assert list(frame.columns).index("Source") < list(frame.columns).index("Page read")
    assert frame["Source"].tolist() == ["https://doi.org/10.1000/beta"] and (frame["Page read"] == "").all()


def test_csv_and_json_downloads_round_trip(repo: TrialsRepository) -> None:
    """A view's rows as written (lists joined with '; ', codes with their labels) read back unchanged."""
    import io

    rows = repo.found_cohorts(Slice(include_superseded=True), "")
    table = presentation.export_frame(rows)
    assert table.loc[table["cohort_id"] == "gamma2022-high", "nct_ids"].item() == "NCT00000003; NCT00000004"
    assert "nk_source_label" in table.columns and "\n" not in table.to_csv(index=False).split("\n")[0]
    from_csv = pd.read_csv(io.StringIO(table.to_csv(index=False)), dtype=str, keep_default_na=False)
    expected = table.astype(object).where(table.notna(), "").astype(str)
    pd.testing.assert_frame_equal(from_csv, expected.reset_index(drop=True), check_dtype=False)
    from_json = pd.read_json(
        io.StringIO(table.to_json(orient="records", force_ascii=False)), orient="records", dtype=False
    )
    assert from_json["cohort_id"].tolist() == table["cohort_id"].tolist()
    assert from_json["nct_ids"].tolist() == table["nct_ids"].tolist()
    assert from_json["n_treated"].tolist() == table["n_treated"].tolist()
