"""The one data dictionary: every column of ``data/trials.parquet``.

Validation, the build (Arrow schema), the app's methods page and the curation
guide all read this list, so a field is described once and cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from nkdata import vocabulary as voc

DType = Literal["string", "integer", "number", "boolean", "string_list"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "string_list": pa.list_(pa.string()),
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

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.dtype]


def _codes(vocabulary: dict[str, str]) -> tuple[str, ...]:
    return tuple(vocabulary)


def _count(name: str, group: str, description: str, required: bool = False) -> Field:
    return Field(name, "integer", group, description, unit="patients", required=required,
                 is_count=True, needs_note=True)


FIELDS: tuple[Field, ...] = (
    # identity / citation
    Field("cohort_id", "string", "identity", "Unique slug of the cohort: <study_id>-<arm>.", required=True),
    Field("study_id", "string", "identity", "Groups the cohorts of one publication; names its YAML file.", required=True),
    Field("superseded_by", "string", "identity",
          "cohort_id of a later report of the same patients; null for the primary report. "
          "Superseded cohorts never enter analyses unless the user asks for them."),
    Field("first_author", "string", "identity", "Surname of the first author.", required=True),
    Field("year", "integer", "identity", "Year of publication.", unit="year", required=True),
    Field("title", "string", "identity", "Title of the publication.", required=True),
    Field("journal", "string", "identity", "Journal or meeting."),
    Field("doi", "string", "identity", "Digital Object Identifier (10.xxxx/...)."),
    Field("pmid", "string", "identity", "PubMed identifier (digits)."),
    Field("citation_detail", "string", "identity",
          "Volume, issue and pages as shown on the page read; required for a journal article without DOI or PMID."),
    Field("nct_ids", "string_list", "identity", "ClinicalTrials.gov identifiers (NCT + 8 digits)."),
    Field("publication_type", "string", "identity", "Kind of publication.",
          allowed=_codes(voc.PUBLICATION_TYPES), required=True),
    Field("country", "string", "identity", "Country or countries of the treating centres."),
    # design
    Field("design", "string", "design", "Study design.", allowed=_codes(voc.DESIGNS), required=True),
    Field("phase", "string", "design", "Trial phase, null when not a phased trial or not stated.",
          allowed=_codes(voc.PHASES)),
    # product
    Field("nk_source", "string", "product", "Where the NK cells come from.",
          allowed=_codes(voc.NK_SOURCES), required=True),
    Field("product", "string", "product", "Short product name used in charts.", required=True),
    Field("product_class", "string", "product", "How the cells were prepared.",
          allowed=_codes(voc.PRODUCT_CLASSES), required=True),
    Field("car_target", "string", "product", "Antigen targeted by a CAR; null for products without a CAR."),
    Field("donor_type", "string", "product", "Relation of the cell donor to the patient.",
          allowed=_codes(voc.DONOR_TYPES)),
    Field("cytokine_support", "string", "product", "Cytokine given to patients with the cells (as reported)."),
    Field("lymphodepletion", "string", "product", "Conditioning before infusion (as reported)."),
    Field("dose_max_per_kg", "number", "product", "Highest NK-cell dose given.", unit="cells/kg", needs_note=True),
    Field("dose_note", "string", "product", "Dose details that do not fit cells/kg (flat doses, ranges)."),
    Field("n_infusions_max", "integer", "product", "Most infusions any patient received.", unit="infusions",
          needs_note=True),
    # population
    Field("setting", "string", "population", "Disease setting at NK-cell infusion.",
          allowed=_codes(voc.SETTINGS), required=True),
    Field("population", "string", "population", "Age group treated.", allowed=_codes(voc.POPULATIONS)),
    Field("aml_only", "boolean", "population",
          "True when the counts are AML patients only; false for a mixed-diagnosis cohort.", required=True),
    Field("diagnosis_mix", "string", "population", "Diagnoses in a mixed cohort, e.g. 'AML 10, MDS 6'."),
    _count("n_aml", "population", "AML patients within a mixed cohort, when stated."),
    Field("median_age", "number", "population", "Median age of treated patients.", unit="years", needs_note=True),
    # outcomes
    _count("n_treated", "outcomes", "Patients who received NK cells (AML only unless the cohort is mixed).",
           required=True),
    _count("n_evaluable", "outcomes", "Patients evaluable for response."),
    _count("cr_count", "outcomes", "Patients in complete remission, including CRi/CRh/CRp as the paper counts."),
    Field("cr_definition", "string", "outcomes", "Which responses cr_count includes, as the paper defines them."),
    _count("orr_count", "outcomes", "Patients with any objective response (includes CR)."),
    _count("mrd_neg_count", "outcomes", "Patients with measurable residual disease below detection."),
    _count("relapse_count", "outcomes", "Patients who relapsed among those at risk."),
    _count("relapse_at_risk", "outcomes", "Patients in remission and at risk of relapse: the relapse denominator."),
    Field("median_followup_months", "number", "outcomes", "Median follow-up.", unit="months", needs_note=True),
    Field("max_persistence_days", "number", "outcomes", "Longest time infused NK cells were detected.",
          unit="days", needs_note=True),
    Field("persistence_method", "string", "outcomes", "How infused cells were detected (chimerism, flow, qPCR...)."),
    Field("persistence_note", "string", "outcomes", "Context for the persistence figure, in the curator's words."),
    # safety
    _count("crs_any", "safety", "Patients with cytokine release syndrome of any grade."),
    _count("crs_grade3plus", "safety", "Patients with CRS grade 3 or higher."),
    _count("icans_any", "safety", "Patients with immune effector cell-associated neurotoxicity, any grade."),
    _count("gvhd_any", "safety", "Patients with graft-versus-host disease of any grade."),
    _count("gvhd_grade3plus", "safety", "Patients with GVHD grade 3 or higher."),
    _count("treatment_related_deaths", "safety", "Deaths attributed to the treatment."),
    # provenance
    Field("source_url", "string", "provenance", "The page the numbers were read from.", required=True),
    Field("source_section", "string", "provenance",
          "Which part was read: abstract, full_text, table or review_table (detail may follow).", required=True),
    Field("extraction_note", "string", "provenance", "What this row counts and how it was read, in the curator's words.",
          required=True),
    Field("field_notes", "string", "provenance",
          "JSON object: for each reported number, where in the source it came from."),
    Field("from_review", "string_list", "provenance",
          "Fields whose value came only from a review's table rather than the primary paper."),
    Field("unverified", "string_list", "provenance",
          "Citation fields no page read confirmed (e.g. a first author not shown): verify before citing."),
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
DERIVED_FIELDS: frozenset[str] = frozenset({"field_notes", "study_id"})

ARROW_SCHEMA: pa.Schema = pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in FIELDS])

YEAR_MIN = 2000
YEAR_MAX = 2026
