"""Reading the reviewable text source: one YAML file per publication.

Study-level keys are defaults for every cohort of the file, so a publication with
three arms repeats nothing. Problems are returned as issues rather than raised,
so a curator sees every problem of every file in one run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nkdata.dictionary import DERIVED_FIELDS, FIELDS_BY_NAME, LIST_FIELDS, SOURCE_NOTES_KEY, SURVIVAL_FIELDS
from nkdata.issues import Issue

if TYPE_CHECKING:
    from nkdata.tablespec import TableSpec

Record = dict[str, Any]

# Keys a YAML file may hold besides the dictionary's columns.
_STUDY_KEYS = {"cohorts", SOURCE_NOTES_KEY}
_COHORT_KEYS = {SOURCE_NOTES_KEY}
_NOT_IN_SOURCE = DERIVED_FIELDS - {"study_id"}


class StudyLoader(yaml.SafeLoader):
    """YAML 1.1 reads 3.0e7 as text; curators write doses that way, so read it as a number."""


StudyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def study_files(folder: Path) -> list[Path]:
    """The YAML files of a source folder, sorted so builds are deterministic."""
    return sorted(p for p in folder.glob("*.yaml") if p.is_file())


def read_mapping(path: Path) -> tuple[dict[str, Any] | None, list[Issue]]:
    """The mapping a source file holds, or None with the yaml_syntax / yaml_structure issue (any dataset)."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=StudyLoader)  # noqa: S506 (safe subclass)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Issue(str(path), path.stem, None, None, "yaml_syntax", f"cannot parse YAML: {exc}")]
    if not isinstance(doc, dict):
        return None, [Issue(str(path), path.stem, None, None, "yaml_structure", "the file must hold a mapping")]
    return doc, []


def load_folder(folder: Path) -> tuple[list[Record], list[Issue]]:
    """All cohorts of all study files under ``folder``, with the issues found on the way."""
    records: list[Record] = []
    issues: list[Issue] = []
    if not folder.is_dir():
        return [], [Issue(str(folder), None, None, None, "source_folder", "folder does not exist")]
    files = study_files(folder)
    if not files:
        issues.append(Issue(str(folder), None, None, None, "source_folder", "no *.yaml study files found"))
    for path in files:
        file_records, file_issues = load_study_file(path)
        records.extend(file_records)
        issues.extend(file_issues)
    return records, issues


def load_study_file(path: Path) -> tuple[list[Record], list[Issue]]:
    """Cohort records of one publication file: study defaults merged into each cohort."""
    name = str(path)
    doc, problems = read_mapping(path)
    if doc is None:
        return [], problems

    study_id = doc.get("study_id")
    issues: list[Issue] = []
    if study_id != path.stem:
        issues.append(
            Issue(
                name,
                str(study_id),
                None,
                "study_id",
                "study_id_matches_file",
                f"study_id {study_id!r} must equal the file name {path.stem!r}",
            )
        )
    for key in doc:
        if key not in FIELDS_BY_NAME and key not in _STUDY_KEYS or key in _NOT_IN_SOURCE:
            issues.append(
                Issue(
                    name,
                    study_id,
                    None,
                    str(key),
                    "unknown_field",
                    f"{key!r} is not a field of the data dictionary (typo?)",
                )
            )

    cohorts = doc.get("cohorts")
    if not isinstance(cohorts, list) or not cohorts:
        issues.append(
            Issue(name, study_id, None, "cohorts", "cohorts_present", "a study file needs a non-empty list 'cohorts'")
        )
        return [], issues

    defaults = {k: v for k, v in doc.items() if k != "cohorts"}
    records: list[Record] = []
    for index, cohort in enumerate(cohorts):
        if not isinstance(cohort, dict):
            issues.append(
                Issue(name, study_id, f"#{index + 1}", None, "yaml_structure", "each cohort must be a mapping")
            )
            continue
        cohort_id = cohort.get("cohort_id", f"#{index + 1}")
        for key in cohort:
            if key not in FIELDS_BY_NAME and key not in _COHORT_KEYS or key in _NOT_IN_SOURCE | {"study_id"}:
                issues.append(
                    Issue(
                        name,
                        study_id,
                        str(cohort_id),
                        str(key),
                        "unknown_field",
                        f"{key!r} is not a cohort field of the data dictionary (typo?)",
                    )
                )
        record = _merge(defaults, cohort, name)
        for message in record.pop("_source_issues"):
            issues.append(Issue(name, study_id, str(cohort_id), "survival", "unknown_field", message))
        records.append(record)
    return records, issues


def _merge(defaults: dict[str, Any], cohort: dict[str, Any], file_name: str) -> Record:
    """One flat record: cohort values over study defaults; notes merged the same way."""
    notes: dict[str, Any] = {}
    for layer in (defaults, cohort):
        layer_notes = layer.get(SOURCE_NOTES_KEY)
        if isinstance(layer_notes, dict):
            notes.update(layer_notes)
    record: Record = {name: None for name in FIELDS_BY_NAME}
    record.update({k: v for k, v in defaults.items() if k in FIELDS_BY_NAME})
    record.update({k: v for k, v in cohort.items() if k in FIELDS_BY_NAME})
    for list_field in LIST_FIELDS:
        if record[list_field] is None:
            record[list_field] = []
    survival, derived_keys = _own_entries(record.get("survival"), record.get("cohort_id"))
    record["survival"] = survival
    record["field_notes"] = notes_to_json(notes)
    record["_source_issues"] = [f"survival entry sets {key!r}, which the build sets" for key in derived_keys]
    record["_file"] = file_name
    record["_notes"] = notes
    return record


def _own_entries(entries: Any, cohort_id: Any) -> tuple[Any, list[str]]:
    """Survival entries stamped with the cohort they were read in (what supersession carries along)."""
    if not isinstance(entries, list):
        return entries, []
    derived = [f.name for f in SURVIVAL_FIELDS if f.derived]
    found = sorted({k for e in entries if isinstance(e, dict) for k in derived if k in e})
    stamped = [{**e, "source_cohort": cohort_id} if isinstance(e, dict) else e for e in entries]
    return stamped, found


def notes_to_json(notes: dict[str, Any]) -> str | None:
    """Canonical JSON of the per-number notes (sorted keys: same notes, same bytes)."""
    if not notes:
        return None
    return json.dumps({str(k): v for k, v in notes.items()}, sort_keys=True, ensure_ascii=False)


def notes_from_json(text: str | None) -> dict[str, Any]:
    """Inverse of :func:`notes_to_json`; a malformed value yields no notes."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


# ----- Datasets with one record per file (the registry): the same reading rules, driven by a TableSpec -----


def record_files(folder: Path) -> list[Path]:
    """Record files of a folder, sorted; files starting with '_' are drafts, not records."""
    return [p for p in study_files(Path(folder)) if not p.name.startswith("_")]


def load_record_folder(spec: TableSpec, folder: Path | None = None) -> tuple[list[Record], list[Issue]]:
    """Every record of ``folder`` (the spec's own folder by default) and the issues met while reading."""
    folder = Path(folder or spec.folder)
    if not folder.is_dir():
        return [], [Issue(str(folder), None, None, None, "source_folder", "folder does not exist")]
    files = record_files(folder)
    if not files:
        return [], [Issue(str(folder), None, None, None, "source_folder", "no *.yaml files found")]
    records: list[Record] = []
    issues: list[Issue] = []
    for path in files:
        record, found = load_record_file(spec, path)
        issues.extend(found)
        if record is not None:
            records.append(record)
    return records, issues


def load_record_file(spec: TableSpec, path: Path) -> tuple[Record | None, list[Issue]]:
    """One record (dictionary columns plus ``_file`` and ``_notes``): named after its key in lowercase, only
    keys of the dictionary (derived fields are the build's), lists default to empty."""
    name = str(path)
    doc, problems = read_mapping(path)
    if doc is None:
        return None, problems
    key = doc.get(spec.key)
    shown = str(key) if key is not None else path.stem
    issues: list[Issue] = []
    if not isinstance(key, str) or key.lower() != path.stem:
        issues.append(
            Issue(
                name,
                *spec.where(shown),
                spec.key,
                f"{spec.key}_matches_file",
                f"{spec.key} {key!r} must equal the file name {path.stem!r} (lowercased)",
            )
        )
    allowed = (set(spec.columns) - spec.derived) | {SOURCE_NOTES_KEY}
    for k in doc:
        if k not in allowed:
            issues.append(
                Issue(
                    name,
                    *spec.where(shown),
                    str(k),
                    "unknown_field",
                    f"{k!r} is not a field of the {spec.name} dictionary"
                    + (" (set by the build)" if k in spec.derived else " (typo?)"),
                )
            )
    notes = doc.get(SOURCE_NOTES_KEY) if isinstance(doc.get(SOURCE_NOTES_KEY), dict) else {}
    record: Record = {f: doc.get(f) for f in spec.columns}
    for list_field in spec.list_fields:
        if record[list_field] is None:
            record[list_field] = []
    record["field_notes"] = notes_to_json(notes)
    record["_file"] = name
    record["_notes"] = notes
    return record, issues
