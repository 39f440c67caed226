"""Tables and downloads for the Studies page: links, text search, the cohort card, BibTeX and RIS.

References are built from the dataset's own citation fields, so an export
never claims more than the row says (no invented pages or volumes).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from nkdata import vocabulary as voc
from nkdata.presentation import as_list, number

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


def link_table(cohorts: pd.DataFrame) -> pd.DataFrame:
    """One row per cohort with readable labels and DOI / PubMed / ClinicalTrials.gov links (an empty cell where a
    publication has no such identifier, never "None")."""

    def first_nct(value: Any) -> str:
        ids = [str(v) for v in as_list(value)]
        return f"https://clinicaltrials.gov/study/{ids[0]}" if ids else ""

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
            "DOI": [f"https://doi.org/{d}" if isinstance(d, str) and d else "" for d in cohorts["doi"]],
            "PubMed": [
                f"https://pubmed.ncbi.nlm.nih.gov/{p}/" if isinstance(p, str) and p else "" for p in cohorts["pmid"]
            ],
            "ClinicalTrials.gov": [first_nct(ids) for ids in cohorts["nct_ids"]],
            "Source read": cohorts["source_url"],
        }
    )


def identifier_links(row: pd.Series) -> list[str]:
    """Markdown links to the DOI, PubMed and ClinicalTrials.gov records a row names."""
    links = []
    if isinstance(row.get("doi"), str) and row["doi"]:
        links.append(f"[DOI {row['doi']}](https://doi.org/{row['doi']})")
    if isinstance(row.get("pmid"), str) and row["pmid"]:
        links.append(f"[PubMed {row['pmid']}](https://pubmed.ncbi.nlm.nih.gov/{row['pmid']}/)")
    links += [f"[{n}](https://clinicaltrials.gov/study/{n})" for n in as_list(row.get("nct_ids"))]
    return links


def citation_line(row: pd.Series) -> str:
    """The card's reference line in Markdown: title, journal when the row has one, and the page read."""
    journal = row.get("journal")
    parts = [
        f"*{row['title']}*",
        journal if isinstance(journal, str) and journal else None,
        f"Read: [{row['source_section']}]({row['source_url']})",
    ]
    return ". ".join(p for p in parts if p)


def _references(cohorts: pd.DataFrame) -> list[dict[str, Any]]:
    """One reference per publication in the slice, in reading order."""
    studies = cohorts.drop_duplicates("study_id").sort_values(["year", "first_author", "study_id"])
    return studies.to_dict("records")


def _bib_escape(text: Any) -> str:
    return re.sub(r"([{}&%$#_])", r"\\\1", str(text))


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
        fields["url"] = ref["source_url"]
        body = ",\n".join(f"  {k} = {{{_bib_escape(v)}}}" for k, v in fields.items())
        entries.append(f"@{kind}{{{ref['study_id']},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def to_ris(cohorts: pd.DataFrame) -> str:
    records = []
    for ref in _references(cohorts):
        lines = [
            f"TY  - {_RIS_TYPES.get(ref['publication_type'], 'GEN')}",
            f"AU  - {ref['first_author']}",
            f"TI  - {ref['title']}",
            f"PY  - {ref['year']}",
        ]
        if isinstance(ref.get("journal"), str):
            lines.append(f"T2  - {ref['journal']}")
        if isinstance(ref.get("doi"), str):
            lines.append(f"DO  - {ref['doi']}")
        if isinstance(ref.get("pmid"), str):
            lines.append(f"AN  - PMID:{ref['pmid']}")
        if isinstance(ref.get("citation_detail"), str):
            lines.append(f"N1  - {ref['citation_detail']}")
        lines += [f"UR  - {ref['source_url']}", f"ID  - {ref['study_id']}", "ER  - "]
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
        f"@misc{{nk_aml_dashboard_{version.replace('.', '_')},\n  author = {{{_bib_escape(authors)}}},\n"
        f"  title = {{{_bib_escape(title)}}},\n  year = {{{year}}},\n  version = {{{version}}},\n"
        f"  note = {{Data set, accessed {accessed}}}\n}}\n"
    )
    return {"apa": apa, "bibtex": bib}


def view_citation(base: dict[str, str], link: str, view_description: str, accessed: str) -> dict[str, str]:
    """A citation of one view: the dataset's citation plus the link that reproduces the view and what it shows."""
    apa = base["apa"].replace(f" Accessed {accessed}.", f" View: {view_description}. {link} (accessed {accessed}).")
    bib = base["bibtex"].replace(
        f"  note = {{Data set, accessed {accessed}}}",
        f"  howpublished = {{\\url{{{link}}}}},\n"
        f"  note = {{View: {_bib_escape(view_description)}; accessed {accessed}}}",
    )
    return {"apa": apa, "bibtex": bib}
