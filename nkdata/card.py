"""The cohort card as a reader sees it: grouped sections of labelled values with their definition and source.

The record dump (``presentation.cohort_card``) lists every column by name; a reader needs the population and
product first, then each outcome with its number, definition and where it was read, then safety, then the
provenance with the canonical link first. Labels and units come from the data dictionary; a missing value reads
"not reported" in words; no column name or raw code reaches the card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nkdata import vocabulary as voc
from nkdata.dictionary import FIELDS_BY_NAME, field_label
from nkdata.presentation import (
    NOT_APPLICABLE,
    NOT_REPORTED,
    as_list,
    format_value,
    inherited_sources,
    is_missing,
    is_true,
    survival_text,
)
from nkdata.source import notes_from_json

SOURCE_SECTION_LABELS: dict[str, str] = {
    "abstract": "the abstract",
    "full_text": "the full text",
    "table": "a table of the paper",
    "review_table": "a review's table",
}

# (section title, fields in reading order). Definitions of a count sit beside it (cr_definition beside cr_count).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Population and product",
        (
            "setting",
            "population",
            "aml_only",
            "diagnosis_mix",
            "n_aml",
            "median_age",
            "product",
            "nk_source",
            "product_class",
            "car_target",
            "donor_type",
            "dose_max_per_kg",
            "dose_note",
            "n_infusions_max",
            "cytokine_support",
            "lymphodepletion",
            "antileukemic_lymphodepletion",
            "co_transplant",
            "design",
            "phase",
            "country",
        ),
    ),
    (
        "Outcomes",
        (
            "n_treated",
            "n_evaluable",
            "cr_count",
            "orr_count",
            "mrd_neg_count",
            "relapse_count",
            "relapse_at_risk",
            "median_followup_months",
            "expansion_count",
            "expansion_evaluated",
            "peak_count",
            "peak_day",
            "median_persistence_days",
            "max_persistence_days",
            "persistence_method",
            "persistence_note",
        ),
    ),
    (
        "Safety",
        (
            "crs_any",
            "crs_grade3plus",
            "icans_any",
            "gvhd_any",
            "agvhd_any",
            "agvhd_grade2plus",
            "gvhd_grade3plus",
            "cgvhd_any",
            "dlt_count",
            "treatment_related_deaths",
        ),
    ),
)
# The paper's own definition of an outcome, shown in the outcome's Definition column instead of the dictionary's.
PAPER_DEFINITIONS: dict[str, str] = {"cr_count": "cr_definition", "expansion_count": "expansion_definition"}
_TOTALS = frozenset({"n_treated", "n_aml", "relapse_at_risk", "expansion_evaluated"})
_CODE_WORD = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@dataclass(frozen=True)
class CardSection:
    """One section: rows of (Item, Value, Definition, Source) and the labels of what it does not report."""

    title: str
    rows: pd.DataFrame
    not_reported: tuple[str, ...] = field(default_factory=tuple)


def readable(text: str) -> str:
    """Curator text with any snake_case field name replaced by its label ("cr_count" -> "Complete remission")."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in FIELDS_BY_NAME:
            return field_label(word)
        if word in SOURCE_SECTION_LABELS:
            return SOURCE_SECTION_LABELS[word]
        return word.replace("_", " ")

    return _CODE_WORD.sub(swap, text)


def _value(name: str, row: pd.Series | dict) -> str:
    """A value with its unit in words: '12 patients', '45 days'; counts also as a share of the treated."""
    raw = row.get(name)
    text = format_value(name, raw, row)
    if text in (NOT_REPORTED, NOT_APPLICABLE):
        return text
    if isinstance(raw, (bool, np.bool_)):
        return "yes" if bool(raw) else "no"
    if name == "dose_max_per_kg" and float(raw) >= 1e4:
        mantissa, exponent = f"{float(raw):.1e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')} × 10^{int(exponent)} cells/kg"
    f = FIELDS_BY_NAME.get(name)
    if name == "peak_count" and not is_missing(row.get("peak_unit")):
        return f"{text} {row.get('peak_unit')}"
    if name == "max_persistence_days" and is_true(row.get("persistence_lower_bound")):
        text = f"at least {text}"
    if f is not None and f.unit and f.unit != "year" and f.dtype in ("integer", "number"):
        unit = f.unit[:-1] if f.unit.endswith("s") and text == "1" else f.unit
        text = f"{text} {unit}"
    total_name = {"relapse_count": "relapse_at_risk", "expansion_count": "expansion_evaluated"}.get(
        name, "n_treated" if (f is not None and f.is_count and name not in _TOTALS) else None
    )
    total = row.get(total_name) if total_name else None
    if total_name and not is_missing(total) and float(total) > 0:
        share = 100 * float(row.get(name)) / float(total)
        text += f" of {format_value(total_name, total)} ({share:.0f}%)"
    return readable(text)


def _source(name: str, row: pd.Series | dict, notes: dict[str, str], inherited: dict[str, str]) -> str:
    tags = []
    if name in {str(v) for v in as_list(row.get("from_review"))}:
        tags.append("from a review's table")
    if name in {str(v) for v in as_list(row.get("converted_from_percent"))}:
        tags.append("converted from a percentage")
    if name in inherited:
        tags.append(f"carried over from the earlier report {inherited[name]}")
    note = readable(str(notes.get(name, "") or ""))
    return "; ".join([*tags, note] if note else tags)


def _definition(name: str, row: pd.Series | dict) -> str:
    own = PAPER_DEFINITIONS.get(name)
    if own and not is_missing(row.get(own)):
        return "As the paper defines it: " + readable(str(row.get(own)))
    f = FIELDS_BY_NAME.get(name)
    return readable(f.description) if f is not None else ""


def _section(title: str, names: tuple[str, ...], row: pd.Series | dict, notes: dict, inherited: dict) -> CardSection:
    shown, missing = [], []
    for name in names:
        if name in ("persistence_note",) and is_missing(row.get(name)):
            continue
        value = _value(name, row)
        if value == NOT_APPLICABLE:
            continue
        if value == NOT_REPORTED:
            missing.append(field_label(name))
            continue
        shown.append(
            {
                "Item": field_label(name),
                "Value": value,
                "Definition": _definition(name, row),
                "Source": _source(name, row, notes, inherited),
            }
        )
    return CardSection(title, pd.DataFrame(shown, columns=["Item", "Value", "Definition", "Source"]), tuple(missing))


def _survival_rows(row: pd.Series | dict) -> list[dict[str, str]]:
    own = row.get("cohort_id")
    out = []
    for entry in as_list(row.get("survival")):
        entry = dict(entry)
        tags = ["from a review's table"] if entry.get("from_review") is True else []
        source = entry.get("source_cohort")
        if isinstance(source, str) and source != own:
            tags.append(f"carried over from the earlier report {source}")
        note = readable(str(entry.get("note") or ""))
        out.append(
            {
                "Item": voc.ENDPOINTS.get(str(entry.get("endpoint")), "Time to event"),
                "Value": survival_text(entry),
                "Definition": "Time-to-event estimate as the paper reports it (Kaplan-Meier or cumulative incidence).",
                "Source": "; ".join([*tags, note] if note else tags),
            }
        )
    return out


def section_read(value: Any) -> str:
    """'abstract + table (Table 3 ...)' -> 'The abstract + table (Table 3 ...)': the leading code in words."""
    if is_missing(value):
        return NOT_REPORTED
    head, _, rest = str(value).partition(" ")
    text = readable((SOURCE_SECTION_LABELS.get(head, head) + " " + rest).strip())
    return text[:1].upper() + text[1:]


def provenance(row: pd.Series | dict) -> CardSection:
    """Canonical link first, then the page actually read, the part read, supersession and the second read."""
    inherited = inherited_sources(row)
    rows: list[dict[str, str]] = []

    def add(item: str, value: str, definition: str = "") -> None:
        rows.append({"Item": item, "Value": value, "Definition": definition, "Source": ""})

    add(field_label("source_url"), format_value("source_url", row.get("source_url")), "The publication's own page.")
    read_at = row.get("read_at")
    add(
        field_label("read_at"),
        str(read_at) if not is_missing(read_at) else "the publication link above",
        "The stored page the numbers were read from.",
    )
    add(field_label("source_section"), section_read(row.get("source_section")))
    if not is_missing(row.get("superseded_by")):
        add("Superseded by", f"the later report {row.get('superseded_by')}: this report is never pooled")
    if inherited:
        by_report: dict[str, list[str]] = {}
        for name, source in inherited.items():
            by_report.setdefault(str(source), []).append(field_label(name))
        add(
            "Values from earlier reports",
            "; ".join(f"{', '.join(names)} from {source}" for source, names in sorted(by_report.items())),
        )
    for name in ("from_review", "converted_from_percent", "unverified"):
        values = [field_label(str(v)) for v in as_list(row.get(name))]
        if values:
            add(field_label(name), ", ".join(values))
    if is_missing(row.get("verified_by")):
        add("Second read", "not yet read a second time by a blind reader")
    else:
        when = "" if is_missing(row.get("verified_on")) else f" on {row.get('verified_on')}"
        result = "" if is_missing(row.get("verification")) else f": {readable(str(row.get('verification')))}"
        add("Second read", f"by {row.get('verified_by')}{when}{result}")
    rob = row.get("rob_overall")
    add(
        field_label("rob_overall"),
        "not yet appraised" if is_missing(rob) else voc.label(voc.ROB_OVERALL, str(rob)),
        "JBI checklist for case series, item by item on the Risk of bias page.",
    )
    return CardSection("Provenance", pd.DataFrame(rows, columns=["Item", "Value", "Definition", "Source"]))


def cohort_sections(row: pd.Series | dict) -> list[CardSection]:
    """The card's sections in reading order: population and product, outcomes, safety, provenance."""
    notes = notes_from_json(row.get("field_notes"))
    inherited = inherited_sources(row)
    sections = []
    for title, names in SECTIONS:
        section = _section(title, names, row, notes, inherited)
        if title == "Outcomes":
            extra = pd.DataFrame(_survival_rows(row), columns=section.rows.columns)
            rows = pd.concat([section.rows, extra], ignore_index=True) if len(extra) else section.rows
            section = CardSection(title, rows, section.not_reported)
        sections.append(section)
    sections.append(provenance(row))
    return sections


def card_title(row: pd.Series | dict) -> str:
    """'Bachanova 2014 · Haplo NK + IL-2DT · Relapsed/refractory'."""
    parts = [f"{row.get('first_author')} {row.get('year')}", str(row.get("product") or "")]
    if not is_missing(row.get("setting")):
        parts.append(voc.label(voc.SETTINGS, str(row.get("setting"))))
    return " · ".join(p for p in parts if p)
