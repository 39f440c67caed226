"""Registered trials: the data dictionary, loading, validation, build and a small repository.

The text source is one YAML file per registered trial under ``data/registry/``
(``nct01234567.yaml``); the build writes ``data/registry.parquet``. The same
rules as the publication dataset apply: every value was read on a page that is
cited, null means "not reported", and every problem comes back as an
:class:`~nkdata.issues.Issue` naming file, trial, field and rule.

A registry record is not a result: it says what a trial planned or reports
about itself (phase, status, enrollment) on the date it was read. Published
results live in ``data/trials.parquet``; ``cohort_ids`` links the two.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from nkdata import vocabulary as voc
from nkdata.dataset import open_parquet_schema, write_atomically
from nkdata.dictionary import Field
from nkdata.issues import DatasetError, Issue
from nkdata.queries import load_queries
from nkdata.repository import DatasetIdentity, NamedQueryRunner, unreadable
from nkdata.source import StudyLoader, notes_from_json, notes_to_json
from nkdata.validation import URL_RE, check_fields

Record = dict[str, Any]

# ----- Vocabularies of the registry (codes are the contract; labels may change) -----------------

REGISTRIES: dict[str, str] = {
    "clinicaltrials_gov": "ClinicalTrials.gov",
    "chictr": "Chinese Clinical Trial Registry",
    "eu_ctr": "EU Clinical Trials Register",
    "other": "Other registry",
}

TRIAL_PHASES: dict[str, str] = {
    "early_1": "Early phase 1",
    "1": "Phase 1",
    "1/2": "Phase 1/2",
    "2": "Phase 2",
    "2/3": "Phase 2/3",
    "3": "Phase 3",
    "not_applicable": "Not applicable",
}

TRIAL_STATUSES: dict[str, str] = {
    "not_yet_recruiting": "Not yet recruiting",
    "recruiting": "Recruiting",
    "enrolling_by_invitation": "Enrolling by invitation",
    "active_not_recruiting": "Active, not recruiting",
    "completed": "Completed",
    "terminated": "Terminated",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
    "unknown": "Unknown",
}

SPONSOR_TYPES: dict[str, str] = {
    "academic": "Academic",
    "industry": "Industry",
    "government": "Government",
    "other": "Other",
}

ENROLLMENT_TYPES: dict[str, str] = {"planned": "Planned", "actual": "Actual"}

REGISTRY_SOURCE_SECTIONS: dict[str, str] = {
    "registry_record": "Registry record",
    "registry_mirror": "Mirror of a registry record",
    "review_table": "Review table",
    "company_page": "Company page",
}

SCREENING_REASONS: dict[str, str] = {
    "not_aml": "No AML patients",
    "not_nk_cells": "No NK-cell product (e.g. CIK, T cells, cytokine or engager only)",
    "observational": "Observational, not interventional",
    "before_2005": "Registered before 2005",
    "duplicate": "Duplicate of a listed trial",
    "no_page_read": "Named in a review, but no registry page could be read",
}

# ClinicalTrials.gov spells phases and statuses like this in its CSV download.
CTGOV_PHASES: dict[str, str] = {
    "early_1": "EARLY_PHASE1",
    "1": "PHASE1",
    "1/2": "PHASE1|PHASE2",
    "2": "PHASE2",
    "2/3": "PHASE2|PHASE3",
    "3": "PHASE3",
    "not_applicable": "NA",
}

PHASE_ORDER: tuple[str, ...] = tuple(TRIAL_PHASES)
RECRUITING_STATUSES: tuple[str, ...] = ("recruiting", "enrolling_by_invitation")
START_YEAR_MIN = 2005
START_YEAR_MAX = 2027


def _codes(vocabulary: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(vocabulary)


def _noted(name: str, dtype: Any, description: str, **kw: Any) -> Field:
    return Field(name, dtype, "registry", description, needs_note=True, **kw)


# dtype "status_list" is registry-only: a list of {status, as_of, source_url}.
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
        "registry", "string", "identity", "Which registry the id belongs to.", allowed=_codes(REGISTRIES), required=True
    ),
    Field("title", "string", "identity", "Brief or official title as shown on the page read.", required=True),
    _noted(
        "phase", "string", "Trial phase as registered; null when no page read gave it.", allowed=_codes(TRIAL_PHASES)
    ),
    _noted(
        "status",
        "string",
        "Recruitment status on the page read, on status_as_of.",
        allowed=_codes(TRIAL_STATUSES),
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
    Field("sponsor_type", "string", "identity", "Kind of lead sponsor.", allowed=_codes(SPONSOR_TYPES)),
    _noted("countries", "string_list", "Countries of the trial sites, when a page named them."),
    _noted("start_year", "integer", "Year the trial started (actual or planned).", unit="year"),
    _noted("enrollment", "integer", "Participants enrolled (actual) or planned.", unit="participants"),
    Field(
        "enrollment_type",
        "string",
        "design",
        "Whether enrollment is the actual or the planned number.",
        allowed=_codes(ENROLLMENT_TYPES),
    ),
    Field(
        "nk_source",
        "string",
        "product",
        "Where the NK cells come from; null when the page does not say.",
        allowed=_codes(voc.NK_SOURCES),
    ),
    Field("product", "string", "product", "Short product name used in tables and charts.", required=True),
    Field("product_class", "string", "product", "How the cells are prepared.", allowed=_codes(voc.PRODUCT_CLASSES)),
    Field("car_target", "string", "product", "Antigen targeted by a CAR; null for products without a CAR."),
    Field(
        "donor_type", "string", "product", "Relation of the cell donor to the patient.", allowed=_codes(voc.DONOR_TYPES)
    ),
    Field(
        "setting",
        "string",
        "population",
        "Disease setting at NK-cell infusion ('other' when mixed).",
        allowed=_codes(voc.SETTINGS),
        required=True,
    ),
    Field("population", "string", "population", "Age group eligible.", allowed=_codes(voc.POPULATIONS)),
    Field("aml_only", "boolean", "population", "True when only AML patients are eligible.", required=True),
    Field("conditions", "string", "population", "Conditions studied, in short."),
    Field(
        "cohort_ids",
        "string_list",
        "links",
        "Published cohorts (data/trials.parquet cohort_id) that report this trial.",
    ),
    Field("source_url", "string", "provenance", "The main page read for this record.", required=True),
    Field(
        "source_section",
        "string",
        "provenance",
        "Kind of page read.",
        allowed=_codes(REGISTRY_SOURCE_SECTIONS),
        required=True,
    ),
    Field(
        "extraction_note", "string", "provenance", "What was read and judged, in the curator's words.", required=True
    ),
    Field("field_notes", "string", "provenance", "JSON object: for each field, where it was read."),
    Field("from_review", "string_list", "provenance", "Fields whose value came only from a review table."),
)

REGISTRY_FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in REGISTRY_FIELDS}
REGISTRY_COLUMNS: tuple[str, ...] = tuple(f.name for f in REGISTRY_FIELDS)
REGISTRY_REQUIRED: tuple[str, ...] = tuple(f.name for f in REGISTRY_FIELDS if f.required)
REGISTRY_NOTED: tuple[str, ...] = tuple(f.name for f in REGISTRY_FIELDS if f.needs_note)
_SOURCE_KEYS = frozenset(REGISTRY_COLUMNS) - {"field_notes"} | {"notes"}
_LIST_FIELDS = ("countries", "cohort_ids", "from_review")

STATUS_STRUCT = pa.struct([("status", pa.string()), ("as_of", pa.string()), ("source_url", pa.string())])
_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "string_list": pa.list_(pa.string()),
    "status_list": pa.list_(STATUS_STRUCT),
}
REGISTRY_SCHEMA: pa.Schema = pa.schema(
    [pa.field(f.name, _ARROW[f.dtype], nullable=not f.required) for f in REGISTRY_FIELDS]
)

REGISTRY_RULES: dict[str, str] = {
    "yaml_syntax": "The file is valid YAML.",
    "yaml_structure": "The file holds one mapping.",
    "unknown_field": "Every key is a field of the registry dictionary.",
    "registry_id_matches_file": "A trial file is named after its registry_id in lowercase.",
    "unique_id": "A registry_id appears once.",
    "required": "Required fields are present and not null.",
    "type": "Each value has the dictionary's type.",
    "allowed_values": "Coded fields use one of the registry's codes.",
    "registry_id_format": "The id has its registry's format (NCT + 8 digits, ChiCTR..., EudraCT yyyy-nnnnnn-nn).",
    "non_negative": "Enrollment is a non-negative integer.",
    "start_year_range": f"start_year is between {START_YEAR_MIN} and {START_YEAR_MAX}.",
    "date_format": "status_as_of and other_statuses[].as_of are real dates, YYYY-MM-DD or YYYY-MM.",
    "date_not_future": "A status date is not after the day of validation.",
    "url_format": "URLs are http(s) addresses.",
    "other_status_shape": "Each other_statuses entry is {status, as_of, source_url} with a known status.",
    "note_required": "Phase, status, dates, sponsor, countries, start year and enrollment each have a note.",
    "note_unknown_field": "Notes and from_review name fields of the registry dictionary.",
    "car_target_required": "A CAR-engineered product names its CAR target, and only CAR products have one.",
    "cohort_exists": "cohort_ids name cohorts of the publication dataset.",
}

_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "clinicaltrials_gov": re.compile(r"^NCT\d{8}$"),
    "chictr": re.compile(r"^ChiCTR(?:-[A-Z]{2,5}-)?\d{6,12}$"),
    "eu_ctr": re.compile(r"^\d{4}-\d{6}-\d{2}$"),
    "other": re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,60}$"),
}
_URL_RE = URL_RE  # one rule for well-formed addresses (no Markdown breakout), shared with the trials
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


# ----- Loading ---------------------------------------------------------------------------------


def trial_files(folder: Path) -> list[Path]:
    """Trial files of a registry folder, sorted; files starting with '_' are not trials."""
    return sorted(p for p in Path(folder).glob("*.yaml") if p.is_file() and not p.name.startswith("_"))


def load_registry_folder(folder: Path) -> tuple[list[Record], list[Issue]]:
    """Every trial record of ``folder`` and the issues met while reading."""
    folder = Path(folder)
    if not folder.is_dir():
        return [], [Issue(str(folder), None, None, None, "source_folder", "folder does not exist")]
    files = trial_files(folder)
    if not files:
        return [], [Issue(str(folder), None, None, None, "source_folder", "no *.yaml trial files found")]
    records: list[Record] = []
    issues: list[Issue] = []
    for path in files:
        record, found = load_trial_file(path)
        issues.extend(found)
        if record is not None:
            records.append(record)
    return records, issues


def load_trial_file(path: Path) -> tuple[Record | None, list[Issue]]:
    """One trial record (dictionary columns plus ``_file`` and ``_notes``), and issues of the file."""
    name = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=StudyLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Issue(name, path.stem, None, None, "yaml_syntax", f"cannot parse YAML: {exc}")]
    if not isinstance(doc, dict):
        return None, [Issue(name, path.stem, None, None, "yaml_structure", "the file must hold a mapping")]
    trial_id = doc.get("registry_id")
    shown_id = str(trial_id) if trial_id is not None else path.stem
    issues: list[Issue] = []
    if not isinstance(trial_id, str) or trial_id.lower() != path.stem:
        issues.append(
            Issue(
                name,
                shown_id,
                None,
                "registry_id",
                "registry_id_matches_file",
                f"registry_id {trial_id!r} must equal the file name {path.stem!r} (lowercased)",
            )
        )
    for key in doc:
        if key not in _SOURCE_KEYS:
            issues.append(
                Issue(
                    name,
                    shown_id,
                    None,
                    str(key),
                    "unknown_field",
                    f"{key!r} is not a field of the registry dictionary (typo?)",
                )
            )
    notes = doc.get("notes") if isinstance(doc.get("notes"), dict) else {}
    record: Record = {f: doc.get(f) for f in REGISTRY_COLUMNS}
    for list_field in _LIST_FIELDS:
        if record[list_field] is None:
            record[list_field] = []
    if record["other_statuses"] is None:
        record["other_statuses"] = []
    record["field_notes"] = notes_to_json(notes)
    record["_file"] = name
    record["_notes"] = notes
    return record, issues


# ----- Validation ------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_partial_date(text: Any) -> dt.date | None:
    """YYYY-MM-DD or YYYY-MM as a date (the first of the month), or None if not a real date."""
    if isinstance(text, dt.date):
        return text
    if not isinstance(text, str):
        return None
    match = _DATE_RE.match(text)
    if not match:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _check_date(field: str, value: Any, today: dt.date) -> Iterable[tuple[str, str, str]]:
    if isinstance(value, dt.date):
        yield field, "date_format", f'{value!s} must be quoted text in YAML ("YYYY-MM-DD")'
        return
    parsed = parse_partial_date(value)
    if parsed is None:
        yield field, "date_format", f"{value!r} is not a date written YYYY-MM-DD or YYYY-MM"
    elif parsed > today:
        yield field, "date_not_future", f"{value} is after {today.isoformat()}"


def check_trial(
    record: Record, known_cohort_ids: frozenset[str] | None, today: dt.date
) -> Iterable[tuple[str | None, str, str]]:
    """(field, rule, message) for every problem of one record."""
    yield from check_fields(record, REGISTRY_FIELDS)  # required, type, allowed values, non-negative

    registry, trial_id = record.get("registry"), record.get("registry_id")
    if isinstance(trial_id, str) and registry in _ID_PATTERNS and not _ID_PATTERNS[registry].match(trial_id):
        yield "registry_id", "registry_id_format", f"{trial_id!r} is not a {REGISTRIES[registry]} id"

    year = record.get("start_year")
    if _is_int(year) and not START_YEAR_MIN <= year <= START_YEAR_MAX:
        yield "start_year", "start_year_range", f"{year} is outside {START_YEAR_MIN}-{START_YEAR_MAX}"
    if isinstance(record.get("status_as_of"), str):
        yield from _check_date("status_as_of", record.get("status_as_of"), today)

    for name in ("status_source_url", "source_url"):
        url = record.get(name)
        if isinstance(url, str) and not _URL_RE.match(url):
            yield name, "url_format", f"{url!r} is not an http(s) address"

    others = record.get("other_statuses")
    if isinstance(others, list):
        for i, entry in enumerate(others):
            where = f"other_statuses[{i}]"
            if not isinstance(entry, dict) or set(entry) != {"status", "as_of", "source_url"}:
                yield "other_statuses", "other_status_shape", f"{where} must have exactly status, as_of, source_url"
                continue
            if entry["status"] not in TRIAL_STATUSES:
                yield "other_statuses", "other_status_shape", f"{where}: {entry['status']!r} is not a status code"
            for _, rule, message in _check_date("other_statuses", entry["as_of"], today):
                yield "other_statuses", rule, f"{where}: {message}"
            if not isinstance(entry["source_url"], str) or not _URL_RE.match(entry["source_url"]):
                yield "other_statuses", "url_format", f"{where}: source_url is not an http(s) address"

    notes = record.get("_notes") or {}
    for name in REGISTRY_NOTED:
        value = record.get(name)
        if value is not None and value != []:
            note = notes.get(name)
            if not isinstance(note, str) or not note.strip():
                yield name, "note_required", f"{name} = {value!r} has no note saying where it was read"
    for name in notes:
        if name not in REGISTRY_FIELDS_BY_NAME:
            yield "notes", "note_unknown_field", f"note for unknown field {name!r}"
    if isinstance(record.get("from_review"), list):
        for name in record["from_review"]:
            if name not in REGISTRY_FIELDS_BY_NAME:
                yield "from_review", "note_unknown_field", f"from_review names unknown field {name!r}"

    is_car = record.get("product_class") == "car_engineered"
    if is_car and not record.get("car_target"):
        yield "car_target", "car_target_required", "a CAR-engineered product needs its car_target"
    if record.get("car_target") and record.get("product_class") not in (None, "car_engineered"):
        yield "car_target", "car_target_required", "car_target is set but product_class is not car_engineered"

    if known_cohort_ids is not None and isinstance(record.get("cohort_ids"), list):
        for cohort_id in record["cohort_ids"]:
            if cohort_id not in known_cohort_ids:
                yield "cohort_ids", "cohort_exists", f"{cohort_id!r} is not a cohort of the publication dataset"


def validate_registry_records(
    records: list[Record], known_cohort_ids: Iterable[str] | None = None, today: dt.date | None = None
) -> list[Issue]:
    """Issues of already-loaded records (YAML or Parquet), sorted."""
    known = frozenset(known_cohort_ids) if known_cohort_ids is not None else None
    today = today or dt.date.today()
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for record in records:
        trial_id = record.get("registry_id")
        shown = str(trial_id) if trial_id is not None else None
        file_name = str(record.get("_file", "?"))
        for field, rule, message in check_trial(record, known, today):
            issues.append(Issue(file_name, shown, None, field, rule, message))
        if isinstance(trial_id, str):
            if trial_id in seen:
                issues.append(
                    Issue(
                        file_name,
                        shown,
                        None,
                        "registry_id",
                        "unique_id",
                        f"{trial_id!r} is also used in {seen[trial_id]}",
                    )
                )
            else:
                seen[trial_id] = file_name
    return sorted(issues)


def validate_registry(
    folder: Path, known_cohort_ids: Iterable[str] | None, today: dt.date | None = None
) -> list[Issue]:
    """Every issue of a registry folder. ``known_cohort_ids`` None skips the cohort link check."""
    records, issues = load_registry_folder(Path(folder))
    return sorted(issues + validate_registry_records(records, known_cohort_ids, today))


def known_cohort_ids(trials_parquet: Path) -> frozenset[str]:
    """cohort_id values of a publication dataset (the targets of ``cohort_ids``)."""
    return frozenset(pq.read_table(trials_parquet, columns=["cohort_id"]).column("cohort_id").to_pylist())


# ----- Screening list ---------------------------------------------------------------------------


def validate_screening(path: Path, folder: Path | None = None) -> list[Issue]:
    """The screening list (trials looked at and excluded): known reasons, and no id also listed as a trial."""
    name = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [Issue(name, None, None, None, "yaml_syntax", f"cannot read: {exc}")]
    entries = doc.get("excluded") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return [Issue(name, None, None, "excluded", "yaml_structure", "expected a list under 'excluded'")]
    listed = {p.stem for p in trial_files(folder)} if folder else set()
    issues = []
    for entry in entries:
        trial_id = str(entry.get("registry_id")) if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not {"registry_id", "reason", "source_url", "note"} <= set(entry):
            issues.append(
                Issue(
                    name,
                    trial_id,
                    None,
                    None,
                    "yaml_structure",
                    "each entry needs registry_id, reason, source_url and note",
                )
            )
            continue
        if entry["reason"] not in SCREENING_REASONS:
            issues.append(
                Issue(
                    name,
                    trial_id,
                    None,
                    "reason",
                    "allowed_values",
                    f"{entry['reason']!r} is not one of {', '.join(SCREENING_REASONS)}",
                )
            )
        if trial_id and trial_id.lower() in listed:
            issues.append(
                Issue(
                    name,
                    trial_id,
                    None,
                    "registry_id",
                    "unique_id",
                    "excluded here but also listed as a registered trial",
                )
            )
    return sorted(issues)


# ----- Build -----------------------------------------------------------------------------------


def records_to_table(records: list[Record]) -> pa.Table:
    """Arrow table in the registry schema, rows sorted by registry_id: same records, same bytes."""
    ordered = sorted(records, key=lambda r: r["registry_id"])
    columns: dict[str, list[Any]] = {f.name: [r.get(f.name) for r in ordered] for f in REGISTRY_FIELDS}
    columns["countries"] = [list(v) for v in columns["countries"]]
    columns["other_statuses"] = [
        [{"status": e["status"], "as_of": e["as_of"], "source_url": e["source_url"]} for e in v]
        for v in columns["other_statuses"]
    ]
    return pa.table(columns, schema=REGISTRY_SCHEMA)


def build_registry(
    folder: Path, out_path: Path, known_cohort_ids: Iterable[str] | None, today: dt.date | None = None
) -> pa.Table:
    """Validate the folder and write the Parquet atomically; DatasetError (file untouched) on any issue."""
    records, issues = load_registry_folder(Path(folder))
    issues += validate_registry_records(records, known_cohort_ids, today)
    if issues:
        raise DatasetError(sorted(issues), hint="The previous registry Parquet was left untouched.")
    table = records_to_table(records)
    write_atomically(table, Path(out_path))
    return table


# ----- Slice and exports -----------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrySlice:
    """Filters of the Pipeline view. Empty tuples mean "all"; ``years`` None means every start year
    (including trials whose start year is not reported); 'none' in car_targets selects trials without a CAR."""

    years: tuple[int, int] | None = None
    sources: tuple[str, ...] = ()
    product_classes: tuple[str, ...] = ()
    car_targets: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()

    @classmethod
    def from_view(cls, view: Any) -> RegistrySlice:
        """Read the shared sidebar slice by attribute name, so other attributes may come and go."""
        shared = getattr(view, "slice", None)
        years = getattr(shared, "years", None)
        return cls(
            years=(int(years[0]), int(years[1])) if years else None,
            **{
                name: tuple(getattr(shared, name, ()) or ())
                for name in ("sources", "product_classes", "car_targets", "settings", "populations")
            },
        )

    def sql_params(self) -> dict[str, Any]:
        year_min, year_max = self.years if self.years else (0, 0)
        return {
            "use_years": self.years is not None,
            "year_min": year_min,
            "year_max": year_max,
            "sources": list(self.sources),
            "product_classes": list(self.product_classes),
            "car_targets": list(self.car_targets),
            "settings": list(self.settings),
            "populations": list(self.populations),
        }


CTGOV_COLUMNS: dict[str, str] = {
    "registry_id": "NCT Number",
    "title": "Study Title",
    "registry_url": "Study URL",
    "ctgov_status": "Study Status",
    "status_as_of": "Status As Of",
    "ctgov_phase": "Phases",
    "sponsor": "Sponsor",
    "sponsor_type": "Funder Type",
    "enrollment": "Enrollment",
    "enrollment_type": "Enrollment Type",
    "start_year": "Start Date",
    "conditions": "Conditions",
    "countries": "Locations",
    "nk_source": "NK Source",
    "product": "Interventions",
    "car_target": "CAR Target",
    "cohort_ids": "Published Cohorts",
    "source_url": "Source Page",
}


def to_ctgov_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the registry table renamed and spelled like a ClinicalTrials.gov CSV download."""
    out = rows.copy()
    out["ctgov_status"] = [s.upper() if isinstance(s, str) else None for s in out["status"]]
    out["ctgov_phase"] = [CTGOV_PHASES.get(p) if isinstance(p, str) else None for p in out["phase"]]
    for name in ("countries", "cohort_ids"):
        out[name] = ["|".join(v) if v is not None and len(v) else "" for v in out[name]]
    return out[list(CTGOV_COLUMNS)].rename(columns=CTGOV_COLUMNS)


# ----- Repository ------------------------------------------------------------------------------


def _kind_ok(field: Field, arrow_type: pa.DataType) -> bool:
    if pa.types.is_null(arrow_type):
        return True
    expected = _ARROW[field.dtype]
    if field.dtype == "integer":
        return pa.types.is_integer(arrow_type)
    if field.dtype == "string":
        return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    return arrow_type.equals(expected) or (
        pa.types.is_list(arrow_type)
        and pa.types.is_list(expected)
        and arrow_type.value_type.equals(expected.value_type)
    )


def registry_schema_issues(schema: pa.Schema, file_name: str) -> list[Issue]:
    """Missing columns and columns of the wrong kind (every registry column is expected)."""
    issues = []
    for field in REGISTRY_FIELDS:
        if field.name not in schema.names:
            issues.append(
                Issue(file_name, None, None, field.name, "required_column", f"column {field.name!r} is missing")
            )
        elif not _kind_ok(field, schema.field(field.name).type):
            issues.append(
                Issue(
                    file_name,
                    None,
                    None,
                    field.name,
                    "column_type",
                    f"column {field.name!r} is {schema.field(field.name).type}, expected {field.dtype}",
                )
            )
    return issues


class RegistryRepository(NamedQueryRunner):
    """The registered-trials dataset behind the Pipeline page: named queries in, frames out.

    One DuckDB connection, a fresh cursor per query (callers cache the repository). Opening
    checks the file, its columns and its codes, so a broken file fails here with readable issues.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.identity = DatasetIdentity.of(self.path)  # page results are cached per content, as for the trials
        self._queries = load_queries()
        hint = "Rebuild it with nkdata.registry.build_registry (data/registry -> data/registry.parquet)."
        try:
            schema = open_parquet_schema(self.path)
        except DatasetError as exc:
            raise DatasetError(exc.issues, hint=hint) from exc
        problems = registry_schema_issues(schema, str(self.path))
        if problems:
            raise DatasetError(problems, hint="The file does not follow the registry dictionary. " + hint)
        self._con = duckdb.connect()
        literal = "'" + str(self.path).replace("'", "''") + "'"  # operator's path, not user input
        try:
            self._con.execute(f"CREATE VIEW registry AS SELECT * FROM read_parquet({literal})")
            self._con.execute("SELECT count(*) FROM registry").fetchall()
            self._con.execute(self._queries["registry_setup_macro"])
        except duckdb.Error as exc:
            self._con.close()
            raise unreadable(self.path, exc, hint) from exc
        self._check_codes(hint)

    def _check_codes(self, hint: str) -> None:
        bad = self.query(
            "registry_invalid_codes",
            {
                "status_codes": list(TRIAL_STATUSES),
                "phase_codes": list(TRIAL_PHASES),
                "nk_source_codes": list(voc.NK_SOURCES),
                "product_class_codes": list(voc.PRODUCT_CLASSES),
                "setting_codes": list(voc.SETTINGS),
                "population_codes": list(voc.POPULATIONS),
                "sponsor_type_codes": list(SPONSOR_TYPES),
            },
        )
        if not bad.empty:
            issues = [
                Issue(
                    str(self.path),
                    row.registry_id,
                    None,
                    row.field,
                    "allowed_values" if row.value is not None else "required",
                    f"{row.value!r} is not an allowed {row.field} code"
                    if row.value is not None
                    else f"{row.field} is missing",
                )
                for row in bad.itertuples(index=False)
            ]
            self.close()
            raise DatasetError(issues, hint="Use the registry's codes. " + hint)

    # Queries over a slice ------------------------------------------------------------------

    def summary(self, slice_: RegistrySlice) -> dict[str, Any]:
        """trials, with_results, recruiting, as_of_min, as_of_max, no_start_year, total (whole file)."""
        return self.query("registry_summary", slice_.sql_params()).iloc[0].to_dict()

    def source_phase_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_source_phase", slice_.sql_params())

    def car_targets_by_year(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_car_by_year", slice_.sql_params())

    def status_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_status", slice_.sql_params())

    def sponsor_type_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_sponsor_types", slice_.sql_params())

    def country_counts(self, slice_: RegistrySlice) -> pd.DataFrame:
        return self.query("registry_countries", slice_.sql_params())

    def table(self, slice_: RegistrySlice) -> pd.DataFrame:
        """One row per trial of the slice, with its registry link and published cohort ids."""
        return self.query("registry_table", slice_.sql_params())

    def trials_by_id(self, ids: tuple[str, ...]) -> pd.DataFrame:
        """The registered trials with these ids (links from a publication's cohort to its trials)."""
        return self.query("registry_trials_by_id", {"ids": list(ids)})

    def parquet_bytes(self) -> bytes:
        return self.path.read_bytes()


def field_notes(record: Mapping[str, Any]) -> dict[str, Any]:
    """The per-field notes of a built row."""
    return notes_from_json(record.get("field_notes"))


def dictionary_frame() -> pd.DataFrame:
    """The registry dictionary as a table (for a methods page or the curation guide)."""
    return pd.DataFrame(
        [
            {
                "field": f.name,
                "type": f.dtype,
                "required": f.required,
                "codes": ", ".join(f.allowed) if f.allowed else "",
                "description": f.description,
            }
            for f in REGISTRY_FIELDS
        ]
    )


__all__ = [
    "REGISTRY_FIELDS",
    "REGISTRY_RULES",
    "RegistryRepository",
    "RegistrySlice",
    "build_registry",
    "known_cohort_ids",
    "load_registry_folder",
    "to_ctgov_frame",
    "validate_registry",
    "validate_screening",
]
