"""The one data dictionary: every column of ``data/trials.parquet``.

Validation, the build (Arrow schema), the app's methods page and the curation
guide all read this list, so a field is described once and cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from nkdata import vocabulary as voc

DType = Literal["string", "integer", "number", "boolean", "string_list", "endpoint_list", "status_list"]


@dataclass(frozen=True)
class SubField:
    """One key of a time-to-event entry (an item of the ``survival`` list)."""

    name: str
    dtype: Literal["string", "integer", "number", "boolean"]
    description: str
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    required: bool = False
    derived: bool = False  # set by the build, never written in the YAML


# Time-to-event results as papers report them: a landmark rate (2-year OS 45%), a median, or both.
SURVIVAL_FIELDS: tuple[SubField, ...] = (
    SubField("endpoint", "string", "Which time-to-event endpoint.", allowed=tuple(voc.ENDPOINTS), required=True),
    SubField("landmark_months", "number", "Time point of a landmark estimate (e.g. 24 for 2-year OS).", unit="months"),
    SubField("estimate_pct", "number", "Kaplan-Meier or cumulative-incidence estimate at the landmark.", unit="%"),
    SubField("ci_low_pct", "number", "Lower 95% confidence limit of the estimate, when given.", unit="%"),
    SubField("ci_high_pct", "number", "Upper 95% confidence limit of the estimate, when given.", unit="%"),
    SubField("n_analysed", "integer", "Patients in the analysis (number at risk at time 0).", unit="patients"),
    SubField("median_months", "number", "Median time to the event, when that is what is reported.", unit="months"),
    SubField("median_not_reached", "boolean", "True when the paper says the median was not reached."),
    SubField("comparator_pct", "number", "The same estimate in the paper's control arm or matched controls.", unit="%"),
    SubField("comparator_label", "string", "What the comparator is (e.g. 'matched controls without NK cells')."),
    SubField("from_review", "boolean", "True when only a review's table gave this result."),
    SubField("note", "string", "Where in the source it was read, in the curator's words.", required=True),
    SubField(
        "source_cohort", "string", "cohort_id of the report the entry was read in (set by the build).", derived=True
    ),
)
SURVIVAL_FIELDS_BY_NAME: dict[str, SubField] = {f.name: f for f in SURVIVAL_FIELDS}
_SUBFIELD_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
SURVIVAL_ARROW_TYPE = pa.list_(pa.struct([pa.field(f.name, _SUBFIELD_ARROW[f.dtype]) for f in SURVIVAL_FIELDS]))

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "string_list": pa.list_(pa.string()),
    "endpoint_list": SURVIVAL_ARROW_TYPE,
    # registry: statuses other pages showed, each {status, as_of, source_url}
    "status_list": pa.list_(pa.struct([("status", pa.string()), ("as_of", pa.string()), ("source_url", pa.string())])),
}


@dataclass(frozen=True)
class Field:
    """One column: its type, whether it is required, allowed codes and meaning."""

    name: str
    dtype: DType
    group: str
    description: str
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    required: bool = False
    is_count: bool = False  # a count of patients: non-negative integer, needs a note
    needs_note: bool = False  # a reported number: must say where it came from
    # Field-level supersession: fields of one group move together from an earlier report of the same
    # patients into the newer one when the newer one reports none of them. ``same_n`` groups are counts
    # over all treated patients, so they move only when both reports treated the same number.
    inherit: str | None = None
    same_n: bool = False
    derived: bool = False  # set by the build from other data, never written in the YAML source

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.dtype]


def _codes(vocabulary: dict[str, str]) -> tuple[str, ...]:
    return tuple(vocabulary)


def _count(
    name: str, group: str, description: str, required: bool = False, inherit: str | None = None, same_n: bool = False
) -> Field:
    return Field(
        name,
        "integer",
        group,
        description,
        unit="patients",
        required=required,
        is_count=True,
        needs_note=True,
        inherit=inherit,
        same_n=same_n,
    )


def _safety(name: str, description: str) -> Field:
    """A safety count: patients with the event among those treated."""
    return _count(name, "safety", description, inherit=name, same_n=True)


FIELDS: tuple[Field, ...] = (
    # identity / citation
    Field("cohort_id", "string", "identity", "Unique slug of the cohort: <study_id>-<arm>.", required=True),
    Field(
        "study_id", "string", "identity", "Groups the cohorts of one publication; names its YAML file.", required=True
    ),
    Field(
        "superseded_by",
        "string",
        "identity",
        "cohort_id of a later report of the same patients; null for the primary report. "
        "Superseded cohorts never enter analyses unless the user asks for them.",
    ),
    Field("first_author", "string", "identity", "Surname of the first author.", required=True),
    Field("year", "integer", "identity", "Year of publication.", unit="year", required=True),
    Field("title", "string", "identity", "Title of the publication.", required=True),
    Field("journal", "string", "identity", "Journal or meeting."),
    Field("doi", "string", "identity", "Digital Object Identifier (10.xxxx/...)."),
    Field("pmid", "string", "identity", "PubMed identifier (digits)."),
    Field("pmcid", "string", "identity", "PubMed Central identifier (PMC + digits), when the paper has a PMC copy."),
    Field(
        "citation_detail",
        "string",
        "identity",
        "Volume, issue and pages as shown on the page read; required for a journal article without DOI or PMID.",
    ),
    Field("nct_ids", "string_list", "identity", "ClinicalTrials.gov identifiers (NCT + 8 digits)."),
    Field(
        "trial_id",
        "string",
        "identity",
        "The trial this publication reports: its NCT id, else a programme slug (e.g. 'cynk001-aml'); every "
        "publication of one trial shares it, so trials are counted once.",
    ),
    Field(
        "publication_role",
        "string",
        "identity",
        "What this publication is for its trial: first results, an update, a correlative re-analysis or a pooled "
        "analysis of several trials.",
        allowed=_codes(voc.PUBLICATION_ROLES),
    ),
    Field(
        "publication_type",
        "string",
        "identity",
        "Kind of publication.",
        allowed=_codes(voc.PUBLICATION_TYPES),
        required=True,
    ),
    Field("country", "string", "identity", "Country or countries of the treating centres."),
    # design
    Field("design", "string", "design", "Study design.", allowed=_codes(voc.DESIGNS), required=True),
    Field(
        "phase",
        "string",
        "design",
        "Trial phase, null when not a phased trial or not stated.",
        allowed=_codes(voc.PHASES),
    ),
    # product
    Field(
        "nk_source", "string", "product", "Where the NK cells come from.", allowed=_codes(voc.NK_SOURCES), required=True
    ),
    Field("product", "string", "product", "Short product name used in charts.", required=True),
    Field(
        "product_class",
        "string",
        "product",
        "How the cells were prepared.",
        allowed=_codes(voc.PRODUCT_CLASSES),
        required=True,
    ),
    Field("car_target", "string", "product", "Antigen targeted by a CAR; null for products without a CAR."),
    Field(
        "donor_type", "string", "product", "Relation of the cell donor to the patient.", allowed=_codes(voc.DONOR_TYPES)
    ),
    Field("cytokine_support", "string", "product", "Cytokine given to patients with the cells (as reported)."),
    Field("lymphodepletion", "string", "product", "Conditioning before infusion (as reported)."),
    Field(
        "co_transplant",
        "boolean",
        "product",
        "True when an allogeneic HSCT was given as part of the same treatment as the NK cells (so a response cannot "
        "be attributed to the NK cells alone); false when none was; null when not reported.",
    ),
    Field(
        "antileukemic_lymphodepletion",
        "boolean",
        "product",
        "True when the conditioning before the cells is itself anti-leukemic chemotherapy (e.g. Flu/Ara-C, FLAG, "
        "clofarabine/Ara-C), not only lymphodepleting (e.g. Flu/Cy); null when not reported.",
    ),
    Field("dose_max_per_kg", "number", "product", "Highest NK-cell dose given.", unit="cells/kg", needs_note=True),
    Field("dose_note", "string", "product", "Dose details that do not fit cells/kg (flat doses, ranges)."),
    Field(
        "n_infusions_max",
        "integer",
        "product",
        "Most infusions any patient received.",
        unit="infusions",
        needs_note=True,
    ),
    # population
    Field(
        "setting",
        "string",
        "population",
        "Disease setting at NK-cell infusion.",
        allowed=_codes(voc.SETTINGS),
        required=True,
    ),
    Field("population", "string", "population", "Age group treated.", allowed=_codes(voc.POPULATIONS)),
    Field(
        "aml_only",
        "boolean",
        "population",
        "True when the counts are AML patients only; false for a mixed-diagnosis cohort.",
        required=True,
    ),
    Field("diagnosis_mix", "string", "population", "Diagnoses in a mixed cohort, e.g. 'AML 10, MDS 6'."),
    _count("n_aml", "population", "AML patients within a mixed cohort, when stated."),
    Field(
        "median_age",
        "number",
        "population",
        "Median age of treated patients.",
        unit="years",
        needs_note=True,
        inherit="median_age",
        same_n=True,
    ),
    # outcomes
    _count(
        "n_treated",
        "outcomes",
        "Patients who received NK cells (AML only unless the cohort is mixed); null when "
        "the publication does not say (the cohort then enters the evidence map but no total or pooled estimate).",
    ),
    _count("n_evaluable", "outcomes", "Patients evaluable for response.", inherit="response", same_n=True),
    _count(
        "cr_count",
        "outcomes",
        "Patients in complete remission, including CRi/CRh/CRp as the paper counts.",
        inherit="response",
        same_n=True,
    ),
    Field(
        "cr_definition",
        "string",
        "outcomes",
        "Which responses cr_count includes, as the paper defines them.",
        inherit="response",
        same_n=True,
    ),
    _count(
        "orr_count", "outcomes", "Patients with any objective response (includes CR).", inherit="response", same_n=True
    ),
    _count(
        "mrd_neg_count",
        "outcomes",
        "Patients with measurable residual disease below detection.",
        inherit="response",
        same_n=True,
    ),
    _count("relapse_count", "outcomes", "Patients who relapsed among those at risk.", inherit="relapse"),
    _count(
        "relapse_at_risk",
        "outcomes",
        "Patients in remission and at risk of relapse: the relapse denominator.",
        inherit="relapse",
    ),
    Field(
        "median_followup_months",
        "number",
        "outcomes",
        "Median follow-up.",
        unit="months",
        needs_note=True,
        inherit="followup",
        same_n=True,
    ),
    Field(
        "survival",
        "endpoint_list",
        "outcomes",
        "Time-to-event results: one entry per endpoint and landmark (OS, LFS, DFS, EFS, RFS, PFS, cumulative "
        "incidence of relapse, NRM), each with its estimate, 95% CI, number analysed, median and comparator.",
    ),
    # expansion and persistence of the infused cells
    _count(
        "expansion_count",
        "persistence",
        "Patients with detectable in vivo expansion or engraftment of the infused cells, as the paper defines it.",
        inherit="expansion",
    ),
    _count(
        "expansion_evaluated",
        "persistence",
        "Patients evaluated for expansion: the expansion denominator.",
        inherit="expansion",
    ),
    Field(
        "expansion_definition",
        "string",
        "persistence",
        "What counted as expansion (e.g. '>100 donor NK/uL at day 14', 'donor chimerism detectable').",
        inherit="expansion",
    ),
    Field(
        "peak_count",
        "number",
        "persistence",
        "Median (or single) peak count of infused cells in blood; unit in peak_unit.",
        needs_note=True,
        inherit="expansion",
    ),
    Field(
        "peak_unit",
        "string",
        "persistence",
        "Unit of peak_count (e.g. 'cells/uL', '% of lymphocytes').",
        inherit="expansion",
    ),
    Field(
        "peak_day",
        "number",
        "persistence",
        "Day after infusion of the peak (median when several).",
        unit="days",
        needs_note=True,
        inherit="expansion",
    ),
    Field(
        "median_persistence_days",
        "number",
        "persistence",
        "Median time infused cells were detected.",
        unit="days",
        needs_note=True,
        inherit="persistence",
    ),
    Field(
        "max_persistence_days",
        "number",
        "persistence",
        "Longest time infused NK cells were detected.",
        unit="days",
        needs_note=True,
        inherit="persistence",
    ),
    Field(
        "persistence_lower_bound",
        "boolean",
        "persistence",
        "True when max_persistence_days is a lower bound "
        "(cells still detected at the last test, e.g. 'beyond day 60').",
        inherit="persistence",
    ),
    Field(
        "persistence_method",
        "string",
        "persistence",
        "How infused cells were detected (chimerism, flow, qPCR...).",
        inherit="persistence",
    ),
    Field(
        "persistence_note",
        "string",
        "persistence",
        "Context for the persistence figure, in the curator's words.",
        inherit="persistence",
    ),
    # safety
    _safety("crs_any", "Patients with cytokine release syndrome of any grade."),
    _safety("crs_grade3plus", "Patients with CRS grade 3 or higher."),
    _safety("icans_any", "Patients with immune effector cell-associated neurotoxicity, any grade."),
    _safety("gvhd_any", "Patients with graft-versus-host disease of any kind or grade (acute or chronic)."),
    _safety("gvhd_grade3plus", "Patients with acute GVHD grade 3 or higher."),
    _safety("agvhd_any", "Patients with acute GVHD of any grade."),
    _safety("agvhd_grade2plus", "Patients with acute GVHD grade 2 or higher."),
    _safety("cgvhd_any", "Patients with chronic GVHD (any severity)."),
    _safety("dlt_count", "Patients with a dose-limiting toxicity."),
    _safety("treatment_related_deaths", "Deaths attributed to the treatment."),
    # provenance
    Field(
        "source_url",
        "string",
        "provenance",
        "Canonical link to the publication shown to users (doi.org, PubMed/PMC, publisher, conference or registry, "
        "the sponsor's own release); the page actually read is read_at.",
        required=True,
    ),
    Field(
        "read_at",
        "string",
        "provenance",
        "The stored page the numbers were actually read from (a mirror or copy is fine here); null when it is "
        "source_url itself.",
    ),
    Field(
        "source_section",
        "string",
        "provenance",
        "Which part was read: abstract, full_text, table or review_table (detail may follow).",
        required=True,
    ),
    Field(
        "extraction_note",
        "string",
        "provenance",
        "What this row counts and how it was read, in the curator's words.",
        required=True,
    ),
    Field(
        "field_notes",
        "string",
        "provenance",
        "JSON object: for each reported number, where in the source it came from.",
    ),
    Field(
        "from_review",
        "string_list",
        "provenance",
        "Fields whose value came only from a review's table rather than the primary paper.",
    ),
    Field(
        "unverified",
        "string_list",
        "provenance",
        "Citation fields no page read confirmed (e.g. a first author not shown): verify before citing.",
    ),
    Field(
        "converted_from_percent",
        "string_list",
        "provenance",
        "Count fields derived from a reported percentage (the only whole number that fits), not read as counts.",
    ),
    Field(
        "verified_by",
        "string",
        "provenance",
        "Who read the publication a second time, blind to the first read's values (data/second_reads/).",
    ),
    Field("verified_on", "string", "provenance", "Date of the second read (YYYY-MM-DD)."),
    Field(
        "verification",
        "string",
        "provenance",
        "Agreement of the second read with the first, field by field, and how each disagreement was resolved.",
    ),
    Field(
        "inherited_from",
        "string",
        "provenance",
        "JSON object set by the build: for each value taken from an earlier report of the same patients (field-level "
        "supersession), the cohort_id of that report; for each field in outcomes_elsewhere, the report that gives it.",
    ),
    Field(
        "outcomes_elsewhere",
        "string_list",
        "provenance",
        "Set by the build on a primary report: outcome fields it lacks that an earlier report of the trial gives over "
        "a different number of patients; that report's row enters the analyses for them, with its own denominator.",
    ),
    Field(
        "outcome_report_for",
        "string_list",
        "provenance",
        "Set by the build on a superseded report: outcome fields for which it is the trial's most complete report (the "
        "newest report lacks them), so its row enters the analyses of those outcomes, once, with its own denominator.",
    ),
    Field(
        "rob_overall",
        "string",
        "provenance",
        "Set by the build from data/rob/<study_id>.yaml: the publication's overall risk of bias (low, some_concerns, "
        "high); null when it has not been appraised.",
        allowed=tuple(voc.ROB_OVERALL),
    ),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
COLUMN_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
NOTED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.needs_note)
COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.is_count)

# In the YAML source, per-number notes sit in a mapping called ``notes``; the build
# serialises that mapping into the ``field_notes`` column.
SOURCE_NOTES_KEY = "notes"
SOURCE_ONLY_KEYS: frozenset[str] = frozenset({SOURCE_NOTES_KEY, "cohorts"})
# verified_by, verified_on and verification come from data/second_reads/ at build time (nkdata/second_read.py).
DERIVED_FIELDS: frozenset[str] = frozenset(
    {
        "field_notes",
        "study_id",
        "inherited_from",
        "verified_by",
        "verified_on",
        "verification",
        "outcomes_elsewhere",
        "outcome_report_for",
        "rob_overall",
    }
)
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.dtype in ("string_list", "endpoint_list"))
SAFETY_GROUPS: tuple[tuple[str, str], ...] = (
    ("crs_grade3plus", "crs_any"),
    ("gvhd_grade3plus", "agvhd_grade2plus"),
    ("agvhd_grade2plus", "agvhd_any"),
    ("gvhd_grade3plus", "agvhd_any"),
    ("agvhd_any", "gvhd_any"),
    ("cgvhd_any", "gvhd_any"),
    ("gvhd_grade3plus", "gvhd_any"),
)  # (severe or narrower, broader): the first never exceeds the second


def inherit_groups() -> dict[str, tuple[Field, ...]]:
    """Fields that move together in field-level supersession, by group name."""
    groups: dict[str, list[Field]] = {}
    for f in FIELDS:
        if f.inherit:
            groups.setdefault(f.inherit, []).append(f)
    return {name: tuple(fields) for name, fields in groups.items()}


def _field_metadata(f: Field) -> dict[bytes, bytes]:
    """Description and unit carried by each Parquet column, so a downloaded file describes itself."""
    meta = {b"description": f.description.encode("utf-8")}
    if f.unit:
        meta[b"unit"] = f.unit.encode("utf-8")
    if f.allowed:
        meta[b"allowed"] = ", ".join(f.allowed).encode("utf-8")
    return meta


def arrow_schema(fields: tuple[Field, ...]) -> pa.Schema:
    """The Parquet schema of a dictionary (the trials' or the registry's): types, nullability, descriptions."""
    return pa.schema(
        [pa.field(f.name, f.arrow_type, nullable=not f.required, metadata=_field_metadata(f)) for f in fields]
    )


ARROW_SCHEMA: pa.Schema = arrow_schema(FIELDS)

YEAR_MIN = 2000
YEAR_MAX = 2026

# Denominators a rate may use, and the counts that may be its numerator (patients with the event).
RATE_TOTALS: tuple[str, ...] = ("n_treated", "n_evaluable", "relapse_at_risk", "expansion_evaluated")
RATE_EVENTS: tuple[str, ...] = tuple(c for c in COUNT_FIELDS if c not in RATE_TOTALS and c != "n_aml")
SAFETY_COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.group == "safety")
GREY_PUBLICATION_TYPES: tuple[str, ...] = ("conference_abstract", "company_report")

# What a visitor reads for each field (the cohort card, table headers, export headers): plain words, the unit
# added by ``field_label``. A field without an entry falls back to its name in words, so none shows snake_case.
FIELD_LABELS: dict[str, str] = {
    "cohort_id": "Cohort",
    "study_id": "Publication",
    "superseded_by": "Superseded by",
    "first_author": "First author",
    "year": "Year",
    "title": "Title",
    "journal": "Journal or meeting",
    "doi": "DOI",
    "pmid": "PubMed ID",
    "pmcid": "PubMed Central ID",
    "citation_detail": "Volume, issue, pages",
    "nct_ids": "ClinicalTrials.gov IDs",
    "trial_id": "Trial",
    "publication_role": "Role for its trial",
    "publication_type": "Publication type",
    "country": "Country",
    "design": "Design",
    "phase": "Phase",
    "nk_source": "NK source",
    "product": "Product",
    "product_class": "Product class",
    "car_target": "CAR target",
    "donor_type": "Donor",
    "cytokine_support": "Cytokine support",
    "lymphodepletion": "Lymphodepletion",
    "co_transplant": "Transplant in the same treatment",
    "antileukemic_lymphodepletion": "Anti-leukemic conditioning",
    "dose_max_per_kg": "Highest dose",
    "dose_note": "Dose details",
    "n_infusions_max": "Most infusions",
    "setting": "Disease setting",
    "population": "Age group",
    "aml_only": "AML patients only",
    "diagnosis_mix": "Diagnoses",
    "n_aml": "AML patients",
    "median_age": "Median age",
    "n_treated": "Treated",
    "n_evaluable": "Evaluable",
    "cr_count": "Complete remission",
    "cr_definition": "CR definition",
    "orr_count": "Objective response",
    "mrd_neg_count": "MRD negative",
    "relapse_count": "Relapsed",
    "relapse_at_risk": "At risk of relapse",
    "median_followup_months": "Median follow-up",
    "survival": "Time-to-event results",
    "expansion_count": "In vivo expansion",
    "expansion_evaluated": "Evaluated for expansion",
    "expansion_definition": "Expansion definition",
    "peak_count": "Peak count",
    "peak_unit": "Peak unit",
    "peak_day": "Day of peak",
    "median_persistence_days": "Median persistence",
    "max_persistence_days": "Longest persistence",
    "persistence_lower_bound": "Longest persistence is a lower bound",
    "persistence_method": "Detection method",
    "persistence_note": "Persistence note",
    "crs_any": "CRS, any grade",
    "crs_grade3plus": "CRS grade 3+",
    "icans_any": "ICANS, any grade",
    "gvhd_any": "GVHD, any",
    "gvhd_grade3plus": "Acute GVHD grade 3+",
    "agvhd_any": "Acute GVHD, any grade",
    "agvhd_grade2plus": "Acute GVHD grade 2+",
    "cgvhd_any": "Chronic GVHD",
    "dlt_count": "Dose-limiting toxicity",
    "treatment_related_deaths": "Treatment-related deaths",
    "source_url": "Publication link",
    "read_at": "Page read",
    "source_section": "Part read",
    "extraction_note": "How it was read",
    "field_notes": "Notes per number",
    "from_review": "Values from a review",
    "unverified": "Citation fields to verify",
    "converted_from_percent": "Counts converted from percentages",
    "verified_by": "Second reader",
    "verified_on": "Second read on",
    "verification": "Second read result",
    "rob_overall": "Risk of bias (overall)",
    "inherited_from": "Values from earlier reports",
}


def field_label(name: str, unit: bool = False) -> str:
    """The visitor's name of a field (with its unit in brackets when asked and the field has one)."""
    label = FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()
    field = FIELDS_BY_NAME.get(name)
    if unit and field is not None and field.unit and field.unit not in ("year",):
        return f"{label} ({field.unit})"
    return label
