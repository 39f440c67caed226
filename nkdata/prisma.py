"""The PRISMA 2020 flow of this dataset, as counts, as a Graphviz DOT diagram, and as the list of excluded records.

A count table hides the shape a reviewer looks for (identified -> duplicates removed -> screened -> excluded with
reasons -> included), so the About page draws it; the DOT text is built here, without Streamlit, and tested. Two
sources feed it, as in PRISMA 2020: publications (the curators' screening logs, ``data/screening/*.yaml``, plus the
study files) and trial registers (``data/registry_screening.yaml`` plus the registered-trial files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from nkdata import screening

NOT_RETRIEVED = "not_retrievable"  # PRISMA's "reports not retrieved", drawn apart from the exclusions


@dataclass(frozen=True)
class PrismaCounts:
    """The numbers of the flow diagram (publications, then registered trials)."""

    identified: int  # records in the logs plus included publications no log names
    duplicates: int
    screened: int
    not_retrieved: int
    excluded: dict[str, int]  # reason label -> records (without the not-retrieved ones)
    included: int  # publications (study files)
    cohorts: int | None = None
    primary_cohorts: int | None = None
    registry_screened: int = 0
    registry_excluded: dict[str, int] | None = None
    registry_included: int = 0

    @property
    def assessed(self) -> int:
        return self.screened - self.not_retrieved


def registry_log(path: Path) -> list[dict[str, Any]]:
    """The registry screening entries (trials looked at and excluded); an unreadable file gives none."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    entries = doc.get("excluded") if isinstance(doc, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def counts(
    flow: screening.Flow,
    registry_entries: list[dict[str, Any]],
    registry_included: int,
    registry_reasons: dict[str, str],
    cohorts: int | None = None,
    primary_cohorts: int | None = None,
) -> PrismaCounts:
    """The flow's numbers from the publication screening and the registry screening."""
    excluded = {
        screening.EXCLUSION_REASONS.get(r, r): n for r, n in flow.excluded.items() if r != NOT_RETRIEVED and n > 0
    }
    by_reason: dict[str, int] = {}
    for entry in registry_entries:
        label = registry_reasons.get(str(entry.get("reason")), str(entry.get("reason")))
        by_reason[label] = by_reason.get(label, 0) + 1
    return PrismaCounts(
        identified=flow.screened + flow.duplicates,
        duplicates=flow.duplicates,
        screened=flow.screened,
        not_retrieved=flow.excluded.get(NOT_RETRIEVED, 0),
        excluded=excluded,
        included=flow.included,
        cohorts=cohorts,
        primary_cohorts=primary_cohorts,
        registry_screened=len(registry_entries) + registry_included,
        registry_excluded=dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
        registry_included=registry_included,
    )


def _dot_text(text: str) -> str:
    """A DOT label: quotes and backslashes escaped, lines joined by DOT's left-aligned break."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\l")


def _box(name: str, text: str, style: str = "") -> str:
    return f'  {name} [label="{_dot_text(text)}\\l"{style}];'


def prisma_dot(c: PrismaCounts) -> str:
    """PRISMA 2020 flow diagram (new review, databases and registers) as Graphviz DOT."""
    excluded = "\n".join(f"  {label}: {n}" for label, n in c.excluded.items())
    included = f"Publications included: {c.included}"
    if c.cohorts is not None:
        included += f"\nCohorts: {c.cohorts}" + (
            f" ({c.primary_cohorts} primary reports)" if c.primary_cohorts is not None else ""
        )
    lines = [
        "digraph prisma {",
        "  rankdir=TB; nodesep=0.4; ranksep=0.35;",
        '  node [shape=box, style="rounded,filled", fillcolor="#FFFFFF", color="#4C78A8", fontname="Helvetica",'
        " fontsize=13, width=3.2];",
        '  edge [color="#4C78A8"];',
        _box(
            "identified",
            f"Publications identified (stored pages: PubMed/PMC,\njournals, meeting abstracts, review tables): "
            f"{c.identified}",
        ),
        _box("duplicates", f"Duplicates removed\n(logged by more than one curator): {c.duplicates}"),
        _box("screened", f"Publications screened: {c.screened}"),
        _box("not_retrieved", f"Reports not retrieved\n(no stored page could be read): {c.not_retrieved}"),
        _box("assessed", f"Publications assessed for eligibility: {c.assessed}"),
        _box("excluded", f"Publications excluded: {sum(c.excluded.values())}\n{excluded}"),
        _box("included", included, ', fillcolor="#E8F0F8"'),
        "  identified -> screened; identified -> duplicates; screened -> not_retrieved; screened -> assessed;",
        "  assessed -> excluded; assessed -> included;",
        "  { rank=same; identified; duplicates; }",
        "  { rank=same; screened; not_retrieved; }",
        "  { rank=same; assessed; excluded; }",
    ]
    if c.registry_screened:
        reasons = "\n".join(f"  {label}: {n}" for label, n in (c.registry_excluded or {}).items())
        lines += [
            _box(
                "reg_identified",
                f"Registered trials looked at\n(ClinicalTrials.gov and mirrors): {c.registry_screened}",
            ),
            _box("reg_excluded", f"Trials excluded: {sum((c.registry_excluded or {}).values())}\n{reasons}"),
            _box("reg_included", f"Registered trials included: {c.registry_included}", ', fillcolor="#E8F0F8"'),
            "  reg_identified -> reg_excluded; reg_identified -> reg_included;",
            "  { rank=same; identified; reg_identified; }",
        ]
    lines.append("}")
    return "\n".join(lines)


def excluded_records(
    entries: list[dict[str, Any]], registry_entries: list[dict[str, Any]], registry_reasons: dict[str, str]
) -> pd.DataFrame:
    """Every excluded record (duplicates between logs once), with its reason in words, note and link."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in entries:
        key = " ".join(str(entry.get("key") or entry.get("title") or "").lower().split())
        if entry.get("decision") != "excluded" or key in seen:
            continue
        seen.add(key)
        year = entry.get("year")
        rows.append(
            {
                "Record": str(entry.get("key") or ""),
                "Kind": "Publication",
                "Title": str(entry.get("title") or ""),
                "Author, year": " ".join(str(v) for v in (entry.get("first_author"), year) if v),
                "Reason": screening.EXCLUSION_REASONS.get(str(entry.get("reason")), str(entry.get("reason"))),
                "Note": str(entry.get("note") or ""),
                "Link": str(entry.get("url") or ""),
            }
        )
    for entry in registry_entries:
        rows.append(
            {
                "Record": str(entry.get("registry_id") or ""),
                "Kind": "Registered trial",
                "Title": "",
                "Author, year": "",
                "Reason": registry_reasons.get(str(entry.get("reason")), str(entry.get("reason"))),
                "Note": str(entry.get("note") or ""),
                "Link": str(entry.get("source_url") or ""),
            }
        )
    return pd.DataFrame(rows, columns=["Record", "Kind", "Title", "Author, year", "Reason", "Note", "Link"])


def search_records(records: pd.DataFrame, text: str) -> pd.DataFrame:
    """The records whose record id, title, author, reason or note holds every word of ``text`` (any case)."""
    words = text.lower().split()
    if not words:
        return records
    haystack = records[["Record", "Title", "Author, year", "Reason", "Note"]].agg(" ".join, axis=1).str.lower()
    mask = pd.Series(True, index=records.index)
    for word in words:
        mask &= haystack.str.contains(word, regex=False)
    return records[mask]
