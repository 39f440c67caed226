"""Tables and downloads for the Studies page: links, text search, the cohort card, BibTeX and RIS.

References are built from the dataset's own citation fields, so an export
never claims more than the row says (no invented pages or volumes).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from nkdata import vocabulary as voc
from nkdata.presentation import as_list, number
from nkdata.safe_text import bibtex_url, bibtex_value, line_safe, md_link, md_text, md_url, url_part

_RIS_TYPES = {
    "journal_article": "JOUR",
    "conference_abstract": "ABST",
    "case_report": "JOUR",
    "preprint": "UNPB",
    "company_report": "RPRT",
}
_BIB_TYPES = {
    "journal_article": "article",
    "case_report": "article",
    "conference_abstract": "inproceedings",
    "preprint": "misc",
    "company_report": "misc",
}


def _link_or_blank(prefix: str, value: Any, suffix: str = "") -> str:
    """The record's link for an identifier the row has (percent-encoded, well-formed), else an empty cell."""
    if not isinstance(value, str) or not value:
        return ""
    return md_url(f"{prefix}{url_part(value)}{suffix}") or ""


def link_table(cohorts: pd.DataFrame) -> pd.DataFrame:
    """One row per cohort with readable labels and DOI / PubMed / ClinicalTrials.gov links (an empty cell where a
    publication has no such identifier, never "None")."""

    def first_nct(value: Any) -> str:
        ids = [str(v) for v in as_list(value)]
        return md_url(f"https://clinicaltrials.gov/study/{url_part(ids[0])}") or "" if ids else ""

    return pd.DataFrame(
        {
            "Cohort": cohorts["cohort_id"],
            "Study": [f"{a} {y}" for a, y in zip(cohorts["first_author"], cohorts["year"], strict=True)],
            "Product": cohorts["product"],
            "NK source": [voc.label(voc.NK_SOURCES, c) for c in cohorts["nk_source"]],
            "Setting": [voc.label(voc.SETTINGS, c) for c in cohorts["setting"]],
            "Type": [voc.label(voc.PUBLICATION_TYPES, c) for c in cohorts["publication_type"]],
            "n treated": [number(v) for v in cohorts["n_treated"]],
            "CR": [number(v) for v in cohorts["cr_count"]],
            "n evaluable": [number(v) for v in cohorts["n_evaluable"]],
            "Superseded by": [v if isinstance(v, str) else "—" for v in cohorts["superseded_by"]],
            "DOI": [_link_or_blank("https://doi.org/", d) for d in cohorts["doi"]],
            "PubMed": [_link_or_blank("https://pubmed.ncbi.nlm.nih.gov/", p, "/") for p in cohorts["pmid"]],
            "ClinicalTrials.gov": [first_nct(ids) for ids in cohorts["nct_ids"]],
            "Source": [md_url(u) or "" for u in cohorts["source_url"]],  # canonical link first; http(s) only
            "Page read": [md_url(v) or "" for v in cohorts.get("read_at", [None] * len(cohorts))],  # provenance
        }
    )


def identifier_links(row: pd.Series) -> list[str]:
    """Markdown links to the DOI, PubMed and ClinicalTrials.gov records a row names (labels escaped, ids
    percent-encoded into the address, so no value can break out of its link)."""
    links = []
    if isinstance(row.get("doi"), str) and row["doi"]:
        links.append(md_link(f"DOI {row['doi']}", f"https://doi.org/{url_part(row['doi'])}"))
    if isinstance(row.get("pmid"), str) and row["pmid"]:
        links.append(md_link(f"PubMed {row['pmid']}", f"https://pubmed.ncbi.nlm.nih.gov/{url_part(row['pmid'])}/"))
    links += [md_link(n, f"https://clinicaltrials.gov/study/{url_part(n)}") for n in as_list(row.get("nct_ids"))]
    return links


def citation_line(row: pd.Series) -> str:
    """The card's reference line in Markdown: title, journal when the row has one, the canonical source link, then
    the page actually read (``read_at``) as provenance when it differs (every value escaped; a link only when its
    address is a well-formed http(s) URL)."""
    journal = row.get("journal")
    read_at = row.get("read_at")
    parts = [
        f"*{md_text(row['title'])}*",
        md_text(journal) if isinstance(journal, str) and journal else None,
        "Source: " + md_link(row["source_section"], row["source_url"]),
        "page read: " + md_link(urlsplit(read_at).hostname, read_at)
        if isinstance(read_at, str) and read_at and read_at != row["source_url"]
        else None,
    ]
    return ". ".join(p for p in parts if p)


def _references(cohorts: pd.DataFrame) -> list[dict[str, Any]]:
    """One reference per publication in the slice, in reading order."""
    studies = cohorts.drop_duplicates("study_id").sort_values(["year", "first_author", "study_id"])
    return studies.to_dict("records")


def to_bibtex(cohorts: pd.DataFrame) -> str:
    entries = []
    for ref in _references(cohorts):
        kind = _BIB_TYPES.get(ref["publication_type"], "misc")
        fields = {
            "author": ref["first_author"] + " and others"
            if ref["publication_type"] != "company_report"
            else ref["first_author"],
            "title": ref["title"],
            "year": ref["year"],
        }
        if isinstance(ref.get("journal"), str):
            fields["booktitle" if kind == "inproceedings" else "journal"] = ref["journal"]
        for key in ("doi", "pmid"):
            if isinstance(ref.get(key), str):
                fields[key] = ref[key]
        if isinstance(ref.get("citation_detail"), str):
            fields["note"] = ref["citation_detail"]
        fields["url"] = bibtex_url(ref["source_url"])
        body = ",\n".join(f"  {k} = {{{v if k == 'url' else bibtex_value(v)}}}" for k, v in fields.items())
        entries.append(f"@{kind}{{{bibtex_value(ref['study_id'])},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def to_ris(cohorts: pd.DataFrame) -> str:
    """RIS records, every value on one line (a line break in the data can never start a new tag)."""
    records = []
    for ref in _references(cohorts):
        tags = [
            ("TY", _RIS_TYPES.get(ref["publication_type"], "GEN")),
            ("AU", ref["first_author"]),
            ("TI", ref["title"]),
            ("PY", ref["year"]),
        ]
        if isinstance(ref.get("journal"), str):
            tags.append(("T2", ref["journal"]))
        if isinstance(ref.get("doi"), str):
            tags.append(("DO", ref["doi"]))
        if isinstance(ref.get("pmid"), str):
            tags.append(("AN", f"PMID:{ref['pmid']}"))
        if isinstance(ref.get("citation_detail"), str):
            tags.append(("N1", ref["citation_detail"]))
        tags += [("UR", ref["source_url"]), ("ID", ref["study_id"])]
        lines = [f"{tag}  - {line_safe(value)}" for tag, value in tags] + ["ER  - "]
        records.append("\n".join(lines))
    return "\n\n".join(records) + ("\n" if records else "")


def dataset_citation(release: dict[str, Any], citation: dict[str, Any], accessed: str) -> dict[str, str]:
    """The dataset's citation in APA and BibTeX, from CITATION.cff and the release facts."""
    authors = (
        "; ".join(
            a.get("name") or f"{a.get('family-names', '')}, {a.get('given-names', '')}".strip(", ")
            for a in citation.get("authors", [])
        )
        or "NK-AML Evidence Dashboard contributors"
    )
    title = citation.get("title", "NK-AML Evidence Dashboard")
    version = str(release.get("version") or citation.get("version") or "")
    year = str(release.get("date") or citation.get("date-released") or "")[:4]
    apa = f"{authors}. ({year}). {title} (Version {version}) [Data set]. Accessed {accessed}."
    bib = (
        f"@misc{{nk_aml_dashboard_{version.replace('.', '_')},\n  author = {{{bibtex_value(authors)}}},\n"
        f"  title = {{{bibtex_value(title)}}},\n  year = {{{year}}},\n  version = {{{version}}},\n"
        f"  note = {{Data set, accessed {accessed}}}\n}}\n"
    )
    return {"apa": apa, "bibtex": bib}


def view_citation(base: dict[str, str], link: str, view_description: str, accessed: str) -> dict[str, str]:
    """A citation of one view: the dataset's citation plus the link that reproduces the view and what it shows."""
    apa = base["apa"].replace(f" Accessed {accessed}.", f" View: {view_description}. {link} (accessed {accessed}).")
    bib = base["bibtex"].replace(
        f"  note = {{Data set, accessed {accessed}}}",
        f"  howpublished = {{\\url{{{bibtex_url(link)}}}}},\n"
        f"  note = {{View: {bibtex_value(view_description)}; accessed {accessed}}}",
    )
    return {"apa": apa, "bibtex": bib}
