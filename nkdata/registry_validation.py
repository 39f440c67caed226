"""The registry's rules, its links to the publications, and its build: the trials' mechanism, a second dictionary.

Field rules (required, type, codes) are the trials' ``check_fields`` over the registry dictionary; what is
registry-only here are the id formats, dates, other statuses and the links with the publications: every NCT id a
publication cites has a record (``nct_registered``), ``cohort_ids`` and the studies' ``nct_ids`` agree both ways
(``results_linkage``, a warning) and the build derives ``results_status`` from those links.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nkdata import vocabulary as voc
from nkdata.dataset import records_to_table, write_atomically
from nkdata.issues import DatasetError, Issue, errors_only
from nkdata.links import non_canonical_reason
from nkdata.registry_dictionary import COMPLETION_YEAR_MAX, START_YEAR_MAX, START_YEAR_MIN
from nkdata.source import Record, load_record_folder
from nkdata.tablespec import REGISTRY, TRIALS
from nkdata.validation import NCT_RE, URL_RE, check_fields

_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "clinicaltrials_gov": NCT_RE,
    "chictr": re.compile(r"^ChiCTR(?:-[A-Z]{2,5}-)?\d{6,12}$"),
    "eu_ctr": re.compile(r"^\d{4}-\d{6}-\d{2}$"),
    "other": re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,60}$"),
}
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class PublicationLinks:
    """What the registry needs to know of the publications: their cohort ids, and for each cohort its study and
    the NCT ids it cites (nct_ids, plus trial_id when that is an NCT id)."""

    cohorts: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)  # cohort_id -> (study_id, NCTs)

    @classmethod
    def from_records(cls, rows: Iterable[dict[str, Any]]) -> PublicationLinks:
        cohorts = {}
        for r in rows:
            cited = set(r.get("nct_ids") or [])
            if isinstance(r.get("trial_id"), str) and NCT_RE.match(r["trial_id"]):
                cited.add(r["trial_id"])
            cohorts[str(r["cohort_id"])] = (str(r.get("study_id")), frozenset(cited))
        return cls(cohorts)

    @classmethod
    def from_parquet(cls, path: Path) -> PublicationLinks:
        names = set(pq.read_schema(path).names)
        columns = [c for c in ("cohort_id", "study_id", "nct_ids", "trial_id") if c in names]
        return cls.from_records(pq.read_table(path, columns=columns).to_pylist())

    @property
    def cohort_ids(self) -> frozenset[str]:
        return frozenset(self.cohorts)

    def citing(self, registry_id: str) -> set[str]:
        """Cohorts whose publication cites this NCT id."""
        return {c for c, (_, cited) in self.cohorts.items() if registry_id in cited}

    def cited(self) -> dict[str, set[str]]:
        """NCT id -> the studies citing it."""
        out: dict[str, set[str]] = {}
        for study_id, cited in self.cohorts.values():
            for nct in cited:
                out.setdefault(nct, set()).add(study_id)
        return out


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


def _check_date(name: str, value: Any, today: dt.date) -> Iterable[tuple[str, str, str]]:
    if isinstance(value, dt.date):
        yield name, "date_format", f'{value!s} must be quoted text in YAML ("YYYY-MM-DD")'
        return
    parsed = parse_partial_date(value)
    if parsed is None:
        yield name, "date_format", f"{value!r} is not a date written YYYY-MM-DD or YYYY-MM"
    elif parsed > today:
        yield name, "date_not_future", f"{value} is after {today.isoformat()}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_other_statuses(others: Any, today: dt.date) -> Iterable[tuple[str | None, str, str]]:
    if not isinstance(others, list):
        return
    for i, entry in enumerate(others):
        where = f"other_statuses[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"status", "as_of", "source_url"}:
            yield "other_statuses", "other_status_shape", f"{where} must have exactly status, as_of, source_url"
            continue
        if entry["status"] not in voc.TRIAL_STATUSES:
            yield "other_statuses", "other_status_shape", f"{where}: {entry['status']!r} is not a status code"
        for _, rule, message in _check_date("other_statuses", entry["as_of"], today):
            yield "other_statuses", rule, f"{where}: {message}"
        if not isinstance(entry["source_url"], str) or not URL_RE.match(entry["source_url"]):
            yield "other_statuses", "url_format", f"{where}: source_url is not an http(s) address"


def _check_notes(record: Record) -> Iterable[tuple[str | None, str, str]]:
    notes = record.get("_notes") or {}
    for name in REGISTRY.noted:
        value = record.get(name)
        if value is not None and value != []:
            note = notes.get(name)
            if not isinstance(note, str) or not note.strip():
                yield name, "note_required", f"{name} = {value!r} has no note saying where it was read"
    for name in notes:
        if name not in REGISTRY.by_name:
            yield "notes", "note_unknown_field", f"note for unknown field {name!r}"
    for name in record.get("from_review") or []:
        if name not in REGISTRY.by_name:
            yield "from_review", "note_unknown_field", f"from_review names unknown field {name!r}"


def check_trial(
    record: Record, known_cohort_ids: frozenset[str] | None, today: dt.date
) -> Iterable[tuple[str | None, str, str]]:
    """(field, rule, message) for every problem of one record."""
    yield from check_fields(record, REGISTRY.fields)  # required, type, allowed values, non-negative
    registry, trial_id = record.get("registry"), record.get("registry_id")
    if isinstance(trial_id, str) and registry in _ID_PATTERNS and not _ID_PATTERNS[registry].match(trial_id):
        yield "registry_id", "registry_id_format", f"{trial_id!r} is not a {voc.REGISTRIES[registry]} id"
    start, end = record.get("start_year"), record.get("completion_year")
    if _is_int(start) and not START_YEAR_MIN <= start <= START_YEAR_MAX:
        yield "start_year", "start_year_range", f"{start} is outside {START_YEAR_MIN}-{START_YEAR_MAX}"
    if _is_int(end) and (end > COMPLETION_YEAR_MAX or _is_int(start) and end < start):
        yield (
            "completion_year",
            "completion_year_range",
            f"{end} is before the start year or after {COMPLETION_YEAR_MAX}",
        )
    if isinstance(record.get("status_as_of"), str):
        yield from _check_date("status_as_of", record.get("status_as_of"), today)
    for name in ("status_source_url", "source_url"):
        url = record.get(name)
        if isinstance(url, str) and not URL_RE.match(url):
            yield name, "url_format", f"{url!r} is not an http(s) address"
    yield from _check_canonical_registry_url(record)
    yield from _check_other_statuses(record.get("other_statuses"), today)
    yield from _check_notes(record)
    is_car = record.get("product_class") == "car_engineered"
    if is_car and not record.get("car_target"):
        yield "car_target", "car_target_required", "a CAR-engineered product needs its car_target"
    if record.get("car_target") and record.get("product_class") not in (None, "car_engineered"):
        yield "car_target", "car_target_required", "car_target is set but product_class is not car_engineered"
    if record.get("record_confidence") == "review_only" and not record.get("known_from"):
        yield "known_from", "known_from_required", "a review_only trial names the review, pipeline or abstract"
    if known_cohort_ids is not None:
        for cohort_id in record.get("cohort_ids") or []:
            if cohort_id not in known_cohort_ids:
                yield "cohort_ids", "cohort_exists", f"{cohort_id!r} is not a cohort of the publication dataset"


def _issue(record: Record, name: str | None, rule: str, message: str) -> Issue:
    shown = record.get("registry_id")
    return Issue(
        str(record.get("_file", "?")), *REGISTRY.where(None if shown is None else str(shown)), name, rule, message
    )


def validate_registry_records(
    records: list[Record],
    links: PublicationLinks | None = None,
    today: dt.date | None = None,
    completeness: bool = True,
) -> list[Issue]:
    """Issues of already-loaded records (YAML or Parquet), sorted; ``links`` None skips the links to publications,
    ``completeness`` False the rules across both datasets (every cited NCT registered, linkage both ways)."""
    today = today or dt.date.today()
    known = links.cohort_ids if links is not None else None
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for record in records:
        issues += [_issue(record, *found) for found in check_trial(record, known, today)]
        trial_id = record.get("registry_id")
        if isinstance(trial_id, str):
            if trial_id in seen:
                issues.append(
                    _issue(record, "registry_id", "unique_id", f"{trial_id!r} is also used in {seen[trial_id]}")
                )
            else:
                seen[trial_id] = str(record.get("_file", "?"))
    if links is not None and completeness:
        issues += link_issues(records, links)
    return sorted(issues)


def link_issues(records: list[Record], links: PublicationLinks) -> list[Issue]:
    """Every NCT id cited by a publication has a record (error); cohort_ids and nct_ids agree both ways (warning)."""
    issues = []
    registered = {r.get("registry_id") for r in records}
    for nct, studies in sorted(links.cited().items()):
        if nct not in registered:
            for study_id in sorted(studies):
                issues.append(
                    Issue(
                        str(TRIALS.folder / f"{study_id}.yaml"),
                        study_id,
                        None,
                        "nct_ids",
                        "nct_registered",
                        f"{nct} is cited but has no registry record (add {REGISTRY.folder.name}/{nct.lower()}.yaml)",
                    )
                )
    for record in records:
        trial_id = record.get("registry_id")
        if not isinstance(trial_id, str) or not NCT_RE.match(trial_id):
            continue
        listed, citing = set(record.get("cohort_ids") or []), links.citing(trial_id)
        for cohort_id in sorted(citing - listed):
            issues.append(
                _issue(
                    record, "cohort_ids", "results_linkage", f"{cohort_id} cites {trial_id} but is not in cohort_ids"
                )
            )
        for cohort_id in sorted(c for c in listed - citing if c in links.cohorts):
            issues.append(
                _issue(
                    record,
                    "cohort_ids",
                    "results_linkage",
                    f"{cohort_id} is listed but its publication does not cite {trial_id}",
                )
            )
    return issues


CTGOV_STUDY_URL = "https://clinicaltrials.gov/study/"


def registry_url(record: Record) -> str | None:
    """The trial's own registry record, shown as its link: ClinicalTrials.gov's page for an NCT id (whatever
    mirror was read), otherwise the page its status was read from."""
    trial_id = record.get("registry_id")
    if record.get("registry") == "clinicaltrials_gov" and isinstance(trial_id, str) and NCT_RE.match(trial_id):
        return CTGOV_STUDY_URL + trial_id
    url = record.get("status_source_url")
    return url if isinstance(url, str) else None


def _check_canonical_registry_url(record: Record) -> Iterable[tuple[str | None, str, str]]:
    """A warning when the link shown for the trial is a mirror: the page read (source_url) may be one, as the
    trials' read_at may, but the canonical link is its registry record."""
    url = registry_url(record)
    reason = non_canonical_reason(url) if isinstance(url, str) and URL_RE.match(url) else None
    if reason:
        yield "status_source_url", "non_canonical_host", f"{reason}; give the canonical link (read the registry's page)"


def with_results_status(records: list[Record], links: PublicationLinks | None) -> list[Record]:
    """Records with the derived links: results_status (published when cohort_ids or a publication's citation
    links one) and registry_url (the canonical link)."""
    out = []
    for record in records:
        trial_id = record.get("registry_id")
        cited = bool(links and isinstance(trial_id, str) and links.citing(trial_id))
        status = "published" if record.get("cohort_ids") or cited else "none"
        out.append({**record, "results_status": status, "registry_url": registry_url(record)})
    return out


def validate_registry(folder: Path, links: PublicationLinks | None, today: dt.date | None = None) -> list[Issue]:
    """Every issue (errors and warnings) of a registry folder. ``links`` None skips the links to publications."""
    records, issues = load_record_folder(REGISTRY, Path(folder))
    return sorted(issues + validate_registry_records(records, links, today))


def build_registry(
    folder: Path, out_path: Path, links: PublicationLinks | None, today: dt.date | None = None
) -> pa.Table:
    """Validate the folder and write the Parquet atomically; DatasetError (file untouched) on any error of the
    records themselves. Completeness across the two datasets (every cited NCT id registered) is checked by
    ``validate``: curators add records while studies cite new trials, and the build must not wait for them."""
    records, issues = load_record_folder(REGISTRY, Path(folder))
    errors = errors_only(issues + validate_registry_records(records, links, today, completeness=False))
    if errors:
        raise DatasetError(errors, hint="The previous registry Parquet was left untouched.")
    table = records_to_table(with_results_status(records, links), spec=REGISTRY)
    write_atomically(table, Path(out_path))
    return table
