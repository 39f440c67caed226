"""The rules every cohort record must satisfy, whether it comes from YAML or Parquet.

Each rule has a name (shown in every message and on the methods page) and a
one-line meaning. Rules collect issues instead of stopping at the first one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from nkdata.dictionary import (
    COUNT_FIELDS,
    FIELDS,
    FIELDS_BY_NAME,
    NOTED_FIELDS,
    SAFETY_GROUPS,
    SURVIVAL_FIELDS,
    SURVIVAL_FIELDS_BY_NAME,
    YEAR_MAX,
    YEAR_MIN,
    Field,
)
from nkdata.issues import WARNING_RULES, Issue
from nkdata.links import non_canonical_reason
from nkdata.safe_text import is_formula_like
from nkdata.source import Record

# Crossref's pattern for modern DOIs: no whitespace, brackets, angle brackets or quotes (nothing that can end a
# Markdown link or an HTML attribute); parentheses occur in real DOIs and are percent-encoded in links.
DOI_RE = re.compile(r"^10\.\d{4,9}/[-._;()/:A-Za-z0-9]+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
NCT_RE = re.compile(r"^NCT\d{8}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# An http(s) address in RFC 3986 characters, without the ones that break out of Markdown or HTML (whitespace,
# quotes, parentheses, brackets, angle brackets, backslash): percent-encode them in the data (%28, %29...).
URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#@!$&*+,;=%]*)?$")
PMCID_RE = re.compile(r"^PMC\d{4,9}$")
TRIAL_ID_RE = re.compile(r"^(?:NCT\d{8}|[a-z0-9]+(?:-[a-z0-9]+)*)$")

RULES: dict[str, str] = {
    "required": "Required fields are present and not null.",
    "type": "Each value has the dictionary's type (integer, number, string, boolean, list of strings).",
    "allowed_values": "Coded fields use one of the dictionary's codes.",
    "unknown_field": "Every key in a study file is a field of the dictionary.",
    "non_negative": "Counts, doses, ages, follow-up and persistence are not negative.",
    "unique_id": "cohort_id is unique across the dataset; study_id is unique to one file.",
    "id_format": "Ids are lowercase slugs and a cohort_id starts with its study_id.",
    "study_id_matches_file": "A study file is named after its study_id.",
    "evaluable_le_treated": "n_evaluable <= n_treated.",
    "count_le_evaluable": "cr_count, orr_count and mrd_neg_count <= n_evaluable "
    "(or n_treated when n_evaluable is null).",
    "cr_le_orr": "cr_count <= orr_count (a complete remission is a response).",
    "relapse_le_at_risk": "relapse_count <= relapse_at_risk <= n_treated.",
    "safety_le_treated": "Patients with a safety event <= n_treated; a severe or narrower grade <= the broader one "
    "(grade >= 3 <= grade >= 2 <= any; acute or chronic <= any GVHD).",
    "counts_need_n": "A cohort whose patient count is not reported (n_treated null) reports no other counts.",
    "expansion_le_evaluated": "expansion_count <= expansion_evaluated <= n_treated.",
    "persistence_order": "median_persistence_days <= max_persistence_days.",
    "lower_bound_needs_duration": "persistence_lower_bound is set only together with max_persistence_days.",
    "peak_needs_unit": "A peak_count states its peak_unit.",
    "survival_entry": "Each survival entry is a mapping of known keys with the right types, "
    "a known endpoint and a note.",
    "survival_has_result": "A survival entry gives a landmark with its estimate, a median, or 'median not reached'; "
    "a landmark and an estimate come together.",
    "landmark_positive": "A landmark is after time 0 (landmark_months > 0).",
    "percent_range": "Estimates, confidence limits and comparators are percentages between 0 and 100.",
    "ci_contains_estimate": "ci_low_pct <= estimate_pct <= ci_high_pct.",
    "survival_unique": "One entry per endpoint and landmark (or median) in a cohort.",
    "analysed_le_treated": "n_analysed of a survival entry <= n_treated.",
    "converted_names_count": "converted_from_percent names count fields that are reported.",
    "aml_le_treated": "n_aml <= n_treated; n_aml equals n_treated in an AML-only cohort when given.",
    "year_range": f"Publication year between {YEAR_MIN} and {YEAR_MAX}.",
    "doi_format": "A DOI looks like 10.<registrant>/<suffix> (letters, digits and -._;()/: only).",
    "pmid_format": "A PMID is 1-9 digits (a string).",
    "nct_format": "An NCT id is NCT followed by 8 digits.",
    "url_format": "source_url and read_at are well-formed http(s) addresses (no spaces, quotes, brackets or "
    "parentheses: percent-encode them).",
    "pmcid_format": "A PMCID is PMC followed by digits.",
    "trial_id_format": "A trial_id is an NCT id or a lowercase slug naming the programme.",
    "superseded_target_exists": "superseded_by names an existing, different cohort.",
    "superseded_no_cycle": "Following superseded_by never comes back to the same cohort.",
    "note_required": "Every reported number has a note saying where in the source it came from.",
    "note_unknown_field": "Notes, from_review and unverified name fields of the dictionary.",
    "mixed_needs_composition": "A mixed-diagnosis cohort (aml_only false) states its diagnosis_mix.",
    "car_target_required": "A CAR-engineered product names its CAR target.",
    "citation_present": "A journal article has a DOI, a PMID, or the citation_detail shown on the page read.",
    "non_canonical_host": "Warning: source_url is a canonical link (doi.org, PubMed/PMC, publisher, conference, "
    "registry, sponsor), not a mirror, translation proxy, webmail host or raw IP address; the page read is read_at.",
    "trial_id_consistent": "Warning: publications sharing a trial_id agree on the trial (an NCT trial_id is among "
    "the nct_ids, same NK source and product class, at most one primary_results publication).",
    "formula_like_text": "Warning only: free text starting with =, +, -, @, tab or carriage return reads as a "
    "spreadsheet formula (exports prefix it with a quote).",
}

RuleCheck = Callable[[Record], Iterable[tuple[str | None, str, str]]]


def _issue(record: Record, field: str | None, rule: str, message: str) -> Issue:
    return Issue(
        str(record.get("_file", "?")),
        _str_or_none(record.get("study_id")),
        _str_or_none(record.get("cohort_id")),
        field,
        rule,
        message,
        "warning" if rule in WARNING_RULES else "error",
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def value_has_type(dtype: str, value: Any) -> bool:
    """Whether a value read from YAML has a dictionary type (lists of records are checked by their own rules)."""
    if dtype == "integer":
        return _is_int(value)
    if dtype == "number":
        return _is_number(value)
    if dtype == "string":
        return isinstance(value, str)
    if dtype == "boolean":
        return isinstance(value, bool)
    if dtype == "string_list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if dtype.endswith("_list"):
        return isinstance(value, list)  # entries are checked by their own rules (check_survival...)
    raise ValueError(dtype)


def check_fields(record: Record, fields: Iterable[Field] = FIELDS) -> Iterable[tuple[str | None, str, str]]:
    """required, type, allowed_values and non_negative, driven by a dictionary (the trials' by default)."""
    for field in fields:
        value = record.get(field.name)
        if value is None or (field.dtype == "string" and isinstance(value, str) and not value.strip()):
            if field.required:
                yield field.name, "required", f"{field.name} is required"
            continue
        if not value_has_type(field.dtype, value):
            hint = ' (quote it: "..." in YAML)' if field.dtype == "string" else ""
            yield field.name, "type", f"{value!r} is not of type {field.dtype}{hint}"
            continue
        if field.allowed is not None and value not in field.allowed:
            yield field.name, "allowed_values", f"{value!r} is not one of {', '.join(field.allowed)}"
        if field.dtype in ("integer", "number") and value < 0:
            yield field.name, "non_negative", f"{value} is negative"


def _num(record: Record, name: str) -> int | float | None:
    value = record.get(name)
    return value if _is_number(value) else None


def check_counts(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """The arithmetic that any honest table of counts satisfies."""
    treated = _num(record, "n_treated")
    evaluable = _num(record, "n_evaluable")
    if treated is not None and evaluable is not None and evaluable > treated:
        yield "n_evaluable", "evaluable_le_treated", f"n_evaluable ({evaluable}) exceeds n_treated ({treated})"
    ceiling, ceiling_name = (evaluable, "n_evaluable") if evaluable is not None else (treated, "n_treated")
    for name in ("cr_count", "orr_count", "mrd_neg_count"):
        value = _num(record, name)
        if value is not None and ceiling is not None and value > ceiling:
            yield name, "count_le_evaluable", f"{name} ({value}) exceeds {ceiling_name} ({ceiling})"
    cr, orr = _num(record, "cr_count"), _num(record, "orr_count")
    if cr is not None and orr is not None and cr > orr:
        yield "cr_count", "cr_le_orr", f"cr_count ({cr}) exceeds orr_count ({orr})"
    relapses, at_risk = _num(record, "relapse_count"), _num(record, "relapse_at_risk")
    if relapses is not None and at_risk is not None and relapses > at_risk:
        yield "relapse_count", "relapse_le_at_risk", f"relapse_count ({relapses}) exceeds relapse_at_risk ({at_risk})"
    if at_risk is not None and treated is not None and at_risk > treated:
        yield "relapse_at_risk", "relapse_le_at_risk", f"relapse_at_risk ({at_risk}) exceeds n_treated ({treated})"
    for field in FIELDS:
        value = _num(record, field.name)
        if field.group == "safety" and value is not None and treated is not None and value > treated:
            yield field.name, "safety_le_treated", f"{field.name} ({value}) exceeds n_treated ({treated})"
    for narrow, broad in SAFETY_GROUPS:
        s, a = _num(record, narrow), _num(record, broad)
        if s is not None and a is not None and s > a:
            yield narrow, "safety_le_treated", f"{narrow} ({s}) exceeds {broad} ({a})"
    if treated is None and record.get("n_treated") is None:
        for name in COUNT_FIELDS:
            if name != "n_treated" and record.get(name) is not None:
                yield name, "counts_need_n", f"{name} is given but n_treated is not reported"
    expanded, evaluated = _num(record, "expansion_count"), _num(record, "expansion_evaluated")
    if expanded is not None and evaluated is not None and expanded > evaluated:
        yield (
            "expansion_count",
            "expansion_le_evaluated",
            f"expansion_count ({expanded}) exceeds expansion_evaluated ({evaluated})",
        )
    if evaluated is not None and treated is not None and evaluated > treated:
        yield (
            "expansion_evaluated",
            "expansion_le_evaluated",
            f"expansion_evaluated ({evaluated}) exceeds n_treated ({treated})",
        )
    n_aml = _num(record, "n_aml")
    if n_aml is not None and treated is not None:
        if n_aml > treated:
            yield "n_aml", "aml_le_treated", f"n_aml ({n_aml}) exceeds n_treated ({treated})"
        elif record.get("aml_only") is True and n_aml != treated:
            yield "n_aml", "aml_le_treated", f"AML-only cohort but n_aml ({n_aml}) differs from n_treated ({treated})"


def check_identifiers(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """Formats of ids and citations, and the year range."""
    year = record.get("year")
    if _is_int(year) and not YEAR_MIN <= year <= YEAR_MAX:
        yield "year", "year_range", f"{year} is outside {YEAR_MIN}-{YEAR_MAX}"
    doi = record.get("doi")
    if isinstance(doi, str) and not DOI_RE.match(doi):
        yield "doi", "doi_format", f"{doi!r} is not a DOI (10.xxxx/...; no https://doi.org/ prefix)"
    pmid = record.get("pmid")
    if isinstance(pmid, str) and not PMID_RE.match(pmid):
        yield "pmid", "pmid_format", f"{pmid!r} is not a PMID (digits only)"
    nct_ids = record.get("nct_ids")
    if isinstance(nct_ids, list):
        for nct in nct_ids:
            if isinstance(nct, str) and not NCT_RE.match(nct):
                yield "nct_ids", "nct_format", f"{nct!r} is not an NCT id (NCT + 8 digits)"
    for url_field in ("source_url", "read_at"):
        url = record.get(url_field)
        if isinstance(url, str) and not URL_RE.match(url):
            yield url_field, "url_format", f"{url!r} is not an http(s) URL"
    yield from check_canonical_source(record)
    pmcid = record.get("pmcid")
    if isinstance(pmcid, str) and not PMCID_RE.match(pmcid):
        yield "pmcid", "pmcid_format", f"{pmcid!r} is not a PMCID (PMC + digits)"
    trial_id = record.get("trial_id")
    if isinstance(trial_id, str) and not TRIAL_ID_RE.match(trial_id):
        yield "trial_id", "trial_id_format", f"{trial_id!r} must be an NCT id or a lowercase slug"
    study_id, cohort_id = record.get("study_id"), record.get("cohort_id")
    for name, value in (("study_id", study_id), ("cohort_id", cohort_id)):
        if isinstance(value, str) and not SLUG_RE.match(value):
            yield name, "id_format", f"{value!r} must be a lowercase slug (a-z, 0-9, hyphens)"
    if (
        isinstance(study_id, str)
        and isinstance(cohort_id, str)
        and not (cohort_id == study_id or cohort_id.startswith(study_id + "-"))
    ):
        yield "cohort_id", "id_format", f"{cohort_id!r} must start with its study_id {study_id!r}"
    if (
        not doi
        and not pmid
        and not record.get("citation_detail")
        and record.get("publication_type") == "journal_article"
    ):
        yield (
            "doi",
            "citation_present",
            "a journal article needs a DOI, a PMID, or citation_detail as shown on the page read",
        )


def check_canonical_source(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """A warning when the link shown as the source is a mirror, proxy, webmail host or raw IP (any dataset)."""
    url = record.get("source_url")
    if isinstance(url, str) and URL_RE.match(url):
        reason = non_canonical_reason(url)
        if reason:
            yield (
                "source_url",
                "non_canonical_host",
                f"{reason}; give the canonical link (keep the page read as read_at)",
            )


def check_provenance(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """Every reported number says where it came from; mixed cohorts say what they mix."""
    notes = record.get("_notes") or {}
    for name in NOTED_FIELDS:
        if record.get(name) is not None:
            note = notes.get(name)
            if not isinstance(note, str) or not note.strip():
                yield (
                    name,
                    "note_required",
                    f"{name} = {record.get(name)} has no note in 'notes' saying where it came from",
                )
    for name in notes:
        if name not in FIELDS_BY_NAME:
            yield "notes", "note_unknown_field", f"note for unknown field {name!r}"
    for list_name in ("from_review", "unverified"):
        names = record.get(list_name)
        if isinstance(names, list):
            for name in names:
                if name not in FIELDS_BY_NAME:
                    yield list_name, "note_unknown_field", f"{list_name} names unknown field {name!r}"
    if record.get("aml_only") is False and not record.get("diagnosis_mix"):
        yield (
            "diagnosis_mix",
            "mixed_needs_composition",
            "aml_only is false, so diagnosis_mix must say what the cohort mixes",
        )
    if record.get("product_class") == "car_engineered" and not record.get("car_target"):
        yield "car_target", "car_target_required", "a CAR-engineered product needs its car_target"


def check_persistence(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """Durations in order, a lower bound only on a duration, a peak with its unit."""
    median, longest = _num(record, "median_persistence_days"), _num(record, "max_persistence_days")
    if median is not None and longest is not None and median > longest:
        yield (
            "median_persistence_days",
            "persistence_order",
            f"median ({median}) exceeds the longest detection ({longest})",
        )
    if record.get("persistence_lower_bound") is not None and longest is None:
        yield "persistence_lower_bound", "lower_bound_needs_duration", "a lower-bound flag needs max_persistence_days"
    if record.get("peak_count") is not None and not record.get("peak_unit"):
        yield "peak_unit", "peak_needs_unit", "peak_count is given without its peak_unit"


def _survival_entry_problems(entry: Any, treated: int | float | None) -> Iterable[tuple[str, str]]:
    """(rule, message) for one item of the survival list."""
    if not isinstance(entry, dict):
        yield "survival_entry", f"{entry!r} is not a mapping"
        return
    for key, value in entry.items():
        sub = SURVIVAL_FIELDS_BY_NAME.get(key)
        if sub is None:
            yield "survival_entry", f"unknown key {key!r}"
        elif value is not None and not value_has_type(sub.dtype, value):
            yield "survival_entry", f"{key} = {value!r} is not of type {sub.dtype}"
    for sub in SURVIVAL_FIELDS:
        if sub.required and not entry.get(sub.name):
            yield "survival_entry", f"{sub.name} is required"
    endpoint = entry.get("endpoint")
    allowed = SURVIVAL_FIELDS_BY_NAME["endpoint"].allowed or ()
    if isinstance(endpoint, str) and endpoint not in allowed:
        yield "survival_entry", f"endpoint {endpoint!r} is not one of {', '.join(allowed)}"
    landmark, estimate = _num(entry, "landmark_months"), _num(entry, "estimate_pct")
    median, not_reached = _num(entry, "median_months"), entry.get("median_not_reached") is True
    if (landmark is None) != (estimate is None):
        yield "survival_has_result", "a landmark and its estimate must be given together"
    elif landmark is None and median is None and not not_reached:
        yield "survival_has_result", "give a landmark with its estimate, a median, or median_not_reached: true"
    if landmark is not None and landmark <= 0:
        yield "landmark_positive", f"landmark_months {landmark} is not after time 0"
    if median is not None and median < 0:
        yield "non_negative", f"median_months {median} is negative"
    for name in ("estimate_pct", "ci_low_pct", "ci_high_pct", "comparator_pct"):
        value = _num(entry, name)
        if value is not None and not 0 <= value <= 100:
            yield "percent_range", f"{name} {value} is not a percentage between 0 and 100"
    low, high = _num(entry, "ci_low_pct"), _num(entry, "ci_high_pct")
    if (low is None) != (high is None):
        yield "ci_contains_estimate", "give both confidence limits or neither"
    elif low is not None and high is not None and (low > high or estimate is not None and not low <= estimate <= high):
        yield "ci_contains_estimate", f"the interval {low}-{high} does not contain the estimate {estimate}"
    analysed = entry.get("n_analysed")
    if _is_int(analysed) and (analysed < 0 or treated is not None and analysed > treated):
        yield "analysed_le_treated", f"n_analysed {analysed} is negative or exceeds n_treated ({treated})"


def check_survival(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """Every survival entry is well formed, and each endpoint/landmark appears once."""
    entries = record.get("survival")
    if not isinstance(entries, list):
        return
    treated = _num(record, "n_treated")
    seen: set[tuple[Any, ...]] = set()
    for index, entry in enumerate(entries, start=1):
        label = f"survival[{index}]"
        if isinstance(entry, dict):
            label += f" ({entry.get('endpoint')}" + (
                f" at {entry['landmark_months']} months)" if entry.get("landmark_months") is not None else " median)"
            )
            key = (
                entry.get("endpoint"),
                entry.get("landmark_months"),
                entry.get("landmark_months") is None and entry.get("source_cohort"),
            )
            if key in seen:
                yield "survival", "survival_unique", f"{label} repeats an endpoint and landmark of this cohort"
            seen.add(key)
        for rule, message in _survival_entry_problems(entry, treated):
            yield "survival", rule, f"{label}: {message}"


def check_conversions(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """A percentage-converted flag names a reported count."""
    for name in record.get("converted_from_percent") or []:
        if name not in COUNT_FIELDS or record.get(name) is None:
            yield "converted_from_percent", "converted_names_count", f"{name!r} is not a reported count of this cohort"


def check_formula_text(record: Record, fields: Iterable[Field] = FIELDS) -> Iterable[tuple[str | None, str, str]]:
    """Free text (and notes) that a spreadsheet would run as a formula: a warning, since exports defuse it."""
    for field in fields:
        value = record.get(field.name)
        if field.dtype == "string" and field.allowed is None and is_formula_like(value):
            yield field.name, "formula_like_text", f"{value[:40]!r} starts like a spreadsheet formula"
    notes = record.get("_notes") or {}
    for name, note in notes.items() if isinstance(notes, dict) else ():
        if is_formula_like(note):
            yield "notes", "formula_like_text", f"the note for {name} starts like a spreadsheet formula"


RECORD_CHECKS: tuple[RuleCheck, ...] = (
    check_fields,
    check_counts,
    check_identifiers,
    check_provenance,
    check_persistence,
    check_survival,
    check_conversions,
    check_formula_text,
)


def validate_records(records: list[Record], check_notes: bool = True, whole_dataset: bool = True) -> list[Issue]:
    """Every issue in ``records``: per-record rules, then rules across records (links to other files are
    checked only when ``records`` is the whole dataset)."""
    issues: list[Issue] = []
    for record in records:
        for check in RECORD_CHECKS:
            if check is check_provenance and not check_notes:
                continue
            for field, rule, message in check(record):
                issues.append(_issue(record, field, rule, message))
    issues.extend(_check_unique_ids(records))
    issues.extend(_check_trial_ids(records))
    if whole_dataset:
        issues.extend(_check_superseded(records))
    return sorted(issues)


def _check_trial_ids(records: list[Record]) -> Iterable[Issue]:
    """Publications sharing a trial_id describe one trial (warnings: a re-analysis may plausibly differ)."""
    by_trial: dict[str, list[Record]] = {}
    for record in records:
        trial_id = record.get("trial_id")
        if isinstance(trial_id, str):
            by_trial.setdefault(trial_id, []).append(record)
            if NCT_RE.match(trial_id) and trial_id not in (record.get("nct_ids") or []):
                yield _issue(record, "trial_id", "trial_id_consistent", f"trial_id {trial_id} is not among its nct_ids")
    for trial_id, group in sorted(by_trial.items()):
        for name in ("nk_source", "product_class"):
            values = sorted({str(r.get(name)) for r in group})
            if len(values) > 1:
                yield _issue(
                    group[0], name, "trial_id_consistent", f"publications of {trial_id} differ in {name}: {values}"
                )
        primary = sorted({str(r.get("study_id")) for r in group if r.get("publication_role") == "primary_results"})
        if len(primary) > 1:
            yield _issue(
                group[0],
                "publication_role",
                "trial_id_consistent",
                f"{trial_id} has several primary_results publications: {', '.join(primary)}",
            )


def _check_unique_ids(records: list[Record]) -> Iterable[Issue]:
    seen: dict[str, Record] = {}
    study_files: dict[str, str] = {}
    for record in records:
        cohort_id = record.get("cohort_id")
        if isinstance(cohort_id, str):
            if cohort_id in seen:
                other = seen[cohort_id].get("_file")
                yield _issue(record, "cohort_id", "unique_id", f"{cohort_id!r} is also used in {other}")
            else:
                seen[cohort_id] = record
        study_id, file_name = record.get("study_id"), str(record.get("_file"))
        if isinstance(study_id, str) and file_name.endswith(".yaml"):
            if study_files.setdefault(study_id, file_name) != file_name:
                yield _issue(
                    record, "study_id", "unique_id", f"study_id {study_id!r} is also used in {study_files[study_id]}"
                )


def _check_superseded(records: list[Record]) -> Iterable[Issue]:
    by_id = {r.get("cohort_id"): r for r in records if isinstance(r.get("cohort_id"), str)}
    for record in records:
        target = record.get("superseded_by")
        if not isinstance(target, str):
            continue
        if target == record.get("cohort_id") or target not in by_id:
            yield _issue(
                record, "superseded_by", "superseded_target_exists", f"{target!r} is not another cohort of the dataset"
            )
            continue
        visited = {record.get("cohort_id")}
        current = target
        while isinstance(current, str) and current in by_id:
            if current in visited:
                yield _issue(
                    record,
                    "superseded_by",
                    "superseded_no_cycle",
                    f"superseded_by chain starting at {target!r} loops back",
                )
                break
            visited.add(current)
            current = by_id[current].get("superseded_by")
