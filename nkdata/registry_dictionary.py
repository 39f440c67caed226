"""The registry's data dictionary: every column of ``data/registry.parquet`` and the rules its records obey.

One YAML file per registered trial under ``data/registry/`` (``nct01234567.yaml``). A registry record is not
a result: it says what a trial planned or reports about itself (phase, status, enrollment) on the date it was
read. Published results live in ``data/trials.parquet``; ``cohort_ids`` and the studies' ``nct_ids`` link the
two, and the build derives ``results_status`` from those links. Same ``Field`` type as the trials' dictionary,
so the same loader, checks, build and repository serve both (``nkdata.tablespec``).
"""

from __future__ import annotations

from typing import Any

from nkdata import vocabulary as voc
from nkdata.dictionary import Field

START_YEAR_MIN = 2005
START_YEAR_MAX = 2027
COMPLETION_YEAR_MAX = 2040  # anticipated completion dates run years ahead


def _noted(name: str, dtype: Any, description: str, **kw: Any) -> Field:
    return Field(name, dtype, "registry", description, needs_note=True, **kw)


REGISTRY_FIELDS: tuple[Field, ...] = (
    Field(
        "registry_id",
        "string",
        "identity",
        "Registry identifier: NCT + 8 digits, ChiCTR..., EudraCT number or another registry's id. "
        "The file is named after it in lowercase.",
        required=True,
    ),
    Field(
        "registry",
        "string",
        "identity",
        "Which registry the id belongs to.",
        allowed=tuple(voc.REGISTRIES),
        required=True,
    ),
    Field("title", "string", "identity", "Brief or official title as shown on the page read.", required=True),
    _noted(
        "phase", "string", "Trial phase as registered; null when no page read gave it.", allowed=tuple(voc.TRIAL_PHASES)
    ),
    _noted(
        "status",
        "string",
        "Recruitment status on the page read, on status_as_of.",
        allowed=tuple(voc.TRIAL_STATUSES),
        required=True,
    ),
    _noted(
        "status_as_of",
        "string",
        "Date the status refers to: the page's own 'last update'/'verified' date, else the date it was "
        "read (ISO YYYY-MM-DD or YYYY-MM; the note says which).",
        required=True,
    ),
    Field("status_source_url", "string", "provenance", "The page the status was read from.", required=True),
    Field(
        "other_statuses",
        "status_list",
        "provenance",
        "Other statuses shown by other pages, each {status, as_of, source_url}: conflicts stay visible.",
    ),
    _noted("sponsor", "string", "Lead sponsor (or responsible party) as shown."),
    Field("sponsor_type", "string", "identity", "Kind of lead sponsor.", allowed=tuple(voc.SPONSOR_TYPES)),
    _noted("countries", "string_list", "Countries of the trial sites, when a page named them."),
    _noted("start_year", "integer", "Year the trial started (actual or planned).", unit="year"),
    _noted(
        "completion_year",
        "integer",
        "Primary completion or completion year as registered, actual or anticipated (the note says which).",
        unit="year",
    ),
    _noted("enrollment", "integer", "Participants enrolled (actual) or planned.", unit="participants"),
    Field(
        "enrollment_type",
        "string",
        "design",
        "Whether enrollment is the actual or the planned number.",
        allowed=tuple(voc.ENROLLMENT_TYPES),
    ),
    Field(
        "nk_source",
        "string",
        "product",
        "Where the NK cells come from; null when the page does not say.",
        allowed=tuple(voc.NK_SOURCES),
    ),
    Field("product", "string", "product", "Short product name used in tables and charts.", required=True),
    Field("product_class", "string", "product", "How the cells are prepared.", allowed=tuple(voc.PRODUCT_CLASSES)),
    Field("car_target", "string", "product", "Antigen targeted by a CAR; null for products without a CAR."),
    Field(
        "donor_type", "string", "product", "Relation of the cell donor to the patient.", allowed=tuple(voc.DONOR_TYPES)
    ),
    Field(
        "setting",
        "string",
        "population",
        "Disease setting at NK-cell infusion ('other' when mixed).",
        allowed=tuple(voc.SETTINGS),
        required=True,
    ),
    Field("population", "string", "population", "Age group eligible.", allowed=tuple(voc.POPULATIONS)),
    Field("aml_only", "boolean", "population", "True when only AML patients are eligible.", required=True),
    Field("conditions", "string", "population", "Conditions studied, in short."),
    Field(
        "cohort_ids",
        "string_list",
        "links",
        "Published cohorts (data/trials.parquet cohort_id) that report this trial.",
    ),
    Field(
        "results_status",
        "string",
        "links",
        "Set by the build: 'published' when a publication of the dataset reports the trial (through cohort_ids, "
        "or a study's nct_ids or trial_id naming it), else 'none'.",
        allowed=tuple(voc.RESULTS_STATUSES),
        derived=True,
    ),
    Field(
        "record_confidence",
        "string",
        "provenance",
        "registry_record: the registry record or a mirror of it was read; review_only: the trial is known only "
        "from a review's table, a company pipeline or a trial-in-progress abstract (named in known_from).",
        allowed=tuple(voc.RECORD_CONFIDENCE),
    ),
    Field(
        "known_from",
        "string",
        "provenance",
        "The review, pipeline or abstract the trial is known from; required when record_confidence is review_only.",
    ),
    Field(
        "source_url",
        "string",
        "provenance",
        "The main page read for this record (a registry page or a mirror of it; the canonical link is registry_url).",
        required=True,
    ),
    Field(
        "registry_url",
        "string",
        "provenance",
        "Set by the build: the link shown first, the trial's own registry record (ClinicalTrials.gov's page for an "
        "NCT id, otherwise the page its status was read from).",
        derived=True,
    ),
    Field(
        "source_section",
        "string",
        "provenance",
        "Kind of page read.",
        allowed=tuple(voc.REGISTRY_SOURCE_SECTIONS),
        required=True,
    ),
    Field(
        "extraction_note", "string", "provenance", "What was read and judged, in the curator's words.", required=True
    ),
    Field("field_notes", "string", "provenance", "JSON object: for each field, where it was read.", derived=True),
    Field("from_review", "string_list", "provenance", "Fields whose value came only from a review table."),
)

REGISTRY_RULES: dict[str, str] = {
    "yaml_syntax": "The file is valid YAML.",
    "yaml_structure": "The file holds one mapping.",
    "unknown_field": "Every key is a field of the registry dictionary.",
    "registry_id_matches_file": "A trial file is named after its registry_id in lowercase.",
    "unique_id": "A registry_id appears once.",
    "required": "Required fields are present and not null.",
    "type": "Each value has the dictionary's type.",
    "allowed_values": "Coded fields use one of the registry's codes (checked from the dictionary, also when a "
    "Parquet file is opened).",
    "registry_id_format": "The id has its registry's format (NCT + 8 digits, ChiCTR..., EudraCT yyyy-nnnnnn-nn).",
    "non_negative": "Enrollment is a non-negative integer.",
    "start_year_range": f"start_year is between {START_YEAR_MIN} and {START_YEAR_MAX}.",
    "completion_year_range": f"completion_year is not before start_year and not after {COMPLETION_YEAR_MAX}.",
    "date_format": "status_as_of and other_statuses[].as_of are real dates, YYYY-MM-DD or YYYY-MM.",
    "date_not_future": "A status date is not after the day of validation.",
    "url_format": "URLs are http(s) addresses.",
    "other_status_shape": "Each other_statuses entry is {status, as_of, source_url} with a known status.",
    "note_required": "Phase, status, dates, sponsor, countries, start and completion year and enrollment each "
    "have a note.",
    "note_unknown_field": "Notes and from_review name fields of the registry dictionary.",
    "car_target_required": "A CAR-engineered product names its CAR target, and only CAR products have one.",
    "known_from_required": "A trial known only from a review, pipeline or abstract names it in known_from.",
    "cohort_exists": "cohort_ids name cohorts of the publication dataset.",
    "nct_registered": "Every NCT id cited by a publication in data/studies (nct_ids or trial_id) has a registry "
    "record.",
    "results_linkage": "Warning: a trial's cohort_ids and the studies' nct_ids agree both ways.",
    "non_canonical_host": "Warning: a source_url points to a canonical host, not a mirror, proxy, webmail host or "
    "raw IP address.",
}
